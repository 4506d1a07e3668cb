-- The parsed body (text, HTML and headers as JSON) of a small message lives in D1 beside its
-- metadata, written in the same batch: storing such a message costs one R2 write (the raw bytes)
-- instead of two, and reading it needs no R2 read. Larger bodies stay in R2 (messages.parsed_r2_key).
-- A table of its own keeps the rows the message list walks small.
CREATE TABLE message_bodies (
  message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
  body TEXT NOT NULL
);
