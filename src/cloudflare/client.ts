import type { Config } from "../config";
import type { Env } from "../env";
import { log } from "../lib/log";
import { CloudflareApiError, parseRetryAfter } from "./errors";
import type { GateDecision } from "./gate";
import type {
  CfCatchAllRule,
  CfEmailRoutingSettings,
  CfEnvelope,
  CfResultInfo,
  CfRoutingRule,
  CfTokenVerify,
  CfZone,
} from "./types";

/** What the client needs from the gate: an RPC stub of `CloudflareGate`, or a fake in unit tests. */
export interface RateGate {
  acquire(maxWaitMs: number): Promise<GateDecision> | GateDecision;
  blockFor(retryAfterSeconds: number): Promise<number> | number;
}

export interface ClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  gate: RateGate;
  /** Longest a caller is willing to wait for a permit before failing fast with a retryable error. */
  maxGateWaitMs?: number;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * The only code that knows Cloudflare's URLs and the token. Every call:
 *  1. asks the deployment-wide gate for a permit (waiting briefly, or failing fast when Cloudflare
 *     told us to back off for longer than the caller can wait);
 *  2. runs with a timeout, so a hung Cloudflare never hangs a request;
 *  3. maps every failure to a `CloudflareApiError` with `retryable` decided in one place;
 *  4. writes one log line (method, path, status, duration) that never contains the token; a
 *     paginated listing writes one line for all its pages (`pages`, `items`), and a page that
 *     fails still writes its own.
 */
export class CloudflareClient {
  private readonly fetchImpl: typeof fetch;
  constructor(private readonly opts: ClientOptions) {
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  async request<T>(method: string, path: string, init: { query?: Query; body?: unknown; quiet?: boolean } = {}): Promise<{ result: T; resultInfo?: CfResultInfo }> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const qs = search.toString();
    const url = `${this.opts.baseUrl}${path}${qs ? `?${qs}` : ""}`;
    const fail = (f: Omit<ConstructorParameters<typeof CloudflareApiError>[0], "method" | "path">) =>
      new CloudflareApiError({ ...f, method, path });

    const permit = await this.opts.gate.acquire(this.opts.maxGateWaitMs ?? 5_000);
    if (!permit.ok) {
      log("warn", "cloudflare.gate.refused", { method, path, retryAfterMs: permit.retryAfterMs, reason: permit.reason });
      throw fail({
        status: 429,
        code: 971,
        message: "Cloudflare API rate limit reached; retry later",
        retryable: true,
        retryAfterSeconds: Math.ceil(permit.retryAfterMs / 1000),
        kind: "gate",
      });
    }
    if (permit.waitMs > 0) await sleep(permit.waitMs);

    const started = Date.now();
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
      const durationMs = Date.now() - started;
      log("warn", "cloudflare.request", { method, path, status: timedOut ? "timeout" : "network_error", durationMs });
      throw fail({
        status: timedOut ? 504 : 0,
        code: null,
        message: timedOut
          ? `Cloudflare API did not answer within ${this.opts.timeoutMs} ms`
          : `Cloudflare API could not be reached: ${e instanceof Error ? e.message : String(e)}`,
        retryable: true,
        retryAfterSeconds: null,
        kind: timedOut ? "timeout" : "network",
      });
    }

    let body: CfEnvelope<T> | null = null;
    let text = "";
    try {
      text = await response.text();
      body = text ? (JSON.parse(text) as CfEnvelope<T>) : null;
    } catch {
      body = null;
    }
    const durationMs = Date.now() - started;
    const first = body?.errors?.[0];
    const succeeded = response.ok && body?.success !== false;
    if (!(succeeded && init.quiet)) {
      log(succeeded ? "info" : "warn", "cloudflare.request", {
        method,
        path,
        status: response.status,
        durationMs,
        ...(first ? { code: first.code } : {}),
      });
    }

