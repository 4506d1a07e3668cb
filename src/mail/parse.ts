/**
 * Parse + verification (code and link) path for one raw message. Pure (postal-mime and our own code only), so
 * the benchmark times exactly this function in Node with `process.cpuUsage`.
 */
import PostalMime, { type Address, type Email } from "postal-mime";
import { htmlToText } from "./html-to-text";
import { extractVerification, type Verification } from "./verification";

export const PREVIEW_LENGTH = 140;
/**
 * Attachment rows stored per message. A 25 MiB message can hold ~100,000 tiny parts; listing them
 * all would mean thousands of D1 statements in one batch and ids past the 4-hex position suffix.
 * The raw message (always stored) keeps every part.
 */
export const MAX_ATTACHMENT_ROWS = 1000;

export interface ParsedRecipient {
  kind: "to" | "cc" | "bcc" | "replyTo";
  name: string | null;
  address: string;
}

export interface ParsedAttachment {
  position: number;
  filename: string | null;
  contentType: string;
  sizeBytes: number;
  contentId: string | null;
  disposition: "attachment" | "inline" | "unknown";
}

export interface ParsedMessage {
  /** `deferred`: headers only, the body is parsed on first read (PARSE_INLINE_MAX_BYTES). */
  parseStatus: "parsed" | "failed" | "deferred";
  parseError: string | null;
  subject: string;
  fromName: string | null;
  fromAddress: string | null;
  messageId: string | null;
  dateHeader: string | null;
  previewText: string;
  text: string | null;
  html: string | null;
  headers: Array<{ key: string; value: string }>;
  recipients: ParsedRecipient[];
  attachments: ParsedAttachment[];
  verification: Verification | null;
}

/** RFC 5322 header block (up to the first blank line), unfolded, for when the MIME parse fails. */
export function rawHeaders(raw: Uint8Array, limit = 256 * 1024): Array<{ key: string; value: string }> {
  const head = new TextDecoder("latin1").decode(raw.subarray(0, Math.min(raw.byteLength, limit)));
  const end = head.search(/\r?\n\r?\n/);
  const block = end >= 0 ? head.slice(0, end) : head;
  const out: Array<{ key: string; value: string }> = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1]!.value += ` ${line.trim()}`;
    else {
      const i = line.indexOf(":");
      if (i > 0) out.push({ key: line.slice(0, i).trim().toLowerCase(), value: line.slice(i + 1).trim() });
    }
  }
  return out;
}

function flatten(list: Address[] | undefined, kind: ParsedRecipient["kind"]): ParsedRecipient[] {
  const out: ParsedRecipient[] = [];
  for (const a of list ?? []) {
    if (a.group) for (const m of a.group) m.address && out.push({ kind, name: m.name || null, address: m.address.toLowerCase() });
    else if (a.address) out.push({ kind, name: a.name || null, address: a.address.toLowerCase() });
  }
  return out;
}

/** NUL-free and at most `max` UTF-16 units, never ending in half a surrogate pair. */
const clean = (s: string | undefined | null, max: number) => (s ? s.replace(/\u0000/g, "").slice(0, max).replace(/[\ud800-\udbff]$/, "") : null);

export function preview(text: string | null, html: string | null): string {
  const source = text?.trim() ? text : html ? htmlToText(html.slice(0, 200_000)) : "";
  const collapsed = source.slice(0, 4000).replace(/\s+/g, " ").trim();
  return collapsed ? collapsed.slice(0, PREVIEW_LENGTH) : "(no preview)";
}

