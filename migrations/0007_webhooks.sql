-- Webhooks (issue 18). A hook belongs to a user (scope 'user': that user's mailboxes, or one of
-- them) or to the deployment (scope 'deployment', admins only: every mailbox). The signing secret
-- is stored encrypted (AES-GCM, key from WEBHOOK_SECRET_KEY / SESSION_SECRET via HKDF, the hook id
-- as associated data); it is shown once, at creation and rotation.
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  scope TEXT NOT NULL DEFAULT 'user' CHECK (scope IN ('user', 'deployment')),
  mailbox_id TEXT,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  filter_json TEXT NOT NULL DEFAULT '{}',
  enabled INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,
  secret_enc TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX webhooks_by_user ON webhooks (user_id, created_at);
CREATE INDEX webhooks_by_scope ON webhooks (scope, enabled);

-- One row per event per hook. `id` is the Standard Webhooks `webhook-id`, the same on every retry.
-- The hook's outbox (a Durable Object) sends them in `seq` order, one at a time.
CREATE TABLE webhook_deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempt_count INTEGER NOT NULL DEFAULT 0,
  attempts_json TEXT NOT NULL DEFAULT '[]',
  next_attempt_at TEXT,
  window_started_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, status, seq);
