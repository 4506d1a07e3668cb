import type { Env } from "../env";
import { parseMessage, type ParsedMessage } from "../mail/parse";
import type { MailboxRow } from "../mailboxes/repo";
import { summary, type MessageRow, type MessageSummary } from "./summary";

/**
 * Message storage: every write and delete of a message's rows (D1) and objects (R2) goes through
 * this module, together with the running totals it keeps (see migrations/0008 and DESIGN.md
 * "Capacity and retention"). Reads stay in the routes; a move to sharded storage ("Scaling past one
 * D1") starts by changing this one file.
 */

const utf8 = new TextEncoder();
/** UTF-8 size of a string (what R2 bills for a text object). */
export const byteLength = (s: string): number => utf8.encode(s).byteLength;

/** R2 key of a message's parsed body when it is not inline. */
export const parsedKeyFor = (mailboxId: string, messageId: string) => `parsed/${mailboxId}/${messageId}.json`;

export interface NewMessage {
  id: string;
  mailbox: MailboxRow;
  to: string;
  from: string;
  parsed: ParsedMessage;
  /** Raw size in bytes (the raw R2 object). */
  size: number;
  rawKey: string;
  /** The parsed body's R2 key and size when it went to R2; null when inline. */
  parsedKey: string | null;
  parsedBytes: number;
  /** The inline parsed body, or null. */
  body: string | null;
  key: string | null;
  receivedAt: string;
  /** More statements that must commit with the message (webhook queue rows). */
  extra?: D1PreparedStatement[];
}

/** The summary the API will show for a message about to be inserted (webhook payloads are built from it before the commit). */
export function summaryOf(m: NewMessage): MessageSummary {
  const p = m.parsed;
  return summary({
    id: m.id,
    mailbox_id: m.mailbox.id,
    mailbox_address: m.mailbox.address,
    subject: p.subject,
    preview_text: p.previewText,
    from_name: p.fromName,
    from_address: p.fromAddress,
    received_at: m.receivedAt,
    size_bytes: m.size,
    attachment_count: p.attachments.length,
    has_html: p.html ? 1 : 0,
    parse_status: p.parseStatus,
    verification_code: p.verification?.code ?? null,
    verification_source: p.verification?.source ?? null,
    verification_method: p.verification?.method ?? null,
    verification_link: p.verification?.link ?? null,
    verification_confidence: p.verification?.confidence ?? null,
    seen_at: null, // new mail is unread
  } as Parameters<typeof summary>[0]);
}

/** The metadata, recipients, attachments, inline body and the totals of one message: one D1 batch (one transaction). */
export async function insertMessage(env: Env, m: NewMessage): Promise<void> {
  const p = m.parsed;
  const db = env.DB;
  const r2Bytes = m.size + (m.parsedKey ? m.parsedBytes : 0);
  const r2Objects = m.parsedKey ? 2 : 1;
  const statements: D1PreparedStatement[] = [
    // The commit-order sequence (see migrations/0005), bumped and read in the same transaction, and
    // the deployment totals (migrations/0008): one statement for the four counters.
    db
      .prepare(
        `UPDATE counters SET value = value + CASE name WHEN 'message_seq' THEN 1 WHEN 'messages' THEN 1 WHEN 'r2_bytes' THEN ?1 ELSE ?2 END
         WHERE name IN ('message_seq', 'messages', 'r2_bytes', 'r2_objects')`,
      )
      .bind(r2Bytes, r2Objects),
    db
      .prepare(
        `INSERT INTO messages (id, user_id, mailbox_id, mailbox_address, envelope_from, envelope_to, from_name, from_address, subject, preview_text,
          message_id_header, dedupe_key, date_header, received_at, size_bytes, attachment_count, has_html, verification_code, verification_source,
          verification_method, parse_status, parse_error, raw_r2_key, parsed_r2_key, verification_link, verification_confidence, stored_bytes, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27,
          (SELECT value FROM counters WHERE name = 'message_seq'))`,
      )
      .bind(
        m.id,
        m.mailbox.user_id,
        m.mailbox.id,
        m.mailbox.address,
        m.from || null,
        m.to,
        p.fromName,
        p.fromAddress,
        p.subject,
        p.previewText,
        p.messageId,
        m.key,
        p.dateHeader,
        m.receivedAt,
        m.size,
        p.attachments.length,
        p.html ? 1 : 0,
        p.verification?.code ?? null,
        p.verification?.source ?? null,
        p.verification?.method ?? null,
        p.parseStatus,
        p.parseError,
        m.rawKey,
        m.parsedKey,
        p.verification?.link ?? null,
        p.verification?.confidence ?? null,
        r2Bytes,
      ),
    db
      .prepare("UPDATE mailboxes SET last_received_at = ?2, message_count = message_count + 1, stored_bytes = stored_bytes + ?3 WHERE id = ?1")
      .bind(m.mailbox.id, m.receivedAt, r2Bytes),
  ];
  if (m.body !== null) statements.push(db.prepare("INSERT INTO message_bodies (message_id, body) VALUES (?, ?)").bind(m.id, m.body));
  // Multi-row inserts, chunked to stay under D1's 100 bound parameters per statement.
  const recipientRows = p.recipients.map((r, i) => [`rcp_${m.id.slice(4)}${i.toString(16).padStart(4, "0")}`, m.id, r.kind, r.name, r.address]);
  for (let i = 0; i < recipientRows.length; i += 20) {
    const chunk = recipientRows.slice(i, i + 20);
    statements.push(
      db.prepare(`INSERT INTO message_recipients (id, message_id, kind, name, address) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")}`).bind(...chunk.flat()),
    );
  }
  statements.push(...attachmentInserts(db, m.id, p.attachments));
  if (m.extra) statements.push(...m.extra);
  await db.batch(statements);
}

