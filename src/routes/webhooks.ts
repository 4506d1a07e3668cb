import { z } from "zod";
import { NewWebhookSecret, Webhook, WebhookDelivery } from "../api/dto";
import { base64url, fromBase64url } from "../auth/crypto";
import { ApiError, notFound } from "../lib/errors";
import { json, nowIso, parseQuery, readJson } from "../lib/http";
import { addressSchema } from "../mailboxes/address";
import type { MailboxRow } from "../mailboxes/repo";
import { encryptSecret, generateWebhookSecret } from "../webhooks/crypto";
import {
  enqueue,
  kickOutbox,
  newWebhookId,
  toDeliveryDTO,
  toWebhookDTO,
  WEBHOOK_SELECT,
  type DeliveryRow,
  type WebhookRow,
} from "../webhooks/repo";
import { checkWebhookUrl } from "../webhooks/url";
import { route, type AuthedContext } from "./define";
import { isId } from "./schemas";

/**
 * Webhooks (issue 18): a member's hooks fire for their mailboxes (or one of them); an admin may
 * also create deployment-wide hooks (`scope: "deployment"`) that fire for every mailbox. The
 * signing secret is returned by create and rotate-secret only. Must be registered before any
 * route whose path could shadow these (none today; kept first among user routes anyway).
 */

