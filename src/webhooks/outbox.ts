import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { log } from "../lib/log";
import { decryptSecret, signWebhook } from "./crypto";
import type { DeliveryRow, WebhookRow } from "./repo";
import { checkWebhookUrl } from "./url";

/**
 * One `WebhookOutbox` Durable Object per webhook (named by its id) sends that hook's deliveries,
 * one at a time in `seq` order (so a receiver sees events in the order they happened), out of
 * band of whoever queued them. The queue itself is D1 (`webhook_deliveries`): the object keeps
 * only the hook id and an alarm.
 *
 *  - `kick()` schedules the alarm now unless one is already set (a retry in backoff keeps its
 *    time: later events wait behind the failing one, which keeps the order).
 *  - Before each send the alarm is moved to now + 60 s, so if the object dies between sending and
 *    recording, the alarm sends the same delivery again with the same `webhook-id`
 *    (at-least-once; receivers de-duplicate on it).
 *  - 2xx: succeeded, next one. 410: the hook is disabled (`disabledReason`). Anything else
 *    (other statuses, a redirect, a timeout, a network error): retried after 5 s, 30 s, 2 min,
 *    10 min, 1 h, then hourly, each ±10 % jitter; a delivery still failing 24 h after its first
 *    attempt fails and disables the hook.
 *  - Requests: POST, 10 s timeout, redirects never followed, at most 64 KiB of the answer read.
 */

export const SEND_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 64 * 1024;
export const RETRY_SCHEDULE_S = [5, 30, 120, 600, 3600];
export const GIVE_UP_AFTER_MS = 24 * 3600 * 1000;
const SAFETY_NET_MS = 60_000;
const PER_RUN = 25;
const KEEP_ATTEMPTS = 20;

export function retryDelayMs(failures: number, random = Math.random()): number {
  const base = RETRY_SCHEDULE_S[Math.min(failures - 1, RETRY_SCHEDULE_S.length - 1)]! * 1000;
  return Math.round(base * (0.9 + 0.2 * random));
}

interface Attempt {
  at: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

export class WebhookOutbox extends DurableObject<Env> {
  private running: Promise<void> | null = null;

  /** Something was queued for `webhookId`: send it soon (now, unless a retry is already scheduled). */
  async kick(webhookId: string): Promise<void> {
    await this.ctx.storage.put("webhookId", webhookId);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const webhookId = await this.ctx.storage.get<string>("webhookId");
    if (!webhookId) return;
    this.running ??= this.run(webhookId).finally(() => (this.running = null));
    await this.running;
  }

  private async run(webhookId: string): Promise<void> {
    const db = this.env.DB;
    for (let i = 0; i < PER_RUN; i++) {
      const hook = await db.prepare("SELECT * FROM webhooks WHERE id = ?").bind(webhookId).first<WebhookRow>();
      if (!hook) {
        await this.ctx.storage.deleteAll();
        return;
      }
      const head = await db
        .prepare("SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending' ORDER BY seq LIMIT 1")
        .bind(webhookId)
        .first<DeliveryRow>();
      if (!head) {
        // Queue empty: drop the safety-net alarm set before the last send, or kick() would see
        // an alarm and leave the next event waiting up to a minute for it.
        await this.ctx.storage.deleteAlarm();
        // A kick that came between the read above and this delete found that alarm and did
        // nothing: look once more.
        const more = await db.prepare("SELECT 1 FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending' LIMIT 1").bind(webhookId).first();
        if (more) await this.ctx.storage.setAlarm(Date.now());
        return;
      }
      if (hook.enabled !== 1) {
        await failPending(db, webhookId);
        await this.ctx.storage.deleteAlarm();
        return;
      }
      await this.ctx.storage.setAlarm(Date.now() + SAFETY_NET_MS);
      const outcome = await this.send(hook, head);
      const attempts = [...(JSON.parse(head.attempts_json) as Attempt[]), outcome.attempt].slice(-KEEP_ATTEMPTS);
      const now = Date.now();
      if (outcome.kind === "ok") {
        await db
          .prepare("UPDATE webhook_deliveries SET status = 'succeeded', attempt_count = attempt_count + 1, attempts_json = ?, next_attempt_at = NULL, delivered_at = ? WHERE id = ?")
          .bind(JSON.stringify(attempts), new Date(now).toISOString(), head.id)
          .run();
        continue;
      }
      if (outcome.kind === "disable" || now - Date.parse(head.window_started_at) >= GIVE_UP_AFTER_MS) {
        const reason =
          outcome.kind === "disable"
            ? outcome.reason
            : `Deliveries failed for 24 hours (last: ${outcome.attempt.statusCode ?? outcome.attempt.error}); fix the endpoint, re-enable the webhook and retry`;
        await db.batch([
          db
            .prepare("UPDATE webhook_deliveries SET status = 'failed', attempt_count = attempt_count + 1, attempts_json = ?, next_attempt_at = NULL WHERE id = ?")
            .bind(JSON.stringify(attempts), head.id),
          db.prepare("UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?").bind(reason, new Date(now).toISOString(), webhookId),
        ]);
        await failPending(db, webhookId);
        log("warn", "webhook.disabled", { webhookId, reason });
        await this.ctx.storage.deleteAlarm();
        return;
      }
      const next = now + retryDelayMs(head.attempt_count + 1);
      await db
        .prepare("UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, attempts_json = ?, next_attempt_at = ? WHERE id = ?")
        .bind(JSON.stringify(attempts), new Date(next).toISOString(), head.id)
        .run();
      await this.ctx.storage.setAlarm(next);
      return;
    }
    await this.ctx.storage.setAlarm(Date.now()); // more pending: continue in a fresh alarm
  }

