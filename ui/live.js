/**
 * Live mail for the page: an EventSource on /api/messages/stream (the session cookie goes with
 * it). While the stream is open nothing polls. When it drops, EventSource reconnects by itself and
 * sends Last-Event-ID, so the server replays what was missed. If it stays down, or the server
 * refused it, `poll` runs instead, backing off from 3 s to 60 s, and the stream is tried again
 * every 30 s. `status` tells the truth: "connecting", "live", "reconnecting" or "polling".
 * With `stream: false` (an admin's all-mailbox view, which no single stream covers) it only polls,
 * every 3 s.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { apiUrl } from "./api.js";
import { t } from "./i18n.js";

const POLL_MS = 3000;
const POLL_MAX_MS = 60000;
const STREAM_RETRY_MS = 30000;

export function useMailStream({ query, stream = true, onMessage, onOpen, poll }, deps) {
  const [status, setStatus] = useState("connecting");
  const cb = useRef();
  cb.current = { onMessage, onOpen, poll };
  useEffect(() => {
    let es = null;
    let stopped = false;
    let pollTimer = null;
    let retryTimer = null;
    let delay = POLL_MS;
    let errors = 0;
    const schedulePoll = () => {
      if (stopped || pollTimer) return;
      pollTimer = setTimeout(async () => {
        pollTimer = null;
        if (stopped) return;
        if (!document.hidden) await cb.current.poll?.().catch(() => {});
        if (stream) delay = Math.min(POLL_MAX_MS, delay * 2);
        schedulePoll();
      }, delay);
    };
    const stopPolling = () => {
      clearTimeout(pollTimer);
      pollTimer = null;
      delay = POLL_MS;
    };
    const open = () => {
      if (stopped) return;
      es = new EventSource(apiUrl("/messages/stream", query));
      es.onopen = () => {
        errors = 0;
        stopPolling();
        setStatus("live");
        cb.current.onOpen?.();
      };
      es.addEventListener("message", (e) => {
        try {
          cb.current.onMessage?.(JSON.parse(e.data));
        } catch {
          /* not ours */
        }
      });
      es.onerror = () => {
        errors++;
        if (es.readyState === EventSource.CLOSED || errors >= 3) {
          es.close();
          setStatus("polling");
          schedulePoll();
          clearTimeout(retryTimer);
          retryTimer = setTimeout(open, STREAM_RETRY_MS);
        } else setStatus("reconnecting");
      };
    };
    if (stream) open();
    else {
      setStatus("polling");
      schedulePoll();
    }
    return () => {
      stopped = true;
      es?.close();
      clearTimeout(pollTimer);
      clearTimeout(retryTimer);
    };
  }, deps);
  return status;
}

/** What the indicator says for a `status` ("connecting", "live", "reconnecting", "polling"). */
export const liveLabel = (status) => t(`inbox.live.${status}`);
