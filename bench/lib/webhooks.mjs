// Webhook figures (bench/run.mjs phase "webhooks"): inbound messages/s through email() with 0, 1
// and 5 matching webhooks whose receivers are local Node HTTP servers on 127.0.0.1 answering 200
// at once. The app runs with WEBHOOK_ALLOW_HTTP=true (http:// and loopback receivers allowed).
// Deliveries are sent out of band (queued in the inbound D1 batch, sent by the hook's outbox
// Durable Object), so each run waits for the receivers to go quiet before the next starts: the
// backlog of one run never lands in another's window.
import http from "node:http";
import { HOST, sleep } from "./stack.mjs";

/** A receiver answering `status` (200 unless set otherwise) at once; counts requests and webhook-ids. */
export async function receiver() {
  const r = { hits: 0, ok: 0, status: 200, ids: new Map(), acceptedIds: new Map(), lastHitAt: 0, url: "" };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      r.hits++;
      r.lastHitAt = Date.now();
      const id = req.headers["webhook-id"] ?? "";
      r.ids.set(id, (r.ids.get(id) ?? 0) + 1);
      if (r.status === 200) {
        r.ok++;
        r.acceptedIds.set(id, (r.acceptedIds.get(id) ?? 0) + 1);
      }
      // connection: close — workerd opened a new socket per delivery and ran out of file descriptors
      // ("Too many open files") in a full run while idle keep-alive sockets piled up on this side
      res.writeHead(r.status, { "content-type": "text/plain", connection: "close" });
      res.end("ok");
    });
  });
  await new Promise((res) => server.listen(0, HOST, res));
  r.url = `http://${HOST}:${server.address().port}/hook`;
  r.close = () => new Promise((res) => server.close(() => res()));
  return r;
}

/** Waits until no receiver got a request for `quietMs` (or `maxMs` passed); returns the wait in ms. */
export async function drain(receivers, { quietMs = 1500, maxMs = 120_000 } = {}) {
  const t = Date.now();
  for (;;) {
    const last = Math.max(0, ...receivers.map((r) => r.lastHitAt));
    if (Date.now() - Math.max(last, t) >= quietMs) return Date.now() - t;
    if (Date.now() - t > maxMs) return Date.now() - t;
    await sleep(200);
  }
}

export const totalHits = (receivers) => receivers.reduce((a, r) => a + r.ok, 0);

/** Waits until the receivers accepted `target` deliveries in all, or none arrived for `stallMs`; returns the wait in ms. */
export async function waitDelivered(receivers, target, { stallMs = 10_000, maxMs = 120_000 } = {}) {
  const t = Date.now();
  let last = totalHits(receivers);
  let lastAt = t;
  for (;;) {
    const n = totalHits(receivers);
    if (n >= target) return Date.now() - t;
    if (n !== last) {
      last = n;
      lastAt = Date.now();
    }
    if (Date.now() - lastAt >= stallMs || Date.now() - t > maxMs) return Date.now() - t;
    await sleep(100);
  }
}
