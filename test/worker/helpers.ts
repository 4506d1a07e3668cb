import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../src/index";
import { resetBootstrapMemo } from "../../src/auth/authenticate";
import { createUserWithKey, type Role } from "../../src/db/users";
import { contractViolation } from "./contract";
import { mockEmail } from "./mail-fixtures";

/** Talks to the local Cloudflare simulator's control API (outside /client/v4). */
export const sim = {
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${env.SIM_URL}/__sim${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sim ${method} ${path} → ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  },
  reset: () => sim.call("POST", "/reset"),
  activate: (zoneId: string) => sim.call("POST", `/zones/${zoneId}/activate`),
  createZone: (name: string, status: "pending" | "active" = "active") =>
    sim.call<{ id: string; name: string; name_servers: string[] }>("POST", "/zones", { name, status }),
  setToken: (value: string, body: { permissions?: string[]; accounts?: string[]; status?: string }) =>
    sim.call("PUT", `/tokens/${encodeURIComponent(value)}`, body),
  fault: (spec: Record<string, unknown>) => sim.call<{ id: string }>("POST", "/faults", spec),
  clearFaults: () => sim.call("DELETE", "/faults"),
  requests: () => sim.call<Array<{ method: string; path: string; status: number }>>("GET", "/requests"),
  clearRequests: () => sim.call("DELETE", "/requests"),
  state: () => sim.call<SimState>("GET", "/state"),
  config: (body: Record<string, unknown>) => sim.call("PUT", "/config", body),
};

export interface SimZoneState {
  zone: { id: string; name: string; status: string; name_servers: string[] };
  settings: { enabled: boolean; status: string; subdomains?: Array<{ name: string; enabled: boolean }> };
  dns: Record<string, unknown>;
  rules: Array<{ id: string; name: string; enabled: boolean; matchers: Array<{ type: string; value?: string }>; actions: Array<{ type: string; value?: string[] }> }>;
  catch_all: { name: string; enabled: boolean; matchers: unknown[]; actions: unknown[] };
}
export interface SimState {
  zones: SimZoneState[];
  [k: string]: unknown;
}

export async function simZone(name: string): Promise<SimZoneState | undefined> {
  return (await sim.state()).zones.find((z) => z.zone.name === name);
}

export const FULL_PERMISSIONS = [
  "zone:read",
  "zone:edit",
  "zone_settings:read",
  "zone_settings:edit",
  "email_routing_rules:read",
  "email_routing_rules:edit",
];
export const SIM_TOKEN = "sim-full-access-token-0000000000000000000000";
export const SIM_ACCOUNT = "0123456789abcdef0123456789abcdef";

/** Cloudflare calls the simulator saw, as "METHOD /path" (query stripped), oldest first. */
export async function cfCalls(): Promise<string[]> {
  const log = await sim.requests();
  return log.map((r) => `${r.method} ${r.path.split("?")[0]}`);
}

export async function resetCloudflare(): Promise<void> {
  await sim.reset();
  await env.CF_GATE.get(env.CF_GATE.idFromName("global")).reset();
}

export interface Caller {
  userId: string;
  key: string;
  role: Role;
}

let n = 0;
export async function makeUser(role: Role = "member"): Promise<Caller> {
  resetBootstrapMemo();
  const created = await createUserWithKey(
    env.DB,
    { email: `${role}${++n}-${crypto.randomUUID().slice(0, 8)}@example.test`, name: `${role} ${n}`, role },
    { name: "test" },
  );
  if (!created) throw new Error("user not created");
  return { userId: created.user.id, key: created.apiKey, role };
}

export interface CallOptions {
  body?: unknown;
  key?: string | null;
  headers?: Record<string, string>;
}

export async function api(method: string, path: string, opts: CallOptions = {}): Promise<{ status: number; body: any; res: Response }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  const res = await exports.default.fetch(
    new Request(`http://kaisoumail.test${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
    }),
  );
  // An event stream never ends: callers of this helper only look at its status and headers.
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    await res.body?.cancel();
    const violation = contractViolation(method, path, res.status, res.headers.get("content-type"), null);
    if (violation) throw new Error(`API contract: ${violation}`);
    return { status: res.status, body: null, res };
  }
  const text = await res.text();
  // Every answer a test receives must be one the OpenAPI document describes (test/worker/contract.ts).
  const violation = contractViolation(method, path, res.status, res.headers.get("content-type"), text);
  if (violation) throw new Error(`API contract: ${violation}`);
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, res };
}

export function domainObject(root: string) {
  return env.DOMAINS.get(env.DOMAINS.idFromName(root));
}

/** An active domain, enabled from the catalog (zone created in the simulator as if in the dashboard). */
export async function activeDomain(adminKey: string, name: string): Promise<{ id: string; zoneId: string }> {
  const zone = await sim.createZone(name, "active");
  const res = await api("POST", "/api/domains", { key: adminKey, body: { mailDomain: name, zoneId: zone.id } });
  if (res.status !== 201) throw new Error(`enable ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, zoneId: zone.id };
}

/** The test env with a D1 whose batches fail ("D1 unavailable"): a store that cannot commit. */
export function envWithFailingBatch(): typeof env {
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") return async () => { throw new Error("D1 unavailable"); };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, DB: db } as typeof env;
}

/** Delivers raw mail through the Worker's own email() export, its waitUntil work (hub poke, webhook queueing) awaited. */
export async function deliverViaWorker(raw: Uint8Array, to: string, e: typeof env = env): Promise<void> {
  const ctx = createExecutionContext();
  await worker.email(mockEmail(raw, { to }) as unknown as ForwardableEmailMessage, e, ctx);
  await waitOnExecutionContext(ctx);
}

/** Polls `cond` every `stepMs` until it holds; throws after `ms`. */
export async function until(cond: () => Promise<boolean>, ms = 5000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
