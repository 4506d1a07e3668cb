// Push figures (bench/run.mjs phase "push"): how soon a waiting client holds a delivered message
// through GET /api/messages/wait, GET /api/messages/stream and 1 s polling of the list; what idle
// open streams cost the app in CPU; and whether a fan-out to many streams of one mailbox delivers
// every message to every stream once, in one order. Clients use Node's fetch, as a script or a
// browser's EventSource would (the stream is parsed by hand: `id:`, `event:`, `data:`, comments).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { percentile } from "./load.mjs";
import { rng } from "./mail.mjs";
import { cpuNs, groupPids } from "./procs.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const now = () => performance.now();

/** A small verification message with its own Message-ID (every delivery is a new message). */
export function pushMail({ to, subject, code = "482913" }) {
  const id = `<push-${randomBytes(8).toString("hex")}@sender.example>`;
  return Buffer.from(
    [
      "From: Example Service <no-reply@sender.example>",
      `To: <${to}>`,
      `Subject: ${subject}`,
      `Message-ID: ${id}`,
      `Date: ${new Date().toUTCString()}`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      `Your verification code is ${code}.`,
      "It expires in 10 minutes.",
      "",
    ].join("\r\n"),
  );
}

/** Delivers one message through wrangler's local Email Routing trigger; throws unless stored. */
export async function deliver(base, to, raw, from = "no-reply@sender.example") {
  const res = await fetch(`${base}/cdn-cgi/handler/email?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, {
    method: "POST",
    headers: { "content-type": "message/rfc822" },
    body: raw,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`email handler answered ${res.status}: ${text.slice(0, 300)}`);
}

/**
 * One event-stream reader (what EventSource does, by hand): `events` gets every `event: message`
 * with the time its block was complete; comments (`: connected`, `: keep-alive …`) are counted.
 */
export class StreamClient {
  constructor(base, key, { mailbox = null, onEvent = null } = {}) {
    this.url = `${base}/api/messages/stream${mailbox ? `?${new URLSearchParams({ mailbox })}` : ""}`;
    this.key = key;
    this.onEvent = onEvent;
    this.onKeepAlive = null; // (at) => …, for each `: keep-alive` comment
    this.events = [];
    this.comments = 0;
    this.keepAlives = 0;
    this.malformed = 0;
    this.ended = false;
    this.error = null;
    this.abort = new AbortController();
  }

  /** Resolves once the stream's first comment (`: connected`) has arrived. */
  open(timeoutMs = 30_000) {
    let connected;
    const ready = new Promise((resolve, reject) => {
      connected = resolve;
      setTimeout(() => reject(new Error(`stream did not connect within ${timeoutMs} ms`)), timeoutMs).unref();
    });
    this.done = (async () => {
      try {
        const res = await fetch(this.url, { headers: { authorization: `Bearer ${this.key}`, accept: "text/event-stream" }, signal: this.abort.signal });
        if (res.status !== 200 || !(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
          throw new Error(`stream answered ${res.status} ${res.headers.get("content-type")}: ${(await res.text()).slice(0, 200)}`);
        }
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
          for (let end = buf.indexOf("\n\n"); end >= 0; end = buf.indexOf("\n\n")) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            this.block(block, now(), connected);
          }
        }
        this.ended = true;
      } catch (e) {
        if (!this.abort.signal.aborted) this.error = e;
        this.ended = true;
      } finally {
        connected(); // (a stream that failed before connecting: `open` reports the error below)
      }
    })();
    return ready.then(() => {
      if (this.error) throw this.error;
      return this;
    });
  }

  block(block, at, connected) {
    let id = null;
    let event = "message";
    const data = [];
    let fields = 0;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        this.comments++;
        if (line.startsWith(": keep-alive")) {
          this.keepAlives++;
          this.onKeepAlive?.(at);
        }
        connected();
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      fields++;
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (!fields || data.length === 0) return; // a comment-only block, or `retry:`
    let message;
    try {
      message = JSON.parse(data.join("\n"));
    } catch {
      this.malformed++;
      return;
    }
    if (event !== "message" || id !== message.id) this.malformed++;
    const e = { id, event, message, at };
    this.events.push(e);
    this.onEvent?.(e);
  }

  async close() {
    this.abort.abort();
    await this.done?.catch(() => {});
  }
}

/** Opens `n` streams, `parallel` at a time, each resolved once connected. */
export async function openStreams(base, key, n, { mailbox, parallel = 20 } = {}) {
  const clients = Array.from({ length: n }, () => new StreamClient(base, key, { mailbox }));
  for (let i = 0; i < n; i += parallel) await Promise.all(clients.slice(i, i + parallel).map((c) => c.open()));
  return clients;
}

export function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return {
    n: v.length,
    p50: r(percentile(v, 0.5)),
    p95: r(percentile(v, 0.95)),
    p99: r(percentile(v, 0.99)),
    min: r(v[0] ?? NaN),
    max: r(v[v.length - 1] ?? NaN),
    mean: r(v.reduce((a, x) => a + x, 0) / Math.max(1, v.length)),
  };
}

/**
 * Delivery latency: `count` messages to one mailbox, one at a time, each from t0 (just before its
 * POST to the email trigger) to the moment each client holds it. Three clients watch at once:
 *  - wait:   a loop of GET /api/messages/wait?mailbox&after=<last id>&timeout=60;
 *  - stream: one GET /api/messages/stream?mailbox reader;
 *  - poll:   GET /api/messages?mailbox&limit=1 every `pollMs` on a fixed schedule (the old page).
 * The next message is sent only after all three hold the previous one (so the poller's `limit=1`
 * never skips one), then after a seeded random gap uniform over [gapMs[0], gapMs[1]). With a
 * window as wide as the poll period, the instant a message lands is uniform over the poll phase.
 */
export async function deliveryLatency({ base, key, address, count, gapMs, pollMs = 1000, seed = 17, holdTimeoutMs = 15_000, onProgress = () => {} }) {
  const auth = { headers: { authorization: `Bearer ${key}` } };
  const tag = randomBytes(3).toString("hex");
  const kinds = ["wait", "stream", "poll"];
  const sent = new Map(); // subject → { i, t0, postMs, held: {kind: ms}, resolve }
  const odd = { strays: 0, duplicates: { wait: 0, stream: 0, poll: 0 }, waitErrors: [], pollErrors: [], waitTimeouts: 0 };
  const hold = (kind, subject, at) => {
    const r = sent.get(subject);
    if (!r) return void odd.strays++;
    if (r.held[kind] !== undefined) return void (kind !== "poll" && odd.duplicates[kind]++);
    r.held[kind] = at;
    if (kinds.every((k) => r.held[k] !== undefined)) r.resolve();
  };
  let stopped = false;

  // The starting point: whatever the mailbox holds now (an empty one starts before any message).
  const first = await (await fetch(`${base}/api/messages?${new URLSearchParams({ mailbox: address, limit: "1" })}`, auth)).json();
  const startAfter = first.messages?.[0]?.id ?? `msg_${"0".repeat(32)}`;

  const stream = new StreamClient(base, key, { mailbox: address, onEvent: (e) => hold("stream", e.message.subject, e.at) });
  await stream.open();

  const waitAbort = new AbortController();
  let waitCalls = 0;
  const waitLoop = (async () => {
    let after = startAfter;
    let got = 0;
    while (!stopped && got < count) {
      try {
        waitCalls++;
        const res = await fetch(`${base}/api/messages/wait?${new URLSearchParams({ mailbox: address, after, timeout: "60" })}`, { ...auth, signal: waitAbort.signal });
        if (res.status === 204) {
          await res.arrayBuffer();
          odd.waitTimeouts++;
          continue;
        }
        const body = await res.json();
        const at = now();
        if (res.status !== 200) throw new Error(`wait answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
        after = body.message.id;
        got++;
        hold("wait", body.message.subject, at);
      } catch (e) {
        if (waitAbort.signal.aborted) return;
        odd.waitErrors.push(String(e?.message ?? e));
        await sleep(500);
      }
    }
  })();

  let polls = 0;
  const pollLoop = (async () => {
    const start = now();
    let lastId = first.messages?.[0]?.id ?? null;
    while (!stopped) {
      try {
        polls++;
        const res = await fetch(`${base}/api/messages?${new URLSearchParams({ mailbox: address, limit: "1" })}`, auth);
        const body = await res.json();
        const at = now();
        if (res.status !== 200) throw new Error(`list answered ${res.status}`);
        const m = body.messages?.[0];
        if (m && m.id !== lastId) {
          lastId = m.id;
          hold("poll", m.subject, at);
        }
      } catch (e) {
        odd.pollErrors.push(String(e?.message ?? e));
      }
      // the next tick of a fixed 1 s schedule (a tick missed by a slow answer is skipped)
      await sleep(start + Math.ceil((now() - start + 1) / pollMs) * pollMs - now());
    }
  })();

  await sleep(1500); // every client is waiting before the first message
  const rand = rng(seed);
  const gaps = [];
  for (let i = 0; i < count; i++) {
    const subject = `Push bench ${tag} #${i}`;
    const raw = pushMail({ to: address, subject, code: String(100000 + i) });
    const r = { i, held: {} };
    const all = new Promise((resolve) => (r.resolve = resolve));
    sent.set(subject, r);
    r.t0 = now();
    await deliver(base, address, raw);
    r.postMs = now() - r.t0;
    let timer;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, holdTimeoutMs)))]);
    clearTimeout(timer);
    const gap = gapMs[0] + rand() * (gapMs[1] - gapMs[0]);
    gaps.push(gap);
    onProgress(i + 1);
    await sleep(gap);
  }
  stopped = true;
  waitAbort.abort(); // only a wait loop that missed a message is still waiting
  await Promise.all([waitLoop, pollLoop]);
  await stream.close();

  const rows = [...sent.values()];
  const per = Object.fromEntries(
    kinds.map((k) => {
      const got = rows.filter((r) => r.held[k] !== undefined);
      return [k, { ...stats(got.map((r) => r.held[k] - r.t0)), missing: rows.length - got.length }];
    }),
  );
  // Where a stream event or wait answer came before the POST returned (the hub is poked in the
  // handler's waitUntil, so this is possible): how many.
  const beforePostReturned = Object.fromEntries(kinds.map((k) => [k, rows.filter((r) => r.held[k] !== undefined && r.held[k] - r.t0 < r.postMs).length]));
  return {
    messages: rows.length,
    ...per,
    post: stats(rows.map((r) => r.postMs)),
    afterPost: Object.fromEntries(kinds.map((k) => [k, stats(rows.filter((r) => r.held[k] !== undefined).map((r) => r.held[k] - r.t0 - r.postMs))])),
    beforePostReturned,
    gaps: stats(gaps),
    polls,
    waitCalls,
    streamKeepAlives: stream.keepAlives,
    streamMalformed: stream.malformed,
    streamError: stream.error ? String(stream.error) : null,
    ...odd,
    waitErrors: odd.waitErrors.slice(0, 5),
    pollErrors: odd.pollErrors.slice(0, 5),
    slowest: Object.fromEntries(
      kinds.map((k) => [
        k,
        rows
          .filter((r) => r.held[k] !== undefined)
          .sort((a, b) => b.held[k] - b.t0 - (a.held[k] - a.t0))
          .slice(0, 5)
          .map((r) => ({ i: r.i, ms: Math.round((r.held[k] - r.t0) * 10) / 10, postMs: Math.round(r.postMs * 10) / 10 })),
      ]),
    ),
  };
}

