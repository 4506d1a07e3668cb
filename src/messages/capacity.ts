import { loadConfig } from "../config";
import type { Env } from "../env";
import { nowIso } from "../lib/http";
import { log } from "../lib/log";
import { applyRetention, moveInlineBodies } from "./store";

/**
 * Capacity: how full the D1 database is, what R2 holds, and the pressure stages (DESIGN.md
 * "Capacity and retention"):
 *   normal     below 80 % of D1_CAPACITY_BYTES
 *   r2_bodies  80 % and more: new parsed bodies go to R2 only, the cron moves old inline bodies out
 *   full       100 % and more: inbound mail is refused with a temporary failure (the sender retries)
 */
export type StorageStage = "normal" | "r2_bodies" | "full";
export const PRESSURE_RATIO = 0.8;
/** The cron moves inline bodies out until the database is below this. */
export const RELIEF_RATIO = 0.7;
/** The setup doctor fails its storage check from here. */
export const CRITICAL_RATIO = 0.95;

/** Retention deletes at most this many messages per cron run; the body move at most this many bodies. */
export const RETENTION_BATCH = 500;
export const BODY_MOVE_BATCH = 200;
/** Snapshots older than this are dropped. */
const SNAPSHOT_KEEP_MS = 8 * 86_400_000;

export function storageStage(databaseBytes: number | null, capacityBytes: number): StorageStage {
  if (databaseBytes === null) return "normal";
  if (databaseBytes >= capacityBytes) return "full";
  if (databaseBytes >= capacityBytes * PRESSURE_RATIO) return "r2_bodies";
  return "normal";
}

/**
 * The D1 database's size in bytes, as D1 reports it on every query result (`meta.size_after`).
 * The only place the size is read besides the inbound lookup, which takes it from its own query.
 */
export async function databaseBytes(env: Env): Promise<number | null> {
  const res = await env.DB.prepare("SELECT 1").run();
  return typeof res.meta.size_after === "number" ? res.meta.size_after : null;
}

interface Totals {
  messages: number;
  r2_bytes: number;
  r2_objects: number;
}

async function totals(db: D1Database): Promise<Totals> {
  const { results } = await db.prepare("SELECT name, value FROM counters WHERE name IN ('messages', 'r2_bytes', 'r2_objects')").all<{ name: string; value: number }>();
  const t: Totals = { messages: 0, r2_bytes: 0, r2_objects: 0 };
  for (const r of results) t[r.name as keyof Totals] = r.value;
  return t;
}

/** Writes (or refreshes) this hour's snapshot and drops old ones. */
export async function takeSnapshot(env: Env, now = Date.now()): Promise<void> {
  const [bytes, t] = await Promise.all([databaseBytes(env), totals(env.DB)]);
  const hour = nowIso(now).slice(0, 13);
  await env.DB.batch([
    env.DB.prepare("INSERT OR REPLACE INTO storage_snapshots (hour, d1_bytes, r2_bytes, r2_objects, messages) VALUES (?, ?, ?, ?, ?)").bind(
      hour,
      bytes ?? 0,
      t.r2_bytes,
      t.r2_objects,
      t.messages,
    ),
    env.DB.prepare("DELETE FROM storage_snapshots WHERE hour < ?").bind(nowIso(now - SNAPSHOT_KEEP_MS).slice(0, 13)),
  ]);
}

/**
 * The cron's storage work, each part bounded: the retention policy, then (under pressure) moving
 * inline bodies to R2, then the hourly snapshot. Never throws: a failure is logged and the next run
 * carries on.
 */
export async function runStorageMaintenance(env: Env, now = Date.now()): Promise<{ expired: number; overCap: number; moved: number }> {
  const config = loadConfig(env);
  const summary = { expired: 0, overCap: 0, moved: 0 };
  try {
    Object.assign(summary, await applyRetention(env, { retentionDays: config.messageRetentionDays, maxPerMailbox: config.maxMessagesPerMailbox }, now, RETENTION_BATCH));
    const bytes = await databaseBytes(env);
    if (bytes !== null && (bytes >= config.d1CapacityBytes * PRESSURE_RATIO || (bytes >= config.d1CapacityBytes * RELIEF_RATIO && (await pressureActive(env))))) {
      summary.moved = await moveInlineBodies(env, BODY_MOVE_BATCH);
    }
    await takeSnapshot(env, now);
  } catch (e) {
    log("error", "cron.storage.failed", { error: e instanceof Error ? e.message : String(e) });
  }
  if (summary.expired || summary.overCap || summary.moved) log("info", "cron.storage", summary);
  return summary;
}

