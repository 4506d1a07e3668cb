import type { MessageSummaryDTO } from "../api/dto";

/**
 * A message as stored in D1 and its summary as the API shows it (lists, wait, event stream). One
 * definition, so every way a caller learns about a message shows the same fields.
 */
export interface MessageRow {
  id: string;
  user_id: string;
  mailbox_id: string;
  mailbox_address: string;
  envelope_from: string | null;
  envelope_to: string;
  from_name: string | null;
  from_address: string | null;
  subject: string;
  preview_text: string;
  message_id_header: string | null;
  date_header: string | null;
  received_at: string;
  size_bytes: number;
  attachment_count: number;
  has_html: number;
  verification_code: string | null;
  verification_source: string | null;
  verification_method: string | null;
  verification_link?: string | null;
  verification_confidence?: number | null;
  parse_status: string;
  /** When the message was marked seen (migration 0009), or null while unread. */
  seen_at?: string | null;
  parse_error: string | null;
  raw_r2_key: string;
  parsed_r2_key: string | null;
  seq?: number | null;
  mailbox_status?: string;
}

/** The columns `summary` reads, for `SELECT ${SUMMARY_COLUMNS} FROM messages m …`. */
export const SUMMARY_COLUMNS =
  "m.id, m.user_id, m.mailbox_id, m.mailbox_address, m.from_name, m.from_address, m.subject, m.preview_text, m.received_at, m.size_bytes, m.attachment_count, m.has_html, m.verification_code, m.verification_source, m.verification_method, m.verification_link, m.verification_confidence, m.parse_status, m.seen_at";

/** The response shape is defined once, as a zod schema, in src/api/dto.ts. */
export type MessageSummary = MessageSummaryDTO;

export function summary(r: Pick<MessageRow, "id" | "mailbox_id" | "mailbox_address" | "subject" | "preview_text" | "from_name" | "from_address" | "received_at" | "size_bytes" | "attachment_count" | "has_html" | "parse_status" | "verification_code" | "verification_source" | "verification_method" | "verification_link" | "verification_confidence" | "seen_at">): MessageSummaryDTO {
  return {
    id: r.id,
    mailboxId: r.mailbox_id,
    mailboxAddress: r.mailbox_address,
    subject: r.subject,
    previewText: r.preview_text,
    fromName: r.from_name,
    fromAddress: r.from_address,
    receivedAt: r.received_at,
    sizeBytes: r.size_bytes,
    attachmentCount: r.attachment_count,
    hasHtml: r.has_html === 1,
    parseStatus: r.parse_status,
    seen: r.seen_at != null,
    // Present when a code or a link was found (the code is null for a link-only message).
    verification:
      r.verification_code || r.verification_link
        ? {
            code: r.verification_code ?? null,
            link: r.verification_link ?? null,
            source: r.verification_source,
            method: r.verification_method ?? "rules",
            // (absent for messages stored before migration 0006, which recorded none)
            confidence: r.verification_confidence ?? undefined,
          }
        : null,
  };
}
