import type { WebhookDeliveryDTO, WebhookDTO } from "../api/dto";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { log } from "../lib/log";
import { SUMMARY_COLUMNS, summary, type MessageRow, type MessageSummary } from "../messages/summary";

/**
 * Webhook rows, events and the queue. An event becomes one `webhook_deliveries` row per matching
 * hook (committed in D1 first), then the hook's outbox (src/webhooks/outbox.ts) is poked to send
 * it: out of band, in order, with retries. A lost poke delays nothing for long: the outbox alarm
 * set before every send, and the next event's poke, pick up anything still pending.
 */

export interface WebhookFilterSpec {
  hasCode?: boolean;
  fromContains?: string;
  subjectContains?: string;
}

export interface WebhookRow {
  id: string;
  user_id: string;
  scope: "user" | "deployment";
  mailbox_id: string | null;
  url: string;
  description: string;
  filter_json: string;
  enabled: number;
  disabled_reason: string | null;
  secret_enc: string;
  created_at: string;
  updated_at: string;
  mailbox_address?: string | null;
}

export interface DeliveryRow {
  seq: number;
  id: string;
  webhook_id: string;
  event_type: string;
  payload: string;
  status: "pending" | "succeeded" | "failed";
  attempt_count: number;
  attempts_json: string;
  next_attempt_at: string | null;
  window_started_at: string;
  created_at: string;
  delivered_at: string | null;
}

export const WEBHOOK_SELECT = "SELECT w.*, b.address AS mailbox_address FROM webhooks w LEFT JOIN mailboxes b ON b.id = w.mailbox_id";