function isoDate(value: string | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function byteLength(content: ArrayBuffer | Uint8Array | string): number {
  return typeof content === "string" ? new TextEncoder().encode(content).byteLength : content.byteLength;
}

function disposition(value: string | null): ParsedAttachment["disposition"] {
  const v = (value ?? "").toLowerCase();
  return v.includes("inline") ? "inline" : v.includes("attachment") ? "attachment" : "unknown";
}

/**
 * postal-mime copies a typed-array input into a new ArrayBuffer before parsing (a second 25 MiB
 * for the largest message); an ArrayBuffer is used as it is. The view covers its whole buffer
 * when the inbound handler read the message (it allocates exactly the declared size).
 */
function wholeBuffer(raw: Uint8Array): Uint8Array | ArrayBuffer {
  return raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer ? raw.buffer : raw;
}

/** Parses a raw message. Never throws: a message that cannot be parsed is reported as `failed`. */
export async function parseMessage(raw: Uint8Array): Promise<ParsedMessage> {
  let email: Email;
  try {
    email = await PostalMime.parse(wholeBuffer(raw), { attachmentEncoding: "arraybuffer", maxNestingDepth: 64, maxHeadersSize: 2 * 1024 * 1024 });
  } catch (e) {
    const headers = rawHeaders(raw);
    const get = (k: string) => headers.find((h) => h.key === k)?.value ?? null;
    return {
      parseStatus: "failed",
      parseError: (e instanceof Error ? e.message : String(e)).slice(0, 500),
      subject: clean(get("subject"), 998) || "(no subject)",
      fromName: null,
      fromAddress: clean(get("from"), 320),
      messageId: clean(get("message-id"), 998),
      dateHeader: isoDate(get("date") ?? undefined),
      previewText: "(message could not be parsed)",
      text: null,
      html: null,
      headers: headers.slice(0, 500),
      recipients: [],
      attachments: [],
      verification: null,
    };
  }
  const from = email.from && !email.from.group ? email.from : email.from?.group?.[0];
  const text = clean(email.text, 5_000_000);
  const html = clean(email.html, 5_000_000);
  const subject = clean(email.subject?.trim(), 998) || "(no subject)";
  let verification: Verification | null = null;
  try {
    verification = extractVerification({ subject: email.subject ?? "", text, html });
  } catch {
    verification = null; // extraction is best effort; the message is stored regardless
  }
  return {
    parseStatus: "parsed",
    parseError: null,
    subject,
    fromName: clean(from?.name, 256) || null,
    fromAddress: from?.address ? from.address.toLowerCase().slice(0, 320) : null,
    messageId: clean(email.messageId, 998),
    dateHeader: isoDate(email.date),
    previewText: preview(text, html),
    text,
    html,
    headers: email.headers.slice(0, 500).map((h) => ({ key: h.key, value: h.value.slice(0, 8192) })),
    recipients: [...flatten(email.to, "to"), ...flatten(email.cc, "cc"), ...flatten(email.bcc, "bcc"), ...flatten(email.replyTo, "replyTo")].slice(0, 500),
    attachments: email.attachments.slice(0, MAX_ATTACHMENT_ROWS).map((a, position) => ({
      position,
      filename: clean(a.filename, 255),
      contentType: (a.mimeType || "application/octet-stream").toLowerCase().slice(0, 255),
      sizeBytes: byteLength(a.content),
      contentId: clean(a.contentId, 998),
      disposition: disposition(a.disposition),
    })),
    verification,
  };
}

/**
 * The header block only, for mail too large to parse inside email() on the plan's CPU budget
 * (PARSE_INLINE_MAX_BYTES): subject, sender, recipients, Message-ID and date, decoded as usual
 * (postal-mime on the headers with an empty body, a few KiB whatever the message's size).
 * `parseStatus` is `deferred`: the body, attachments and verification code come from the full
 * parse on first read (src/messages/store.ts `completeDeferredParse`).
 */
export async function parseHeaderBlock(raw: Uint8Array): Promise<ParsedMessage> {
  const head = raw.subarray(0, Math.min(raw.byteLength, 256 * 1024));
  const text = new TextDecoder("latin1").decode(head);
  const end = text.search(/\r?\n\r?\n/);
  const block = end >= 0 ? head.subarray(0, end) : head;
  const headersOnly = new Uint8Array(block.byteLength + 4);
  headersOnly.set(block);
  headersOnly.set([13, 10, 13, 10], block.byteLength);
  const parsed = await parseMessage(headersOnly);
  return {
    ...parsed,
    parseStatus: "deferred",
    parseError: null,
    previewText: "(large message: its body is read when it is first opened)",
    text: null,
    html: null,
    attachments: [],
    verification: null,
  };
}

/** Decoded bytes of one attachment (by position), re-parsed from the raw message on demand. */
export async function attachmentContent(raw: Uint8Array, position: number): Promise<{ content: Uint8Array; mimeType: string; filename: string | null } | null> {
  const email = await PostalMime.parse(raw, { attachmentEncoding: "arraybuffer", maxNestingDepth: 64, maxHeadersSize: 2 * 1024 * 1024 });
  const a = email.attachments[position];
  if (!a) return null;
  const content = typeof a.content === "string" ? new TextEncoder().encode(a.content) : a.content instanceof Uint8Array ? a.content : new Uint8Array(a.content);
  return { content, mimeType: a.mimeType || "application/octet-stream", filename: a.filename };
}
