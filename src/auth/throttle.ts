import { ApiError } from "../lib/errors";
import { nowIso } from "../lib/http";
import { sha256Hex } from "./crypto";

/**
 * Slows down guessing of API keys at POST /api/auth/session: after FREE_ATTEMPTS failures inside
 * a 15-minute window a client is held off for 2^(n - FREE_ATTEMPTS) seconds (capped at 15 minutes).
 */
const FREE_ATTEMPTS = 5;
const WINDOW_MS = 15 * 60 * 1000;
const MAX_BLOCK_MS = 15 * 60 * 1000;

export function clientKey(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? request.headers.get("x-real-ip") ?? "unknown";
}

interface Row {
  failures: number;
  window_started_at: string;
  blocked_until: string | null;
}

async function keyOf(client: string) {
  return (await sha256Hex(`auth-throttle:${client}`)).slice(0, 32);
}

export async function assertNotThrottled(db: D1Database, client: string): Promise<void> {
  const row = await db.prepare("SELECT * FROM auth_failures WHERE client_key = ?").bind(await keyOf(client)).first<Row>();
  if (!row?.blocked_until) return;
  const waitMs = Date.parse(row.blocked_until) - Date.now();
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    throw new ApiError(
      429,
      "Too many failed sign-in attempts",
      { code: "auth_throttled", retryAfterSeconds: seconds, hint: `Wait ${seconds} s before trying again.` },
      { "retry-after": String(seconds) },
    );
  }
}

export async function recordAuthFailure(db: D1Database, client: string): Promise<void> {
  const key = await keyOf(client);
  const now = Date.now();
  const row = await db.prepare("SELECT * FROM auth_failures WHERE client_key = ?").bind(key).first<Row>();
  const fresh = !row || now - Date.parse(row.window_started_at) > WINDOW_MS;
  const failures = fresh ? 1 : row.failures + 1;
  const windowStart = fresh ? nowIso(now) : row.window_started_at;
  const blockedUntil =
    failures > FREE_ATTEMPTS ? nowIso(now + Math.min(MAX_BLOCK_MS, 1000 * 2 ** (failures - FREE_ATTEMPTS))) : null;
  await db
    .prepare(
      `INSERT INTO auth_failures (client_key, failures, window_started_at, blocked_until) VALUES (?, ?, ?, ?)
       ON CONFLICT (client_key) DO UPDATE SET failures = excluded.failures, window_started_at = excluded.window_started_at, blocked_until = excluded.blocked_until`,
    )
    .bind(key, failures, windowStart, blockedUntil)
    .run();
}

export async function clearAuthFailures(db: D1Database, client: string): Promise<void> {
  await db.prepare("DELETE FROM auth_failures WHERE client_key = ?").bind(await keyOf(client)).run();
}
