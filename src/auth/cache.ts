import type { KeyLookup } from "../db/users";

/**
 * In-isolate cache of API-key lookups (key hash → key, user, role, scopes), so a read request pays
 * for one D1 round trip (its own query) instead of two.
 *
 * Staleness is bounded: an entry lives AUTH_CACHE_SECONDS (default 30, at most 30; 0 turns the
 * cache off). In the isolate that revokes a key, disables, deletes or re-roles a user, the change
 * applies at once (those paths call `forgetKey` / `forgetUser`); other isolates see it within the
 * bound. Only valid keys are cached: an unknown or revoked key always reaches D1 (and the brute-force
 * throttle). A cached key skips the throttle read, which only ever holds back guessers.
 */

type Found = NonNullable<KeyLookup["found"]>;
interface Entry {
  found: Found;
  expiresAt: number;
}

const MAX_ENTRIES = 1000;
const entries = new Map<string, Entry>();

export function cachedKey(hash: string, now = Date.now()): Found | null {
  const e = entries.get(hash);
  if (!e) return null;
  if (e.expiresAt <= now) {
    entries.delete(hash);
    return null;
  }
  return e.found;
}

export function rememberKey(hash: string, found: Found, ttlSeconds: number, now = Date.now()): void {
  if (ttlSeconds <= 0) return;
  entries.delete(hash);
  entries.set(hash, { found, expiresAt: now + ttlSeconds * 1000 });
  // Map keeps insertion order: the first entry is the oldest.
  while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
}

/** A key was revoked here: forget it at once. */
export function forgetKey(keyId: string): void {
  for (const [hash, e] of entries) if (e.found.keyId === keyId) entries.delete(hash);
}

/** A user was disabled, deleted or given another role here: forget their keys at once. */
export function forgetUser(userId: string): void {
  for (const [hash, e] of entries) if (e.found.user.id === userId) entries.delete(hash);
}
