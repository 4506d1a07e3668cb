// CPU probe for bench/run.mjs (the Free plan's CPU table, issue 22). Never deployed.
//
// It is KaisouMail itself (the same `fetch`, `email`, `scheduled` and Durable Object classes,
// bundled from src/ by wrangler) plus three endpoints that measure the JavaScript CPU of one
// invocation without its I/O, as the Free plan counts it (D1, R2, Durable Object and `fetch` waits
// do not count):
//   POST /__probe/record   runs one invocation for real (warm-up requests first, unrecorded),
//                          recording every I/O answer: D1 statements and batches, R2 calls,
//                          Durable Object RPCs, outgoing fetch and static assets (a "tape").
//   POST /__probe/replay?name=&n=   runs the same invocation n times against bindings that answer
//                          from the tape at once (a resolved promise, no I/O): what remains is the
//                          handler's own JavaScript (routing, auth, validation, SQL building,
//                          JSON, parsing), including the structured clone of each answer.
//   POST /__probe/control?n=       the same request built n times and not handled (the control
//                          the bench subtracts; both are read from the workerd process in /proc).
// The tape is keyed by the I/O call (SQL text, R2 method, RPC name, URL) and cycled, so random ids
// in the SQL's bound values do not matter. A replay that asks for a call the tape lacks is a
// "miss": the bench reports the figure as not measured instead of a number.
import app, { CloudflareGate, DomainObject, MailHub, WebhookOutbox } from "../../src/index";
import type { Env } from "../../src/env";

export { CloudflareGate, DomainObject, MailHub, WebhookOutbox };

type Mode = "record" | "replay";
class Tape {
  entries = new Map<string, { items: unknown[]; i: number }>();
  misses: string[] = [];
  mode: Mode = "record";
  /** The warm-up's calls: answers for a call the invocation itself did not make when recorded (an in-isolate cache that expired since). */
  fallback: Tape | null = null;
  put(key: string, value: unknown) {
    const e = this.entries.get(key) ?? { items: [], i: 0 };
    e.items.push(value);
    this.entries.set(key, e);
  }
  take(key: string): unknown {
    const e = this.entries.get(key) ?? this.fallback?.entries.get(key);
    if (!e) {
      this.misses.push(key.slice(0, 200));
      throw new Error(`probe tape miss: ${key.slice(0, 120)}`);
    }
    const v = e.items[e.i % e.items.length];
    e.i++;
    return structuredClone(v);
  }
  rewind() {
    for (const e of this.entries.values()) e.i = 0;
  }
}

async function io<T>(t: Tape, key: string, real: () => Promise<T>, save: (v: T) => unknown | Promise<unknown> = (v) => v, load: (v: any) => T = (v) => v): Promise<T> {
  if (t.mode === "replay") return load(t.take(key));
  const v = await real();
  const saved = await save(v);
  t.put(key, structuredClone(saved));
  return load(structuredClone(saved));
}

// ── D1 ──
function d1(real: D1Database, t: Tape): D1Database {
  const stmt = (sql: string, r: D1PreparedStatement | null): any => ({
    __sql: sql,
    __real: r,
    bind: (...args: unknown[]) => stmt(sql, t.mode === "record" ? r!.bind(...args) : null),
    first: (col?: string) => io(t, `d1.first ${col ?? ""} ${sql}`, () => (col ? r!.first(col) : r!.first())),
    all: () => io(t, `d1.all ${sql}`, () => r!.all()),
    run: () => io(t, `d1.run ${sql}`, () => r!.run()),
    raw: (o?: { columnNames?: boolean }) => io(t, `d1.raw ${sql}`, () => r!.raw(o as never)),
  });
  return {
    prepare: (sql: string) => stmt(sql, t.mode === "record" ? real.prepare(sql) : null),
    batch: (list: any[]) => io(t, `d1.batch ${list.map((s) => s.__sql).join(" ; ")}`, () => real.batch(list.map((s) => s.__real))),
    exec: (sql: string) => io(t, `d1.exec ${sql}`, () => real.exec(sql)),
    withSession: () => d1(real, t),
    dump: () => real.dump(),
  } as unknown as D1Database;
}