/**
 * The attachment rows of a message (chunked to stay under D1's 100 bound parameters per
 * statement). With `onlyIfDeferred` each insert happens only while the message is still
 * `deferred` (the completion of a deferred parse, which may race another reader's).
 */
function attachmentInserts(db: D1Database, messageId: string, attachments: ParsedMessage["attachments"], onlyIfDeferred = false): D1PreparedStatement[] {
  const rows = attachments.map((a) => [
    `att_${messageId.slice(4)}${a.position.toString(16).padStart(4, "0")}`,
    messageId,
    a.position,
    a.filename,
    a.contentType,
    a.sizeBytes,
    a.contentId,
    a.disposition,
  ]);
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += 12) {
    const chunk = rows.slice(i, i + 12);
    const values = chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
    const cols = "INSERT INTO message_attachments (id, message_id, position, filename, content_type, size_bytes, content_id, disposition)";
    out.push(
      onlyIfDeferred
        ? db.prepare(`${cols} SELECT * FROM (VALUES ${values}) WHERE ${DEFERRED_GUARD}`).bind(...chunk.flat(), messageId)
        : db.prepare(`${cols} VALUES ${values}`).bind(...chunk.flat()),
    );
  }
  return out;
}

const DEFERRED_GUARD = "EXISTS (SELECT 1 FROM messages WHERE id = ? AND parse_status = 'deferred')";

/** The columns completeDeferredParse needs. */
export type DeferredRow = Pick<MessageRow, "id" | "mailbox_id" | "raw_r2_key" | "parse_status">;

/**
 * The full parse of a message stored `deferred` (larger than PARSE_INLINE_MAX_BYTES; see
 * src/mail/parse.ts `parseHeaderBlock`), on its first read: the raw bytes from R2 are parsed, the
 * body goes to R2, and one D1 transaction records the summary fields, the verification code, the
 * attachments and the byte totals — once, even when two readers race (every write is guarded on
 * the message still being `deferred`). Returns false when the raw object is missing.
 */
