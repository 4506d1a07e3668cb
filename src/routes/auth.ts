import { z } from "zod";
import { authRequired, ensureBootstrapAdmin } from "../auth/authenticate";
import { SESSION_COOKIE, sessionCookie, signSession } from "../auth/session";
import { clientKey, recordAuthFailure, assertNotThrottled, clearAuthFailures } from "../auth/throttle";
import { createApiKey, DEFAULT_SCOPES, findUserByApiKey, getApiKeyOwner, listApiKeys, revokeApiKey, touchApiKey, type User } from "../db/users";
import { ApiError, notFound } from "../lib/errors";
import { json, readJson } from "../lib/http";
import { log } from "../lib/log";
import { route } from "./define";

const publicUser = (u: User) => ({ id: u.id, email: u.email, name: u.name, role: u.role });

export const authRoutes = [
  route({
    method: "GET",
    path: "/api/auth/session",
    access: "user",
    handler: (_req, c) => json({ user: publicUser(c.auth.user), authenticatedAt: new Date().toISOString(), via: c.auth.via }),
  }),
  route({
    method: "POST",
    path: "/api/auth/session",
    access: "public",
    handler: async (request, c) => {
      const body = await readJson(request, z.object({ apiKey: z.string().min(16).max(512) }));
      if (!c.config.sessionSecret) {
        throw new ApiError(503, "Sessions are not configured", {
          code: "missing_session_secret",
          hint: "Set SESSION_SECRET (at least 16 characters) as a Worker secret; API keys keep working without it.",
        });
      }
      const key = clientKey(request);
      await assertNotThrottled(c.env.DB, key);
      // The web page's first sign-in may be the bootstrap admin's very first request.
      await ensureBootstrapAdmin(c.env.DB, c.config);
      const found = await findUserByApiKey(c.env.DB, body.apiKey);
      if (!found) {
        await recordAuthFailure(c.env.DB, key);
        log("warn", "auth.session.invalid_key", { requestId: c.requestId });
        throw new ApiError(401, "Invalid API key");
      }
      await clearAuthFailures(c.env.DB, key);
      await touchApiKey(c.env.DB, found.keyId, found.lastUsedAt);
      const token = await signSession(c.config.sessionSecret, found.user.id);
      return json(
        { user: publicUser(found.user), authenticatedAt: new Date().toISOString() },
        { headers: { "set-cookie": sessionCookie(token, c.config.production) } },
      );
    },
  }),
  route({
    method: "DELETE",
    path: "/api/auth/session",
    access: "public",
    handler: (_req, c) =>
      new Response(null, { status: 204, headers: { "set-cookie": sessionCookie("", c.config.production, 0) } }),
  }),
  route({
    method: "GET",
    path: "/api/api-keys",
    access: "user",
    handler: async (_req, c) => json({ apiKeys: await listApiKeys(c.env.DB, c.auth.user.id) }),
  }),
  route({
    method: "POST",
    path: "/api/api-keys",
    access: "user",
    handler: async (request, c) => {
      const body = await readJson(
        request,
        z.object({
          name: z.string().trim().min(1).max(64),
          scopes: z.array(z.string().min(1).max(64)).max(16).optional(),
        }),
      );
      const created = await createApiKey(c.env.DB, c.auth.user.id, body.name, body.scopes ?? DEFAULT_SCOPES);
      return json(created, { status: 201 });
    },
  }),
  route({
    method: "POST",
    path: "/api/api-keys/:id/revoke",
    access: "user",
    handler: async (request, c) => {
      const owner = await getApiKeyOwner(c.env.DB, request.params.id ?? "");
      if (!owner) throw notFound("API key not found");
      if (owner.userId !== c.auth.user.id && c.auth.user.role !== "admin") throw new ApiError(403, "Forbidden");
      await revokeApiKey(c.env.DB, request.params.id!);
      return new Response(null, { status: 204 });
    },
  }),
];

export { SESSION_COOKIE, authRequired };
