import { z } from "zod";
import { base64url, fromBase64url } from "../auth/crypto";
import { ApiError, invalidRequest, notFound } from "../lib/errors";
import { json, nowIso, parseQuery, readJson } from "../lib/http";
import { log } from "../lib/log";
import { attachmentContent } from "../mail/parse";
import { addressSchema } from "../mailboxes/address";
import { effectiveStatusSql } from "../mailboxes/repo";
import { MessageDetail, MessageSummary } from "../api/dto";
import { completeDeferredParse, deleteMessages, recordKeptAttachment } from "../messages/store";
import { SUMMARY_COLUMNS, summary, type MessageRow } from "../messages/summary";
import { route, type AuthedContext } from "./define";
import { isId } from "./schemas";

interface RecipientRow {
  kind: string;
  name: string | null;
  address: string;
}
interface AttachmentRow {
  id: string;
  filename: string | null;
  content_type: string;
  size_bytes: number;
  content_id: string | null;
  disposition: string;
}
interface ParsedBody {
  text: string | null;
  html: string | null;
  headers: Array<{ key: string; value: string }>;
}

const isoWithOffset = z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString());

/**
 * `mailbox` and `mailboxId` filters together. Each is one bound value and D1 binds at most 100 per
 * statement; with the owner, the time, three statuses, `after` and the cursor on top a list query
 * binds at most 60 (`owner` and `q` add one each).
 */
export const MAX_MAILBOX_FILTERS = 50;
/** Longest `q` (search) a list call takes. */
export const MAX_SEARCH_CHARS = 200;

const listQuery = z
  .object({
    // ASCII only, checked before case folding (so "\u212A" never becomes "k").
    mailbox: z.array(addressSchema.pipe(z.email())).max(MAX_MAILBOX_FILTERS).optional(),
    mailboxId: z.array(z.string().regex(/^mbx_[0-9a-f]{32}$/, "mailboxId must be a mailbox id")).max(MAX_MAILBOX_FILTERS).optional(),
    // A repeated status is one filter (and one bound value), however often it is named.
    mailboxStatus: z
      .array(z.enum(["active", "expired", "destroyed"]))
      .transform((v) => [...new Set(v)])
      .optional(),
    after: isoWithOffset.optional(),
    since: isoWithOffset.optional(),
    scope: z.enum(["default", "workspace"]).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
    unread: z.enum(["true", "false"]).transform((v) => v === "true").optional().describe("true: only unread messages; false: only seen ones"),
    q: z
      .string()
      .trim()
      .max(MAX_SEARCH_CHARS)
      .optional()
      .describe(`Search: a case-insensitive substring of the subject, the sender's address or name, or the verification code (at most ${MAX_SEARCH_CHARS} characters)`),
    owner: z.string().regex(/^usr_[0-9a-f]{32}$/, "owner must be a user id").optional().describe("Admins: only this user's messages (a member sees only their own either way)"),
  })
  .superRefine((q, ctx) => {
    const filters = (q.mailbox?.length ?? 0) + (q.mailboxId?.length ?? 0);
    if (filters > MAX_MAILBOX_FILTERS) {
      ctx.addIssue({ code: "custom", path: [], message: `At most ${MAX_MAILBOX_FILTERS} mailbox and mailboxId filters together (got ${filters})` });
    }
  });

/** Opaque cursor: the (receivedAt, id) of the last row of the previous page. */
export function encodeCursor(receivedAt: string, id: string): string {
  return base64url(new TextEncoder().encode(`${receivedAt}|${id}`));
}
function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  const bytes = fromBase64url(cursor);
  const [receivedAt, id] = bytes ? new TextDecoder().decode(bytes).split("|") : [];
  if (!receivedAt || !id || Number.isNaN(Date.parse(receivedAt)) || !/^msg_[0-9a-f]{32}$/.test(id)) {
    throw new ApiError(400, "Invalid request", { formErrors: [], fieldErrors: { cursor: ["cursor is not valid"] } });
  }
  return { receivedAt, id };
}

async function visibleMessage(c: AuthedContext, id: string | undefined): Promise<MessageRow> {
  const row = isId("msg", id)
    ? await c.env.DB.prepare("SELECT m.*, b.status AS mailbox_status FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.id = ?")
        .bind(id)
        .first<MessageRow>()
    : null;
  // Messages of a mailbox being destroyed are gone as far as readers are concerned.
  if (!row || row.mailbox_status === "destroying") throw notFound("Message not found");
  if (c.auth.user.role !== "admin" && row.user_id !== c.auth.user.id) throw new ApiError(403, "Forbidden");
  return row;
}