export async function completeDeferredParse(env: Env, row: DeferredRow): Promise<boolean> {
  const object = await env.MAIL_BUCKET.get(row.raw_r2_key);
  if (!object) return false;
  const p = await parseMessage(new Uint8Array(await object.arrayBuffer()));
  const body = JSON.stringify({ text: p.text, html: p.html, headers: p.headers });
  const key = parsedKeyFor(row.mailbox_id, row.id);
  const bytes = byteLength(body);
  await env.MAIL_BUCKET.put(key, body, { httpMetadata: { contentType: "application/json" } });
  const db = env.DB;
  await db.batch([
    ...attachmentInserts(db, row.id, p.attachments, true),
    db.prepare(`UPDATE mailboxes SET stored_bytes = stored_bytes + ?2 WHERE id = ?3 AND ${DEFERRED_GUARD.replace("?", "?1")}`).bind(row.id, bytes, row.mailbox_id),
    db
      .prepare(`UPDATE counters SET value = value + CASE name WHEN 'r2_bytes' THEN ?2 ELSE 1 END WHERE name IN ('r2_bytes', 'r2_objects') AND ${DEFERRED_GUARD.replace("?", "?1")}`)
      .bind(row.id, bytes),
    db
      .prepare(
        `UPDATE messages SET parse_status = ?2, parse_error = ?3, subject = ?4, preview_text = ?5, has_html = ?6, attachment_count = ?7,
          verification_code = ?8, verification_source = ?9, verification_method = ?10, verification_link = ?11, verification_confidence = ?12,
          parsed_r2_key = ?13, stored_bytes = stored_bytes + ?14
         WHERE id = ?1 AND parse_status = 'deferred'`,
      )
      .bind(
        row.id,
        p.parseStatus,
        p.parseError,
        p.subject,
        p.previewText,
        p.html ? 1 : 0,
        p.attachments.length,
        p.verification?.code ?? null,
        p.verification?.source ?? null,
        p.verification?.method ?? null,
        p.verification?.link ?? null,
        p.verification?.confidence ?? null,
        key,
        bytes,
      ),
  ]);
  return true;
}

/**
 * Records an attachment part kept in R2 by a download (routes/messages.ts) and counts its bytes.
 * False when the attachment (or its message) is gone: the caller deletes the object.
 */
export async function recordKeptAttachment(env: Env, m: { messageId: string; mailboxId: string }, attachmentId: string, key: string, bytes: number): Promise<boolean> {
  const db = env.DB;
  // The totals move only when the r2_key is newly set: the first statement's guard is the same
  // condition as the UPDATE of the attachment row that follows it in the same transaction.
  const guard = "EXISTS (SELECT 1 FROM message_attachments WHERE id = ?1 AND message_id = ?2 AND r2_key IS NULL)";
  const [, , , res] = await db.batch([
    db.prepare(`UPDATE messages SET stored_bytes = stored_bytes + ?3 WHERE id = ?2 AND ${guard}`).bind(attachmentId, m.messageId, bytes),
    db.prepare(`UPDATE mailboxes SET stored_bytes = stored_bytes + ?4 WHERE id = ?3 AND ${guard}`).bind(attachmentId, m.messageId, m.mailboxId, bytes),
    db
      .prepare(`UPDATE counters SET value = value + CASE name WHEN 'r2_bytes' THEN ?3 ELSE 1 END WHERE name IN ('r2_bytes', 'r2_objects') AND ${guard}`)
      .bind(attachmentId, m.messageId, bytes),
    // The key is deterministic, so re-keeping a part whose object went missing rewrites the same key.
    db.prepare("UPDATE message_attachments SET r2_key = ?3 WHERE id = ?1 AND message_id = ?2").bind(attachmentId, m.messageId, key),
  ]);
  return (res?.meta.changes ?? 0) > 0;
}

export interface StoredMessageRef {
  id: string;
  raw_r2_key: string;
  parsed_r2_key: string | null;
}

async function deleteObjects(bucket: R2Bucket, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
}

/** Most message ids one deleteMessages call takes (each id is bound once per statement; D1 allows 100). */
export const DELETE_CHUNK = 90;

/**
 * Deletes messages completely: R2 objects first (raw, parsed body, kept attachment parts), then in
 * one D1 transaction the totals, the body, recipient, attachment and message rows. Idempotent and
 * safe against a concurrent delete of the same message: the totals are lowered by what the rows
 * still say inside the transaction, so a message is subtracted once however often it is deleted.
 * A failure before the transaction leaves the rows, and deleting again finishes the job.
 */
export async function deleteMessages(env: Env, refs: StoredMessageRef[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < refs.length; i += DELETE_CHUNK) deleted += await deleteChunk(env, refs.slice(i, i + DELETE_CHUNK));
  return deleted;
}