// ── R2 ──
interface SavedObject {
  meta: Record<string, unknown>;
  bytes: ArrayBuffer | null;
}
function r2Object(s: SavedObject | null): any {
  if (!s) return null;
  const m = s.meta as any;
  const bytes = s.bytes;
  return {
    ...m,
    writeHttpMetadata(h: Headers) {
      for (const [k, v] of Object.entries(m.httpMetadata ?? {})) {
        const name = { contentType: "content-type", contentDisposition: "content-disposition", contentEncoding: "content-encoding", contentLanguage: "content-language", cacheControl: "cache-control" }[k];
        if (name && typeof v === "string") h.set(name, v);
      }
    },
    ...(bytes
      ? {
          get body() {
            return new Response(bytes).body;
          },
          bodyUsed: false,
          arrayBuffer: async () => bytes.slice(0),
          bytes: async () => new Uint8Array(bytes.slice(0)),
          text: async () => new TextDecoder().decode(bytes),
          json: async () => JSON.parse(new TextDecoder().decode(bytes)),
          blob: async () => new Blob([bytes]),
        }
      : {}),
  };
}
const metaOf = (o: any): Record<string, unknown> =>
  o ? { key: o.key, version: o.version, size: o.size, etag: o.etag, httpEtag: o.httpEtag, uploaded: o.uploaded, httpMetadata: o.httpMetadata ?? {}, customMetadata: o.customMetadata ?? {}, range: o.range } : {};
async function drain(value: unknown): Promise<void> {
  if (value instanceof ReadableStream) await new Response(value).arrayBuffer();
}
function r2(real: R2Bucket, t: Tape): R2Bucket {
  return {
    head: (key: string) => io(t, "r2.head", () => real.head(key), (o) => (o ? { meta: metaOf(o), bytes: null } : null), r2Object),
    get: (key: string, opts?: R2GetOptions) =>
      io(
        t,
        "r2.get",
        () => real.get(key, opts),
        async (o: any) => (o ? { meta: metaOf(o), bytes: await o.arrayBuffer() } : null),
        r2Object,
      ),
    put: async (key: string, value: any, opts?: R2PutOptions) => {
      if (t.mode === "replay") await drain(value);
      return io(t, "r2.put", () => real.put(key, value, opts), (o) => ({ meta: metaOf(o), bytes: null }), r2Object);
    },
    delete: (keys: string | string[]) => io(t, "r2.delete", () => real.delete(keys)),
    list: (opts?: R2ListOptions) => io(t, "r2.list", () => real.list(opts), (l: any) => ({ ...l, objects: l.objects.map(metaOf) })),
  } as unknown as R2Bucket;
}

// ── Durable Objects (RPC stubs) ──
async function saveResponse(res: Response) {
  return { status: res.status, headers: [...res.headers], body: await res.arrayBuffer() };
}
const loadResponse = (s: { status: number; headers: [string, string][]; body: ArrayBuffer }) => new Response(s.status === 204 || s.status === 304 ? null : s.body, { status: s.status, headers: s.headers });

