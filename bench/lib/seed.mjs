// Pre-loads messages into the local D1 database with one set-based INSERT (a recursive CTE), so
// 100,000 rows take seconds. Rows look like what src/mail/inbound.ts writes: time-ordered ids
// (`msg_` + 12 hex of milliseconds + 4 hex mailbox tag + 16 hex), ISO received_at, a verification
// code, R2 keys.
// Message n (0-based) is received at baseMs + n seconds; higher n = newer.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const STEP_MS = 1000;

/** Id of message n of the mailbox seeded with `tag` (0..65535; keeps two mailboxes' ids apart). */
export const messageIdAt = (baseMs, n, tag = 0) =>
  `msg_${(baseMs + n * STEP_MS).toString(16).padStart(12, "0")}${tag.toString(16).padStart(4, "0")}${n.toString(16).padStart(16, "0")}`;
export const receivedAtOf = (baseMs, n) => new Date(baseMs + n * STEP_MS).toISOString();

/** The list API's opaque cursor (src/routes/messages.ts `encodeCursor`): base64url of `receivedAt|id`. */
export const cursorFor = (baseMs, n, tag = 0) => Buffer.from(`${receivedAtOf(baseMs, n)}|${messageIdAt(baseMs, n, tag)}`).toString("base64url");

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;

/**
 * SQL inserting messages n = from..to-1 for `mailbox` (one statement).
 * @param {{baseMs:number, from:number, to:number, tag?:number, mailbox:{id:string,user_id:string,address:string}}} o
 */
export function messagesInsert({ baseMs, from, to, tag = 0, mailbox }) {
  if (baseMs % 1000 !== 0) throw new Error("baseMs must be whole seconds");
  const id = `'msg_' || printf('%012x', ${baseMs} + n * ${STEP_MS}) || printf('%04x', ${tag}) || printf('%016x', n)`;
  return `
INSERT INTO messages (id, user_id, mailbox_id, mailbox_address, envelope_from, envelope_to, from_name, from_address, subject, preview_text,
  message_id_header, dedupe_key, date_header, received_at, size_bytes, attachment_count, has_html, verification_code, verification_source,
  verification_method, parse_status, parse_error, raw_r2_key, parsed_r2_key)
WITH RECURSIVE seq(n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM seq WHERE n < ${to - 1})
SELECT
  ${id},
  ${q(mailbox.user_id)}, ${q(mailbox.id)}, ${q(mailbox.address)},
  'no-reply@sender' || (n % 50) || '.example', ${q(mailbox.address)},
  'Example Service ' || (n % 50), 'no-reply@sender' || (n % 50) || '.example',
  'Your verification code is ' || printf('%06d', (n * 7919) % 1000000),
  'Your verification code is ' || printf('%06d', (n * 7919) % 1000000) || '. It expires in 10 minutes. If you did not ask for it, you can ignore this message and nobody will get in.',
  '<bench-' || n || '@sender.example>', lower(hex(randomblob(20))),
  strftime('%Y-%m-%dT%H:%M:%fZ', (${baseMs} + n * ${STEP_MS}) / 1000.0, 'unixepoch'),
  strftime('%Y-%m-%dT%H:%M:%fZ', (${baseMs} + n * ${STEP_MS}) / 1000.0, 'unixepoch'),
  5120, 0, 1, printf('%06d', (n * 7919) % 1000000), 'body', 'rules', 'parsed', NULL,
  'raw/' || ${q(mailbox.id)} || '/' || ${id} || '.eml',
  'parsed/' || ${q(mailbox.id)} || '/' || ${id} || '.json'
FROM seq;
`;
}

/** Writes `statements` to a SQL file in `dir` and returns its path. */
export function sqlFile(dir, name, statements) {
  const path = join(dir, name);
  writeFileSync(path, statements.join("\n"));
  return path;
}
