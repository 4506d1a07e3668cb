import type { DomainObject } from "./domain/object";
import type { CloudflareGate } from "./cloudflare/gate";
import type { MailHub } from "./push/hub";
import type { WebhookOutbox } from "./webhooks/outbox";

/** Bindings and variables the Worker receives. Strings are parsed once by `loadConfig`. */
export interface Env {
  DB: D1Database;
  MAIL_BUCKET: R2Bucket;
  DOMAINS: DurableObjectNamespace<DomainObject>;
  CF_GATE: DurableObjectNamespace<CloudflareGate>;
  HUB: DurableObjectNamespace<MailHub>;
  WEBHOOK_OUTBOX: DurableObjectNamespace<WebhookOutbox>;
  ASSETS?: Fetcher;

  APP_ENV?: string;
  SESSION_SECRET?: string;
  EMAIL_ROUTING_MANAGEMENT_ENABLED?: string;
  CLOUDFLARE_RUNTIME_API_TOKEN?: string;
  CLOUDFLARE_API_TOKEN?: string;
  CLOUDFLARE_ACCOUNT_ID?: string;
  CLOUDFLARE_API_BASE_URL?: string;
  CLOUDFLARE_API_TIMEOUT_MS?: string;
  CLOUDFLARE_RATE_LIMIT_PER_5_MIN?: string;
  EMAIL_WORKER_NAME?: string;
  DEFAULT_MAILBOX_TTL_MINUTES?: string;
  MEMBER_MAX_ACTIVE_MAILBOXES?: string;
  MEMBER_MAILBOX_CREATES_PER_MINUTE?: string;
  MEMBER_MAX_TTL_MINUTES?: string;
  CATCH_ALL_MAILBOX_TTL_MINUTES?: string;
  CATCH_ALL_MAX_MAILBOXES?: string;
  DOMAIN_RETRY_BASE_SECONDS?: string;
  DOMAIN_RETRY_MAX_SECONDS?: string;
  BOOTSTRAP_ADMIN_EMAIL?: string;
  BOOTSTRAP_ADMIN_NAME?: string;
  BOOTSTRAP_ADMIN_API_KEY?: string;
  WEB_APP_ORIGIN?: string;
  WEB_APP_ORIGINS?: string;
  SESSION_IDLE_MINUTES?: string;
  AUTH_CACHE_SECONDS?: string;
  SESSION_MAX_AGE_HOURS?: string;
  MESSAGE_RETENTION_DAYS?: string;
  MAX_MESSAGES_PER_MAILBOX?: string;
  D1_CAPACITY_BYTES?: string;
  WEBHOOK_SECRET_KEY?: string;
  WEBHOOK_ALLOW_HTTP?: string;
  WEBHOOKS_PER_USER?: string;
  WEBHOOKS_PER_DEPLOYMENT?: string;
}