const procText = (pid, file) => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return "";
  }
};

/**
 * What a process of a `wrangler dev` group is: the workerd running the app (the one with the
 * inspector), the workerd in front of it (wrangler's proxy on the public port, which also relays
 * the inspector), wrangler itself (Node) or its bundler (esbuild, polling the sources for changes).
 */
function role(pid) {
  const name = procText(pid, "comm").trim();
  if (name === "workerd") return procText(pid, "cmdline").includes("--inspector-addr") ? "workerd (app)" : "workerd (wrangler proxy)";
  if (name === "node") return "wrangler (Node)";
  return name || "?";
}

/** CPU ns per process of a process group, with each process's role. */
function groupCpu(pgid, roles) {
  return new Map(
    groupPids(pgid).map((pid) => {
      if (!roles.has(pid)) roles.set(pid, role(pid));
      return [pid, cpuNs([pid])];
    }),
  );
}

/**
 * CPU the group spent over `windowMs` of wall time, sampled every second: the total, by process
 * role, and per one-second bucket (for telling keep-alive rounds from the quiet in between).
 */
async function cpuOver(pgid, windowMs) {
  const roles = new Map();
  const t = now();
  let prev = groupCpu(pgid, roles);
  const byRole = {};
  const buckets = [];
  for (let i = 1; i * 1000 <= windowMs; i++) {
    await sleep(t + i * 1000 - now());
    const cur = groupCpu(pgid, roles);
    const bucket = { start: t + (i - 1) * 1000, ms: 0, byRole: {} };
    for (const [pid, ns] of cur) {
      const ms = (ns - (prev.get(pid) ?? 0)) / 1e6;
      bucket.ms += ms;
      bucket.byRole[roles.get(pid)] = (bucket.byRole[roles.get(pid)] ?? 0) + ms;
      byRole[roles.get(pid)] = (byRole[roles.get(pid)] ?? 0) + ms;
    }
    buckets.push(bucket);
    prev = cur;
  }
  const r1 = (x) => Math.round(x * 10) / 10;
  return {
    cpuMs: r1(buckets.reduce((a, b) => a + b.ms, 0)),
    wallMs: Math.round(now() - t),
    byRole: Object.fromEntries(Object.entries(byRole).map(([k, v]) => [k, r1(v)])),
    perSecond: buckets.map((b) => r1(b.ms)),
    perSecondByRole: Object.fromEntries(Object.keys(byRole).map((k) => [k, buckets.map((b) => r1(b.byRole[k] ?? 0))])),
    buckets,
  };
}

