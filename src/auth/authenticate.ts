import type { Config } from "../config";
import { createUserWithKey, countUsers, findUserByApiKey, getUser, touchApiKey, type User } from "../db/users";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { readCookie, SESSION_COOKIE, verifySession } from "./session";

export interface AuthContext {
  user: User;
  via: "api_key" | "session";
  apiKeyId: string | null;
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

/**
 * Resolves the caller. A Bearer header, when present, is the only credential considered (an
 * invalid key is a 401 even with a valid cookie). The user and role are re-read on every request.
 */
export async function authenticate(request: Request, db: D1Database, config: Config): Promise<AuthContext | null> {
  const bearer = bearerToken(request);
  if (bearer !== undefined) {
    if (bearer === null) return null;
    await ensureBootstrapAdmin(db, config);
    const found = await findUserByApiKey(db, bearer);
    if (!found) return null;
    await touchApiKey(db, found.keyId, found.lastUsedAt);
    return { user: found.user, via: "api_key", apiKeyId: found.keyId };
  }
  const cookie = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  if (!cookie || !config.sessionSecret) return null;
  const payload = await verifySession(config.sessionSecret, cookie);
  if (!payload) return null;
  const user = await getUser(db, payload.sub);
  return user ? { user, via: "session", apiKeyId: null } : null;
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
