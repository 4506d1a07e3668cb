import { ApiError } from "../lib/errors";
import { nowIso } from "../lib/http";
import { sha256Hex } from "./crypto";

/**
 * Slows down guessing of API keys, per client IP, at sign-in (POST /api/auth/session) and on
 * Bearer requests. After FREE_ATTEMPTS failures inside a 15-minute window a client is held off for
 * 2^(n - FREE_ATTEMPTS) seconds, capped at 15 minutes, whatever key it presents.
 *
 * Counting is atomic (one `UPSERT … RETURNING` per attempt): sign-in reserves its attempt *before*
 * the key is judged, so 40 parallel guesses get FREE_ATTEMPTS tries, not 40. Bearer requests do
 * not write on success: the block is read in the same D1 query as the key, and only a failed key
 * is counted.
 */
export const FREE_ATTEMPTS = 5;
const WINDOW_MS = 15 * 60 * 1000;
const MAX_BLOCK_MS = 15 * 60 * 1000;

/** The client's IP as Cloudflare reports it; null when unknown (then there is nothing to key on). */
export function clientIp(request: Request): string | null {
  return request.headers.get("cf-connecting-ip") ?? request.headers.get("x-real-ip");
}

/** The stored key for a client (a hash, so the table holds no IP addresses). */
export async function throttleKey(client: string): Promise<string> {
  return (await sha256Hex(`auth-throttle:${client}`)).slice(0, 32);
}

export function throttled(blockedUntil: string | null, now = Date.now()): ApiError | null {
  if (!blockedUntil) return null;
  const waitMs = Date.parse(blockedUntil) - now;
  if (!(waitMs > 0)) return null;
  const seconds = Math.ceil(waitMs / 1000);
  return new ApiError(
    429,
    "Too many failed sign-in attempts",
    { code: "auth_throttled", retryAfterSeconds: seconds, hint: `Wait ${seconds} s before trying again.` },
    { "retry-after": String(seconds) },
  );
}

/**
 * Counts one attempt (or failure) for `key` atomically and returns the block that applies to it:
 * the existing one, or a new one once the count passes FREE_ATTEMPTS.
 */
export async function countAttempt(db: D1Database, key: string, now = Date.now()): Promise<string | null> {
  const row = await db
    .prepare(
      `INSERT INTO auth_failures (client_key, failures, window_started_at, blocked_until) VALUES (?1, 1, ?2, NULL)
       ON CONFLICT (client_key) DO UPDATE SET
         failures = CASE WHEN auth_failures.window_started_at <= ?3 THEN 1 ELSE auth_failures.failures + 1 END,
         window_started_at = CASE WHEN auth_failures.window_started_at <= ?3 THEN ?2 ELSE auth_failures.window_started_at END
       RETURNING failures, blocked_until`,
    )
    .bind(key, nowIso(now), nowIso(now - WINDOW_MS))
    .first<{ failures: number; blocked_until: string | null }>();
  const failures = row?.failures ?? 1;
  if (failures <= FREE_ATTEMPTS) return row?.blocked_until ?? null;
  const until = nowIso(now + Math.min(MAX_BLOCK_MS, 1000 * 2 ** Math.min(30, failures - FREE_ATTEMPTS)));
  // The longest block wins when parallel attempts race (ISO strings order as times).
  await db
    .prepare("UPDATE auth_failures SET blocked_until = ?2 WHERE client_key = ?1 AND (blocked_until IS NULL OR blocked_until < ?2)")
    .bind(key, until)
    .run();
  return row?.blocked_until && row.blocked_until > until ? row.blocked_until : until;
}

/**
 * Sign-in: reserves an attempt before the key is checked; 429 when the client is held off.
 * Without a known IP all callers share one counter (as before), which only slows guessing more.
 */
export async function reserveSignInAttempt(db: D1Database, request: Request): Promise<string> {
  const key = await throttleKey(clientIp(request) ?? "unknown");
  const block = throttled(await countAttempt(db, key));
  if (block) throw block;
  return key;
}

export async function clearAttempts(db: D1Database, key: string): Promise<void> {
  await db.prepare("DELETE FROM auth_failures WHERE client_key = ?").bind(key).run();
}