function namespace(real: DurableObjectNamespace, binding: string, t: Tape): DurableObjectNamespace {
  const stub = (realStub: any) =>
    new Proxy(
      {},
      {
        get(_, method: string) {
          if (method === "then") return undefined;
          return (...args: unknown[]) =>
            method === "fetch"
              ? io(t, `do.${binding}.fetch`, () => realStub.fetch(...args), saveResponse, loadResponse)
              : io(t, `do.${binding}.${method}`, () => realStub[method](...args));
        },
      },
    );
  return {
    idFromName: (n: string) => (t.mode === "record" ? real.idFromName(n) : ({ name: n, toString: () => n } as unknown as DurableObjectId)),
    idFromString: (s: string) => (t.mode === "record" ? real.idFromString(s) : ({ toString: () => s } as unknown as DurableObjectId)),
    newUniqueId: () => (t.mode === "record" ? real.newUniqueId() : ({ toString: () => "x" } as unknown as DurableObjectId)),
    get: (id: DurableObjectId) => stub(t.mode === "record" ? real.get(id) : null),
    getByName: (n: string) => stub(t.mode === "record" ? (real as any).getByName(n) : null),
  } as unknown as DurableObjectNamespace;
}

function fetcher(real: Fetcher, name: string, t: Tape): Fetcher {
  return { fetch: (input: RequestInfo, init?: RequestInit) => io(t, `${name}.fetch`, () => real.fetch(input as never, init as never), saveResponse, loadResponse) } as unknown as Fetcher;
}

function envFor(env: Env, t: Tape): Env {
  return {
    ...env,
    DB: d1(env.DB, t),
    MAIL_BUCKET: r2(env.MAIL_BUCKET, t),
    DOMAINS: namespace(env.DOMAINS, "DOMAINS", t),
    CF_GATE: namespace(env.CF_GATE, "CF_GATE", t),
    HUB: namespace(env.HUB, "HUB", t),
    WEBHOOK_OUTBOX: namespace(env.WEBHOOK_OUTBOX, "WEBHOOK_OUTBOX", t),
    ASSETS: fetcher(env.ASSETS, "ASSETS", t),
  } as Env;
}

/** Outgoing fetch (Cloudflare's API, webhook receivers) through the tape while a probe runs. */
const realFetch = globalThis.fetch.bind(globalThis);
let active: Tape | null = null;
globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
  if (!active) return realFetch(input, init);
  const req = new Request(input as RequestInfo, init);
  const url = new URL(req.url);
  return io(active, `fetch ${req.method} ${url.origin}${url.pathname.replace(/[0-9a-f]{32}/g, ":id")}`, () => realFetch(req), saveResponse, loadResponse);
}) as typeof fetch;

// ── Alarms: real Durable Objects (subclasses bound only in the probe) whose env is swapped ──
/**
 * The object's `env` swapped for the tape's bindings. Its own storage stays real: Durable Object
 * storage is in-process SQLite, which a deployed object pays for in its own CPU time too.
 */
function swapEnv(obj: object, env: Env): void {
  Object.defineProperty(obj, "env", { value: env, writable: true, configurable: true });
}

interface AlarmProbe {
  tape: Tape | null;
  saved: unknown;
  realEnv: Env;
}

async function runAlarmProbe(
  obj: { alarm(): Promise<void>; ctx: DurableObjectState },
  state: AlarmProbe,
  phase: "record" | "replay" | "control",
  n: number,
  save: () => unknown,
  restore: (saved: unknown) => void,
): Promise<{ status: string; calls?: string[]; misses?: string[] }> {
  if (phase === "control") return { status: "ok" };
  if (phase === "record") {
    state.saved = save();
    const tape = new Tape();
    state.tape = tape;
    swapEnv(obj, envFor(state.realEnv, tape));
    active = tape;
    try {
      await obj.alarm();
    } finally {
      active = null;
      swapEnv(obj, state.realEnv);
    }
    return { status: "ok", calls: [...tape.entries].map(([k, v]) => `${v.items.length}× ${k.slice(0, 100)}`) };
  }
  const tape = state.tape!;
  tape.mode = "replay";
  tape.misses = [];
  swapEnv(obj, envFor(state.realEnv, tape));
  active = tape;
  try {
    for (let i = 0; i < n; i++) {
      tape.rewind();
      restore(state.saved);
      await obj.alarm();
    }
  } finally {
    active = null;
    swapEnv(obj, state.realEnv);
  }
  return { status: "ok", misses: [...new Set(tape.misses)] };
}

