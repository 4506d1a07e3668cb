-- Security, second pass: revocable server-side sessions, disabled/deleted users, enforced scopes.

-- A disabled user's keys and sessions stop working at once (they come back when re-enabled, except
-- sessions, which are revoked). A deleted user is a tombstone: its mailboxes are destroyed through
-- the normal path first, so no routing rule or stored message is orphaned by a cascade.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN deleted_at TEXT;

-- The signed session cookie carries only a session id; this row is what makes it valid. Sign-out,
-- revoking the key it was made from, disabling or deleting the user revoke it. `expires_at` is the
-- absolute lifetime; `last_seen_at` drives the idle timeout.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  api_key_id TEXT REFERENCES api_keys (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, revoked_at);
CREATE INDEX sessions_api_key ON sessions (api_key_id, revoked_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Scopes were stored but never checked, so every key behaved as "*". Users' first keys (the key a
-- person signs in to the web page with) keep that power now that scopes are enforced; keys made
-- later keep exactly the scopes they were created with.
UPDATE api_keys SET scopes = '["*"]' WHERE name = 'Initial API Key' AND scopes = '["mailboxes:write","messages:read"]';