/** Lone UTF-16 surrogates (encodeURIComponent throws on them). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A download name without path parts, quotes, control or bidi-override characters, plus its RFC
 * 5987 form. Cut by code points, so the cut never leaves half a surrogate pair behind.
 */
export function contentDisposition(name: string): string {
  const cleaned = name
    .replace(LONE_SURROGATE, "\ufffd")
    .replace(/[\u0000-\u001f\u007f-\u009f"\\/\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "_")
    .replace(/^\.+/, "_");
  const safe = Array.from(cleaned).slice(0, 180).join("") || "download";
  const ascii = safe.replace(/[^\x20-\x7e]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(safe)}`;
}

/**
 * The raw download's name: the subject and the received date (UTC), e.g. "Your code 2026-12-05
 * 03-24.eml", so a saved file says what it is. contentDisposition() makes it safe.
 */
export function rawFilename(row: Pick<MessageRow, "subject" | "received_at">): string {
  const subject = Array.from(row.subject.replace(/\s+/g, " ").trim()).slice(0, 80).join("").trim() || "message";
  const date = row.received_at.slice(0, 16).replace("T", " ").replace(":", "-");
  return `${subject} ${date}.eml`;
}

const seenBody = z.object({ seen: z.boolean() }).strict();

/** Every download (raw message, attachment) is saved, never rendered on our origin: no scripts, no sniffing. */
const DOWNLOAD_SECURITY_HEADERS = {
  "content-security-policy": "sandbox; default-src 'none'",
  "x-content-type-options": "nosniff",
};

/**
 * An attachment of a message at least this big is kept in R2 after its first download, so the
 * next download reads that object instead of re-parsing the whole raw message (about 1.2 s of CPU
 * for 22 MB). Re-parsing a smaller message costs a few milliseconds, less than an R2 write is worth.
 */
export const KEEP_ATTACHMENTS_FROM_BYTES = 1024 * 1024;

/** Where a kept attachment lives: under its message's own prefix, beside nothing else. */
export const attachmentKey = (mailboxId: string, messageId: string, position: number) => `att/${mailboxId}/${messageId}/${position}`;

interface AttachmentMeta {
  position: number;
  filename: string | null;
  content_type: string;
  r2_key: string | null;
}

function attachmentResponse(meta: AttachmentMeta, body: ReadableStream | Uint8Array, length: number): Response {
  return new Response(body, {
    headers: {
      "content-type": /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(meta.content_type) ? meta.content_type : "application/octet-stream",
      "content-length": String(length),
      "content-disposition": contentDisposition(meta.filename ?? `attachment-${meta.position + 1}`),
      ...DOWNLOAD_SECURITY_HEADERS,
    },
  });
}

/**
 * Puts a decoded attachment in R2 and records its key on the attachment row. A message deleted
 * meanwhile has no row left to record it on: its delete has already cleared R2, so the object just
 * written is removed here. A failure only costs the next download a re-parse.
 */
async function keepAttachment(c: AuthedContext, row: MessageRow, attachmentId: string, position: number, content: Uint8Array): Promise<void> {
  const key = attachmentKey(row.mailbox_id, row.id, position);
  let recorded = false;
  try {
    await c.env.MAIL_BUCKET.put(key, content);
    recorded = await recordKeptAttachment(c.env, { messageId: row.id, mailboxId: row.mailbox_id }, attachmentId, key, content.byteLength);
  } catch (e) {
    log("warn", "attachment.keep.failed", { messageId: row.id, attachmentId, error: String(e) });
  }
  if (!recorded) await c.env.MAIL_BUCKET.delete(key).catch(() => {});
}

export const messageRoutes = [
  route({
    method: "GET",
    path: "/api/messages",
    access: "user",
    scope: "messages:read",
    doc: {
      summary: "Messages of your mailboxes (all for an admin), newest first, a page at a time, with filters",
      query: listQuery,
      responses: { 200: z.object({ messages: z.array(MessageSummary), nextCursor: z.string().nullable() }) },
    },
    handler: async (_request, c) => {
      const parsed = listQuery.safeParse(
        Object.fromEntries(
          [...new Set(c.url.searchParams.keys())].map((k) => [k, ["mailbox", "mailboxId", "mailboxStatus"].includes(k) ? c.url.searchParams.getAll(k) : c.url.searchParams.get(k)]),
        ),
      );
      if (!parsed.success) throw invalidRequest(parsed.error);
      const q = parsed.data;
      const now = nowIso();
      const where: string[] = ["b.status NOT IN ('destroying', 'creating')"];
      const binds: unknown[] = [];
      const bind = (v: unknown) => {
        binds.push(v);
        return `?${binds.length}`;
      };
      if (c.auth.user.role !== "admin") where.push(`m.user_id = ${bind(c.auth.user.id)}`);
      // A member's `owner` narrows their own rows like any other filter: someone else's id finds nothing.
      if (q.owner) where.push(`m.user_id = ${bind(q.owner)}`);
      if (q.unread !== undefined) where.push(q.unread ? "m.seen_at IS NULL" : "m.seen_at IS NOT NULL");
      if (q.q) {
        // A bounded scan within the rows the other filters leave (DESIGN.md "Inbox search"). SQLite's
        // lower() folds ASCII only, so the needle is folded the same way.
        const needle = bind(q.q.replace(/[A-Z]/g, (ch) => ch.toLowerCase()));
        where.push(
          `(instr(lower(m.subject), ${needle}) > 0 OR instr(lower(coalesce(m.from_address, '')), ${needle}) > 0 OR instr(lower(coalesce(m.from_name, '')), ${needle}) > 0 OR instr(lower(coalesce(m.verification_code, '')), ${needle}) > 0)`,
        );
      }
      if (q.mailboxId?.length) where.push(`m.mailbox_id IN (${q.mailboxId.map(bind).join(",")})`);
      if (q.mailbox?.length) where.push(`m.mailbox_address IN (${q.mailbox.map(bind).join(",")})`);
      const statuses = q.scope === "workspace" ? (q.mailboxStatus ?? ["active"]).filter((s) => s === "active") : q.mailboxStatus;
      if (statuses) {
        if (statuses.length === 0) return json({ messages: [], nextCursor: null });
        const expr = effectiveStatusSql(bind(now)).replaceAll("status", "b.status").replaceAll("expires_at", "b.expires_at");
        where.push(`${expr} IN (${statuses.map(bind).join(",")})`);
      }
      const after = [q.after, q.since].filter((v): v is string => Boolean(v)).sort().pop();
      if (after) where.push(`m.received_at > ${bind(after)}`);
      if (q.cursor) {
        const cur = decodeCursor(q.cursor);
        where.push(`(m.received_at, m.id) < (${bind(cur.receivedAt)}, ${bind(cur.id)})`);
      }
      const sql = `SELECT ${SUMMARY_COLUMNS} FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
        WHERE ${where.join(" AND ")} ORDER BY m.received_at DESC, m.id DESC LIMIT ${q.limit + 1}`;
      const { results } = await c.env.DB.prepare(sql).bind(...binds).all<MessageRow>();
      const page = results.slice(0, q.limit);
      const last = page[page.length - 1];
      return json({ messages: page.map(summary), nextCursor: results.length > q.limit && last ? encodeCursor(last.received_at, last.id) : null });
    },
  }),
  route({
    method: "GET",
    path: "/api/messages/:id",
    access: "user",
    scope: "messages:read",
    doc: {
      summary: "One message: bodies, headers, recipients, attachments and its verification code",
      description: "A message stored `deferred` (larger than PARSE_INLINE_MAX_BYTES) is parsed by its first read, which then answers it `parsed`.",
      responses: { 200: z.object({ message: MessageDetail }) },
    },
    handler: async (request, c) => {
      let row = await visibleMessage(c, request.params.id);
      if (row.parse_status === "deferred" && (await completeDeferredParse(c.env, row))) row = await visibleMessage(c, row.id);
      const db = c.env.DB;
      // Recipients, attachments and an inline body in one D1 round trip; a large body is in R2.
      const [[recipients, attachments, inline], parsedObject] = await Promise.all([
        db.batch([
          db.prepare("SELECT kind, name, address FROM message_recipients WHERE message_id = ? ORDER BY id").bind(row.id),
          db.prepare("SELECT * FROM message_attachments WHERE message_id = ? ORDER BY position").bind(row.id),
          db.prepare("SELECT body FROM message_bodies WHERE message_id = ?").bind(row.id),
        ]) as Promise<[D1Result<RecipientRow>, D1Result<AttachmentRow>, D1Result<{ body: string }>]>,
        row.parsed_r2_key ? c.env.MAIL_BUCKET.get(row.parsed_r2_key) : null,
      ]);
      const stored = inline.results[0]?.body ?? (parsedObject ? await parsedObject.text() : null);
      const body = stored ? (JSON.parse(stored) as ParsedBody) : null;
      const group = (kind: string) => recipients.results.filter((r) => r.kind === kind).map((r) => ({ name: r.name, address: r.address }));
      return json({
        message: {
          ...summary(row),
          envelopeFrom: row.envelope_from,
          envelopeTo: row.envelope_to,
          messageId: row.message_id_header,
          dateHeader: row.date_header,
          parseError: row.parse_error,
          text: body?.text ?? null,
          html: body?.html ?? null,
          headers: body?.headers ?? [],
          recipients: { to: group("to"), cc: group("cc"), bcc: group("bcc"), replyTo: group("replyTo") },
          attachments: attachments.results.map((a) => ({
            id: a.id,
            filename: a.filename,
            contentType: a.content_type,
            sizeBytes: a.size_bytes,
            contentId: a.content_id,
            disposition: a.disposition,
            downloadPath: `/api/messages/${row.id}/attachments/${a.id}`,
          })),
          rawDownloadPath: `/api/messages/${row.id}/raw`,
        },
      });
    },
  }),
  route({
    method: "GET",
    path: "/api/messages/:id/raw",
    access: "user",
    scope: "messages:read",
    doc: { summary: "The raw message exactly as received (message/rfc822, a download)", responses: { 200: "binary" } },
    handler: async (request, c) => {
      const row = await visibleMessage(c, request.params.id);
      const object = await c.env.MAIL_BUCKET.get(row.raw_r2_key);
      if (!object) throw notFound("Raw message not found");
      return new Response(object.body, {
        headers: {
          "content-type": "message/rfc822",
          "content-length": String(object.size),
          "content-disposition": contentDisposition(rawFilename(row)),
          ...DOWNLOAD_SECURITY_HEADERS,
        },
      });
    },
  }),
  route({
    method: "GET",
    path: "/api/messages/:id/attachments/:attachmentId",
    access: "user",
    scope: "messages:read",
    doc: { summary: "One attachment's decoded bytes (a download)", responses: { 200: "binary" } },
    handler: async (request, c) => {
      const row = await visibleMessage(c, request.params.id);
      const attId = request.params.attachmentId ?? "";
      const meta = /^att_[0-9a-f]{36}$/.test(attId)
        ? await c.env.DB.prepare("SELECT position, filename, content_type, r2_key FROM message_attachments WHERE id = ? AND message_id = ?")
            .bind(attId, row.id)
            .first<AttachmentMeta>()
        : null;
      if (!meta) throw notFound("Attachment not found");
      // Kept by an earlier download: one R2 read, no parse. (A missing object falls back to the raw message.)
      const kept = meta.r2_key ? await c.env.MAIL_BUCKET.get(meta.r2_key) : null;
      if (kept) return attachmentResponse(meta, kept.body, kept.size);
      const object = await c.env.MAIL_BUCKET.get(row.raw_r2_key);
      if (!object) throw notFound("Raw message not found");
      const found = await attachmentContent(new Uint8Array(await object.arrayBuffer()), meta.position);
      if (!found) throw notFound("Attachment not found");
      if (row.size_bytes >= KEEP_ATTACHMENTS_FROM_BYTES) await keepAttachment(c, row, attId, meta.position, found.content);
      return attachmentResponse(meta, found.content, found.content.byteLength);
    },
  }),
  route({
    method: "PATCH",
    path: "/api/messages/:id",
    access: "user",
    scope: "messages:write",
    doc: {
      summary: "Mark a message seen or unread",
      description: "Reading a message (GET) never changes it; the web page marks a message seen when it opens it. Marking it seen again keeps the first time.",
      body: seenBody,
      responses: { 200: z.object({ message: MessageSummary }) },
    },
    handler: async (request, c) => {
      const body = await readJson(request, seenBody);
      const row = await visibleMessage(c, request.params.id);
      const seenAt = body.seen ? (row.seen_at ?? nowIso()) : null;
      await c.env.DB.prepare(body.seen ? "UPDATE messages SET seen_at = coalesce(seen_at, ?2) WHERE id = ?1" : "UPDATE messages SET seen_at = NULL WHERE id = ?1")
        .bind(...(body.seen ? [row.id, seenAt] : [row.id]))
        .run();
      return json({ message: summary({ ...row, seen_at: seenAt }) });
    },
  }),
  route({
    method: "DELETE",
    path: "/api/messages/:id",
    access: "user",
    scope: "messages:write",
    doc: { summary: "Delete a message and everything stored for it", responses: { 204: null } },
    handler: async (request, c) => {
      const row = await visibleMessage(c, request.params.id);
      // R2 first, rows second (src/messages/store.ts): a failure leaves the message listed, and deleting it again finishes the job.
      await deleteMessages(c.env, [row]);
      return new Response(null, { status: 204 });
    },
  }),
];
