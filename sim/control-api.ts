/**
 * Control endpoints under /__sim (no auth, plain JSON in and out, not Cloudflare's envelope):
 * reset, tokens, zones (create/activate/status), faults, request log, stats, config, state dump.
 * Success answers 200 with the object; failures answer 4xx `{error}`.
 * Imports state.ts, views.ts, faults.ts, request-log.ts, rate-limit.ts, http.ts, errors.ts.
 */
import { CfError } from "./errors.ts";
import { parseFaultSpec, type FaultRegistry } from "./faults.ts";
import { Router } from "./http.ts";
import { HEX32 } from "./ids.ts";
import type { SlidingWindowLimiter } from "./rate-limit.ts";
import type { RequestLog } from "./request-log.ts";
import {
  PERMISSIONS,
  ZONE_STATUSES,
  type Permission,
  type SimConfig,
  type SimStore,
  type TokenRecord,
  type ZoneRecord,
  type ZoneStatus,
} from "./state.ts";
import { catchAllView, dnsRecordsView, ruleView, settingsView, zoneView } from "./views.ts";

/** The live pieces of a running simulator that the control API drives. */
export interface SimRuntime {
  store: SimStore;
  faults: FaultRegistry;
  log: RequestLog;
  limiter: SlidingWindowLimiter;
  counters: { rateLimited: number };
}

/** A control answer. */
export interface ControlResponse {
  status: number;
  body: unknown;
}

interface ControlRequest {
  rt: SimRuntime;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

type ControlHandler = (req: ControlRequest) => ControlResponse;

const okRes = (body: unknown): ControlResponse => ({ status: 200, body });
const fail = (status: number, error: string): ControlResponse => ({ status, body: { error } });
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Whether a browser page at `origin` may drive the control API: the simulator's own origin, or a
 * page on this machine (localhost, 127.0.0.1, [::1], any port). Anything else — another site, a
 * DNS-rebound name, a sandboxed page ("null") — is refused, so a web page cannot reset the
 * simulator or inject faults. Requests without an Origin (curl, tests, scripts) never reach this.
 */
export function controlOriginAllowed(origin: string, ownOrigin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin === ownOrigin) return true;
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  return url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
}