async function deleteChunk(env: Env, refs: StoredMessageRef[]): Promise<number> {
  if (refs.length === 0) return 0;
  const db = env.DB;
  const ids = refs.map((r) => r.id);
  const marks = ids.map((_, i) => `?${i + 1}`).join(",");
  const keptSql = `SELECT r2_key FROM message_attachments WHERE message_id IN (${marks}) AND r2_key IS NOT NULL`;
  const { results: kept } = await db.prepare(keptSql).bind(...ids).all<{ r2_key: string }>();
  const keys = [...refs.flatMap((r) => [r.raw_r2_key, r.parsed_r2_key]), ...kept.map((a) => a.r2_key)].filter((k): k is string => Boolean(k));
  await deleteObjects(env.MAIL_BUCKET, keys);
  const inSet = `FROM messages WHERE id IN (${marks})`;
  const results = await db.batch([
    db.prepare(keptSql).bind(...ids),
    // A parsed body moved to R2 by the pressure stage after `refs` was read.
    db.prepare(`SELECT parsed_r2_key AS r2_key ${inSet} AND parsed_r2_key IS NOT NULL`).bind(...ids),
    db
      .prepare(
        `UPDATE mailboxes SET
           message_count = message_count - (SELECT count(*) ${inSet} AND mailbox_id = mailboxes.id),
           stored_bytes = stored_bytes - (SELECT coalesce(sum(stored_bytes), 0) ${inSet} AND mailbox_id = mailboxes.id)
         WHERE id IN (SELECT mailbox_id ${inSet})`,
      )
      .bind(...ids),
    db
      .prepare(
        `UPDATE counters SET value = value - CASE name
           WHEN 'messages' THEN (SELECT count(*) ${inSet})
           WHEN 'r2_bytes' THEN (SELECT coalesce(sum(stored_bytes), 0) ${inSet})
           ELSE (SELECT count(*) + count(parsed_r2_key) ${inSet})
             + (SELECT count(*) FROM message_attachments WHERE message_id IN (${marks}) AND r2_key IS NOT NULL) END
         WHERE name IN ('messages', 'r2_bytes', 'r2_objects')`,
      )
      .bind(...ids),
    db.prepare(`DELETE FROM message_recipients WHERE message_id IN (${marks})`).bind(...ids),
    db.prepare(`DELETE FROM message_attachments WHERE message_id IN (${marks})`).bind(...ids),
    db.prepare(`DELETE FROM message_bodies WHERE message_id IN (${marks})`).bind(...ids),
    db.prepare(`DELETE FROM messages WHERE id IN (${marks})`).bind(...ids),
  ]);
  // Once more for objects as the rows said when they went: a download or body move that was
  // already running when the delete began may have written one since the first read.
  const late = [...(results[0]!.results as { r2_key: string }[]), ...(results[1]!.results as { r2_key: string }[])].map((r) => r.r2_key);
  await deleteObjects(env.MAIL_BUCKET, late.filter((k) => !keys.includes(k)));
  return results[results.length - 1]!.meta.changes;
}

/** Removes every message of a mailbox, a chunk at a time (so a failure can be retried). */
export async function purgeMailboxMessages(env: Env, mailboxId: string): Promise<void> {
  for (;;) {
    const { results } = await env.DB.prepare("SELECT id, raw_r2_key, parsed_r2_key FROM messages WHERE mailbox_id = ? LIMIT ?")
      .bind(mailboxId, DELETE_CHUNK)
      .all<StoredMessageRef>();
    if (results.length === 0) return;
    await deleteMessages(env, results);
  }
}

// ---------------------------------------------------------------------------------------------
// Retention (cron): both queries walk an index in order and stop at their LIMIT.

/** Messages received before `before`, oldest first (index messages_received, walked backwards). */
export const EXPIRED_MESSAGES_SQL = "SELECT id, raw_r2_key, parsed_r2_key FROM messages WHERE received_at < ?1 ORDER BY received_at, id LIMIT ?2";
/** Mailboxes holding more than the cap (index mailboxes_message_count). */
export const OVER_CAP_MAILBOXES_SQL = "SELECT id, message_count FROM mailboxes WHERE message_count > ?1 ORDER BY message_count DESC LIMIT ?2";
/** A mailbox's oldest messages (index messages_mailbox_received, walked backwards). */
export const OLDEST_OF_MAILBOX_SQL = "SELECT id, raw_r2_key, parsed_r2_key FROM messages WHERE mailbox_id = ?1 ORDER BY received_at, id LIMIT ?2";

