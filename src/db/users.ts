import { newId, nowIso } from "../lib/http";
import { displayPrefix, generateApiKey, sha256Hex } from "../auth/crypto";

export type Role = "admin" | "member";
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
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

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
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

function safeJsonArray(value: string): string[] {
  try {
    const v = JSON.parse(value);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

export const DEFAULT_SCOPES = ["mailboxes:write", "messages:read"];

export async function getUser(db: D1Database, id: string): Promise<User | null> {
  const row = await db.prepare("SELECT * FROM users WHERE id = ?").bind(id).first<UserRow>();
  return row ? toUser(row) : null;
}

export async function listUsers(db: D1Database): Promise<User[]> {
  const { results } = await db.prepare("SELECT * FROM users ORDER BY created_at ASC, id ASC").all<UserRow>();
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
  const scopes = key.scopes ?? DEFAULT_SCOPES;
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
    user: { id: userId, email: input.email, name: input.name, role: input.role, createdAt: now, updatedAt: now },
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

export async function revokeApiKey(db: D1Database, id: string): Promise<void> {
  await db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(nowIso(), id).run();
}

/** Resolves a presented secret to its live key and user (by SHA-256 hash; revoked keys never match). */
export async function findUserByApiKey(db: D1Database, secret: string): Promise<{ user: User; keyId: string; lastUsedAt: string | null } | null> {
  const hash = await sha256Hex(secret);
  const row = await db
    .prepare(
      `SELECT k.id AS key_id, k.key_hash, k.last_used_at, u.* FROM api_keys k JOIN users u ON u.id = k.user_id
       WHERE k.key_hash = ? AND k.revoked_at IS NULL`,
    )
    .bind(hash)
    .first<UserRow & { key_id: string; key_hash: string; last_used_at: string | null }>();
  if (!row) return null;
  return { user: toUser(row), keyId: row.key_id, lastUsedAt: row.last_used_at };
}

/** `last_used_at` at minute granularity, so a busy key does not write on every read. */
export async function touchApiKey(db: D1Database, keyId: string, lastUsedAt: string | null): Promise<void> {
  const now = nowIso();
  if (lastUsedAt && now.slice(0, 16) === lastUsedAt.slice(0, 16)) return;
  await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now, keyId).run();
}
