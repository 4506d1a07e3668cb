import { z } from "zod";
import { ApiKeyRecord, NewApiKey, User } from "../api/dto";
import { createApiKey, createUserWithKey, DEFAULT_SCOPES, listApiKeys, listUsers } from "../db/users";
import { deleteUser, liveUser, updateUser } from "../db/user-admin";
import { ApiError } from "../lib/errors";
import { json, readJson } from "../lib/http";
import { isPrintableAscii } from "../mailboxes/address";
import { MailboxService } from "../mailboxes/service";
import type { MailboxRow } from "../mailboxes/repo";
import { ALL_SCOPES, checkNewKeyScopes } from "../auth/scopes";
import { newKeySchema } from "./auth";
import { route, type AuthedContext } from "./define";

/** Mailboxes destroyed inside the DELETE request; the rest are left to the cron (already `destroying`). */
const INLINE_DESTROYS = 25;

const createUserSchema = z.object({
  // ASCII only, checked before case folding (so "\u212A" never becomes "k").
  email: z.string().trim().refine(isPrintableAscii, "email must contain only ASCII characters").transform((v) => v.toLowerCase()).pipe(z.email().max(254)),
  name: z.string().trim().min(1).max(64),
  role: z.enum(["admin", "member"]).default("member"),
});

const patchUserSchema = z
  .object({ role: z.enum(["admin", "member"]).optional(), disabled: z.boolean().optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.disabled !== undefined, { message: "Give role, disabled or both" });

async function targetUser(c: AuthedContext, id: string | undefined) {
  const user = await liveUser(c.env.DB, id);
  if (!user) throw new ApiError(404, "User not found");
  return user;
}

export const userRoutes = [
  route({
    method: "GET",
    path: "/api/users",
    access: "admin",
    scope: "admin",
    doc: { summary: "All users (deleted ones are gone)", responses: { 200: z.object({ users: z.array(User) }) } },
    handler: async (_req, c) => json({ users: await listUsers(c.env.DB) }),
  }),
  route({
    method: "POST",
    path: "/api/users",
    access: "admin",
    scope: "admin",
    doc: {
      summary: "Create a user and their first API key (scope *, shown once)",
      body: createUserSchema,
      responses: { 201: z.object({ user: User, initialKey: NewApiKey }) },
      errors: [409],
    },
    handler: async (request, c) => {
      const body = await readJson(
        request,
        createUserSchema,
      );
      const created = await createUserWithKey(c.env.DB, body, { name: "Initial API Key" });
      if (!created) throw new ApiError(409, "User already exists", { email: body.email });
      return json({ user: created.user, initialKey: { apiKey: created.apiKey, apiKeyRecord: created.apiKeyRecord } }, { status: 201 });
    },
  }),
  route({
    method: "PATCH",
    path: "/api/users/:id",
    access: "admin",
    scope: "admin",
    doc: {
      summary: "Change a user's role or disable/enable them (disabling ends their sessions and refuses their keys)",
      body: patchUserSchema,
      responses: { 200: z.object({ user: User }) },
      errors: [409],
    },
    handler: async (request, c) => {
      const body = await readJson(
        request,
        patchUserSchema,
      );
      const user = await targetUser(c, request.params.id);
      return json({ user: await updateUser(c.env.DB, user, body) });
    },
  }),
  route({
    method: "DELETE",
    path: "/api/users/:id",
    access: "admin",
    scope: "admin",
    doc: {
      summary: "Delete a user: their mailboxes are destroyed through the normal path, keys and sessions revoked",
      responses: { 200: z.object({ deleted: z.literal(true), userId: z.string(), mailboxes: z.object({ destroyed: z.number().int(), pending: z.number().int() }) }) },
      errors: [409],
    },
    handler: async (request, c) => {
      const user = await targetUser(c, request.params.id);
      const mailboxes = await deleteUser(c.env.DB, user);
      // Each mailbox goes through the normal destroy path (rule, R2, rows). A failure leaves it
      // `destroying` with a backoff and the cron finishes it: nothing is orphaned.
      const service = new MailboxService(c.env, c.config);
      let destroyed = 0;
      for (const row of mailboxes.slice(0, INLINE_DESTROYS)) {
        try {
          await service.destroy(row as MailboxRow);
          destroyed++;
        } catch {
          /* recorded on the row by destroy(); retried by the cron */
        }
      }
      return json({ deleted: true, userId: user.id, mailboxes: { destroyed, pending: mailboxes.length - destroyed } });
    },
  }),
  route({
    method: "GET",
    path: "/api/users/:id/api-keys",
    access: "admin",
    scope: "admin",
    doc: { summary: "A user's API keys (revoke with POST /api/api-keys/{id}/revoke)", responses: { 200: z.object({ apiKeys: z.array(ApiKeyRecord) }) } },
    handler: async (request, c) => {
      const user = await targetUser(c, request.params.id);
      return json({ apiKeys: await listApiKeys(c.env.DB, user.id) });
    },
  }),
  route({
    method: "POST",
    path: "/api/users/:id/api-keys",
    access: "admin",
    scope: "admin",
    doc: {
      summary: "Issue an API key for a user (the secret is shown once); any scopes, but the admin scope only for an admin (a disabled user's key works once they are enabled)",
      body: newKeySchema,
      responses: { 201: NewApiKey },
    },
    handler: async (request, c) => {
      const body = await readJson(request, newKeySchema);
      const user = await targetUser(c, request.params.id);
      // The admin scope already creates users whose first key is `*` (POST /api/users), so it may
      // issue any scope for another user; the target's role still bounds it (admin only for
      // admins). For the caller itself the usual rule holds: never more than the calling key, so
      // an admin-only key cannot mint itself a `*` key.
      const limit = user.id === c.auth.user.id ? c.auth.scopes : [ALL_SCOPES];
      const scopes = checkNewKeyScopes(body.scopes ?? DEFAULT_SCOPES, { role: user.role, scopes: limit });
      return json(await createApiKey(c.env.DB, user.id, body.name, scopes), { status: 201 });
    },
  }),
];
