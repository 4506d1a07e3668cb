-- Capacity accounting (DESIGN.md "Capacity and retention"). Running totals are kept where the
-- writes already go: the message insert bumps `counters` (message_seq) and updates its mailbox row
-- (last_received_at) in the same batch, so the totals ride on rows that are written anyway and the
-- admin view never scans `messages`.
--   messages.stored_bytes   R2 bytes this message holds (raw + parsed body object + kept attachments)
--   mailboxes.message_count / stored_bytes   its messages and their R2 bytes
--   counters 'messages' / 'r2_bytes' / 'r2_objects'   deployment totals
ALTER TABLE messages ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
-- Existing rows: the raw size is known; a parsed body already in R2 and kept attachments are
-- estimated by their decoded sizes (the body's own size was never recorded).
UPDATE messages SET stored_bytes = size_bytes
  + coalesce((SELECT sum(a.size_bytes) FROM message_attachments a WHERE a.message_id = messages.id AND a.r2_key IS NOT NULL), 0);
UPDATE mailboxes SET
  message_count = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id),
  stored_bytes = coalesce((SELECT sum(m.stored_bytes) FROM messages m WHERE m.mailbox_id = mailboxes.id), 0);
INSERT INTO counters (name, value) SELECT 'messages', count(*) FROM messages;
INSERT INTO counters (name, value) SELECT 'r2_bytes', coalesce(sum(stored_bytes), 0) FROM messages;
INSERT INTO counters (name, value) SELECT 'r2_objects',
  (SELECT count(*) FROM messages) + (SELECT count(*) FROM messages WHERE parsed_r2_key IS NOT NULL)
  + (SELECT count(*) FROM message_attachments WHERE r2_key IS NOT NULL);
-- MAX_MESSAGES_PER_MAILBOX: the cron finds mailboxes over the cap by this index, not by a scan.
CREATE INDEX mailboxes_message_count ON mailboxes (message_count);
-- Hourly snapshots written by the cron (kept 8 days): growth over 24 h / 7 days and days-until-full.
CREATE TABLE storage_snapshots (
  hour TEXT PRIMARY KEY,
  d1_bytes INTEGER NOT NULL,
  r2_bytes INTEGER NOT NULL,
  r2_objects INTEGER NOT NULL,
  messages INTEGER NOT NULL
);
