// HTTP client of the soak: every request has its own time limit, transient answers (429, 502,
// 503, 504, network errors, time-outs) are retried a few times like a real client would
// (Retry-After honoured), and every attempt is counted per operation.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const TRANSIENT = new Set([429, 502, 503, 504]);

export class Stats {
  constructor() {
    this.ops = new Map();
    /** Attempts that were not answered within their limit: {op, method, path, ms}. */
    this.overLimit = [];
    /** 500 answers of the API (a bug: every failure should carry a status and a code). */
    this.serverErrors = [];
    /** Non-200 answers of the email handler (the sending server retries them). */
    this.handlerFailures = [];
  }
  op(name) {
    let s = this.ops.get(name);
    if (!s) {
      s = { name, calls: 0, attempts: 0, ok: 0, failed: 0, retried: 0, statuses: {}, durations: [] };
      this.ops.set(name, s);
    }
    return s;
  }
  summary() {
    const rows = [];
    for (const s of [...this.ops.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const d = [...s.durations].sort((a, b) => a - b);
      const pct = (p) => (d.length ? d[Math.min(d.length - 1, Math.floor((p / 100) * d.length))] : 0);
      rows.push({
        op: s.name,
        calls: s.calls,
        attempts: s.attempts,
        ok: s.ok,
        failed: s.failed,
        retried: s.retried,
        statuses: s.statuses,
        p50Ms: pct(50),
        p95Ms: pct(95),
        maxMs: d.length ? d[d.length - 1] : 0,
      });
    }
    return rows;
  }
}

export class Client {
  /**
   * @param {object} o
   * @param {string} o.base  http://127.0.0.1:<port>
   * @param {Stats} o.stats
   * @param {number} o.limitMs  per-attempt time limit
   * @param {number} o.retries  extra attempts after a transient failure
   */
  constructor({ base, stats, limitMs = 30_000, retries = 4, maxRetryWaitMs = 8_000 }) {
    this.base = base;
    this.stats = stats;
    this.limitMs = limitMs;
    this.retries = retries;
    this.maxRetryWaitMs = maxRetryWaitMs;
  }

  /**
   * One logical request. Returns {status, ok, json, text, bytes, headers, attempts, timedOut}.
   * `auth`: {key} | {cookie, origin?} | null. `retryOn(status)` decides which answers are retried
   * (default 429/502/503/504); `email` marks deliveries to the email handler. Never throws for
   * HTTP or network failures.
   */
  async request(op, method, path, { auth = null, body, rawBody, headers = {}, binary = false, retries = this.retries, limitMs = this.limitMs, retryOn = (status) => TRANSIENT.has(status), email = false } = {}) {
    const s = this.stats.op(op);
    s.calls++;
    const started = Date.now();
    let last = null;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) s.retried++;
      s.attempts++;
      const h = { ...headers };
      if (auth?.key) h.authorization = `Bearer ${auth.key}`;
      if (auth?.cookie) {
        h.cookie = auth.cookie;
        if (auth.origin) h.origin = auth.origin;
      }
      let payload;
      if (rawBody !== undefined) payload = rawBody;
      else if (body !== undefined) {
        h["content-type"] = "application/json";
        payload = JSON.stringify(body);
      }
      const ctrl = new AbortController();
      const attemptStart = Date.now();
      const timer = setTimeout(() => ctrl.abort(), limitMs);
      try {
        const res = await fetch(`${this.base}${path}`, { method, headers: h, body: payload, signal: ctrl.signal });
        const buf = Buffer.from(await res.arrayBuffer());
        clearTimeout(timer);
        const ms = Date.now() - attemptStart;
        s.durations.push(ms);
        s.statuses[res.status] = (s.statuses[res.status] ?? 0) + 1;
        let json = null;
        const text = binary ? "" : buf.toString("utf8");
        if (!binary && (res.headers.get("content-type") ?? "").includes("json")) {
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
        }
        last = { status: res.status, ok: res.ok, json, text, bytes: buf, headers: res.headers, attempts: attempt + 1, timedOut: false };
        if (email && res.status !== 200) this.stats.handlerFailures.push({ op, status: res.status, text: text.slice(0, 300), attempt: attempt + 1 });
        else if (res.status === 500) this.stats.serverErrors.push({ op, method, path, text: text.slice(0, 300) });
        if (!retryOn(res.status) || attempt === retries) break;
        const ra = Number(res.headers.get("retry-after"));
        const wait = Number.isFinite(ra) && ra > 0 ? ra * 1000 : 400 * 2 ** attempt;
        await sleep(Math.min(this.maxRetryWaitMs, wait) * (0.8 + 0.4 * Math.random()));
      } catch (e) {
        clearTimeout(timer);
        const ms = Date.now() - attemptStart;
        const timedOut = ctrl.signal.aborted;
        s.durations.push(ms);
        const key = timedOut ? "timeout" : "network";
        s.statuses[key] = (s.statuses[key] ?? 0) + 1;
        if (timedOut) this.stats.overLimit.push({ op, method, path: path.replace(/\?.*$/, ""), ms });
        last = { status: 0, ok: false, json: null, text: String(e), bytes: Buffer.alloc(0), headers: new Headers(), attempts: attempt + 1, timedOut, error: String(e) };
        if (attempt === retries) break;
        await sleep(500 * 2 ** attempt);
      }
    }
    if (last.ok) s.ok++;
    else s.failed++;
    last.totalMs = Date.now() - started;
    return last;
  }
}
