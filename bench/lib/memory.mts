// Peak memory while storing one 25 MiB message through the inbound handler's code
// (`receiveMessage` from src/mail/inbound.ts) in Node, because the local email trigger refuses
// anything over 1 MiB. The message arrives as a ReadableStream in 64 KiB chunks; D1 and R2 are
// in-memory stand-ins that answer at once and keep no bytes (as a network upload would not).
// Reported: peak RSS above the pre-delivery level (the kernel's high-water mark, VmHWM, reset via
// /proc/self/clear_refs), and the sampled peaks of heapUsed + arrayBuffers (V8 heap plus the
// array buffers the handler allocates), all as bytes above the level just before delivery.
// Run: node --expose-gc --import tsx bench/lib/memory.mts   Prints one JSON line.
import { createHook } from "node:async_hooks";
import { readFileSync, writeFileSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { receiveMessage } from "../../src/mail/inbound.ts";
import { makeMessage, MiB } from "./mail.mjs";

const SIZE = 25 * MiB;
/** A live (garbage-collected) sample every this many promises: the parser makes one per line. */
const LIVE_EVERY = Number(process.argv[2] ?? "4096");
const CHUNK = 64 * 1024;
const to = "ava@desk.bench-mail.example";
const raw = makeMessage({ size: SIZE, to, seed: 25 });

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const vm = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? NaN) * 1024;

const mailbox = {
  id: "mbx_00000000000000000000000000000001",
  user_id: "usr_00000000000000000000000000000001",
  domain_id: "dom_00000000000000000000000000000001",
  local_part: "ava",
  subdomain: "desk",
  root_domain: "bench-mail.example",
  address: to,
  source: "registered",
  routing_rule_id: "r1",
  status: "active",
  created_at: "2026-01-01T00:00:00.000Z",
  expires_at: null,
  destroyed_at: null,
  last_received_at: null,
  cleanup_next_attempt_at: null,
  cleanup_attempts: 0,
  cleanup_last_error: null,
};

let peakHeap = 0;
let peakBuffers = 0;
let peakSum = 0;
const sample = (live = false) => {
  if (live) liveSample();
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
  peakSum = Math.max(peakSum, m.heapUsed + m.arrayBuffers);
};

// Inside the parser there are no timers, only promises (one per MIME line): sample on every
// 64th promise created as well, with the cheap V8 counters (heap used + external memory).
let peakV8 = 0;
let promises = 0;
let peakLive = 0;
let peakAt = "";
let liveSamples = 0;
let stage = "read";
/** Live memory: a full collection, then heap used + array buffers (what is really held). */
const liveSample = () => {
  gc();
  const m = process.memoryUsage();
  liveSamples++;
  if (m.heapUsed + m.arrayBuffers > peakLive) {
    peakLive = m.heapUsed + m.arrayBuffers;
    peakAt = stage;
  }
};
const hook = createHook({
  init() {
    promises++;
    if (promises % LIVE_EVERY === 0) liveSample();
    if (promises % 64 !== 0) return;
    const h = getHeapStatistics();
    peakV8 = Math.max(peakV8, h.used_heap_size + h.external_memory);
  },
});

const stored: Record<string, number> = {};
/** The recipient lookup (src/mail/inbound.ts RECIPIENT_SQL) finds the mailbox; every other read finds nothing. */
const rowsFor = (sql: string) => (/^SELECT b\.\*/.test(sql) ? [{ ...mailbox, duplicate_id: null, hooks_json: "[]" }] : []);
const statement = (sql: string) => {
  const s = {
    sql,
    bind: (..._args: unknown[]) => s,
    first: async () => ((stage = "d1 read"), sample(true), rowsFor(sql)[0] ?? null),
    all: async () => ((stage = "d1 read"), sample(), { results: rowsFor(sql), meta: {} }),
    run: async () => (sample(), { meta: { changes: 1 } }),
  };
  return s;
};
const env = {
  DB: {
    prepare: statement,
    batch: async (list: Array<{ sql: string }>) => (
      (stage = list.some((x) => /^\s*(INSERT|UPDATE)/.test(x.sql)) ? "d1 batch" : "d1 read"), sample(true), list.map((x) => ({ results: rowsFor(x.sql), meta: { changes: 1 } }))
    ),
  },
  MAIL_BUCKET: {
    put: async (key: string, value: Uint8Array | string) => {
      stage = key.startsWith("raw/") ? "r2 put raw" : "r2 put parsed";
      sample(true);
      if (key.startsWith("raw/")) stage = "parse";
      stored[key] = typeof value === "string" ? value.length : value.byteLength;
      return {};
    },
    delete: async () => {},
  },
};

function stream(): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      sample(offset % (16 * CHUNK) === 0);
      if (offset >= raw.length) return controller.close();
      // A fresh chunk each time, as the runtime hands the handler new buffers.
      controller.enqueue(new Uint8Array(raw.subarray(offset, offset + CHUNK)));
      offset += CHUNK;
    },
  });
}

const console_log = console.log;
console.log = () => {}; // the handler's structured log line
gc();
gc();
await new Promise((r) => setTimeout(r, 50));
const before = process.memoryUsage();
const rssBefore = vm("VmRSS");
let hwmReset = true;
try {
  writeFileSync("/proc/self/clear_refs", "5"); // resets VmHWM to the current RSS
} catch {
  hwmReset = false;
}
peakHeap = before.heapUsed;
peakBuffers = before.arrayBuffers;
peakSum = before.heapUsed + before.arrayBuffers;
peakLive = before.heapUsed + before.arrayBuffers;
const v8Before = getHeapStatistics();
peakV8 = v8Before.used_heap_size + v8Before.external_memory;
hook.enable();
const timer = setInterval(sample, 1);
const started = process.hrtime.bigint();
const result = await receiveMessage(
  { from: "no-reply@sender.example", to, headers: new Headers({ "message-id": "<bench-25@sender.example>" }), raw: stream(), rawSize: raw.length, setReject: () => {} },
  env as never,
);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
clearInterval(timer);
hook.disable();
sample();
const hwm = vm("VmHWM");
console.log = console_log;
console.log(
  JSON.stringify({
    size: SIZE,
    result: result.kind,
    parseStatus: "parseStatus" in result ? result.parseStatus : null,
    storedRawBytes: Object.entries(stored).find(([k]) => k.startsWith("raw/"))?.[1] ?? 0,
    ms,
    rssPeakAbove: hwmReset ? hwm - rssBefore : null,
    heapPeakAbove: peakHeap - before.heapUsed,
    arrayBuffersPeakAbove: peakBuffers - before.arrayBuffers,
    heapPlusBuffersPeakAbove: peakSum - (before.heapUsed + before.arrayBuffers),
    v8HeapPlusExternalPeakAbove: peakV8 - (v8Before.used_heap_size + v8Before.external_memory),
    livePeakAbove: peakLive - (before.heapUsed + before.arrayBuffers),
    livePeakAt: peakAt,
    liveSamples,
    hwmReset,
  }),
);
