/**
 * The Cloudflare v4 REST subset under /client/v4: route table, id checks (7003/7000), permission
 * and account checks (10000, 9109, code 0), and one handler per endpoint returning an ApiResult.
 * Authentication, rate limiting, faults and logging happen around it in server.ts.
 * Imports state.ts, views.ts, validate.ts, http.ts, errors.ts.
 */
import { cf } from "./errors.ts";
import { Router, paginate, parseJson, type ApiResult } from "./http.ts";
import { HEX32 } from "./ids.ts";
import {
  hasPermission,
  type Permission,
  type SimStore,
  type TokenRecord,
  type ZoneRecord,
} from "./state.ts";
import { parseCatchAllInput, parseRuleInput } from "./validate.ts";
import { catchAllView, dnsRecordsView, ruleView, settingsView, zoneView } from "./views.ts";

/** Everything a handler sees. */
export interface ApiContext {
  store: SimStore;
  token: TokenRecord;
  method: string;
  /** Path relative to /client/v4. */
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  /** Parsed JSON body (undefined when empty); throws 6007 when unparsable. */
  body(): unknown;
}

/** A route's handler plus how its caller is authenticated. */
interface Endpoint {
  /** "verify": unknown/disabled tokens answer 401 1000 instead of 403 9109. */
  auth: "token" | "verify";
  run(ctx: ApiContext): ApiResult;
}

/** A request resolved to an endpoint (before authentication). */
export interface ResolvedRoute {
  endpoint: Endpoint;
  params: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

// ── Checks ─────────────────────────────────────────────────────────────────────────────────

/** 403 10000 unless the token holds `perm` (`:edit` implies `:read`). */
function need(ctx: ApiContext, perm: Permission): void {
  if (!hasPermission(ctx.token, perm)) throw cf.authenticationError();
}

/**
 * The path's zone, if the token may act on its account, then the permission check. Unknown,
 * deleted and foreign zones all answer 403 9109 (Cloudflare does not reveal existence).
 */
function zoneFor(ctx: ApiContext, perm: Permission): ZoneRecord {
  const zone = ctx.store.getZone(ctx.params.zoneId as string);
  if (!zone || !ctx.token.accounts.includes(zone.account_id)) throw cf.unauthorizedResource();
  need(ctx, perm);
  return zone;
}

const ok = (result: unknown, extra: Omit<ApiResult, "result"> = {}): ApiResult => ({ result, ...extra });

function zoneResult(ctx: ApiContext, zone: ZoneRecord) {
  return zoneView(zone, ctx.store.account(zone.account_id), ctx.token.permissions);
}

function bodyName(ctx: ApiContext): unknown {
  const body = ctx.body();
  return isObject(body) ? body.name : undefined;
}

// ── Handlers ───────────────────────────────────────────────────────────────────────────────

const verifyToken: Endpoint = {
  auth: "verify",
  run: (ctx) =>
    ok(
      { id: ctx.token.id, status: ctx.token.status },
      { messages: [{ code: 10000, message: "This API Token is valid and active", type: null }] },
    ),
};

const listZones: Endpoint = {
  auth: "token",
  run(ctx) {
    need(ctx, "zone:read");
    const q = ctx.query;
    const opt = (k: string) => q.get(k) ?? undefined;
    const zones = ctx.store.listZones({
      name: opt("name"),
      status: opt("status"),
      accountId: opt("account.id"),
      accountName: opt("account.name"),
      order: opt("order"),
      direction: opt("direction"),
      match: opt("match"),
      accounts: ctx.token.accounts,
    });
    const { page, info } = paginate(zones, q);
    return ok(page.map((z) => zoneResult(ctx, z)), { result_info: info });
  },
};

const createZone: Endpoint = {
  auth: "token",
  run(ctx) {
    const raw = ctx.body();
    const body = isObject(raw) ? raw : {};
    const account = body.account;
    const accountId = isObject(account) ? account.id : undefined;
    if (typeof accountId !== "string" || accountId === "") throw cf.missingAccount();
    if (!hasPermission(ctx.token, "zone:edit") || !ctx.token.accounts.includes(accountId)) {
      throw cf.zoneCreatePermission();
    }
    if (body.type !== undefined && body.type !== "full") throw cf.partialNotAllowed();
    const zone = ctx.store.createZone({ name: body.name, accountId });
    return ok(zoneResult(ctx, zone));
  },
};

const getZone: Endpoint = {
  auth: "token",
  run: (ctx) => ok(zoneResult(ctx, zoneFor(ctx, "zone:read"))),
};

const deleteZone: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "zone:edit");
    ctx.store.deleteZone(zone.id);
    return ok({ id: zone.id });
  },
};

const getSettings: Endpoint = {
  auth: "token",
  run: (ctx) => ok(settingsView(zoneFor(ctx, "zone_settings:read"))),
};

/** POST /email/routing/dns and the deprecated POST /email/routing/enable. */
const enableRouting: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "zone_settings:edit");
    const name = ctx.store.routingName(zone, bodyName(ctx), "/name");
    ctx.store.enableRouting(zone, name);
    return ok(settingsView(zone));
  },
};

