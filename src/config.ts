import { z } from "zod";
import type { Env } from "./env";
import { ApiError } from "./lib/errors";

/**
 * Every setting is parsed once per isolate (the `env` object is stable per deployment) with zod.
 * An invalid value produces a clear error naming the variable instead of a stack trace.
 */
const bool = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return false;
      const t = v.trim().toLowerCase();
      if (t === "true" || t === "1") return true;
      if (t === "false" || t === "0") return false;
      ctx.addIssue({ code: "custom", message: `${name} must be "true" or "false"` });
      return z.NEVER;
    });

const int = (name: string, def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return def;
      const n = Number(v.trim());
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `${name} must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== "" ? v.trim() : undefined));

function parseOrigin(raw: string): string | null {
  try {
    const url = new URL(raw.trim());
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.origin;
  } catch {
    return null;
  }
}

const schema = z.object({
  APP_ENV: z
    .string()
    .optional()
    // Unset means production (Secure cookies, no localhost origins); development is always explicit.
    .transform((v) => (v?.trim() || "production").toLowerCase()),
  SESSION_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: "SESSION_SECRET must be at least 16 characters",
  }),
  EMAIL_ROUTING_MANAGEMENT_ENABLED: bool("EMAIL_ROUTING_MANAGEMENT_ENABLED"),
  CLOUDFLARE_RUNTIME_API_TOKEN: optionalString,
  CLOUDFLARE_API_TOKEN: optionalString,
  CLOUDFLARE_ACCOUNT_ID: optionalString,
  CLOUDFLARE_API_BASE_URL: optionalString.refine((v) => v === undefined || parseOrigin(v) !== null, {
    message: "CLOUDFLARE_API_BASE_URL must be an http(s) URL",
  }),
  CLOUDFLARE_API_TIMEOUT_MS: int("CLOUDFLARE_API_TIMEOUT_MS", 10_000, 100, 120_000),
  EMAIL_WORKER_NAME: optionalString,
  DEFAULT_MAILBOX_TTL_MINUTES: int("DEFAULT_MAILBOX_TTL_MINUTES", 60, 60, 525_600),
  MEMBER_MAX_ACTIVE_MAILBOXES: int("MEMBER_MAX_ACTIVE_MAILBOXES", 100, 1, 1_000_000),
  MEMBER_MAILBOX_CREATES_PER_MINUTE: int("MEMBER_MAILBOX_CREATES_PER_MINUTE", 30, 1, 10_000),
  // 0 = no cap; otherwise a TTL in the same bounds as a request's (checked below).
  MEMBER_MAX_TTL_MINUTES: int("MEMBER_MAX_TTL_MINUTES", 10_080, 0, 525_600).refine((v) => v === 0 || v >= 60, {
    message: "MEMBER_MAX_TTL_MINUTES must be 0 (no cap) or from 60 to 525600",
  }),
  // 0 only when unset (a set value must be 60..525600): falls back to DEFAULT_MAILBOX_TTL_MINUTES.
  CATCH_ALL_MAILBOX_TTL_MINUTES: int("CATCH_ALL_MAILBOX_TTL_MINUTES", 0, 60, 525_600),
  CATCH_ALL_MAX_MAILBOXES: int("CATCH_ALL_MAX_MAILBOXES", 500, 1, 1_000_000),
  DOMAIN_RETRY_BASE_SECONDS: int("DOMAIN_RETRY_BASE_SECONDS", 60, 1, 86_400),
  DOMAIN_RETRY_MAX_SECONDS: int("DOMAIN_RETRY_MAX_SECONDS", 3600, 1, 7 * 86_400),
  BOOTSTRAP_ADMIN_EMAIL: optionalString.refine((v) => v === undefined || z.email().safeParse(v).success, {
    message: "BOOTSTRAP_ADMIN_EMAIL must be an email address",
  }),
  BOOTSTRAP_ADMIN_NAME: optionalString,
  BOOTSTRAP_ADMIN_API_KEY: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: "BOOTSTRAP_ADMIN_API_KEY must be at least 16 characters",
  }),
  WEB_APP_ORIGIN: optionalString,
  WEB_APP_ORIGINS: optionalString,
  SESSION_IDLE_MINUTES: int("SESSION_IDLE_MINUTES", 24 * 60, 5, 30 * 24 * 60),
  AUTH_CACHE_SECONDS: int("AUTH_CACHE_SECONDS", 30, 0, 30),
  SESSION_MAX_AGE_HOURS: int("SESSION_MAX_AGE_HOURS", 7 * 24, 1, 90 * 24),
  // Capacity and retention (src/messages/store.ts, src/messages/capacity.ts).
  MESSAGE_RETENTION_DAYS: int("MESSAGE_RETENTION_DAYS", 30, 0, 36_500),
  MAX_MESSAGES_PER_MAILBOX: int("MAX_MESSAGES_PER_MAILBOX", 1000, 1, 10_000_000),
  D1_CAPACITY_BYTES: int("D1_CAPACITY_BYTES", 500_000_000, 1, Number.MAX_SAFE_INTEGER),
  // 0: parse every message in email(). On the Workers Free plan (10 ms CPU per invocation) set
  // it to about 512 KiB: larger mail is stored raw with its headers and parsed on first read.
  PARSE_INLINE_MAX_BYTES: int("PARSE_INLINE_MAX_BYTES", 0, 0, 25 * 1024 * 1024),
  // Webhooks (src/webhooks/).
  WEBHOOK_SECRET_KEY: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: "WEBHOOK_SECRET_KEY must be at least 16 characters",
  }),
  WEBHOOK_ALLOW_HTTP: bool("WEBHOOK_ALLOW_HTTP"),
  WEBHOOKS_PER_USER: int("WEBHOOKS_PER_USER", 10, 0, 10_000),
  WEBHOOKS_PER_DEPLOYMENT: int("WEBHOOKS_PER_DEPLOYMENT", 100, 0, 100_000),
});

export interface Config {
  appEnv: string;
  production: boolean;
  /** Key for session signatures. Falls back to a per-isolate random key when unset (sessions then
   *  survive only as long as the isolate); production requires it. */
  sessionSecret: string | undefined;
  managementEnabled: boolean;
  /** The runtime token: CLOUDFLARE_RUNTIME_API_TOKEN wins over the shared CLOUDFLARE_API_TOKEN. */
  cloudflareToken: string | undefined;
  cloudflareTokenSource: "runtime" | "shared" | null;
  accountId: string | undefined;
  apiBaseUrl: string;
  apiTimeoutMs: number;
  emailWorkerName: string | undefined;
  defaultMailboxTtlMinutes: number;
  /** Per-member limits (admins are exempt): live mailboxes, creations per minute, longest TTL
   *  (null = no cap, and only then may a member ask for an unlimited mailbox). */
  memberMaxActiveMailboxes: number;
  memberMailboxCreatesPerMinute: number;
  memberMaxTtlMinutes: number | null;
  /** Lifetime of a mailbox materialised by catch-all, and how many may be live per domain. */
  catchAllMailboxTtlMinutes: number;
  catchAllMaxMailboxes: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  bootstrapAdmin: { email: string; name: string; apiKey: string } | null;
  allowedOrigins: string[];
  /** How long an isolate may reuse an API-key lookup (0: never); the staleness bound elsewhere. */
  authCacheSeconds: number;
  /** A session unused for this long is refused (and must sign in again). */
  sessionIdleMinutes: number;
  /** A session ends this long after sign-in, however active. */
  sessionMaxAgeHours: number;
  /** Messages older than this many days are deleted, in any mailbox (null = kept until the mailbox goes). */
  messageRetentionDays: number | null;
  /** A mailbox keeps at most this many messages: the cron deletes the oldest beyond it. */
  maxMessagesPerMailbox: number;
  /** The D1 database size the pressure stages are measured against (the plan's limit). */
  d1CapacityBytes: number;
  /** Mail larger than this is stored with its headers only and parsed on first read (0: never deferred). */
  parseInlineMaxBytes: number;
  /** Webhooks: the key their signing secrets are encrypted with (WEBHOOK_SECRET_KEY, else
   *  SESSION_SECRET), whether http:// and private addresses are allowed, and the hook limits. */
  webhookSecretKey: string | undefined;
  webhookAllowHttp: boolean;
  webhooksPerUser: number;
  webhooksPerDeployment: number;
}

const cache = new WeakMap<object, Config>();

export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const variables = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))];
    throw new ApiError(500, "Invalid configuration", {
      code: "invalid_configuration",
      variables,
      messages: parsed.error.issues.map((i) => i.message),
      hint: `Fix ${variables.join(", ")} in wrangler.toml [vars], .dev.vars or the Worker's settings.`,
    });
  }
  const e = parsed.data;
  const origins = [e.WEB_APP_ORIGIN, ...(e.WEB_APP_ORIGINS?.split(",") ?? [])]
    .map((o) => (o ? parseOrigin(o) : null))
    .filter((o): o is string => o !== null);
  const config: Config = {
    appEnv: e.APP_ENV,
    production: e.APP_ENV === "production",
    sessionSecret: e.SESSION_SECRET,
    managementEnabled: e.EMAIL_ROUTING_MANAGEMENT_ENABLED,
    cloudflareToken: e.CLOUDFLARE_RUNTIME_API_TOKEN ?? e.CLOUDFLARE_API_TOKEN,
    cloudflareTokenSource: e.CLOUDFLARE_RUNTIME_API_TOKEN ? "runtime" : e.CLOUDFLARE_API_TOKEN ? "shared" : null,
    accountId: e.CLOUDFLARE_ACCOUNT_ID,
    apiBaseUrl: (e.CLOUDFLARE_API_BASE_URL ?? "https://api.cloudflare.com/client/v4").replace(/\/+$/, ""),
    apiTimeoutMs: e.CLOUDFLARE_API_TIMEOUT_MS,
    emailWorkerName: e.EMAIL_WORKER_NAME,
    defaultMailboxTtlMinutes: e.DEFAULT_MAILBOX_TTL_MINUTES,
    memberMaxActiveMailboxes: e.MEMBER_MAX_ACTIVE_MAILBOXES,
    memberMailboxCreatesPerMinute: e.MEMBER_MAILBOX_CREATES_PER_MINUTE,
    memberMaxTtlMinutes: e.MEMBER_MAX_TTL_MINUTES === 0 ? null : e.MEMBER_MAX_TTL_MINUTES,
    catchAllMailboxTtlMinutes: e.CATCH_ALL_MAILBOX_TTL_MINUTES || e.DEFAULT_MAILBOX_TTL_MINUTES,
    catchAllMaxMailboxes: e.CATCH_ALL_MAX_MAILBOXES,
    retryBaseSeconds: e.DOMAIN_RETRY_BASE_SECONDS,
    retryMaxSeconds: Math.max(e.DOMAIN_RETRY_MAX_SECONDS, e.DOMAIN_RETRY_BASE_SECONDS),
    bootstrapAdmin:
      e.BOOTSTRAP_ADMIN_EMAIL && e.BOOTSTRAP_ADMIN_API_KEY
        ? { email: e.BOOTSTRAP_ADMIN_EMAIL.toLowerCase(), name: e.BOOTSTRAP_ADMIN_NAME ?? "Owner", apiKey: e.BOOTSTRAP_ADMIN_API_KEY }
        : null,
    allowedOrigins: [...new Set(origins)],
    authCacheSeconds: e.AUTH_CACHE_SECONDS,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    sessionMaxAgeHours: e.SESSION_MAX_AGE_HOURS,
    messageRetentionDays: e.MESSAGE_RETENTION_DAYS === 0 ? null : e.MESSAGE_RETENTION_DAYS,
    maxMessagesPerMailbox: e.MAX_MESSAGES_PER_MAILBOX,
    d1CapacityBytes: e.D1_CAPACITY_BYTES,
    parseInlineMaxBytes: e.PARSE_INLINE_MAX_BYTES,
    webhookSecretKey: e.WEBHOOK_SECRET_KEY ?? e.SESSION_SECRET,
    webhookAllowHttp: e.WEBHOOK_ALLOW_HTTP,
    webhooksPerUser: e.WEBHOOKS_PER_USER,
    webhooksPerDeployment: e.WEBHOOKS_PER_DEPLOYMENT,
  };
  cache.set(env, config);
  return config;
}

/** Flags of GET /api/meta (reference §3). */
export function capabilityFlags(config: Config) {
  const lifecycle = config.managementEnabled && Boolean(config.cloudflareToken);
  return {
    cloudflareDomainLifecycleEnabled: lifecycle,
    cloudflareDomainBindingEnabled: lifecycle && Boolean(config.accountId),
    cloudflareCatchAllManagementEnabled: lifecycle,
    cloudflareCatchAllEnablementEnabled: lifecycle && Boolean(config.emailWorkerName),
  };
}
