import { z } from "zod";
import { ApiKeyRecord, NewApiKey, PublicUser } from "../api/dto";
import { authRequired, ensureBootstrapAdmin, sessionTimes } from "../auth/authenticate";
import { checkNewKeyScopes } from "../auth/scopes";
import { sessionCookie, sessionCookieName, signSession } from "../auth/session";
import { clearAttempts, reserveSignInAttempt } from "../auth/throttle";
import { createSession, revokeSession } from "../db/sessions";
import { createApiKey, DEFAULT_SCOPES, findUserByApiKey, getApiKey, listApiKeys, revokeApiKey, touchApiKey, type User } from "../db/users";
import { ApiError, notFound } from "../lib/errors";
import { json, readJson } from "../lib/http";
import { log } from "../lib/log";
import { allowedOrigin } from "../auth/origin";
import { route, type AuthedContext } from "./define";

export const publicUser = (u: User) => ({ id: u.id, email: u.email, name: u.name, role: u.role });

/** Live API key ids are `key_` + 32 hex; anything else is a 404 without a query. */
const KEY_ID = /^key_[0-9a-f]{32}$/;

export const signInSchema = z.object({ apiKey: z.string().min(16).max(512) });

export const newKeySchema = z.object({
  name: z.string().trim().min(1).max(64),
  scopes: z.array(z.string().min(1).max(64)).min(1).max(16).optional(),
});

/** Creates a key for `userId` with scopes the caller may grant (never more than its own). */
export async function createKeyFor(c: AuthedContext, userId: string, role: User["role"], body: z.infer<typeof newKeySchema>) {
  const scopes = checkNewKeyScopes(body.scopes ?? DEFAULT_SCOPES, { role, scopes: c.auth.scopes });
  return createApiKey(c.env.DB, userId, body.name, scopes);
}

export const authRoutes = [
  route({
    method: "GET",
    path: "/api/auth/session",
    access: "user",
    scope: "any",
    doc: {
      summary: "Who is calling: the user, how they authenticated and the key's scopes",
      responses: { 200: z.object({ user: PublicUser, authenticatedAt: z.string(), via: z.enum(["api_key", "session"]), scopes: z.array(z.string()) }) },
    },
    handler: (_req, c) => json({ user: publicUser(c.auth.user), authenticatedAt: new Date().toISOString(), via: c.auth.via, scopes: c.auth.scopes }),
  }),
  route({
    method: "POST",
    path: "/api/auth/session",
    access: "public",
    scope: "any",
    doc: {
      summary: "Sign in to the web page: exchange an API key for a session cookie",
      body: signInSchema,
      responses: { 200: z.object({ user: PublicUser, authenticatedAt: z.string(), expiresAt: z.string(), scopes: z.array(z.string()) }) },
      errors: [401, 403, 429, 503],
    },
    handler: async (request, c) => {
      // Sign-in is a write that sets a cookie: a cross-site page must not sign a visitor in to an
      // account of the attacker's choosing (login CSRF). Scripts send no Origin and are unaffected.
      const origin = request.headers.get("origin");
      if (origin !== null && !allowedOrigin(origin, c.config, c.url.origin)) {
        throw new ApiError(403, "Cross-site request refused", {
          code: "origin_not_allowed",
          hint: "Sign in from the KaisouMail web page, or use the API key as a Bearer token.",
        });
      }
      const body = await readJson(request, signInSchema);
      if (!c.config.sessionSecret) {
        throw new ApiError(503, "Sessions are not configured", {
          code: "missing_session_secret",
          hint: "Set SESSION_SECRET (at least 16 characters) as a Worker secret; API keys keep working without it.",
        });
      }
      const attempt = await reserveSignInAttempt(c.env.DB, request);
      // The web page's first sign-in may be the bootstrap admin's very first request.
      await ensureBootstrapAdmin(c.env.DB, c.config);
      const found = await findUserByApiKey(c.env.DB, body.apiKey);
      if (!found) {
        log("warn", "auth.session.invalid_key", { requestId: c.requestId });
        throw new ApiError(401, "Invalid API key");
      }
      await clearAttempts(c.env.DB, attempt);
      await touchApiKey(c.env.DB, found.keyId, found.lastUsedAt);
      const times = sessionTimes(c.config);
      const now = Date.now();
      const session = await createSession(c.env.DB, found.user.id, found.keyId, times, now);
      const iat = Math.floor(now / 1000);
      const maxAge = times.maxAgeHours * 3600;
      const token = await signSession(c.config.sessionSecret, { sid: session.id, sub: found.user.id, iat, exp: iat + maxAge });
      return json(
        { user: publicUser(found.user), authenticatedAt: new Date(now).toISOString(), expiresAt: session.expiresAt, scopes: found.scopes },
        { headers: { "set-cookie": sessionCookie(token, c.config.production, maxAge) } },
      );
    },
  }),
  route({
    method: "DELETE",
    path: "/api/auth/session",
    access: "public",
    scope: "any",
    doc: { summary: "Sign out: revoke this session and clear its cookie", responses: { 204: null } },
    handler: async (_req, c) => {
      // Sign-out revokes the session row, so a copy of the cookie stops working too.
      if (c.auth?.via === "session" && c.auth.sessionId) await revokeSession(c.env.DB, c.auth.sessionId);
      const cleared = sessionCookie("", c.config.production, 0);
      return new Response(null, { status: 204, headers: { "set-cookie": cleared } });
    },
  }),
  route({
    method: "GET",
    path: "/api/api-keys",
    access: "user",
    scope: "keys",
    doc: { summary: "Your API keys, revoked ones included (never the secrets)", responses: { 200: z.object({ apiKeys: z.array(ApiKeyRecord) }) } },
    handler: async (_req, c) => json({ apiKeys: await listApiKeys(c.env.DB, c.auth.user.id) }),
  }),
  route({
    method: "POST",
    path: "/api/api-keys",
    access: "user",
    scope: "keys",
    doc: { summary: "Create an API key (the secret is shown once); never more power than the calling key", body: newKeySchema, responses: { 201: NewApiKey } },
    handler: async (request, c) => {
      const body = await readJson(request, newKeySchema);
      return json(await createKeyFor(c, c.auth.user.id, c.auth.user.role, body), { status: 201 });
    },
  }),
  route({
    method: "POST",
    path: "/api/api-keys/:id/revoke",
    access: "user",
    scope: "keys",
    doc: { summary: "Revoke a key (yours, or anyone's for an admin) and every session made from it", responses: { 204: null } },
    handler: async (request, c) => {
      const id = request.params.id ?? "";
      const key = KEY_ID.test(id) ? await getApiKey(c.env.DB, id) : null;
      if (!key) throw notFound("API key not found");
      if (key.userId !== c.auth.user.id && c.auth.user.role !== "admin") throw new ApiError(403, "Forbidden");
      await revokeApiKey(c.env.DB, id);
      return new Response(null, { status: 204 });
    },
  }),
];

export { sessionCookieName, authRequired };
