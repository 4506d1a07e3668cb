/**
 * Starts the local Cloudflare REST API simulator on node:http: `/client/v4/*` is the Cloudflare
 * subset (cloudflare-api.ts) wrapped in faults → routing → auth → rate limit → handler → log;
 * `/__sim/*` is the control API (control-api.ts). Owns the server lifecycle and persistence.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { authenticate, readCredentials } from "./auth.ts";
import { resolveApiRoute, runApiRoute } from "./cloudflare-api.ts";
import { controlCorsHeaders, controlOriginAllowed, handleControl, type SimRuntime } from "./control-api.ts";
import { CfError, cf } from "./errors.ts";
import { FaultRegistry, type Fault } from "./faults.ts";
import { errorEnvelope, readBody, sendJson, successEnvelope } from "./http.ts";
import { HEX32, timestamp } from "./ids.ts";
import { StateFile, loadState } from "./persistence.ts";
import { SlidingWindowLimiter, type RateDecision } from "./rate-limit.ts";
import { RequestLog, queryObject } from "./request-log.ts";
import { SimStore, type RateLimitConfig, type StoreDefaults } from "./state.ts";

export { SimStore } from "./state.ts";
export type * from "./state.ts";
export { dumpState, resetRuntime, tokenInfo, type SimRuntime } from "./control-api.ts";
export type { Fault, FaultSpec, FaultKind } from "./faults.ts";
export type { RequestLogEntry } from "./request-log.ts";

/** Default account id (32 hex). */
export const DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
/** Default account name. */
export const DEFAULT_ACCOUNT_NAME = "KaisouMail Simulator Account";
/** Default full-permission token value. */
export const DEFAULT_TOKEN = "sim-full-access-token-0000000000000000000000";
/** Cloudflare's documented limit: 1200 requests per 5 minutes. */
export const DEFAULT_RATE_LIMIT: RateLimitConfig = { limit: 1200, windowSeconds: 300 };
/** Prefix of the Cloudflare API paths. */
export const API_PREFIX = "/client/v4";
/** Prefix of the control paths. */
export const CONTROL_PREFIX = "/__sim";

/** Options of startSimulator. */
export interface SimulatorOptions {
  /** 0 (default) = a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** JSON state file: loaded at start if present, written after every mutation. */
  statePath?: string;
  /** 32 hex; default DEFAULT_ACCOUNT_ID. */
  accountId?: string;
  accountName?: string;
  /** Value of the default full-permission token. */
  token?: string;
  /** Default 1200 requests / 300 s per token. */
  rateLimit?: RateLimitConfig;
}

/** A running simulator. */
export interface Simulator {
  /** http://HOST:PORT */
  url: string;
  /** url + "/client/v4" */
  apiBase: string;
  /** In-process access to the state (the HTTP control API is the contract). */
  store: SimStore;
  /** Stop listening, drop open connections and hanging requests, flush the state file. */
  close(): Promise<void>;
}

