import { z } from "zod";
import { MessageSummary } from "../api/dto";
import { ApiError } from "../lib/errors";
import { json, parseQuery } from "../lib/http";
import { addressSchema } from "../mailboxes/address";
import type { MailboxRow } from "../mailboxes/repo";
import { currentSeq, hubStub, seqAfter } from "../push/hub";
import { route, type AuthedContext } from "./define";

/**
 * Waiting for mail as a first-class operation (see src/push/hub.ts for where the waiting lives):
 *   GET /api/messages/wait    long poll: the next matching message, or 204 at the timeout;
 *   GET /api/messages/stream  text/event-stream of every stored message, resumable by Last-Event-ID.
 * Both must be registered before `/api/messages/:id`.
 */

const MESSAGE_ID = /^msg_[0-9a-f]{32}$/;
const messageIdSchema = z.string().regex(MESSAGE_ID, "after must be a message id (msg_ + 32 hex)");

const waitQuery = z.object({
  mailbox: addressSchema.pipe(z.email()),
  after: messageIdSchema.optional(),
  timeout: z.coerce.number().int("timeout must be a whole number of seconds").min(1).max(60).default(30),
  hasCode: z.enum(["true", "false"]).default("false"),
});

const streamQuery = z.object({
  mailbox: addressSchema.pipe(z.email()).optional(),
  mailboxId: z.string().regex(/^mbx_[0-9a-f]{32}$/, "mailboxId must be a mailbox id").optional(),
});

const noSuchMailbox = () => new ApiError(400, "Invalid request", { formErrors: [], fieldErrors: { mailbox: ["No such mailbox"] } });

/**
 * A live (active or expired) mailbox, by address or id, the caller may read: an unknown one is a
 * 400, another user's a 403.
 */
async function readableMailbox(c: AuthedContext, by: { address: string } | { id: string }): Promise<MailboxRow> {
  const [col, val] = "address" in by ? ["address", by.address] : ["id", by.id];
  const row = await c.env.DB.prepare(`SELECT * FROM mailboxes WHERE ${col} = ? AND status IN ('active', 'expired')`).bind(val).first<MailboxRow>();
  if (!row) throw noSuchMailbox();
  if (c.auth.user.role !== "admin" && row.user_id !== c.auth.user.id) throw new ApiError(403, "Forbidden");
  return row;
}

export const pushRoutes = [
  route({
    method: "GET",
    path: "/api/messages/wait",
    access: "user",
    scope: "messages:read",
    doc: {
      summary: "Long poll: the next message of a mailbox as soon as it is stored (204 at the timeout)",
      description: "Without `after`, only mail stored after the request starts counts; with it, anything newer than that message. `hasCode=true` waits for a message with a verification code or link.",
      query: waitQuery,
      responses: { 200: z.object({ message: MessageSummary }), 204: null },
    },
    handler: async (_request, c) => {
      const q = parseQuery(c.url, waitQuery);
      const mailbox = await readableMailbox(c, { address: q.mailbox });
      // Without `after`, only mail committed after this moment counts; with it, anything newer
      // than that message, including mail that arrived before this request.
      const cursor = q.after ? await seqAfter(c.env.DB, q.after, { mailboxId: mailbox.id }) : await currentSeq(c.env.DB);
      const message = await hubStub(c.env, mailbox.user_id).wait(mailbox.user_id, mailbox.id, cursor, q.hasCode === "true", q.timeout * 1000);
      return message ? json({ message }) : new Response(null, { status: 204 });
    },
  }),
  route({
    method: "GET",
    path: "/api/messages/stream",
    access: "user",
    scope: "messages:read",
    doc: {
      summary: "Server-sent events: one `message` event (id = message id, data = summary) per stored message",
      description: "Without a mailbox, every mailbox you own. A reconnect with Last-Event-ID replays what was missed, in order, then goes live; a comment line every 25 s keeps proxies open.",
      query: streamQuery,
      headers: { "Last-Event-ID": "The id of the last event received; the stream replays everything after it" },
      responses: { 200: "event-stream" },
    },
    handler: async (request, c) => {
      const q = parseQuery(c.url, streamQuery);
      if (q.mailbox && q.mailboxId) throw new ApiError(400, "Invalid request", { formErrors: ["Give mailbox or mailboxId, not both"], fieldErrors: {} });
      const mailbox = q.mailbox ? await readableMailbox(c, { address: q.mailbox }) : q.mailboxId ? await readableMailbox(c, { id: q.mailboxId }) : null;
      const owner = mailbox?.user_id ?? c.auth.user.id;
      const lastEventId = request.headers.get("last-event-id");
      if (lastEventId !== null && !MESSAGE_ID.test(lastEventId.trim())) {
        throw new ApiError(400, "Invalid request", { formErrors: [], fieldErrors: { "Last-Event-ID": ["Last-Event-ID must be a message id"] } });
      }
      const cursor = lastEventId
        ? await seqAfter(c.env.DB, lastEventId.trim(), mailbox ? { mailboxId: mailbox.id } : { userId: owner })
        : await currentSeq(c.env.DB);
      const params = new URLSearchParams({ owner, cursor: String(cursor), ...(mailbox ? { mailbox: mailbox.id } : {}) });
      return hubStub(c.env, owner).fetch(`https://hub.internal/stream?${params}`);
    },
  }),
];