/** A domain object that binds `target` for real (its zone pending at the simulator), then records and replays its alarm. */
export class ProbeDomainObject extends DomainObject {
  private probe: AlarmProbe | null = null;
  async measure(target: string, phase: "record" | "replay" | "control", n: number) {
    if (phase === "record") {
      this.probe = { tape: null, saved: null, realEnv: this.env };
      const bound = await this.bind(target);
      if (!bound.ok) return { status: `bind failed: ${JSON.stringify(bound).slice(0, 200)}` };
    }
    const kv = this.ctx.storage.kv;
    return runAlarmProbe(
      this as never,
      this.probe!,
      phase,
      n,
      () => kv.get("domain"),
      (saved) => {
        kv.put("domain", saved);
        (this as unknown as { snapshot: unknown }).snapshot = null; // reload from storage, as after eviction
      },
    );
  }
}

/** An outbox for `target` (a webhook id) whose alarm sends that hook's head delivery. */
export class ProbeWebhookOutbox extends WebhookOutbox {
  private probe: AlarmProbe | null = null;
  async measure(target: string, phase: "record" | "replay" | "control", n: number) {
    if (phase === "record") {
      this.probe = { tape: null, saved: null, realEnv: this.env };
      await this.ctx.storage.put("webhookId", target);
    }
    const storage = this.ctx.storage;
    return runAlarmProbe(this as never, this.probe!, phase, n, () => target, (saved) => void storage.put("webhookId", saved));
  }
}

// ── Invocations ──
interface Spec {
  name: string;
  kind: "fetch" | "email" | "scheduled";
  request?: { method: string; path: string; headers?: Record<string, string>; body?: string };
  warm?: Array<{ method: string; path: string; headers?: Record<string, string> }>;
  email?: { from: string; to: string; raw: string /* base64 */ };
  /** Settings for this invocation only (e.g. PARSE_INLINE_MAX_BYTES). */
  vars?: Record<string, string>;
}
interface Prepared {
  spec: Spec;
  tape: Tape;
  raw?: Uint8Array;
  status?: number | string;
}
const prepared = new Map<string, Prepared>();

function ctxFor(): { ctx: ExecutionContext; settle: () => Promise<void> } {
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p.catch(() => {})), passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  return { ctx, settle: async () => void (await Promise.all(pending)) };
}