/** CORS answer headers for an allowed Origin (none without one). */
export function controlCorsHeaders(origin: string | undefined): Record<string, string> {
  return origin === undefined ? {} : { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
}

/** Token as shown by the control API (never the value). */
export function tokenInfo(t: TokenRecord) {
  return { id: t.id, status: t.status, permissions: [...t.permissions], accounts: [...t.accounts] };
}

function fullZoneView(store: SimStore, zone: ZoneRecord) {
  return zoneView(zone, store.account(zone.account_id), PERMISSIONS);
}

/** Everything the simulator holds, for test assertions (no token values). */
export function dumpState(store: SimStore) {
  const s = store.state;
  return {
    accounts: Object.values(s.accounts),
    tokens: Object.values(s.tokens).map(tokenInfo),
    config: s.config,
    zones: Object.values(s.zones)
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
      .map((z) => ({
        zone: fullZoneView(store, z),
        settings: settingsView(z),
        dns: Object.fromEntries(Object.keys(z.routing.names).sort().map((n) => [n, dnsRecordsView(z, n)])),
        rules: z.rules.map(ruleView),
        catch_all: catchAllView(z.catch_all),
      })),
  };
}

/** Reset every piece of runtime state to the start-up defaults. */
export function resetRuntime(rt: SimRuntime): void {
  rt.store.reset();
  rt.faults.reset();
  rt.log.reset();
  rt.limiter.reset();
  rt.counters.rateLimited = 0;
}

// ── Validation ─────────────────────────────────────────────────────────────────────────────

function parseTokenPatch(
  body: unknown,
): { error: string } | { patch: { permissions?: Permission[]; accounts?: string[]; status?: "active" | "disabled" } } {
  const b = body === undefined ? {} : body;
  if (!isObject(b)) return { error: "body must be an object" };
  const patch: { permissions?: Permission[]; accounts?: string[]; status?: "active" | "disabled" } = {};
  if (b.permissions !== undefined) {
    if (!Array.isArray(b.permissions)) return { error: "permissions must be an array" };
    for (const p of b.permissions) {
      if (!(PERMISSIONS as readonly unknown[]).includes(p)) {
        return { error: `unknown permission ${JSON.stringify(p)}; known: ${PERMISSIONS.join(", ")}` };
      }
    }
    patch.permissions = b.permissions as Permission[];
  }
  if (b.accounts !== undefined) {
    if (!Array.isArray(b.accounts) || b.accounts.some((a) => typeof a !== "string" || !HEX32.test(a))) {
      return { error: "accounts must be an array of 32-hex account ids" };
    }
    patch.accounts = b.accounts as string[];
  }
  if (b.status !== undefined) {
    if (b.status !== "active" && b.status !== "disabled") return { error: "status must be active or disabled" };
    patch.status = b.status;
  }
  return { patch };
}

function parseConfigPatch(body: unknown): { error: string } | { patch: Partial<SimConfig> } {
  if (!isObject(body)) return { error: "body must be an object" };
  const patch: Partial<SimConfig> = {};
  if (body.rateLimit !== undefined) {
    const r = body.rateLimit;
    if (
      !isObject(r) ||
      typeof r.limit !== "number" ||
      !Number.isInteger(r.limit) ||
      r.limit < 1 ||
      typeof r.windowSeconds !== "number" ||
      !(r.windowSeconds > 0)
    ) {
      return { error: "rateLimit must be {limit: integer >= 1, windowSeconds: number > 0}" };
    }
    patch.rateLimit = { limit: r.limit, windowSeconds: r.windowSeconds };
  }
  if (body.rulesLimit !== undefined) {
    if (typeof body.rulesLimit !== "number" || !Number.isInteger(body.rulesLimit) || body.rulesLimit < 0) {
      return { error: "rulesLimit must be an integer >= 0" };
    }
    patch.rulesLimit = body.rulesLimit;
  }
  if (body.pendingZoneRouting !== undefined) {
    if (body.pendingZoneRouting !== "reject" && body.pendingZoneRouting !== "allow") {
      return { error: "pendingZoneRouting must be reject or allow" };
    }
    patch.pendingZoneRouting = body.pendingZoneRouting;
  }
  return { patch };
}

/** Run `fn` on the zone `id`, or answer 404. */
function withZone(rt: SimRuntime, id: string | undefined, fn: (zone: ZoneRecord) => ControlResponse): ControlResponse {
  const zone = id === undefined ? undefined : rt.store.getZone(id);
  return zone ? fn(zone) : fail(404, `zone ${id ?? ""} not found`);
}

// ── Handlers ───────────────────────────────────────────────────────────────────────────────

const router = new Router<ControlHandler>()
  .add("GET", "/health", () => okRes({ ok: true }))
  .add("POST", "/reset", ({ rt }) => {
    resetRuntime(rt);
    return okRes({ ok: true });
  })
  .add("GET", "/tokens", ({ rt }) => okRes(rt.store.listTokens().map(tokenInfo)))
  .add("PUT", "/tokens/:value", ({ rt, params, body }) => {
    const parsed = parseTokenPatch(body);
    if ("error" in parsed) return fail(400, parsed.error);
    const value = params.value as string;
    if (value === "" || /\s/.test(value)) return fail(400, "token value must be non-empty without spaces");
    return okRes(tokenInfo(rt.store.upsertToken(value, parsed.patch)));
  })
  .add("DELETE", "/tokens/:value", ({ rt, params }) =>
    rt.store.deleteToken(params.value as string) ? okRes({ deleted: true }) : fail(404, "token not found"),
  )
  .add("POST", "/zones", ({ rt, body }) => {
    if (!isObject(body)) return fail(400, "body must be an object {name, accountId?, status?}");
    const accountId = body.accountId ?? rt.store.defaults.accountId;
    if (typeof accountId !== "string" || !HEX32.test(accountId)) return fail(400, "accountId must be 32 hex");
    const status = body.status ?? "active";
    if (!(ZONE_STATUSES as readonly unknown[]).includes(status)) {
      return fail(400, `status must be one of ${ZONE_STATUSES.join(", ")}`);
    }
    try {
      const zone = rt.store.createZone({ name: body.name, accountId, status: status as ZoneStatus });
      return okRes(fullZoneView(rt.store, zone));
    } catch (e) {
      if (e instanceof CfError) return fail(e.errors[0]?.code === 1061 ? 409 : 400, e.errors[0]?.message ?? "invalid");
      throw e;
    }
  })
  .add("POST", "/zones/:id/activate", ({ rt, params }) =>
    withZone(rt, params.id, (zone) => okRes(fullZoneView(rt.store, rt.store.setZoneStatus(zone, "active")))),
  )
  .add("POST", "/zones/:id/status", ({ rt, params, body }) =>
    withZone(rt, params.id, (zone) => {
      const status = isObject(body) ? body.status : undefined;
      if (!(ZONE_STATUSES as readonly unknown[]).includes(status)) {
        return fail(400, `status must be one of ${ZONE_STATUSES.join(", ")}`);
      }
      return okRes(fullZoneView(rt.store, rt.store.setZoneStatus(zone, status as ZoneStatus)));
    }),
  )
  .add("POST", "/faults", ({ rt, body }) => {
    const parsed = parseFaultSpec(body);
    if ("error" in parsed) return fail(400, parsed.error);
    return okRes(rt.faults.add(parsed.fault));
  })
  .add("GET", "/faults", ({ rt }) => okRes(rt.faults.list()))
  .add("DELETE", "/faults", ({ rt }) => {
    const cleared = rt.faults.list().length;
    rt.faults.clear();
    return okRes({ cleared });
  })
  .add("DELETE", "/faults/:id", ({ rt, params }) =>
    rt.faults.remove(params.id as string) ? okRes({ deleted: true }) : fail(404, "fault not found"),
  )
  .add("GET", "/requests", ({ rt, query }) => {
    const since = Number(query.get("since") ?? 0);
    return okRes(rt.log.since(Number.isFinite(since) ? since : 0));
  })
  .add("DELETE", "/requests", ({ rt }) => {
    rt.log.clear();
    return okRes({ cleared: true });
  })
  .add("GET", "/stats", ({ rt }) => {
    const inj = rt.faults.injected;
    const zones = Object.values(rt.store.state.zones);
    return okRes({
      requests: rt.log.total,
      rateLimited: rt.counters.rateLimited,
      faultsInjected: { total: inj["5xx"] + inj["429"] + inj.hang, ...inj },
      zones: zones.length,
      rules: zones.reduce((n, z) => n + z.rules.length, 0),
      tokens: rt.store.listTokens().length,
    });
  })
  .add("GET", "/config", ({ rt }) => okRes(rt.store.state.config))
  .add("PUT", "/config", ({ rt, body }) => {
    const parsed = parseConfigPatch(body);
    if ("error" in parsed) return fail(400, parsed.error);
    const config = rt.store.setConfig(parsed.patch);
    if (parsed.patch.rateLimit) rt.limiter.reset();
    return okRes(config);
  })
  .add("GET", "/state", ({ rt }) => okRes(dumpState(rt.store)));

/** Handle a control request (path relative to /__sim). */
export function handleControl(
  rt: SimRuntime,
  method: string,
  path: string,
  query: URLSearchParams,
  bodyText: string,
): ControlResponse {
  const m = router.match(method, path);
  if (m.kind === "none") return fail(404, `unknown control endpoint ${method} /__sim${path}`);
  let body: unknown;
  if (bodyText.trim() !== "") {
    try {
      body = JSON.parse(bodyText);
    } catch {
      return fail(400, "malformed JSON body");
    }
  }
  return m.handler({ rt, params: m.params, query, body });
}
