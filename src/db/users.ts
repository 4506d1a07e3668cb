import { newId, nowIso } from "../lib/http";
import { forgetKey } from "../auth/cache";
import { displayPrefix, generateApiKey, sha256Hex } from "../auth/crypto";

export type Role = "admin" | "member";
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  disabledAt: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled_at: string | null;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}
interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  disabled: r.disabled_at !== null,
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toApiKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  scopes: safeJsonArray(r.scopes),
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export function safeJsonArray(value: string | null): string[] {
  try {
    const v = JSON.parse(value ?? "[]");
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

/** A new key's scopes when the caller names none (the reference's default). */
export const DEFAULT_SCOPES = ["mailboxes:write", "messages:read"];
/** A user's first key: the one a person signs in to the web page with, so the user's full power. */
export const INITIAL_KEY_SCOPES = ["*"];

/** Live users: not deleted (a deleted user is a tombstone kept until its mailboxes are gone). */
const LIVE = "deleted_at IS NULL";

export async function getUser(db: D1Database, id: string): Promise<User | null> {
  const row = await db.prepare(`SELECT * FROM users WHERE id = ? AND ${LIVE}`).bind(id).first<UserRow>();
  return row ? toUser(row) : null;
}

export async function listUsers(db: D1Database): Promise<User[]> {
  const { results } = await db.prepare(`SELECT * FROM users WHERE ${LIVE} ORDER BY created_at ASC, id ASC`).all<UserRow>();
  return results.map(toUser);
}

export async function countUsers(db: D1Database): Promise<number> {
  return (await db.prepare("SELECT COUNT(*) AS n FROM users").first<number>("n")) ?? 0;
}

/** Creates a user and its first API key in one batch (a transaction in D1). */
export async function createUserWithKey(
  db: D1Database,
  input: { email: string; name: string; role: Role },
  key: { name: string; secret?: string; scopes?: string[] },
): Promise<{ user: User; apiKey: string; apiKeyRecord: ApiKeyRecord } | null> {
  const now = nowIso();
  const userId = newId("usr");
  const secret = key.secret ?? generateApiKey();
  const keyId = newId("key");
  const scopes = key.scopes ?? INITIAL_KEY_SCOPES;
  try {
    await db.batch([
      db
        .prepare("INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(userId, input.email, input.name, input.role, now, now),
      db
        .prepare("INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(keyId, userId, key.name, displayPrefix(secret), await sha256Hex(secret), JSON.stringify(scopes), now),
    ]);
  } catch (e) {
    if (String(e).includes("UNIQUE")) return null;
    throw e;
  }
  return {
    user: { id: userId, email: input.email, name: input.name, role: input.role, disabled: false, disabledAt: null, createdAt: now, updatedAt: now },
    apiKey: secret,
    apiKeyRecord: { id: keyId, name: key.name, prefix: displayPrefix(secret), scopes, createdAt: now, lastUsedAt: null, revokedAt: null },
  };
}

export async function createApiKey(db: D1Database, userId: string, name: string, scopes: string[]) {
  const secret = generateApiKey();
  const now = nowIso();
  const id = newId("key");
  await db
    .prepare("INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(id, userId, name, displayPrefix(secret), await sha256Hex(secret), JSON.stringify(scopes), now)
    .run();
  const record: ApiKeyRecord = { id, name, prefix: displayPrefix(secret), scopes, createdAt: now, lastUsedAt: null, revokedAt: null };
  return { apiKey: secret, apiKeyRecord: record };
}

export async function listApiKeys(db: D1Database, userId: string): Promise<ApiKeyRecord[]> {
  const { results } = await db
    .prepare("SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at DESC, id DESC")
    .bind(userId)
    .all<ApiKeyRow>();
  return results.map(toApiKey);
}

export async function getApiKeyOwner(db: D1Database, id: string): Promise<{ userId: string } | null> {
  const row = await db.prepare("SELECT user_id FROM api_keys WHERE id = ?").bind(id).first<{ user_id: string }>();
  return row ? { userId: row.user_id } : null;
}

export async function getApiKey(db: D1Database, id: string): Promise<(ApiKeyRecord & { userId: string }) | null> {
  const row = await db.prepare("SELECT * FROM api_keys WHERE id = ?").bind(id).first<ApiKeyRow>();
  return row ? { ...toApiKey(row), userId: row.user_id } : null;
}

/** Revokes a key and every session signed in with it, in one transaction. */
export async function revokeApiKey(db: D1Database, id: string): Promise<void> {
  forgetKey(id);
  const now = nowIso();
  await db.batch([
    db.prepare("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL").bind(id, now),
    db.prepare("UPDATE sessions SET revoked_at = ?2 WHERE api_key_id = ?1 AND revoked_at IS NULL").bind(id, now),
  ]);
}

export interface KeyLookup {
  /** The live key and its enabled user, or null. */
  found: { user: User; keyId: string; scopes: string[]; lastUsedAt: string | null } | null;
  /** When the client is held off after failed attempts (ISO), whatever the key. */
  blockedUntil: string | null;
}

/**
 * Resolves a presented secret (by SHA-256 hash) to its live key and enabled user and, in the same
 * D1 round trip, reads the client's failed-attempt block: a valid key costs one read, and a
 * blocked client is refused before its guess is judged. Revoked keys and disabled or deleted
 * users never match.
 */
export async function lookupApiKey(db: D1Database, secret: string, throttleKey: string | null, knownHash?: string): Promise<KeyLookup> {
  const hash = knownHash ?? (await sha256Hex(secret));
  const row = await db
    .prepare(
      `SELECT f.blocked_until AS throttle_blocked_until, k.id AS key_id, k.scopes AS key_scopes, k.last_used_at AS key_last_used_at, u.*
       FROM (SELECT ?1 AS key_hash, ?2 AS client_key) q
       LEFT JOIN auth_failures f ON f.client_key = q.client_key
       LEFT JOIN api_keys k ON k.key_hash = q.key_hash AND k.revoked_at IS NULL
       LEFT JOIN users u ON u.id = k.user_id AND u.disabled_at IS NULL AND u.deleted_at IS NULL`,
    )
    .bind(hash, throttleKey)
    .first<UserRow & { throttle_blocked_until: string | null; key_id: string | null; key_scopes: string | null; key_last_used_at: string | null }>();
  const found =
    row && row.key_id && row.id
      ? { user: toUser(row), keyId: row.key_id, scopes: safeJsonArray(row.key_scopes), lastUsedAt: row.key_last_used_at }
      : null;
  return { found, blockedUntil: row?.throttle_blocked_until ?? null };
}

/** Resolves a presented secret to its live key and enabled user (no throttle read). */
export async function findUserByApiKey(db: D1Database, secret: string): Promise<KeyLookup["found"]> {
  return (await lookupApiKey(db, secret, null)).found;
}

/** `last_used_at` at minute granularity, so a busy key does not write on every read. */
export async function touchApiKey(db: D1Database, keyId: string, lastUsedAt: string | null): Promise<void> {
  const now = nowIso();
  if (lastUsedAt && now.slice(0, 16) === lastUsedAt.slice(0, 16)) return;
  await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now, keyId).run();
}