/**
 * Hysteresis: once the database passed 80 %, bodies keep moving until it is below 70 %. "Passed"
 * is read from the latest snapshot (no extra state): it was at or above 80 % an hour ago at most.
 */
async function pressureActive(env: Env): Promise<boolean> {
  const config = loadConfig(env);
  const last = await env.DB.prepare("SELECT d1_bytes FROM storage_snapshots ORDER BY hour DESC LIMIT 1").first<number>("d1_bytes");
  return last !== null && last >= config.d1CapacityBytes * PRESSURE_RATIO;
}

export interface CapacityReport {
  stage: StorageStage;
  d1: { bytes: number | null; capacityBytes: number; usedRatio: number | null };
  r2: { bytes: number; objects: number };
  messages: number;
  largestMailboxes: Array<{ id: string; address: string; status: string; messageCount: number; storedBytes: number }>;
  growth: {
    last24h: { d1Bytes: number; r2Bytes: number; messages: number; since: string } | null;
    last7d: { d1Bytes: number; r2Bytes: number; messages: number; since: string } | null;
  };
  daysUntilFull: number | null;
  retention: { messageRetentionDays: number | null; maxMessagesPerMailbox: number };
}

interface SnapshotRow {
  hour: string;
  d1_bytes: number;
  r2_bytes: number;
  messages: number;
}

/** GET /api/admin/capacity: a handful of indexed reads (counters, snapshots, mailboxes). */
export async function capacityReport(env: Env, now = Date.now()): Promise<CapacityReport> {
  const config = loadConfig(env);
  const db = env.DB;
  const bytes = await databaseBytes(env);
  const [t, top, day, week] = await Promise.all([
    totals(db),
    // Live mailboxes only (destroyed ones hold nothing); a scan of mailboxes, never of messages.
    db
      .prepare("SELECT id, address, status, message_count, stored_bytes FROM mailboxes WHERE status <> 'destroyed' AND message_count > 0 ORDER BY stored_bytes DESC LIMIT 10")
      .all<{ id: string; address: string; status: string; message_count: number; stored_bytes: number }>(),
    baseline(db, now - 86_400_000),
    baseline(db, now - 7 * 86_400_000),
  ]);
  const delta = (s: SnapshotRow | null) =>
    s ? { d1Bytes: (bytes ?? 0) - s.d1_bytes, r2Bytes: t.r2_bytes - s.r2_bytes, messages: t.messages - s.messages, since: `${s.hour}:00:00.000Z` } : null;
  const last24h = delta(day);
  const last7d = delta(week);
  // The rate over the longest window there is; null when not growing (or nothing to compare with).
  const window = week ?? day;
  let daysUntilFull: number | null = null;
  if (window && bytes !== null) {
    const days = (now - Date.parse(`${window.hour}:00:00.000Z`)) / 86_400_000;
    const perDay = days > 0 ? (bytes - window.d1_bytes) / days : 0;
    if (perDay > 0) daysUntilFull = Math.max(0, Math.round(((config.d1CapacityBytes - bytes) / perDay) * 10) / 10);
  }
  return {
    stage: storageStage(bytes, config.d1CapacityBytes),
    d1: { bytes, capacityBytes: config.d1CapacityBytes, usedRatio: bytes === null ? null : Math.round((bytes / config.d1CapacityBytes) * 10_000) / 10_000 },
    r2: { bytes: t.r2_bytes, objects: t.r2_objects },
    messages: t.messages,
    largestMailboxes: top.results.map((m) => ({ id: m.id, address: m.address, status: m.status, messageCount: m.message_count, storedBytes: m.stored_bytes })),
    growth: { last24h, last7d },
    daysUntilFull,
    retention: { messageRetentionDays: config.messageRetentionDays, maxMessagesPerMailbox: config.maxMessagesPerMailbox },
  };
}

/** The oldest snapshot at or after `since` (the start of a growth window), or null. */
async function baseline(db: D1Database, since: number): Promise<SnapshotRow | null> {
  return db.prepare("SELECT hour, d1_bytes, r2_bytes, messages FROM storage_snapshots WHERE hour >= ? ORDER BY hour LIMIT 1").bind(nowIso(since).slice(0, 13)).first<SnapshotRow>();
}
