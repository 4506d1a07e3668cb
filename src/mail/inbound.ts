import { loadConfig } from "../config";
import type { Env } from "../env";
import { nowIso } from "../lib/http";
import { log } from "../lib/log";
import { foldAddress, parseAddress } from "../mailboxes/address";
import { liveCatchAllSql, type MailboxRow } from "../mailboxes/repo";
import { deliveryKey } from "./dedupe";
import { storageStage } from "../messages/capacity";
import { byteLength, insertMessage, parsedKeyFor, summaryOf, type NewMessage } from "../messages/store";
import { HOOKS_OF_MAILBOX_JSON_SQL, messageReceivedInserts, type HookRef } from "../webhooks/repo";
import { parseHeaderBlock, parseMessage } from "./parse";

/** Cloudflare Email Routing's limit; anything larger is refused before it is read. */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

/**
 * A parsed body (text + HTML + headers as JSON) up to this many UTF-16 code units (≤ 48 KiB of
 * UTF-8) is stored in D1 (`message_bodies`) in the same batch as the message row; a larger one is
 * its own R2 object. Most verification mail fits, so storing it costs one R2 write, not two, and
 * reading it no R2 read, while big bodies stay out of D1's row and database size limits.
 */
export const INLINE_BODY_MAX_CHARS = 16 * 1024;

/** The part of `ForwardableEmailMessage` the handler uses (a plain object in tests). */
export interface InboundMessage {
  readonly from: string;
  readonly to: string;
  readonly headers: Headers;
  readonly raw: ReadableStream<Uint8Array>;
  readonly rawSize: number;
  setReject(reason: string): void;
}

export type InboundResult =
  | { kind: "stored"; messageId: string; mailboxId: string; userId: string; parseStatus: string; webhookIds: string[] }
  | { kind: "duplicate"; messageId: string; mailboxId: string }
  | { kind: "rejected"; reason: string };

