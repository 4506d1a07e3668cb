-- KaisouMail schema. Timestamps are ISO-8601 UTC strings (lexicographic order = time order).

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX users_email_unique ON users (email);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  scopes TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE UNIQUE INDEX api_keys_key_hash_unique ON api_keys (key_hash);
CREATE INDEX api_keys_user_id ON api_keys (user_id, created_at);

-- Projection of each domain's Durable Object (the object is the source of truth).
CREATE TABLE domains (
  id TEXT PRIMARY KEY,
  root_domain TEXT NOT NULL,
  zone_id TEXT,
  binding_source TEXT NOT NULL DEFAULT 'catalog' CHECK (binding_source IN ('catalog', 'project_bind')),
  status TEXT NOT NULL CHECK (status IN ('pending', 'provisioning_error', 'active', 'disabled', 'deleted')),
  cloudflare_status TEXT,
  name_servers TEXT NOT NULL DEFAULT '[]',
  catch_all_enabled INTEGER NOT NULL DEFAULT 0,
  catch_all_owner_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
  last_provision_error TEXT,
  last_error_code TEXT,
  last_error_hint TEXT,
  next_retry_at TEXT,
  retry_count INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_provisioned_at TEXT,
  disabled_at TEXT,
  deleted_at TEXT,
  version INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX domains_root_domain_unique ON domains (root_domain);
CREATE INDEX domains_status ON domains (status, root_domain);

CREATE TABLE mailboxes (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  domain_id TEXT NOT NULL REFERENCES domains (id),
  local_part TEXT NOT NULL,
  subdomain TEXT NOT NULL,
  root_domain TEXT NOT NULL,
  address TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT 'registered' CHECK (source IN ('registered', 'catch_all')),
  routing_rule_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('creating', 'active', 'expired', 'destroying', 'destroyed')),
  created_at TEXT NOT NULL,
  expires_at TEXT,
  destroyed_at TEXT,
  last_received_at TEXT,
  cleanup_next_attempt_at TEXT,
  cleanup_attempts INTEGER NOT NULL DEFAULT 0,
  cleanup_last_error TEXT
);
CREATE UNIQUE INDEX mailboxes_address_live_unique ON mailboxes (address) WHERE status <> 'destroyed';
CREATE INDEX mailboxes_user ON mailboxes (user_id, created_at);
CREATE INDEX mailboxes_created ON mailboxes (created_at);
CREATE INDEX mailboxes_domain_status ON mailboxes (domain_id, status);
CREATE INDEX mailboxes_domain_subdomain ON mailboxes (domain_id, subdomain, status);
CREATE INDEX mailboxes_status_expires ON mailboxes (status, expires_at);
CREATE INDEX mailboxes_status_cleanup ON mailboxes (status, cleanup_next_attempt_at);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  mailbox_id TEXT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  mailbox_address TEXT NOT NULL,
  envelope_from TEXT,
  envelope_to TEXT NOT NULL,
  from_name TEXT,
  from_address TEXT,
  subject TEXT NOT NULL,
  preview_text TEXT NOT NULL,
  message_id_header TEXT,
  dedupe_key TEXT,
  date_header TEXT,
  received_at TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  attachment_count INTEGER NOT NULL DEFAULT 0,
  has_html INTEGER NOT NULL DEFAULT 0,
  verification_code TEXT,
  verification_source TEXT,
  verification_method TEXT,
  parse_status TEXT NOT NULL,
  parse_error TEXT,
  raw_r2_key TEXT NOT NULL,
  parsed_r2_key TEXT
);
-- Cursor pagination: newest first with id as the tie-break, per mailbox and per owner.
CREATE INDEX messages_mailbox_received ON messages (mailbox_id, received_at DESC, id DESC);
CREATE INDEX messages_user_received ON messages (user_id, received_at DESC, id DESC);
CREATE INDEX messages_received ON messages (received_at DESC, id DESC);
CREATE UNIQUE INDEX messages_dedupe ON messages (mailbox_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE message_recipients (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT,
  address TEXT NOT NULL
);
CREATE INDEX message_recipients_message ON message_recipients (message_id);

CREATE TABLE message_attachments (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  filename TEXT,
  content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  content_id TEXT,
  disposition TEXT NOT NULL,
  r2_key TEXT
);
CREATE INDEX message_attachments_message ON message_attachments (message_id);

-- Failed API-key exchanges per client, to slow down guessing.
CREATE TABLE auth_failures (
  client_key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  window_started_at TEXT NOT NULL,
  blocked_until TEXT
);
