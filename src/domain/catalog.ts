import { cloudflareClient } from "../cloudflare/client";
import { CloudflareApiError } from "../cloudflare/errors";
import type { CfZone } from "../cloudflare/types";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import type { HandlerContext } from "../routes/define";
import type { DomainRow } from "./dto";
import { classifyFailure } from "./errors";

/**
 * Cloudflare's zone list for the catalog, cached in D1 (`zone_catalog`, migration 0011) so a page
 * load costs one D1 round trip, not a sweep of every page of /zones:
 *  - fresh (younger than CATALOG_FRESH_MS): served as is;
 *  - stale: served at once, and one background sweep (waitUntil) refreshes it; a lease in the row
 *    makes concurrent page loads, in any isolate, start one sweep between them;
 *  - missing, or `refresh` asked (the page's Refresh button): swept before answering.
 * A 429 keeps the last list and records until when Cloudflare is cooling down; the answer then says
 * `rate_limited` with the retry time. Zones bound or enabled through KaisouMail show at once anyway
 * (the local rows are merged in on every request); a zone added in the dashboard shows within a
 * minute, or at once after Refresh.
 */
export const CATALOG_FRESH_MS = 60_000;
/** A sweep that has not finished after this is presumed dead; another may start. */
const SWEEP_LEASE_MS = 30_000;

/** What the catalog keeps of a zone. */
export type CachedZone = Pick<CfZone, "id" | "name" | "status" | "name_servers">;

export interface CatalogSync {
  status: "live" | "disabled" | "rate_limited";
  retryAfter: string | null;
  retryAfterSeconds: number | null;
  /** When the zone list was read from Cloudflare (null: never). */
  syncedAt: string | null;
}

interface CacheRow {
  zones_json: string;
  fetched_at: string | null;
  sweep_until: string | null;
  rate_limited_until: string | null;
  /** The zones a sweep just listed (so they are not parsed back from `zones_json`). */
  zones?: CachedZone[];
}

const CACHE_SQL = "SELECT zones_json, fetched_at, sweep_until, rate_limited_until FROM zone_catalog WHERE id = 1";

/** The local domain rows and the cached zone list: one D1 round trip. */
export async function readCatalog(c: HandlerContext): Promise<{ rows: DomainRow[]; cache: CacheRow | null }> {
  const db = c.env.DB;
  const [rows, cache] = await db.batch<unknown>([db.prepare("SELECT * FROM domains WHERE status <> 'deleted' ORDER BY root_domain ASC"), db.prepare(CACHE_SQL)]);
  return { rows: rows!.results as DomainRow[], cache: (cache!.results[0] as CacheRow | undefined) ?? null };
}

function syncOf(cache: CacheRow | null, now: number): CatalogSync {
  const limited = cache?.rate_limited_until && Date.parse(cache.rate_limited_until) > now ? cache.rate_limited_until : null;
  return limited
    ? { status: "rate_limited", retryAfter: limited, retryAfterSeconds: Math.ceil((Date.parse(limited) - now) / 1000), syncedAt: cache?.fetched_at ?? null }
    : { status: "live", retryAfter: null, retryAfterSeconds: null, syncedAt: cache?.fetched_at ?? null };
}

/** Takes the sweep lease unless another sweep holds it (one UPDATE; true when this caller got it). */
async function takeLease(c: HandlerContext, now: number): Promise<boolean> {
  const res = await c.env.DB.prepare("UPDATE zone_catalog SET sweep_until = ?1 WHERE id = 1 AND (sweep_until IS NULL OR sweep_until < ?2)")
    .bind(new Date(now + SWEEP_LEASE_MS).toISOString(), new Date(now).toISOString())
    .run();
  return res.meta.changes === 1;
}

/**
 * Lists every zone (one sweep) and stores it. A 429 records the cooldown and keeps the old list;
 * any other Cloudflare failure releases the lease and throws.
 */