/** DELETE /email/routing/dns and the deprecated POST /email/routing/disable. */
const disableRouting: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "zone_settings:edit");
    const name = ctx.store.routingName(zone, bodyName(ctx), "/name");
    ctx.store.disableRouting(zone, name);
    return ok(settingsView(zone));
  },
};

/**
 * GET /email/routing/dns[?subdomain=]: the Email Routing records currently in place for the apex
 * (or the subdomain); `[]` when Email Routing DNS is not enabled for that name.
 */
const getDns: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "zone_settings:read");
    const name = ctx.store.routingName(zone, ctx.query.get("subdomain") ?? undefined, "/subdomain");
    return ok(name in zone.routing.names ? dnsRecordsView(zone, name) : []);
  },
};

const listRules: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "email_routing_rules:read");
    const e = ctx.query.get("enabled");
    const enabled = e === "true" ? true : e === "false" ? false : undefined;
    const { page, info } = paginate(ctx.store.listRules(zone, enabled), ctx.query);
    return ok(page.map(ruleView), { result_info: info });
  },
};

const createRule: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "email_routing_rules:edit");
    return ok(ruleView(ctx.store.createRule(zone, parseRuleInput(ctx.body()))));
  },
};

const getRule: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "email_routing_rules:read");
    return ok(ruleView(ctx.store.getRule(zone, ctx.params.ruleId as string)));
  },
};

const updateRule: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "email_routing_rules:edit");
    const ruleId = ctx.params.ruleId as string;
    ctx.store.getRule(zone, ruleId); // 2020 / 2002 before body validation
    return ok(ruleView(ctx.store.updateRule(zone, ruleId, parseRuleInput(ctx.body()))));
  },
};

const deleteRule: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "email_routing_rules:edit");
    return ok(ruleView(ctx.store.deleteRule(zone, ctx.params.ruleId as string)));
  },
};

const getCatchAll: Endpoint = {
  auth: "token",
  run: (ctx) => ok(catchAllView(zoneFor(ctx, "email_routing_rules:read").catch_all)),
};

const putCatchAll: Endpoint = {
  auth: "token",
  run(ctx) {
    const zone = zoneFor(ctx, "email_routing_rules:edit");
    return ok(catchAllView(ctx.store.putCatchAll(zone, parseCatchAllInput(ctx.body()))));
  },
};

// ── Route table ────────────────────────────────────────────────────────────────────────────

const Z = "/zones/:zoneId";
const ER = `${Z}/email/routing`;

const router = new Router<Endpoint>()
  .add("GET", "/user/tokens/verify", verifyToken)
  .add("GET", "/zones", listZones)
  .add("POST", "/zones", createZone)
  .add("GET", Z, getZone)
  .add("DELETE", Z, deleteZone)
  .add("GET", ER, getSettings)
  .add("POST", `${ER}/enable`, enableRouting)
  .add("POST", `${ER}/disable`, disableRouting)
  .add("GET", `${ER}/dns`, getDns)
  .add("POST", `${ER}/dns`, enableRouting)
  .add("DELETE", `${ER}/dns`, disableRouting)
  .add("GET", `${ER}/rules`, listRules)
  .add("POST", `${ER}/rules`, createRule)
  .add("GET", `${ER}/rules/catch_all`, getCatchAll)
  .add("PUT", `${ER}/rules/catch_all`, putCatchAll)
  .add("GET", `${ER}/rules/:ruleId`, getRule)
  .add("PUT", `${ER}/rules/:ruleId`, updateRule)
  .add("DELETE", `${ER}/rules/:ruleId`, deleteRule);

/**
 * Resolve method + path (relative to /client/v4) to an endpoint. Unknown route/method → 404 7000;
 * a zone id (or rule id other than `catch_all`) that is not 32 lowercase hex → 400 7003+7000
 * naming `fullPath`. Runs before authentication, like Cloudflare's router.
 */
export function resolveApiRoute(method: string, path: string, fullPath: string): ResolvedRoute {
  const m = router.match(method, path);
  if (m.kind === "none") throw cf.noRoute();
  const { zoneId, ruleId } = m.params;
  if (zoneId !== undefined && !HEX32.test(zoneId)) throw cf.badIdentifier(fullPath);
  if (ruleId !== undefined && ruleId !== "catch_all" && !HEX32.test(ruleId)) throw cf.badIdentifier(fullPath);
  return { endpoint: m.handler, params: m.params };
}

/** Run a resolved endpoint for an authenticated token. Throws CfError on failure. */
export function runApiRoute(
  resolved: ResolvedRoute,
  req: { store: SimStore; token: TokenRecord; method: string; path: string; query: URLSearchParams; bodyText: string },
): ApiResult {
  let parsed = false;
  let body: unknown;
  const ctx: ApiContext = {
    store: req.store,
    token: req.token,
    method: req.method,
    path: req.path,
    query: req.query,
    params: resolved.params,
    body() {
      if (!parsed) {
        body = parseJson(req.bodyText);
        parsed = true;
      }
      return body;
    },
  };
  return resolved.endpoint.run(ctx);
}