const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function emailMessage(spec: NonNullable<Spec["email"]>, raw: Uint8Array): ForwardableEmailMessage {
  const head = new TextDecoder().decode(raw.subarray(0, Math.min(raw.byteLength, 16384)));
  const headers = new Headers();
  for (const line of head.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return {
    from: spec.from,
    to: spec.to,
    headers,
    raw: new Response(raw).body!,
    rawSize: raw.byteLength,
    setReject() {},
    forward: async () => ({}),
    reply: async () => ({}),
  } as unknown as ForwardableEmailMessage;
}

async function invoke(p: Prepared, env: Env): Promise<number | string> {
  const { spec } = p;
  const { ctx, settle } = ctxFor();
  let status: number | string = "ok";
  if (spec.kind === "fetch") {
    const r = spec.request!;
    const req = new Request(`http://127.0.0.1${r.path}`, { method: r.method, headers: r.headers, body: r.body ?? null });
    const res = await app.fetch!(req as never, env, ctx);
    await res.arrayBuffer();
    status = res.status;
  } else if (spec.kind === "email") {
    await app.email!(emailMessage(spec.email!, p.raw!), env, ctx);
  } else if (spec.kind === "scheduled") {
    await app.scheduled!({ cron: "*/5 * * * *", scheduledTime: Date.now(), noRetry() {} } as ScheduledController, env, ctx);
  }
  await settle();
  return status;
}

async function record(spec: Spec, env: Env, ctx: ExecutionContext): Promise<Response> {

  const tape = new Tape();
  const p: Prepared = { spec, tape, raw: spec.email ? b64(spec.email.raw) : undefined };
  // Warm the isolate's caches (API key, active domains) and JIT as a steady-state isolate has them.
  const warm = new Tape();
  active = warm;
  try {
    for (const w of spec.warm ?? []) {
      const res = await app.fetch!(new Request(`http://127.0.0.1${w.path}`, { method: w.method, headers: w.headers }) as never, envFor(env, warm), ctx);
      await res.arrayBuffer();
    }
  } finally {
    active = null;
  }
  tape.fallback = warm;
  warm.mode = "replay";
  active = tape;
  try {
    p.status = await invoke(p, envFor({ ...env, ...spec.vars } as Env, tape));
  } catch (e) {
    return Response.json({ error: String(e) }, { status: 500 });
  } finally {
    active = null;
  }
  prepared.set(spec.name, p);
  return Response.json({ name: spec.name, status: p.status, calls: [...tape.entries].map(([k, v]) => `${v.items.length}× ${k.slice(0, 100)}`) });
}

export default {
  ...app,
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/__probe/")) return app.fetch!(request as never, env, ctx);
    const n = Math.max(1, Math.min(5000, Number(url.searchParams.get("n") ?? "1") || 1));
    if (url.pathname === "/__probe/control") {
      const p = prepared.get(url.searchParams.get("name") ?? "");
      let x = 0;
      for (let i = 0; i < n; i++) {
        // What every invocation pays in the probe besides the handler: the request or message object.
        if (p?.spec.kind === "fetch") x += new Request(`http://127.0.0.1${p.spec.request!.path}`, { method: p.spec.request!.method, headers: p.spec.request!.headers, body: p.spec.request!.body ?? null }).url.length;
        else if (p?.spec.kind === "email") x += emailMessage(p.spec.email!, p.raw!).rawSize;
      }
      return Response.json({ n, x });
    }
    if (url.pathname === "/__probe/record") {
      try {
        return await record((await request.json()) as Spec, env, ctx);
      } catch (e) {
        return Response.json({ error: String((e as Error)?.stack ?? e) }, { status: 500 });
      }
    }
    if (url.pathname === "/__probe/alarm") {
      // ?kind=domain|outbox&target=&phase=record|replay|control&n=
      const kind = url.searchParams.get("kind");
      const target = url.searchParams.get("target") ?? "";
      const phase = (url.searchParams.get("phase") ?? "control") as "record" | "replay" | "control";
      const ns = kind === "domain" ? (env as unknown as { PROBE_DOMAINS: DurableObjectNamespace }).PROBE_DOMAINS : (env as unknown as { PROBE_OUTBOX: DurableObjectNamespace }).PROBE_OUTBOX;
      const stub = ns.get(ns.idFromName(`probe:${target}`)) as unknown as { measure(t: string, p: string, n: number): Promise<unknown> };
      try {
        return Response.json(await stub.measure(target, phase, n));
      } catch (e) {
        return Response.json({ error: String((e as Error)?.stack ?? e) }, { status: 500 });
      }
    }
    if (url.pathname === "/__probe/replay") {
      const p = prepared.get(url.searchParams.get("name") ?? "");
      if (!p) return Response.json({ error: "not recorded" }, { status: 404 });
      p.tape.mode = "replay";
      p.tape.misses = [];
      const statuses = new Set<string>();
      const env2 = envFor({ ...env, ...p.spec.vars } as Env, p.tape);
      active = p.tape;
      try {
        for (let i = 0; i < n; i++) {
          p.tape.rewind();
          try {
            statuses.add(String(await invoke(p, env2)));
          } catch (e) {
            statuses.add(`threw: ${String(e).slice(0, 200)}`);
          }
        }
      } finally {
        active = null;
      }
      return Response.json({ n, statuses: [...statuses], misses: [...new Set(p.tape.misses)].slice(0, 5), recorded: p.status });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
