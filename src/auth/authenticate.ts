import type { Config } from "../config";
import { findLiveSession } from "../db/sessions";
import { createUserWithKey, countUsers, lookupApiKey, touchApiKey, type User } from "../db/users";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { cachedKey, rememberKey } from "./cache";
import { sha256Hex } from "./crypto";
import { readCookie, sessionCookieName, verifySession } from "./session";
import { clientIp, countAttempt, throttleKey, throttled } from "./throttle";

export interface AuthContext {
  user: User;
  via: "api_key" | "session";
  /** The key used, or the key the session was signed in with. */
  apiKeyId: string | null;
  /** Scopes of that key; a session has exactly its key's scopes. */
  scopes: string[];
  sessionId: string | null;
}

export const authRequired = () => new ApiError(401, "Authentication required");

/** Parses `Authorization`; `undefined` = header absent, `null` = present but not a usable Bearer value. */
export function bearerToken(request: Request): string | null | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const [scheme, value, ...rest] = header.trim().split(/\s+/);
  if (!scheme || scheme.toLowerCase() !== "bearer" || !value || rest.length > 0 || value.length > 512) return null;
  return value;
}

export const sessionTimes = (config: Config) => ({ idleMinutes: config.sessionIdleMinutes, maxAgeHours: config.sessionMaxAgeHours });

/**
 * Resolves the caller. A Bearer header, when present, is the only credential considered (an
 * invalid key is a 401 even with a valid cookie). A key is read from D1 with its user and role, or
 * from this isolate's cache for at most AUTH_CACHE_SECONDS (revocation, disabling and role changes
 * made in this isolate apply at once; elsewhere within that bound). Sessions are always re-read. A
 * client IP with too many failed keys is refused (429) before its key is judged.
 */
export async function authenticate(request: Request, db: D1Database, config: Config): Promise<AuthContext | null> {
  const bearer = bearerToken(request);
  if (bearer !== undefined) {
    if (bearer === null) return null;
    const hash = await sha256Hex(bearer);
    // A key this isolate resolved in the last AUTH_CACHE_SECONDS needs no D1 read (src/auth/cache.ts).
    const hit = cachedKey(hash);
    if (hit) return { user: hit.user, via: "api_key", apiKeyId: hit.keyId, scopes: hit.scopes, sessionId: null };
    await ensureBootstrapAdmin(db, config);
    const ip = clientIp(request);
    const tkey = ip ? await throttleKey(ip) : null;
    const { found, blockedUntil } = await lookupApiKey(db, bearer, tkey, hash);
    const block = throttled(blockedUntil);
    if (block) throw block;
    if (!found) {
      if (tkey) {
        const after = throttled(await countAttempt(db, tkey));
        if (after) log("warn", "auth.bearer.throttled", { retryAfter: after.headers["retry-after"] });
      }
      return null;
    }
    await touchApiKey(db, found.keyId, found.lastUsedAt);
    rememberKey(hash, found, config.authCacheSeconds);
    return { user: found.user, via: "api_key", apiKeyId: found.keyId, scopes: found.scopes, sessionId: null };
  }
  const cookie = readCookie(request.headers.get("cookie"), sessionCookieName(config.production));
  if (!cookie || !config.sessionSecret) return null;
  const payload = await verifySession(config.sessionSecret, cookie);
  if (!payload) return null;
  const session = await findLiveSession(db, payload.sid, payload.sub, sessionTimes(config));
  return session ? { user: session.user, via: "session", apiKeyId: session.apiKeyId, scopes: session.scopes, sessionId: session.id } : null;
}

let bootstrapped = false;

/**
 * Creates the first admin from BOOTSTRAP_ADMIN_EMAIL + BOOTSTRAP_ADMIN_API_KEY when there are no
 * users yet. Checked once per isolate (and again only until it succeeds), never written on reads.
 */
export async function ensureBootstrapAdmin(db: D1Database, config: Config): Promise<void> {
  if (bootstrapped || !config.bootstrapAdmin) return;
  if ((await countUsers(db)) > 0) {
    bootstrapped = true;
    return;
  }
  const { email, name, apiKey } = config.bootstrapAdmin;
  const created = await createUserWithKey(db, { email, name, role: "admin" }, { name: "Bootstrap Admin", secret: apiKey, scopes: ["*"] });
  if (created) log("info", "auth.bootstrap_admin.created", { userId: created.user.id, email });
  bootstrapped = true;
}

/** Test hook: forget the per-isolate bootstrap memo. */
export function resetBootstrapMemo(): void {
  bootstrapped = false;
}
