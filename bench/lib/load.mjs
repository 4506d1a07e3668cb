// A small closed-loop load generator: `concurrency` workers, each sending its next request as
// soon as the previous answer has been read, over keep-alive connections (node:http), for a fixed
// duration or a fixed number of requests. Latency is measured from send to the last body byte.
import http from "node:http";

/**
 * @typedef {{ method?: string, path: string, headers?: Record<string,string>, body?: Buffer|string|null }} Req
 * @param {{ url: string, request: Req | ((i:number) => Req), concurrency?: number, durationMs?: number,
 *   requests?: number, warmupMs?: number, warmupRequests?: number, ok?: (status:number) => boolean,
 *   timeoutMs?: number }} o
 */
export async function load(o) {
  const concurrency = o.concurrency ?? 16;
  const ok = o.ok ?? ((s) => s >= 200 && s < 300);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const base = new URL(o.url);
  let seq = 0;
  const next = () => (typeof o.request === "function" ? o.request(seq++) : o.request);

  const one = (req) =>
    new Promise((resolve) => {
      const body = req.body == null ? null : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
      const headers = { ...(req.headers ?? {}) };
      if (body) headers["content-length"] = String(body.length);
      const started = process.hrtime.bigint();
      const r = http.request(
        { host: base.hostname, port: base.port, method: req.method ?? "GET", path: req.path, headers, agent, timeout: o.timeoutMs ?? 60_000 },
        (res) => {
          let bytes = 0;
          let head = "";
          res.on("data", (c) => {
            bytes += c.length;
            if (head.length < 200) head += c.toString("utf8", 0, Math.min(c.length, 200));
          });
          res.on("end", () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6, bytes, head }));
          res.on("error", (e) => resolve({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6, bytes, error: String(e) }));
        },
      );
      r.on("timeout", () => r.destroy(new Error("timeout")));
      r.on("error", (e) => resolve({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6, bytes: 0, error: String(e) }));
      r.end(body ?? undefined);
    });

  const run = async ({ durationMs, requests, record }) => {
    const lat = [];
    const statuses = {};
    let errors = 0;
    let sample = null;
    let bytes = 0;
    let issued = 0;
    const started = process.hrtime.bigint();
    const deadline = durationMs ? Date.now() + durationMs : Infinity;
    const worker = async () => {
      while (Date.now() < deadline && (requests === undefined || issued < requests)) {
        issued++;
        const res = await one(next());
        if (!record) continue;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (!ok(res.status)) {
          errors++;
          sample ??= res.error ?? `HTTP ${res.status} ${(res.head ?? "").slice(0, 160).replace(/\s+/g, " ")}`;
        }
        bytes += res.bytes;
        lat.push(res.ms);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { lat, statuses, errors, sample, seconds, bytes };
  };

  if (o.warmupMs || o.warmupRequests) await run({ durationMs: o.warmupMs, requests: o.warmupRequests, record: false });
  const r = await run({ durationMs: o.durationMs, requests: o.requests, record: true });
  agent.destroy();
  return summarise(r);
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}

function summarise({ lat, statuses, errors, sample, seconds, bytes }) {
  const sorted = [...lat].sort((a, b) => a - b);
  return {
    requests: lat.length,
    seconds,
    rps: lat.length / seconds,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    errors,
    errorSample: sample,
    statuses,
    bytesPerResponse: lat.length ? bytes / lat.length : 0,
    latencies: sorted,
  };
}

/** Merges several runs of one figure (requests and time add up; latencies are pooled). */
export function merge(runs) {
  const lat = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const statuses = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const requests = lat.length;
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50: percentile(lat, 0.5),
    p95: percentile(lat, 0.95),
    p99: percentile(lat, 0.99),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    errorSample: runs.find((r) => r.errorSample)?.errorSample ?? null,
    statuses,
    bytesPerResponse: runs.reduce((a, r) => a + r.bytesPerResponse * r.requests, 0) / Math.max(1, requests),
    rounds: runs.map((r) => Math.round(r.rps * 10) / 10),
    latencies: lat,
  };
}
