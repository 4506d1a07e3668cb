-- Unread state (issue 15): when the message was first marked seen (PATCH /api/messages/{id}
-- {seen: true}), or NULL while unread. Reading a message (GET) never sets it: the web page marks a
-- message seen when it opens it, an API client decides for itself. Existing rows start unread.
ALTER TABLE messages ADD COLUMN seen_at TEXT;
