-- Push delivery (wait and event stream) needs the order in which messages were *committed*, which
-- neither received_at nor the time-ordered id gives under concurrent deliveries. `seq` comes from a
-- counter bumped in the same D1 batch that stores the message, so it is strictly increasing in
-- commit order and never reused (SQLite's rowid would be, after the newest row is deleted).
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
ALTER TABLE messages ADD COLUMN seq INTEGER;
UPDATE messages SET seq = rowid;
INSERT INTO counters (name, value) SELECT 'message_seq', coalesce(max(rowid), 0) FROM messages;
CREATE UNIQUE INDEX messages_user_seq ON messages (user_id, seq);
CREATE INDEX messages_mailbox_seq ON messages (mailbox_id, seq);