/** Time-ordered message id: `msg_` + 12 hex of milliseconds + 20 random hex (32 hex in all). */
export function messageIdFor(now: number): string {
  const rand = crypto.getRandomValues(new Uint8Array(10));
  return `msg_${now.toString(16).padStart(12, "0")}${[...rand].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Reads the stream into one buffer of known length (R2 needs it), refusing to go past `limit`. */
async function readAll(stream: ReadableStream<Uint8Array>, expected: number, limit: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  let buffer = new Uint8Array(Math.min(Math.max(expected, 0), limit) || 64 * 1024);
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      await reader.cancel().catch(() => {});
      throw new RangeError("message exceeds the size limit");
    }
    if (size + value.byteLength > buffer.byteLength) {
      const grown = new Uint8Array(Math.min(limit, Math.max(buffer.byteLength * 2, size + value.byteLength)));
      grown.set(buffer.subarray(0, size));
      buffer = grown;
    }
    buffer.set(value, size);
    size += value.byteLength;
  }
  return buffer.byteLength === size ? buffer : buffer.subarray(0, size);
}

/**
 * `db_bytes`: the D1 database size reported with the lookup (free: it rides on that query's meta).
 * `hooks`: the live webhooks that see this mailbox's mail, read by the same statement.
 */
type Recipient = MailboxRow & { duplicate_id: string | null; db_bytes: number | null; hooks: HookRef[] };

/** Why a recipient has no mailbox: the reason given to the sending server. */
type NoMailbox = { rejected: string };
const UNAVAILABLE: NoMailbox = { rejected: "Mailbox unavailable" };

/**
 * The active mailbox for an address and, in the same D1 round trip, the id of a message already
 * stored there with this re-delivery key (a sending server retrying the same delivery; see
 * ./dedupe.ts for what counts as the same).
 */
const RECIPIENT_SQL = `SELECT b.*, (SELECT m.id FROM messages m WHERE m.mailbox_id = b.id AND m.dedupe_key = ?2) AS duplicate_id,
  ${HOOKS_OF_MAILBOX_JSON_SQL} AS hooks_json FROM mailboxes b WHERE b.address = ?1 AND b.status = 'active'`;

/** RECIPIENT_SQL's row, with the database size D1 reported for that query and the mailbox's webhooks (one statement). */
async function recipientRow(env: Env, to: string, key: string | null): Promise<Recipient | null> {
  const res = await env.DB.prepare(RECIPIENT_SQL).bind(to, key).all<Omit<Recipient, "db_bytes" | "hooks"> & { hooks_json: string }>();
  const found = res.results[0];
  if (!found) return null;
  const { hooks_json, ...row } = found;
  return { ...row, db_bytes: typeof res.meta.size_after === "number" ? res.meta.size_after : null, hooks: JSON.parse(hooks_json) as HookRef[] };
}

/**
 * The active mailbox for an envelope recipient, or a catch-all mailbox materialised for it. A
 * materialised mailbox lives CATCH_ALL_MAILBOX_TTL_MINUTES (the cron expires and destroys it like
 * any other), and a domain holds at most CATCH_ALL_MAX_MAILBOXES live ones: past that, mail to a
 * new address is refused, so a stream of random recipients cannot fill the database.
 */
async function recipientMailbox(env: Env, to: string, now: string, key: string | null): Promise<Recipient | NoMailbox> {
  const row = await recipientRow(env, to, key);
  if (row) {
    if (row.expires_at !== null && row.expires_at <= now) {
      await env.DB.prepare("UPDATE mailboxes SET status = 'expired' WHERE id = ? AND status = 'active'").bind(row.id).run();
      return UNAVAILABLE;
    }
    return row;
  }
  const { results: domains } = await env.DB.prepare(
    "SELECT id, root_domain, catch_all_owner_user_id FROM domains WHERE status = 'active' AND catch_all_enabled = 1 AND catch_all_owner_user_id IS NOT NULL",
  ).all<{ id: string; root_domain: string; catch_all_owner_user_id: string }>();
  if (domains.length === 0) return UNAVAILABLE;
  const parsed = parseAddress(to, domains.map((d) => d.root_domain));
  if (!parsed) return UNAVAILABLE;
  const domain = domains.find((d) => d.root_domain === parsed.rootDomain)!;
  const live = await env.DB.prepare("SELECT * FROM mailboxes WHERE address = ? AND status <> 'destroyed'").bind(to).first<MailboxRow>();
  if (live) return UNAVAILABLE; // expired, destroying or being created: not deliverable
  const config = loadConfig(env);
  const id = `mbx_${crypto.randomUUID().replaceAll("-", "")}`;
  const expiresAt = nowIso(Date.parse(now) + config.catchAllMailboxTtlMinutes * 60_000);
  let inserted = 0;
  try {
    // The cap is part of the INSERT, so parallel deliveries to new addresses cannot overshoot it.
    const res = await env.DB.prepare(
      `INSERT INTO mailboxes (id, user_id, domain_id, local_part, subdomain, root_domain, address, source, status, created_at, expires_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'catch_all', 'active', ?8, ?9
       WHERE EXISTS (SELECT 1 FROM domains WHERE id = ?3 AND status = 'active' AND catch_all_enabled = 1 AND catch_all_owner_user_id = ?2)
         AND (${liveCatchAllSql("?3", "?8")}) < ?10`,
    )
      .bind(id, domain.catch_all_owner_user_id, domain.id, parsed.localPart, parsed.subdomain, domain.root_domain, to, now, expiresAt, config.catchAllMaxMailboxes)
      .run();
    inserted = res.meta.changes;
  } catch (e) {
    if (!String(e).includes("UNIQUE")) throw e;
    inserted = 1; // a parallel delivery made it: use that one
  }
  if (inserted === 0) {
    const full = await catchAllFull(env, domain.id, now, config.catchAllMaxMailboxes);
    if (full) {
      log("warn", "inbound.catch_all.limit_reached", { rootDomain: domain.root_domain, limit: config.catchAllMaxMailboxes });
      return { rejected: `Mailbox unavailable: the catch-all mailbox limit of ${domain.root_domain} is reached` };
    }
    return UNAVAILABLE; // catch-all was turned off meanwhile
  }
  return (await recipientRow(env, to, key)) ?? UNAVAILABLE;
}

async function catchAllFull(env: Env, domainId: string, now: string, limit: number): Promise<boolean> {
  const live = await env.DB.prepare(`SELECT (${liveCatchAllSql("?1", "?2")}) AS n`).bind(domainId, now).first<number>("n");
  return (live ?? 0) >= limit;
}

/**
 * The `email` handler's work. Order matters for never losing mail:
 *  1. find (or materialise) the mailbox, else reject;
 *  2. read the raw bytes and put them in R2 — if that fails the handler throws and the sending
 *     server retries later;
 *  3. parse (never throws, and runs while the put is in flight) and store the metadata in D1 —
 *     with the parsed body for a small message, or after putting a large body in R2.
 * A true re-delivery (same Message-ID, envelope sender and content; see ./dedupe.ts) to the same
 * mailbox is stored once; any message that differs is stored, whatever its Message-ID says.
 */
export async function receiveMessage(message: InboundMessage, env: Env): Promise<InboundResult> {
  // Non-ASCII is refused before folding: "\u212Aeep@…" must not be delivered to keep@….
  const to = foldAddress(message.to);
  if (to === null) {
    message.setReject(UNAVAILABLE.rejected);
    return { kind: "rejected", reason: UNAVAILABLE.rejected };
  }
  if (message.rawSize > MAX_MESSAGE_BYTES) {
    const reason = `Message too large: ${message.rawSize} bytes exceeds the 25 MiB limit`;
    message.setReject(reason);
    return { kind: "rejected", reason };
  }
  const now = Date.now();
  const nowStr = nowIso(now);
  let raw: Uint8Array | null;
  try {
    raw = await readAll(message.raw, message.rawSize, MAX_MESSAGE_BYTES);
  } catch (e) {
    if (e instanceof RangeError) {
      message.setReject("Message too large: exceeds the 25 MiB limit");
      return { kind: "rejected", reason: "Message too large" };
    }
    throw e;
  }
  // The key needs the content, so the bytes are read before the mailbox lookup; the lookup and the
  // duplicate check stay one D1 round trip.
  const key = await deliveryKey(raw, message.headers.get("message-id"), message.from ?? "");
  const mailbox = await recipientMailbox(env, to, nowStr, key);
  if ("rejected" in mailbox) {
    message.setReject(mailbox.rejected);
    return { kind: "rejected", reason: mailbox.rejected };
  }
  if (mailbox.duplicate_id) return { kind: "duplicate", messageId: mailbox.duplicate_id, mailboxId: mailbox.id };
  // Storage pressure (DESIGN.md "Capacity and retention"): at the D1 limit nothing new is accepted,
  // and the sender is told to retry later (a throw, like a failed D1 write; never setReject).
  const stage = storageStage(mailbox.db_bytes, loadConfig(env).d1CapacityBytes);
  if (stage === "full") {
    log("error", "inbound.storage.full", { mailboxId: mailbox.id, databaseBytes: mailbox.db_bytes });
    throw new Error("Storage full: the D1 database is at D1_CAPACITY_BYTES; try again later");
  }
  const id = messageIdFor(now);
  const rawKey = `raw/${mailbox.id}/${id}.eml`;
  const size = raw.byteLength;
  // The put and the parse overlap (one is I/O, the other CPU); nothing reaches D1 until the raw
  // bytes are safely in R2.
  const rawPut = env.MAIL_BUCKET.put(rawKey, raw, { httpMetadata: { contentType: "message/rfc822" } });
  rawPut.catch(() => {}); // awaited below; this only keeps a failure from being reported as unhandled
  // Mail above PARSE_INLINE_MAX_BYTES keeps email() inside a small CPU budget (the Free plan's
  // 10 ms): its headers now, its body on first read. Nothing is lost either way: the raw bytes are in R2.
  const inlineMax = loadConfig(env).parseInlineMaxBytes;
  const parsed = inlineMax > 0 && raw.byteLength > inlineMax ? await parseHeaderBlock(raw) : await parseMessage(raw);
  // Let the raw bytes go before the parsed body is serialised (up to 25 MiB less held at the peak
  // of a large delivery); the put keeps its own reference until it is done.
  raw = null;
  await rawPut;

  const body = JSON.stringify({ text: parsed.text, html: parsed.html, headers: parsed.headers });
  // Above 80 % of D1_CAPACITY_BYTES every parsed body goes to R2: the message costs D1 its metadata only.
  // A deferred message has no body yet: the first read parses it (src/messages/store.ts).
  const deferred = parsed.parseStatus === "deferred";
  const inline = !deferred && body.length <= INLINE_BODY_MAX_CHARS && stage === "normal";
  const parsedKey = inline || deferred ? null : parsedKeyFor(mailbox.id, id);
  const written = parsedKey ? [rawKey, parsedKey] : [rawKey];
  const row: NewMessage = {
    id,
    mailbox,
    to,
    from: message.from,
    parsed,
    size,
    rawKey,
    parsedKey,
    parsedBytes: parsedKey ? byteLength(body) : 0,
    body: inline ? body : null,
    key,
    receivedAt: nowStr,
  };
  // Webhooks (message.received): queued in the message's own batch, so committed together with it.
  const hooks = messageReceivedInserts(env, mailbox.hooks, summaryOf(row));
  try {
    if (parsedKey) await env.MAIL_BUCKET.put(parsedKey, body, { httpMetadata: { contentType: "application/json" } });
    await insertMessage(env, { ...row, extra: hooks.statements });
  } catch (e) {
    if (String(e).includes("UNIQUE") && key) {
      // The same delivery arrived twice concurrently: keep the first copy only.
      await env.MAIL_BUCKET.delete(written);
      const dup = await env.DB.prepare("SELECT id FROM messages WHERE mailbox_id = ? AND dedupe_key = ?").bind(mailbox.id, key).first<{ id: string }>();
      return { kind: "duplicate", messageId: dup?.id ?? id, mailboxId: mailbox.id };
    }
    // Not stored: remove what was written and make the sender retry.
    await env.MAIL_BUCKET.delete(written).catch(() => {});
    log("error", "inbound.store.failed", { mailboxId: mailbox.id, error: String(e) });
    throw e;
  }
  // No log line for a stored message: the platform's invocation log already records every email()
  // run (sender, recipient, size, outcome), and a line per message would double the log events a
  // busy deployment pays for (and, under `wrangler dev`, cost about as much CPU as the parse).
  // Failures and refusals that need an operator are logged above.
  return { kind: "stored", messageId: id, mailboxId: mailbox.id, userId: mailbox.user_id, parseStatus: parsed.parseStatus, webhookIds: hooks.webhookIds };
}