/** Mean CPU ms per one-second bucket (all roles, or what `pick` takes from each). */
const perBucket = (buckets, pick = (b) => b.ms) => buckets.reduce((a, b) => a + pick(b), 0) / Math.max(1, buckets.length);

/**
 * CPU of the app's process group (wrangler + workerd) while idle for `windowMs` with no stream
 * open, then for `windowMs` with `streams` streams open on one mailbox (opened, then `settleMs`
 * left to pass before the window starts). Every stream must still be open at the end. Beside the
 * totals: the keep-alive rounds in the window (every open stream gets a comment every 25 s), and
 * the CPU per second in the "quiet" seconds — no keep-alive round in that second or the
 * `roundTailMs` before it (wrangler's Node side finishes its part of a round a few seconds late).
 */
export async function idleCpu({ base, key, address, pgid, streams, windowMs, settleMs = 5000, roundTailMs = 6000 }) {
  await sleep(settleMs);
  const none = await cpuOver(pgid, windowMs);
  const t = now();
  const arrivals = [];
  const clients = Array.from({ length: streams }, () => new StreamClient(base, key, { mailbox: address }));
  for (const c of clients) c.onKeepAlive = (at) => arrivals.push(at);
  for (let i = 0; i < streams; i += 20) await Promise.all(clients.slice(i, i + 20).map((c) => c.open()));
  const openMs = Math.round(now() - t);
  await sleep(settleMs);
  const from = arrivals.length;
  const open = await cpuOver(pgid, windowMs);
  const inWindow = arrivals.slice(from).filter((a) => a >= open.buckets[0].start);
  const stillOpen = clients.filter((c) => !c.ended && !c.error).length;
  const errors = clients.filter((c) => c.error).map((c) => String(c.error));
  await Promise.all(clients.map((c) => c.close()));

  // Keep-alive rounds: arrivals more than 2 s apart start a new round.
  const rounds = [];
  for (const a of [...inWindow].sort((x, y) => x - y)) if (!rounds.length || a - rounds[rounds.length - 1].last > 2000) rounds.push({ first: a, last: a, n: 1 });
  else Object.assign(rounds[rounds.length - 1], { last: a, n: rounds[rounds.length - 1].n + 1 });
  const quiet = open.buckets.filter((b) => !rounds.some((r) => r.first < b.start + 1000 && r.first > b.start - roundTailMs));
  const roleNames = [...new Set([...Object.keys(none.byRole), ...Object.keys(open.byRole)])];
  const r1 = (x) => Math.round(x * 10) / 10;
  const quietPerSecond = Object.fromEntries(roleNames.map((k) => [k, { open: r1(perBucket(quiet, (b) => b.byRole[k] ?? 0)), none: r1(perBucket(none.buckets, (b) => b.byRole[k] ?? 0)) }]));
  const strip = ({ buckets, ...rest }) => rest;
  return {
    streams,
    windowMs,
    none: strip(none),
    open: strip(open),
    ratio: open.cpuMs / none.cpuMs,
    appWorkerdRatio: (open.byRole["workerd (app)"] ?? 0) / (none.byRole["workerd (app)"] ?? NaN),
    openMs,
    keepAlivesInWindow: inWindow.length,
    keepAliveRounds: rounds.map((r) => ({ streams: r.n, spreadMs: Math.round(r.last - r.first), atS: r1((r.first - open.buckets[0].start) / 1000) })),
    quietSeconds: quiet.length,
    quietRatio: perBucket(quiet) / perBucket(none.buckets),
    quietPerSecond,
    // what each keep-alive round cost above the quiet level, by role (ms per round)
    perRound: rounds.length
      ? Object.fromEntries(roleNames.map((k) => [k, r1(((open.byRole[k] ?? 0) - perBucket(quiet, (b) => b.byRole[k] ?? 0) * open.buckets.length) / rounds.length)]))
      : null,
    stillOpen,
    errors: errors.slice(0, 5),
  };
}

