/**
 * The re-delivery key: which inbound messages are the *same delivery* and are stored once.
 *
 * Only a true re-delivery may be dropped: a sending server that retries after a timeout, or Email
 * Routing handing the same message over twice. A Message-ID alone is not that: bulk senders reuse
 * static ids, forwarded copies keep the original's, broken mailers repeat them, and an outsider who
 * sends first with a guessed or copied id would make the real message vanish. So the key is the
 * Message-ID *and* the envelope sender *and* a hash of the content:
 *   - the message body (every byte after the header block), and
 *   - the author-set headers that define the message (From, To, Cc, Subject, Date, Message-ID,
 *     Content-Type with its MIME boundary, In-Reply-To, References).
 * Trace headers (Received, ARC-*, Authentication-Results, DKIM-Signature, X-…) are left out on
 * purpose: every hop adds its own with fresh timestamps, so a retry through Cloudflare differs in
 * them and is still the same delivery. Mail without a Message-ID has no key and is always stored.
 */

/** Headers whose values are part of the content hash (lower-case names). */
const CONTENT_HEADERS = new Set(["from", "to", "cc", "subject", "date", "message-id", "content-type", "in-reply-to", "references", "mime-version"]);

/** Byte offset where the body starts (after the first empty line), or the length if none. */
function headerEnd(raw: Uint8Array): number {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    if (raw[i + 1] === 0x0a) return i + 2;
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return i + 3;
  }
  return raw.length;
}

/**
 * The content headers in order of appearance, unfolded, as `name:value` lines. Bytes are read as
 * latin1 (a 1:1 mapping), so 8-bit headers hash exactly.
 */
export function contentHeaders(head: Uint8Array): string {
  const text = new TextDecoder("latin1").decode(head);
  const lines: string[] = [];
  let current: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      if (current !== null) current += line;
      continue;
    }
    if (current !== null) lines.push(current);
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "";
    current = CONTENT_HEADERS.has(name) ? `${name}:${line.slice(colon + 1)}` : null;
  }
  if (current !== null) lines.push(current);
  return lines.join("\n");
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/**
 * The key for a delivery of `raw` from `envelopeFrom`, or null when it has no Message-ID. The
 * Message-ID is taken exactly as sent (no case folding): ids that differ in any way are different
 * messages.
 */
export async function deliveryKey(raw: Uint8Array, messageIdHeader: string | null, envelopeFrom: string): Promise<string | null> {
  const messageId = messageIdHeader?.trim();
  if (!messageId) return null;
  const split = headerEnd(raw);
  const bodyHash = hex(await crypto.subtle.digest("SHA-256", raw.subarray(split)));
  const material = ["v2", messageId, envelopeFrom.trim().toLowerCase(), bodyHash, contentHeaders(raw.subarray(0, split))].join("\u0000");
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(material)));
}
