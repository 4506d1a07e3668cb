import { base64url } from "../auth/crypto";
import { nowIso } from "../lib/http";
import { safeJsonArray, toUser, type User, type UserRow } from "./users";

/** `last_seen_at` is written at most this often, so a busy page does not write on every read. */
const TOUCH_EVERY_MS = 60_000;

export interface SessionTimes {
  idleMinutes: number;
  maxAgeHours: number;
}

export interface LiveSession {
  id: string;
  user: User;
  apiKeyId: string | null;
  /** The scopes of the key the session was made from (a session never has more power than it). */
  scopes: string[];
  lastSeenAt: string;
}

/** A new session row for a user signing in with one of their keys. */
export async function createSession(db: D1Database, userId: string, apiKeyId: string, times: SessionTimes, now = Date.now()) {
  const id = `ses_${base64url(crypto.getRandomValues(new Uint8Array(24)))}`;
  const expiresAt = nowIso(now + times.maxAgeHours * 3_600_000);
  await db
    .prepare("INSERT INTO sessions (id, user_id, api_key_id, created_at, last_seen_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)")
    .bind(id, userId, apiKeyId, nowIso(now), expiresAt)
    .run();
  return { id, expiresAt };
}

/**
 * The session if it is still valid: not revoked, inside its absolute lifetime and idle timeout,
 * its key not revoked and its user neither disabled nor deleted. One D1 read (plus a rare touch).
 */
export async function findLiveSession(db: D1Database, id: string, userId: string, times: SessionTimes, now = Date.now()): Promise<LiveSession | null> {
  const row = await db
    .prepare(
      `SELECT s.id AS session_id, s.api_key_id, s.last_seen_at, k.scopes AS key_scopes, u.*
       FROM sessions s
       JOIN users u ON u.id = s.user_id
       LEFT JOIN api_keys k ON k.id = s.api_key_id
       WHERE s.id = ?1 AND s.user_id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3 AND s.last_seen_at > ?4
         AND u.disabled_at IS NULL AND u.deleted_at IS NULL
         AND (s.api_key_id IS NULL OR k.revoked_at IS NULL)`,
    )
    .bind(id, userId, nowIso(now), nowIso(now - times.idleMinutes * 60_000))
    .first<UserRow & { session_id: string; api_key_id: string | null; last_seen_at: string; key_scopes: string | null }>();
  if (!row) return null;
  if (now - Date.parse(row.last_seen_at) >= TOUCH_EVERY_MS) {
    await db.prepare("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1").bind(id, nowIso(now)).run();
  }
  return { id: row.session_id, user: toUser(row), apiKeyId: row.api_key_id, scopes: safeJsonArray(row.key_scopes), lastSeenAt: row.last_seen_at };
}

export async function revokeSession(db: D1Database, id: string): Promise<void> {
  await db.prepare("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL").bind(id, nowIso()).run();
}

/** Statement that revokes every session of a user (for use in a batch). */
export function revokeUserSessions(db: D1Database, userId: string, now = nowIso()): D1PreparedStatement {
  return db.prepare("UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL").bind(userId, now);
}

/** Rows past their absolute lifetime (or revoked a day ago) are of no further use. */
export async function purgeOldSessions(db: D1Database, now = Date.now()): Promise<number> {
  const res = await db
    .prepare("DELETE FROM sessions WHERE expires_at <= ?1 OR (revoked_at IS NOT NULL AND revoked_at <= ?2)")
    .bind(nowIso(now), nowIso(now - 86_400_000))
    .run();
  return res.meta.changes;
}