  private async send(hook: WebhookRow, d: DeliveryRow): Promise<{ kind: "ok" | "retry"; attempt: Attempt } | { kind: "disable"; reason: string; attempt: Attempt }> {
    const started = Date.now();
    const attempt = (statusCode: number | null, error: string | null): Attempt => ({ at: new Date(started).toISOString(), statusCode, durationMs: Date.now() - started, error });
    const config = loadConfig(this.env);
    const url = checkWebhookUrl(hook.url, { allowHttp: config.webhookAllowHttp });
    if (!url.ok) return { kind: "disable", reason: `The URL is no longer allowed: ${url.reason}`, attempt: attempt(null, url.reason) };
    let secret: string;
    try {
      if (!config.webhookSecretKey) throw new Error("no key");
      secret = await decryptSecret(config.webhookSecretKey, hook.id, hook.secret_enc);
    } catch {
      const reason = "The signing secret cannot be decrypted (WEBHOOK_SECRET_KEY changed?): rotate the secret and re-enable the webhook";
      return { kind: "disable", reason, attempt: attempt(null, "signing secret unavailable") };
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
    try {
      const res = await fetch(url.url, {
        method: "POST",
        redirect: "manual",
        signal: controller.signal,
        headers: {
          "content-type": "application/json",
          "user-agent": "KaisouMail-Webhooks/1",
          "webhook-id": d.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": await signWebhook(secret, d.id, timestamp, d.payload),
        },
        body: d.payload,
      });
      await drain(res);
      clearTimeout(timer);
      if (res.status >= 200 && res.status < 300) return { kind: "ok", attempt: attempt(res.status, null) };
      if (res.status === 410) return { kind: "disable", reason: "The endpoint answered 410 Gone", attempt: attempt(410, "410 Gone") };
      const error = res.status >= 300 && res.status < 400 ? `Redirect not followed (${res.status})` : `HTTP ${res.status}`;
      return { kind: "retry", attempt: attempt(res.status, error) };
    } catch (e) {
      clearTimeout(timer);
      const error = controller.signal.aborted ? `Timed out after ${SEND_TIMEOUT_MS / 1000} s` : `Network error: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300);
      return { kind: "retry", attempt: attempt(null, error) };
    }
  }
}

/** Reads at most MAX_RESPONSE_BYTES of the answer (then hangs up): a huge answer costs nothing. */
async function drain(res: Response): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let read = 0;
  try {
    while (read < MAX_RESPONSE_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
    await reader.cancel();
  } catch {
    /* the status is what counts */
  }
}

async function failPending(db: D1Database, webhookId: string): Promise<void> {
  await db.prepare("UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL WHERE webhook_id = ? AND status = 'pending'").bind(webhookId).run();
}