    if (response.status === 429) {
      const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after")) ?? 60;
      await this.opts.gate.blockFor(retryAfterSeconds);
      throw fail({
        status: 429,
        code: first?.code ?? 971,
        message: first?.message ?? "Please wait and consider throttling your request speed",
        retryable: true,
        retryAfterSeconds,
        kind: "rate_limited",
      });
    }
    if (!response.ok || !body || body.success === false) {
      const status = response.ok ? 502 : response.status;
      throw fail({
        status,
        code: first?.code ?? null,
        message: first?.message ?? (body ? "Cloudflare API request failed" : `Cloudflare API answered ${response.status} without a JSON body`),
        retryable: status >= 500 || status === 408,
        retryAfterSeconds: null,
        kind: "http",
      });
    }
    return { result: body.result as T, resultInfo: body.result_info };
  }

  /** Every item of a paginated list: follows pages until `total_pages` (or an empty page). */
  async listAll<T>(path: string, query: Query = {}, perPage = 50): Promise<T[]> {
    const all: T[] = [];
    const started = Date.now();
    let page = 1;
    for (; page <= 10_000; page++) {
      const { result, resultInfo } = await this.request<T[]>("GET", path, { query: { ...query, page, per_page: perPage }, quiet: true });
      all.push(...(result ?? []));
      const totalPages = resultInfo?.total_pages ?? (resultInfo ? Math.ceil(resultInfo.total_count / resultInfo.per_page) : undefined);
      if (!result || result.length === 0) break;
      if (totalPages !== undefined && page >= totalPages) break;
      if (totalPages === undefined && result.length < perPage) break;
    }
    // One line for the whole listing (a 500-zone catalog sweep is ten pages).
    log("info", "cloudflare.request", { method: "GET", path, status: 200, durationMs: Date.now() - started, pages: Math.min(page, 10_000), items: all.length });
    return all;
  }

  // ---- typed endpoints -------------------------------------------------------------------
  verifyToken() {
    return this.request<CfTokenVerify>("GET", "/user/tokens/verify").then((r) => r.result);
  }
  listZones(query: { name?: string; "account.id"?: string } = {}) {
    return this.listAll<CfZone>("/zones", query);
  }
  async findZoneByName(name: string): Promise<CfZone | null> {
    const { result } = await this.request<CfZone[]>("GET", "/zones", { query: { name, per_page: 5 } });
    return (result ?? []).find((z) => z.name.toLowerCase() === name.toLowerCase()) ?? null;
  }
  createZone(name: string, accountId: string) {
    return this.request<CfZone>("POST", "/zones", { body: { account: { id: accountId }, name, type: "full" } }).then((r) => r.result);
  }
  getZone(zoneId: string) {
    return this.request<CfZone>("GET", `/zones/${zoneId}`).then((r) => r.result);
  }
  deleteZone(zoneId: string) {
    return this.request<{ id: string }>("DELETE", `/zones/${zoneId}`).then((r) => r.result);
  }
  getEmailRouting(zoneId: string) {
    return this.request<CfEmailRoutingSettings>("GET", `/zones/${zoneId}/email/routing`).then((r) => r.result);
  }
  /** Enable Email Routing (adds and locks MX/SPF) for the zone apex or one of its subdomains. */
  enableEmailRoutingDns(zoneId: string, name?: string) {
    return this.request<CfEmailRoutingSettings>("POST", `/zones/${zoneId}/email/routing/dns`, { body: name ? { name } : {} }).then((r) => r.result);
  }
  /**
   * Disable Email Routing for the zone apex or one of its subdomains: removes the MX/SPF records
   * that `enableEmailRoutingDns` added. The name goes in the body, as for the POST.
   */
  disableEmailRoutingDns(zoneId: string, name?: string) {
    return this.request<CfEmailRoutingSettings>("DELETE", `/zones/${zoneId}/email/routing/dns`, { body: name ? { name } : {} }).then((r) => r.result);
  }
  listRoutingRules(zoneId: string) {
    return this.listAll<CfRoutingRule>(`/zones/${zoneId}/email/routing/rules`);
  }
  createRoutingRule(zoneId: string, rule: Omit<CfRoutingRule, "id" | "tag">) {
    return this.request<CfRoutingRule>("POST", `/zones/${zoneId}/email/routing/rules`, { body: rule }).then((r) => r.result);
  }
  deleteRoutingRule(zoneId: string, ruleId: string) {
    return this.request<CfRoutingRule>("DELETE", `/zones/${zoneId}/email/routing/rules/${ruleId}`).then((r) => r.result);
  }
  getCatchAll(zoneId: string) {
    return this.request<CfCatchAllRule>("GET", `/zones/${zoneId}/email/routing/rules/catch_all`).then((r) => r.result);
  }
  putCatchAll(zoneId: string, rule: CfCatchAllRule) {
    return this.request<CfCatchAllRule>("PUT", `/zones/${zoneId}/email/routing/rules/catch_all`, { body: rule }).then((r) => r.result);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The client as the Worker and the domain objects build it: shared gate, configured base URL. */
export function cloudflareClient(env: Env, config: Config, opts: { maxGateWaitMs?: number } = {}): CloudflareClient | null {
  if (!config.cloudflareToken) return null;
  return new CloudflareClient({
    baseUrl: config.apiBaseUrl,
    token: config.cloudflareToken,
    timeoutMs: config.apiTimeoutMs,
    gate: env.CF_GATE.get(env.CF_GATE.idFromName("global")),
    maxGateWaitMs: opts.maxGateWaitMs,
  });
}