async function sweep(c: HandlerContext): Promise<CacheRow> {
  const db = c.env.DB;
  const client = cloudflareClient(c.env, c.config, { maxGateWaitMs: 2_000 })!;
  try {
    const zones = await client.listZones(c.config.accountId ? { "account.id": c.config.accountId } : {});
    const trimmed: CachedZone[] = zones.map((z) => ({ id: z.id, name: z.name, status: z.status, name_servers: z.name_servers ?? [] }));
    const json = JSON.stringify(trimmed);
    const row = await db
      .prepare("UPDATE zone_catalog SET zones_json = ?1, fetched_at = ?2, sweep_until = NULL, rate_limited_until = NULL WHERE id = 1 RETURNING fetched_at, sweep_until, rate_limited_until")
      .bind(json, new Date().toISOString())
      .first<Omit<CacheRow, "zones_json">>();
    return { ...row!, zones_json: json, zones: trimmed };
  } catch (e) {
    if (e instanceof CloudflareApiError && e.status === 429) {
      const until = new Date(Date.now() + (e.retryAfterSeconds ?? 60) * 1000).toISOString();
      const row = await db
        .prepare("UPDATE zone_catalog SET sweep_until = NULL, rate_limited_until = ?1 WHERE id = 1 RETURNING zones_json, fetched_at, sweep_until, rate_limited_until")
        .bind(until)
        .first<CacheRow>();
      return row!;
    }
    await db.prepare("UPDATE zone_catalog SET sweep_until = NULL WHERE id = 1").run();
    throw e;
  }
}

/** A sweep's non-429 failure as the API error the caller sees. */
function sweepFailure(e: unknown): never {
  if (e instanceof CloudflareApiError) {
    const err = classifyFailure("check_zone", e);
    throw new ApiError(e.retryable ? 503 : err.status, e.message, { code: err.code, hint: err.hint, cloudflareCode: e.code });
  }
  throw e;
}

/**
 * The zones to merge into the catalog and the sync state to show. `refresh` forces a sweep now.
 * With Email Routing management off there is no client and no zone list (`disabled`).
 */
export async function catalogZones(c: HandlerContext, cache: CacheRow | null, refresh: boolean): Promise<{ zones: CachedZone[]; sync: CatalogSync }> {
  if (!c.config.managementEnabled || !cloudflareClient(c.env, c.config)) {
    return { zones: [], sync: { status: "disabled", retryAfter: null, retryAfterSeconds: null, syncedAt: null } };
  }
  const now = Date.now();
  const limited = cache?.rate_limited_until && Date.parse(cache.rate_limited_until) > now;
  const age = cache?.fetched_at ? now - Date.parse(cache.fetched_at) : Infinity;
  let current = cache;
  if ((refresh || age === Infinity) && !limited) {
    // Asked for, or nothing cached yet: sweep before answering. The lease still applies, so
    // simultaneous first loads wait for one sweep rather than each running their own.
    if (await takeLease(c, now)) current = await sweep(c).catch(sweepFailure);
    else {
      current = await waitForSweep(c, cache?.fetched_at ?? null);
      // That sweep failed (not a 429) and nothing is cached: try once ourselves, to show its error.
      if (!current?.fetched_at && !current?.rate_limited_until && (await takeLease(c, Date.now()))) current = await sweep(c).catch(sweepFailure);
    }
  } else if (age >= CATALOG_FRESH_MS && !limited && (await takeLease(c, now))) {
    // Stale: answer with what we have; one sweep refreshes it for the next page load.
    c.exec.waitUntil(
      sweep(c).then(
        () => {},
        (e) => log("warn", "catalog.sweep_failed", { error: e instanceof Error ? e.message : String(e) }),
      ),
    );
  }
  const zones = current?.fetched_at ? (current.zones ?? (JSON.parse(current.zones_json) as CachedZone[])) : [];
  return { zones, sync: syncOf(current, Date.now()) };
}

/** Another request's sweep is running: wait (up to the lease) for it to store a newer list. */
async function waitForSweep(c: HandlerContext, before: string | null): Promise<CacheRow | null> {
  const deadline = Date.now() + SWEEP_LEASE_MS;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const row = await c.env.DB.prepare(CACHE_SQL).first<CacheRow>();
    if (!row || row.fetched_at !== before || row.sweep_until === null || Date.now() > deadline) return row;
  }
}