/**
 * Fan-out: `streams` streams on one mailbox, then `messages` messages delivered `concurrency` at a
 * time. Passes when every stream received every message exactly once, nothing else, and all
 * streams in one and the same order.
 */
export async function fanOut({ base, key, address, streams, messages, concurrency, timeoutMs = 60_000 }) {
  const clients = await openStreams(base, key, streams, { mailbox: address });
  const tag = randomBytes(3).toString("hex");
  const t0 = new Map();
  let next = 0;
  const started = now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < messages) {
        const i = next++;
        const subject = `Fan-out ${tag} #${i}`;
        const raw = pushMail({ to: address, subject, code: String(200000 + i) });
        t0.set(subject, now());
        await deliver(base, address, raw);
      }
    }),
  );
  const sentMs = now() - started;
  const deadline = now() + timeoutMs;
  while (now() < deadline && clients.some((c) => c.events.length < messages && !c.ended)) await sleep(50);
  const allInMs = now() - started;
  await sleep(1000); // anything extra (a duplicate) would arrive now
  await Promise.all(clients.map((c) => c.close()));

  const reference = clients[0].events.map((e) => e.message.subject);
  const per = clients.map((c) => {
    const subjects = c.events.map((e) => e.message.subject);
    const unique = new Set(subjects);
    return {
      received: subjects.length,
      duplicates: subjects.length - unique.size,
      missing: [...t0.keys()].filter((s) => !unique.has(s)).length,
      extra: [...unique].filter((s) => !t0.has(s)).length,
      sameOrder: subjects.length === reference.length && subjects.every((s, i) => s === reference[i]),
      malformed: c.malformed,
      error: c.error ? String(c.error) : null,
    };
  });
  const complete = per.filter((p) => p.received === messages && p.duplicates === 0 && p.missing === 0 && p.extra === 0 && !p.malformed && !p.error).length;
  const inOrder = per.filter((p) => p.sameOrder).length;
  // Per message: from its POST to the moment the last of the streams had it.
  const lastHeld = [...t0].map(([s, t]) => Math.max(...clients.map((c) => (c.events.find((e) => e.message.subject === s)?.at ?? Infinity) - t)));
  return {
    streams,
    messages,
    concurrency,
    complete,
    inOrder,
    ok: complete === streams && inOrder === streams,
    eventsReceived: per.reduce((a, p) => a + p.received, 0),
    duplicates: per.reduce((a, p) => a + p.duplicates, 0),
    missing: per.reduce((a, p) => a + p.missing, 0),
    extra: per.reduce((a, p) => a + p.extra, 0),
    malformed: per.reduce((a, p) => a + p.malformed, 0),
    streamErrors: per.filter((p) => p.error).map((p) => p.error).slice(0, 5),
    sentMs: Math.round(sentMs),
    allInMs: Math.round(allInMs),
    toLastStream: stats(lastHeld.filter(Number.isFinite)),
    // the order the first stream saw differs from sending order where concurrent deliveries commit out of order
    referenceMatchesSendOrder: reference.every((s, i) => s === `Fan-out ${tag} #${i}`),
  };
}