/** Start a simulator. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const accountId = opts.accountId ?? DEFAULT_ACCOUNT_ID;
  if (!HEX32.test(accountId)) throw new Error(`accountId must be 32 lowercase hex characters, got ${accountId}`);
  const defaults: StoreDefaults = {
    accountId,
    accountName: opts.accountName ?? DEFAULT_ACCOUNT_NAME,
    token: opts.token ?? DEFAULT_TOKEN,
    config: { rateLimit: { ...(opts.rateLimit ?? DEFAULT_RATE_LIMIT) }, rulesLimit: 200, pendingZoneRouting: "reject" },
  };
  if (!(defaults.config.rateLimit.limit >= 1 && defaults.config.rateLimit.windowSeconds > 0)) {
    throw new Error("rateLimit must have limit >= 1 and windowSeconds > 0");
  }

  let file: StateFile | undefined;
  const loaded = opts.statePath ? loadState(opts.statePath) : undefined;
  const store = new SimStore(defaults, loaded, () => file?.schedule());
  if (opts.statePath) {
    file = new StateFile(opts.statePath, () => store.state);
    file.schedule(); // write once at start (creates the file, records the defaults)
  }

  const rt: SimRuntime = {
    store,
    faults: new FaultRegistry(),
    log: new RequestLog(),
    limiter: new SlidingWindowLimiter(() => store.state.config.rateLimit),
    counters: { rateLimited: 0 },
  };
  const hangs = new Set<NodeJS.Timeout>();
  // http://HOST:PORT once listening: the one non-loopback origin the control API trusts.
  let ownOrigin = "";

  const server = createServer((req, res) => {
    handleRequest(rt, hangs, ownOrigin, req, res).catch((err: unknown) => {
      console.error("[sim] unexpected error", err);
      if (!res.headersSent) sendJson(res, 500, errorEnvelope(cf.serverError(500).errors));
      else res.destroy();
    });
  });
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  ownOrigin = url;

  let closed: Promise<void> | undefined;
  return {
    url,
    apiBase: `${url}${API_PREFIX}`,
    store,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const t of hangs) clearTimeout(t);
        hangs.clear();
        server.close(() => {
          file?.flush();
          resolve();
        });
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}

// ── Request pipeline ───────────────────────────────────────────────────────────────────────

async function handleRequest(
  rt: SimRuntime,
  hangs: Set<NodeJS.Timeout>,
  ownOrigin: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const startedAt = performance.now();
  const at = timestamp();
  const method = (req.method ?? "GET").toUpperCase();
  // Concatenate rather than resolve, so a request-target like "//x" stays a path.
  const url = new URL(`http://sim.invalid${req.url ?? "/"}`);
  const pathname = url.pathname;
  const body = await readBody(req).catch(() => null);
  const bodyText = body ?? "";

  if (pathname === CONTROL_PREFIX || pathname.startsWith(`${CONTROL_PREFIX}/`)) {
    // Browsers send Origin with every cross-site write and every preflight: refuse foreign ones
    // before anything is parsed or changed.
    const origin = req.headers.origin;
    if (origin !== undefined && !controlOriginAllowed(origin, ownOrigin)) {
      sendJson(res, 403, { error: `cross-site control request refused: Origin ${origin} is neither this simulator nor localhost` });
      return;
    }
    const cors = controlCorsHeaders(origin);
    if (method === "OPTIONS") {
      res.writeHead(204, {
        ...cors,
        "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
      });
      res.end();
      return;
    }
    if (body === null) {
      sendJson(res, 413, { error: "request body too large" }, cors);
      return;
    }
    const out = handleControl(rt, method, pathname.slice(CONTROL_PREFIX.length) || "/", url.searchParams, bodyText);
    sendJson(res, out.status, out.body, cors);
    return;
  }

  let tokenId: string | null = null;
  let faultKind: Fault["kind"] | null = null;
  const log = (status: number) =>
    rt.log.add({
      at,
      method,
      path: pathname,
      query: queryObject(url.searchParams),
      status,
      durationMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
      tokenId,
      fault: faultKind,
    });
  const finish = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    sendJson(res, status, body, headers);
    log(status);
  };

  if (pathname !== API_PREFIX && !pathname.startsWith(`${API_PREFIX}/`)) {
    const e = cf.noRoute();
    finish(e.status, errorEnvelope(e.errors));
    return;
  }
  const path = pathname.slice(API_PREFIX.length).replace(/\/+$/, "") || "/";
  if (body === null) {
    const e = cf.bodyTooLarge();
    finish(e.status, errorEnvelope(e.errors));
    return;
  }

  // 1. Injected faults: answered before anything else, so a faulted request changes nothing.
  const fault = rt.faults.take(method, path);
  if (fault) {
    faultKind = fault.kind;
    tokenId = bestEffortTokenId(rt, req);
    injectFault(fault, res, hangs, finish, log);
    return;
  }

  let rateHeaders: Record<string, string> = {};
  try {
    // 2. Routing and id syntax (before auth, like Cloudflare's router).
    const resolved = resolveApiRoute(method, path, pathname);
    // 3. Credentials and token.
    const token = authenticate(rt.store, req.headers, resolved.endpoint.auth === "verify");
    tokenId = token.id;
    // 4. Rate limit per token.
    const decision = rt.limiter.check(token.id);
    rateHeaders = rateLimitHeaders(decision);
    if (!decision.allowed) {
      rt.counters.rateLimited++;
      throw cf.rateLimited(decision.retryAfterSeconds);
    }
    // 5. The endpoint.
    const result = runApiRoute(resolved, {
      store: rt.store,
      token,
      method,
      path,
      query: url.searchParams,
      bodyText,
    });
    finish(200, successEnvelope(result), rateHeaders);
  } catch (err) {
    if (!(err instanceof CfError)) throw err;
    finish(err.status, errorEnvelope(err.errors), { ...rateHeaders, ...err.headers });
  }
}

/** `Ratelimit` / `Ratelimit-Policy` headers as Cloudflare sends them. */
function rateLimitHeaders(d: RateDecision): Record<string, string> {
  return {
    Ratelimit: `"default";r=${d.remaining};t=${d.resetSeconds}`,
    "Ratelimit-Policy": `"burst";q=${d.limit};w=${d.windowSeconds}`,
  };
}

/** Token id for the log of a faulted request, without failing on bad credentials. */
function bestEffortTokenId(rt: SimRuntime, req: IncomingMessage): string | null {
  try {
    return rt.store.findToken(readCredentials(req.headers).value)?.id ?? null;
  } catch {
    return null;
  }
}

function injectFault(
  fault: Fault,
  res: ServerResponse,
  hangs: Set<NodeJS.Timeout>,
  finish: (status: number, body: unknown, headers?: Record<string, string>) => void,
  log: (status: number) => void,
): void {
  const extra: Record<string, string> =
    fault.shouldRetry === null ? {} : { "x-should-retry": String(fault.shouldRetry) };
  if (fault.kind === "429") {
    const e = cf.rateLimited(Math.ceil(fault.retryAfter));
    finish(e.status, errorEnvelope(e.errors), { ...e.headers, ...extra });
    return;
  }
  const e = cf.serverError(fault.status);
  if (fault.kind === "5xx") {
    finish(e.status, errorEnvelope(e.errors), extra);
    return;
  }
  // hang: answer (504 by default) only after hangMs; if the client gives up first, log status 0.
  const timer = setTimeout(() => {
    hangs.delete(timer);
    if (!res.destroyed && !res.writableEnded) finish(e.status, errorEnvelope(e.errors), extra);
  }, fault.hangMs);
  hangs.add(timer);
  res.on("close", () => {
    if (!res.writableFinished && hangs.has(timer)) {
      clearTimeout(timer);
      hangs.delete(timer);
      log(0);
    }
  });
}