export interface RetentionResult {
  expired: number;
  overCap: number;
}

/**
 * One bounded pass of the retention policy: at most `batch` messages older than `retentionDays`,
 * then, with what is left of the budget, the oldest messages of mailboxes over `maxPerMailbox`.
 * Idempotent: a second run over the same state deletes nothing.
 */
export async function applyRetention(
  env: Env,
  policy: { retentionDays: number | null; maxPerMailbox: number },
  now: number,
  batch: number,
): Promise<RetentionResult> {
  const db = env.DB;
  let expired = 0;
  if (policy.retentionDays !== null) {
    const before = new Date(now - policy.retentionDays * 86_400_000).toISOString();
    const { results } = await db.prepare(EXPIRED_MESSAGES_SQL).bind(before, batch).all<StoredMessageRef>();
    expired = await deleteMessages(env, results);
  }
  let overCap = 0;
  let budget = batch - expired;
  if (budget > 0) {
    const { results: boxes } = await db.prepare(OVER_CAP_MAILBOXES_SQL).bind(policy.maxPerMailbox, 20).all<{ id: string; message_count: number }>();
    for (const box of boxes) {
      if (budget <= 0) break;
      const excess = Math.min(box.message_count - policy.maxPerMailbox, budget);
      const { results } = await db.prepare(OLDEST_OF_MAILBOX_SQL).bind(box.id, excess).all<StoredMessageRef>();
      const n = await deleteMessages(env, results);
      overCap += n;
      budget -= Math.max(n, results.length);
    }
  }
  return { expired, overCap };
}

// ---------------------------------------------------------------------------------------------
// Pressure: inline bodies moved out of D1.

/** The oldest inline bodies (message_bodies in rowid order, i.e. insertion order: no sort, no scan). */
export const OLDEST_INLINE_BODIES_SQL =
  "SELECT b.message_id, b.body, m.mailbox_id FROM message_bodies b JOIN messages m ON m.id = b.message_id ORDER BY b.rowid LIMIT ?1";

/**
 * Moves up to `limit` inline bodies, oldest first, to R2 objects and drops their D1 rows. The R2
 * put comes first; the row switch is one transaction guarded on the body still being inline, and
 * an object the switch did not claim (the message was deleted meanwhile) is deleted again.
 */
export async function moveInlineBodies(env: Env, limit: number): Promise<number> {
  const db = env.DB;
  const { results } = await db.prepare(OLDEST_INLINE_BODIES_SQL).bind(limit).all<{ message_id: string; body: string; mailbox_id: string }>();
  let moved = 0;
  for (const r of results) {
    const key = parsedKeyFor(r.mailbox_id, r.message_id);
    const bytes = byteLength(r.body);
    await env.MAIL_BUCKET.put(key, r.body, { httpMetadata: { contentType: "application/json" } });
    const guard = "EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND parsed_r2_key IS NULL)";
    const [, , claim] = await db.batch([
      db.prepare(`UPDATE mailboxes SET stored_bytes = stored_bytes + ?3 WHERE id = ?2 AND ${guard}`).bind(r.message_id, r.mailbox_id, bytes),
      db
        .prepare(`UPDATE counters SET value = value + CASE name WHEN 'r2_bytes' THEN ?2 ELSE 1 END WHERE name IN ('r2_bytes', 'r2_objects') AND ${guard}`)
        .bind(r.message_id, bytes),
      db.prepare("UPDATE messages SET parsed_r2_key = ?2, stored_bytes = stored_bytes + ?3 WHERE id = ?1 AND parsed_r2_key IS NULL").bind(r.message_id, key, bytes),
      db.prepare("DELETE FROM message_bodies WHERE message_id = ?1 AND EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND parsed_r2_key = ?2)").bind(r.message_id, key),
    ]);
    if ((claim?.meta.changes ?? 0) > 0) moved++;
    else await env.MAIL_BUCKET.delete(key);
  }
  return moved;
}