const filterSchema = z
  .object({
    hasCode: z.boolean().optional(),
    fromContains: z.string().trim().min(1).max(200).optional(),
    subjectContains: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
const urlSchema = z.string().trim().min(1).max(2000);
const descriptionSchema = z.string().max(500);

const createSchema = z
  .object({
    url: urlSchema,
    description: descriptionSchema.optional(),
    mailbox: addressSchema.pipe(z.email()).optional().describe("Only this mailbox (yours); omit for all your mailboxes"),
    filter: filterSchema.optional(),
    scope: z.enum(["user", "deployment"]).optional().describe("deployment: every mailbox of every user (admins only)"),
  })
  .strict();
const patchSchema = z
  .object({
    url: urlSchema.optional(),
    description: descriptionSchema.optional(),
    filter: filterSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
const deliveriesQuery = z.object({
  cursor: z.string().max(200).optional().describe("nextCursor of the previous page"),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const WebhookList = z.object({ webhooks: z.array(Webhook) });
const WebhookOne = z.object({ webhook: Webhook });
const DeliveryList = z.object({ deliveries: z.array(WebhookDelivery), nextCursor: z.string().nullable() });
const DeliveryOne = z.object({ delivery: WebhookDelivery });

const invalidField = (field: string, message: string) => new ApiError(400, "Invalid request", { formErrors: [], fieldErrors: { [field]: [message] } });

function checkedUrl(c: AuthedContext, raw: string): string {
  const checked = checkWebhookUrl(raw, { allowHttp: c.config.webhookAllowHttp });
  if (!checked.ok) throw new ApiError(400, "Invalid request", { code: "webhook_url_not_allowed", formErrors: [], fieldErrors: { url: [checked.reason] } });
  return checked.url;
}

function secretKey(c: AuthedContext): string {
  if (!c.config.webhookSecretKey) {
    throw new ApiError(503, "Webhooks are not configured", {
      code: "webhook_secret_key_missing",
      hint: "Set the WEBHOOK_SECRET_KEY (or SESSION_SECRET) Worker secret.",
    });
  }
  return c.config.webhookSecretKey;
}

/** A hook the caller may manage (their own; an admin: any). Anything else is a 404, never a hint that it exists. */
async function visibleWebhook(c: AuthedContext, id: string | undefined): Promise<WebhookRow> {
  const row = isId("whk", id) ? await c.env.DB.prepare(`${WEBHOOK_SELECT} WHERE w.id = ?`).bind(id).first<WebhookRow>() : null;
  if (!row || (c.auth.user.role !== "admin" && row.user_id !== c.auth.user.id)) throw notFound("Webhook not found");
  return row;
}

async function reload(c: AuthedContext, id: string): Promise<WebhookRow> {
  return (await c.env.DB.prepare(`${WEBHOOK_SELECT} WHERE w.id = ?`).bind(id).first<WebhookRow>())!;
}

function encodeCursor(seq: number): string {
  return base64url(new TextEncoder().encode(`d|${seq}`));
}
function decodeCursor(cursor: string): number {
  const bytes = fromBase64url(cursor);
  const m = bytes ? /^d\|(\d{1,15})$/.exec(new TextDecoder().decode(bytes)) : null;
  if (!m) throw invalidField("cursor", "cursor is not valid");
  return Number(m[1]);
}

const idParam = (request: { params: Record<string, string | undefined> }) => request.params.id;

export const webhookRoutes = [
  route({
    method: "GET",
    path: "/api/webhooks",
    access: "user",
    scope: "webhooks",
    doc: {
      summary: "Your webhooks (an admin: every webhook, deployment-wide ones included)",
      responses: { 200: WebhookList },
    },
    handler: async (_request, c) => {
      const admin = c.auth.user.role === "admin";
      const { results } = await c.env.DB.prepare(`${WEBHOOK_SELECT} ${admin ? "" : "WHERE w.user_id = ?1"} ORDER BY w.created_at, w.id`)
        .bind(...(admin ? [] : [c.auth.user.id]))
        .all<WebhookRow>();
      return json({ webhooks: results.map(toWebhookDTO) });
    },
  }),
  route({
    method: "POST",
    path: "/api/webhooks",
    access: "user",
    scope: "webhooks",
    doc: {
      summary: "Create a webhook; the answer holds its signing secret, shown this once",
      description:
        "Events: message.received (after the message is stored) and mailbox.created. Without `mailbox`, it fires for all your mailboxes. `scope: \"deployment\"` (admins only) fires for every mailbox. Limits: WEBHOOKS_PER_USER per user (409 webhook_limit_reached), WEBHOOKS_PER_DEPLOYMENT in all (409 deployment_webhook_limit_reached).",
      body: createSchema,
      responses: { 201: NewWebhookSecret },
      errors: [409, 503],
    },
    handler: async (request, c) => {
      const body = await readJson(request, createSchema);
      const scope = body.scope ?? "user";
      if (scope === "deployment" && c.auth.user.role !== "admin") {
        throw new ApiError(403, "Only admins may create deployment-wide webhooks", { code: "deployment_webhook_admin_only" });
      }
      const url = checkedUrl(c, body.url);
      let mailboxId: string | null = null;
      if (body.mailbox) {
        const mb = await c.env.DB.prepare("SELECT * FROM mailboxes WHERE address = ? AND status IN ('active', 'expired')").bind(body.mailbox).first<MailboxRow>();
        if (!mb) throw invalidField("mailbox", "No such mailbox");
        if (c.auth.user.role !== "admin" && mb.user_id !== c.auth.user.id) throw new ApiError(403, "Forbidden", { code: "mailbox_not_yours" });
        mailboxId = mb.id;
      }
      const key = secretKey(c);
      const counts = await c.env.DB.prepare("SELECT count(*) AS total, sum(user_id = ?1 AND scope = 'user') AS mine FROM webhooks")
        .bind(c.auth.user.id)
        .first<{ total: number; mine: number | null }>();
      if (scope === "user" && (counts?.mine ?? 0) >= c.config.webhooksPerUser) {
        throw new ApiError(409, "Webhook limit reached", {
          code: "webhook_limit_reached",
          limit: c.config.webhooksPerUser,
          hint: "Delete a webhook you no longer need (WEBHOOKS_PER_USER).",
        });
      }
      if ((counts?.total ?? 0) >= c.config.webhooksPerDeployment) {
        throw new ApiError(409, "Webhook limit of the deployment reached", {
          code: "deployment_webhook_limit_reached",
          limit: c.config.webhooksPerDeployment,
          hint: "Ask an admin to raise WEBHOOKS_PER_DEPLOYMENT or delete unused webhooks.",
        });
      }
      const id = newWebhookId();
      const secret = generateWebhookSecret();
      const now = nowIso();
      await c.env.DB.prepare(
        "INSERT INTO webhooks (id, user_id, scope, mailbox_id, url, description, filter_json, enabled, secret_enc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
      )
        .bind(id, c.auth.user.id, scope, mailboxId, url, body.description ?? "", JSON.stringify(body.filter ?? {}), await encryptSecret(key, id, secret), now, now)
        .run();
      return json({ webhook: toWebhookDTO(await reload(c, id)), secret }, { status: 201 });
    },
  }),
  route({
    method: "GET",
    path: "/api/webhooks/:id",
    access: "user",
    scope: "webhooks",
    doc: { summary: "One webhook (never its secret)", responses: { 200: WebhookOne } },
    handler: async (request, c) => json({ webhook: toWebhookDTO(await visibleWebhook(c, idParam(request))) }),
  }),
  route({
    method: "PATCH",
    path: "/api/webhooks/:id",
    access: "user",
    scope: "webhooks",
    doc: {
      summary: "Change a webhook's url, description, filter or enabled",
      description: "Enabling clears `disabledReason`; disabling sets it to \"Disabled by the owner\".",
      body: patchSchema,
      responses: { 200: WebhookOne },
    },
    handler: async (request, c) => {
      const row = await visibleWebhook(c, idParam(request));
      const body = await readJson(request, patchSchema);
      const url = body.url !== undefined ? checkedUrl(c, body.url) : row.url;
      const enabled = body.enabled ?? row.enabled === 1;
      const reason = body.enabled === undefined ? row.disabled_reason : enabled ? null : "Disabled by the owner";
      await c.env.DB.prepare("UPDATE webhooks SET url = ?, description = ?, filter_json = ?, enabled = ?, disabled_reason = ?, updated_at = ? WHERE id = ?")
        .bind(url, body.description ?? row.description, body.filter ? JSON.stringify(body.filter) : row.filter_json, enabled ? 1 : 0, reason, nowIso(), row.id)
        .run();
      return json({ webhook: toWebhookDTO(await reload(c, row.id)) });
    },
  }),
  route({
    method: "DELETE",
    path: "/api/webhooks/:id",
    access: "user",
    scope: "webhooks",
    doc: { summary: "Delete a webhook and its delivery history", responses: { 204: null } },
    handler: async (request, c) => {
      const row = await visibleWebhook(c, idParam(request));
      await c.env.DB.batch([
        c.env.DB.prepare("DELETE FROM webhook_deliveries WHERE webhook_id = ?").bind(row.id),
        c.env.DB.prepare("DELETE FROM webhooks WHERE id = ?").bind(row.id),
      ]);
      return new Response(null, { status: 204 });
    },
  }),
  route({
    method: "POST",
    path: "/api/webhooks/:id/rotate-secret",
    access: "user",
    scope: "webhooks",
    doc: {
      summary: "Replace the signing secret; the answer holds the new one, shown this once",
      description: "Deliveries sent from now on are signed with the new secret only.",
      responses: { 200: NewWebhookSecret },
      errors: [503],
    },
    handler: async (request, c) => {
      const row = await visibleWebhook(c, idParam(request));
      const secret = generateWebhookSecret();
      await c.env.DB.prepare("UPDATE webhooks SET secret_enc = ?, updated_at = ? WHERE id = ?")
        .bind(await encryptSecret(secretKey(c), row.id, secret), nowIso(), row.id)
        .run();
      return json({ webhook: toWebhookDTO(await reload(c, row.id)), secret });
    },
  }),
  route({
    method: "POST",
    path: "/api/webhooks/:id/test",
    access: "user",
    scope: "webhooks",
    doc: {
      summary: "Send a webhook.test event now (queued behind anything pending for this webhook)",
      responses: { 202: DeliveryOne },
      errors: [409],
    },
    handler: async (request, c) => {
      const row = await visibleWebhook(c, idParam(request));
      if (row.enabled !== 1) throw new ApiError(409, "Webhook is disabled", { code: "webhook_disabled", hint: "Enable it first (PATCH enabled: true)." });
      const [id] = await enqueue(c.env, [row], { type: "webhook.test", data: { webhookId: row.id, message: "This is a test event from KaisouMail." } });
      const d = await c.env.DB.prepare("SELECT * FROM webhook_deliveries WHERE id = ?").bind(id).first<DeliveryRow>();
      return json({ delivery: toDeliveryDTO(d!) }, { status: 202 });
    },
  }),
  route({
    method: "GET",
    path: "/api/webhooks/:id/deliveries",
    access: "user",
    scope: "webhooks",
    doc: {
      summary: "A webhook's deliveries, newest first, with their attempts (time, status code, duration, error) and next retry",
      query: deliveriesQuery,
      responses: { 200: DeliveryList },
    },
    handler: async (request, c) => {
      const row = await visibleWebhook(c, idParam(request));
      const q = parseQuery(c.url, deliveriesQuery);
      const before = q.cursor ? decodeCursor(q.cursor) : Number.MAX_SAFE_INTEGER;
      const { results } = await c.env.DB.prepare("SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?")
        .bind(row.id, before, q.limit + 1)
        .all<DeliveryRow>();
      const page = results.slice(0, q.limit);
      const nextCursor = results.length > q.limit ? encodeCursor(page[page.length - 1]!.seq) : null;
      return json({ deliveries: page.map(toDeliveryDTO), nextCursor });
    },
  }),
  route({
    method: "POST",
    path: "/api/webhooks/:id/deliveries/:deliveryId/retry",
    access: "user",
    scope: "webhooks",
    doc: {
      summary: "Send a delivery again (same webhook-id), now: a failed one is queued again with a fresh 24 h window",
      responses: { 202: DeliveryOne },
      errors: [409],
    },
    handler: async (request, c) => {
      const row = await visibleWebhook(c, idParam(request));
      const deliveryId = request.params.deliveryId;
      const d = isId("evt", deliveryId)
        ? await c.env.DB.prepare("SELECT * FROM webhook_deliveries WHERE id = ? AND webhook_id = ?").bind(deliveryId, row.id).first<DeliveryRow>()
        : null;
      if (!d) throw notFound("Delivery not found");
      if (row.enabled !== 1) throw new ApiError(409, "Webhook is disabled", { code: "webhook_disabled", hint: "Enable it first (PATCH enabled: true)." });
      if (d.status === "pending") throw new ApiError(409, "Delivery is already queued", { code: "delivery_pending", nextAttemptAt: d.next_attempt_at });
      const now = nowIso();
      // Behind anything already pending for this hook: the order of the queue is `seq`, so the
      // row moves to the end by taking a new one.
      await c.env.DB.batch([
        c.env.DB.prepare(
          "INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, status, attempt_count, attempts_json, next_attempt_at, window_started_at, created_at) SELECT id || '~', webhook_id, event_type, payload, 'pending', attempt_count, attempts_json, ?, ?, created_at FROM webhook_deliveries WHERE id = ?",
        ).bind(now, now, d.id),
        c.env.DB.prepare("DELETE FROM webhook_deliveries WHERE id = ?").bind(d.id),
        c.env.DB.prepare("UPDATE webhook_deliveries SET id = ? WHERE id = ?").bind(d.id, `${d.id}~`),
      ]);
      await kickOutbox(c.env, row.id);
      const fresh = await c.env.DB.prepare("SELECT * FROM webhook_deliveries WHERE id = ?").bind(d.id).first<DeliveryRow>();
      return json({ delivery: toDeliveryDTO(fresh!) }, { status: 202 });
    },
  }),
];