export function parseFilter(json: string): WebhookFilterSpec {
  try {
    const v = JSON.parse(json) as WebhookFilterSpec;
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

export function toWebhookDTO(r: WebhookRow): WebhookDTO {
  return {
    id: r.id,
    userId: r.user_id,
    scope: r.scope,
    url: r.url,
    description: r.description,
    mailbox: r.mailbox_id ? (r.mailbox_address ?? null) : null,
    filter: parseFilter(r.filter_json),
    enabled: r.enabled === 1,
    disabledReason: r.disabled_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toDeliveryDTO(r: DeliveryRow): WebhookDeliveryDTO {
  let attempts: WebhookDeliveryDTO["attempts"] = [];
  try {
    attempts = JSON.parse(r.attempts_json);
  } catch {
    /* keep [] */
  }
  return {
    id: r.id,
    webhookId: r.webhook_id,
    eventType: r.event_type,
    status: r.status,
    attemptCount: r.attempt_count,
    attempts,
    nextAttemptAt: r.status === "pending" ? r.next_attempt_at : null,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}

export const newWebhookId = () => `whk_${crypto.randomUUID().replaceAll("-", "")}`;
export const newDeliveryId = () => `evt_${crypto.randomUUID().replaceAll("-", "")}`;

/** Bodies larger than this are cut down (the preview goes first) rather than sent. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export interface WebhookEvent {
  type: string;
  data: Record<string, unknown>;
  links?: Record<string, string>;
}

/** The JSON body of one delivery: `{type, id, timestamp, data, links}` (never raw MIME). */
export function eventBody(deliveryId: string, event: WebhookEvent, timestamp: string): string {
  let body = JSON.stringify({ type: event.type, id: deliveryId, timestamp, data: event.data, ...(event.links ? { links: event.links } : {}) });
  if (new TextEncoder().encode(body).byteLength > MAX_PAYLOAD_BYTES) {
    const data = { ...event.data, previewText: "", subject: String(event.data.subject ?? "").slice(0, 1000), truncated: true };
    body = JSON.stringify({ type: event.type, id: deliveryId, timestamp, data, ...(event.links ? { links: event.links } : {}) });
  }
  return body;
}

/** The INSERTs that queue one event for the given hooks (for the caller's own D1 batch) and their delivery ids. */
export function deliveryInserts(db: D1Database, hooks: Array<Pick<WebhookRow, "id">>, event: WebhookEvent, now = new Date().toISOString()): { statements: D1PreparedStatement[]; ids: string[] } {
  const ids = hooks.map(() => newDeliveryId());
  const statements = hooks.map((h, i) =>
    db
      .prepare(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, status, next_attempt_at, window_started_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
      )
      .bind(ids[i], h.id, event.type, eventBody(ids[i]!, event, now), now, now, now),
  );
  return { statements, ids };
}

/** Queues one event for the given hooks (one D1 batch), then pokes their outboxes. Returns the delivery ids. */
export async function enqueue(env: Env, hooks: Array<Pick<WebhookRow, "id">>, event: WebhookEvent): Promise<string[]> {
  if (hooks.length === 0) return [];
  const { statements, ids } = deliveryInserts(env.DB, hooks, event);
  await env.DB.batch(statements);
  await kickOutboxes(env, hooks.map((h) => h.id));
  return ids;
}

/** Pokes each hook's outbox (never throws). */
export async function kickOutboxes(env: Env, webhookIds: string[]): Promise<void> {
  await Promise.all([...new Set(webhookIds)].map((id) => kickOutbox(env, id)));
}

/** A pending delivery this old whose outbox has not taken it was queued by a kick that got lost. */
export const STALLED_AFTER_MS = 60_000;

/**
 * Cron backstop: pokes the outbox of every hook that has a pending delivery due for more than a
 * minute. Kicks after a commit run in waitUntil and may be lost (the queue rows never are), and a
 * kick on a hook whose alarm is already set changes nothing, so this is safe to repeat.
 */
export async function kickStalledOutboxes(env: Env, now = Date.now()): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT DISTINCT webhook_id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 100",
  )
    .bind(new Date(now - STALLED_AFTER_MS).toISOString())
    .all<{ webhook_id: string }>();
  const ids = results.map((r) => r.webhook_id);
  await kickOutboxes(env, ids);
  return ids;
}

export function outboxStub(env: Env, webhookId: string) {
  return env.WEBHOOK_OUTBOX.get(env.WEBHOOK_OUTBOX.idFromName(webhookId));
}

/** Asks a hook's outbox to send what is pending. Never throws (the outbox's alarm is the backstop). */
export async function kickOutbox(env: Env, webhookId: string): Promise<void> {
  try {
    await outboxStub(env, webhookId).kick(webhookId);
  } catch (e) {
    log("warn", "webhook.kick_failed", { webhookId, error: e instanceof Error ? e.message : String(e) });
  }
}

export function matchesFilter(filter: WebhookFilterSpec, m: MessageSummary): boolean {
  if (filter.hasCode !== undefined && filter.hasCode !== (m.verification !== null)) return false;
  if (filter.fromContains) {
    const needle = filter.fromContains.toLowerCase();
    if (!`${m.fromAddress ?? ""} ${m.fromName ?? ""}`.toLowerCase().includes(needle)) return false;
  }
  if (filter.subjectContains && !m.subject.toLowerCase().includes(filter.subjectContains.toLowerCase())) return false;
  return true;
}

/**
 * The SQL of the hooks that fire: enabled, with an enabled, undeleted owner; a deployment-wide
 * hook only while its owner is still an admin. A disabled member's hooks stay silent.
 */
const LIVE_HOOKS = `SELECT w.* FROM webhooks w JOIN users u ON u.id = w.user_id
  WHERE w.enabled = 1 AND u.disabled_at IS NULL AND u.deleted_at IS NULL AND (w.scope = 'user' OR u.role = 'admin')`;

/** What the inbound path needs of a hook: its id and filter. */
export type HookRef = Pick<WebhookRow, "id" | "filter_json">;

/**
 * A scalar subquery for the inbound lookup (src/mail/inbound.ts), evaluated per mailbox row `b`:
 * the live hooks that see its mail — its owner's, hooks bound to it, the deployment's — as a JSON
 * array of `{id, filter_json}`, oldest first. Part of the lookup statement itself, so finding the
 * hooks costs the inbound path no extra statement or round trip.
 */
export const HOOKS_OF_MAILBOX_JSON_SQL = `(SELECT json_group_array(json_object('id', h.id, 'filter_json', h.filter_json)) FROM (
    SELECT w.id, w.filter_json FROM webhooks w JOIN users u ON u.id = w.user_id
    WHERE w.enabled = 1 AND u.disabled_at IS NULL AND u.deleted_at IS NULL AND (w.scope = 'user' OR u.role = 'admin')
      AND (w.mailbox_id = b.id OR (w.mailbox_id IS NULL AND (w.scope = 'deployment' OR w.user_id = b.user_id)))
    ORDER BY w.created_at) h)`;

/**
 * `message.received` for a message being stored: the queue rows for the hooks whose filters match,
 * to go into the message's own D1 batch, so the event is queued if and only if the message is
 * committed (at-least-once, even when the Worker dies right after the commit).
 */
export function messageReceivedInserts(env: Env, hooks: HookRef[], message: MessageSummary): { statements: D1PreparedStatement[]; webhookIds: string[] } {
  const matching = hooks.filter((h) => matchesFilter(parseFilter(h.filter_json), message));
  if (matching.length === 0) return { statements: [], webhookIds: [] };
  const event = { type: "message.received", data: { ...message }, links: messageLinks(apiOrigin(env), message.id) };
  return { statements: deliveryInserts(env.DB, matching, event).statements, webhookIds: matching.map((h) => h.id) };
}

/** Enabled hooks that see mail of `mailboxId` owned by `userId`: the owner's, and the deployment's. */
async function hooksFor(env: Env, userId: string, mailboxId: string): Promise<WebhookRow[]> {
  const { results } = await env.DB.prepare(
    // A hook bound to one mailbox fires for it whoever owns the hook (an admin may bind any mailbox).
    `${LIVE_HOOKS} AND (w.mailbox_id = ?2 OR (w.mailbox_id IS NULL AND (w.scope = 'deployment' OR w.user_id = ?1))) ORDER BY w.created_at`,
  )
    .bind(userId, mailboxId)
    .all<WebhookRow>();
  return results;
}

/** Links are absolute when the deployment names its web origin (WEB_APP_ORIGIN), else root-relative. */
function apiOrigin(env: Env): string | undefined {
  try {
    return loadConfig(env).allowedOrigins[0];
  } catch {
    return undefined;
  }
}

function messageLinks(origin: string | undefined, id: string): Record<string, string> {
  const base = origin ?? "";
  return { detail: `${base}/api/messages/${id}`, raw: `${base}/api/messages/${id}/raw` };
}

/** `mailbox.created`, after the create / ensure routes succeed. Filters apply to messages only. */
export async function dispatchMailboxCreated(env: Env, mailbox: { id: string; userId: string; address: string } & Record<string, unknown>): Promise<void> {
  try {
    const hooks = await hooksFor(env, mailbox.userId, mailbox.id);
    await enqueue(env, hooks, { type: "mailbox.created", data: { ...mailbox } });
  } catch (e) {
    log("warn", "webhook.dispatch_failed", { mailboxId: mailbox.id, error: e instanceof Error ? e.message : String(e) });
  }
}

/**
 * `mailbox.expired`, from the cron right after it marks mailboxes expired (one read of the live
 * hooks for the whole batch). Filters apply to messages only.
 */
export async function dispatchMailboxesExpired(env: Env, mailboxes: Array<{ id: string; user_id: string; address: string; expires_at: string | null }>): Promise<void> {
  if (mailboxes.length === 0) return;
  try {
    const { results: hooks } = await env.DB.prepare(`${LIVE_HOOKS} ORDER BY w.created_at`).all<WebhookRow>();
    if (hooks.length === 0) return;
    for (const m of mailboxes) {
      const matching = hooks.filter((h) => h.mailbox_id === m.id || (h.mailbox_id === null && (h.scope === "deployment" || h.user_id === m.user_id)));
      await enqueue(env, matching, { type: "mailbox.expired", data: { id: m.id, userId: m.user_id, address: m.address, expiresAt: m.expires_at } });
    }
  } catch (e) {
    log("warn", "webhook.dispatch_failed", { event: "mailbox.expired", error: e instanceof Error ? e.message : String(e) });
  }
}

/** `domain.status_changed`, to deployment-wide hooks only (their owners are admins). */
export async function dispatchDomainStatusChanged(
  env: Env,
  domain: { id: string; rootDomain: string; status: string; lastProvisionError: string | null; lastProvisionErrorCode: string | null; nextRetryAt: string | null },
  previousStatus: string | null,
): Promise<void> {
  try {
    const { results: hooks } = await env.DB.prepare(`${LIVE_HOOKS} AND w.scope = 'deployment' AND w.mailbox_id IS NULL ORDER BY w.created_at`).all<WebhookRow>();
    await enqueue(env, hooks, {
      type: "domain.status_changed",
      data: {
        id: domain.id,
        rootDomain: domain.rootDomain,
        status: domain.status,
        previousStatus,
        lastProvisionError: domain.lastProvisionError,
        lastProvisionErrorCode: domain.lastProvisionErrorCode,
        nextRetryAt: domain.nextRetryAt,
      },
    });
  } catch (e) {
    log("warn", "webhook.dispatch_failed", { event: "domain.status_changed", domainId: domain.id, error: e instanceof Error ? e.message : String(e) });
  }
}
