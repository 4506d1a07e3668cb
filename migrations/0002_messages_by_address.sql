-- GET /api/messages?mailbox=<address> (the API's documented filter) reads one address's pages
-- from this index at any depth. Without it SQLite walked messages_received newest-first and
-- filtered every row, so a quiet mailbox polled for its code scanned the whole table (650 ms per
-- request with 100,000 messages in other mailboxes; see bench/README.md).
CREATE INDEX messages_address_received ON messages (mailbox_address, received_at DESC, id DESC);
