import { z } from "zod";

/**
 * The API's response shapes, defined once as zod schemas: the TypeScript types the code returns
 * are inferred from them (DomainDTO, MailboxDTO, …) and the OpenAPI document is generated from
 * them (src/api/openapi.ts). Objects are strict in the document (no undocumented fields), so the
 * contract test fails when a response grows a field that is not here.
 */

const iso = z.string().describe("ISO 8601 timestamp (UTC)");
const isoOrNull = iso.nullable();

export const ErrorEnvelope = z
  .object({
    error: z.string().describe("Human-readable message (English); stable per failure"),
    details: z
      .union([
        z
          .looseObject({
            code: z.string().optional().describe("Stable machine-readable code, e.g. mailbox_quota_exceeded"),
            hint: z.string().optional().describe("One-line fix"),
          })
          .describe("Failure details; validation failures carry formErrors and fieldErrors"),
        z.null(),
      ])
      .describe("Failure details, or null"),
  })
  .meta({ id: "Error" });

export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(["admin", "member"]),
    disabled: z.boolean(),
    disabledAt: isoOrNull,
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "User" });

export const PublicUser = z.object({ id: z.string(), email: z.string(), name: z.string(), role: z.enum(["admin", "member"]) }).meta({ id: "PublicUser" });

export const ApiKeyRecord = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe("First 10 characters of the key, for recognising it"),
    scopes: z.array(z.string()),
    createdAt: iso,
    lastUsedAt: isoOrNull,
    revokedAt: isoOrNull,
  })
  .meta({ id: "ApiKeyRecord" });

export const NewApiKey = z
  .object({ apiKey: z.string().describe("The secret key: shown once, never again"), apiKeyRecord: ApiKeyRecord })
  .meta({ id: "NewApiKey" });

export const DomainStatus = z.enum(["pending", "provisioning_error", "active", "disabled", "deleted"]);

export const Domain = z
  .object({
    id: z.string(),
    mailDomain: z.string(),
    rootDomain: z.string(),
    zoneId: z.string().nullable(),
    bindingSource: z.enum(["catalog", "project_bind"]),
    status: DomainStatus,
    catchAllEnabled: z.boolean(),
    nameServers: z.array(z.string()),
    cloudflareStatus: z.string().nullable(),
    lastProvisionError: z.string().nullable(),
    lastProvisionErrorCode: z.string().nullable(),
    lastProvisionErrorHint: z.string().nullable(),
    nextRetryAt: isoOrNull,
    retryCount: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
    lastProvisionedAt: isoOrNull,
    disabledAt: isoOrNull,
  })
  .meta({ id: "Domain" });
export type DomainDTO = z.infer<typeof Domain>;

export const CatalogItem = z
  .object({
    id: z.string().nullable(),
    mailDomain: z.string(),
    rootDomain: z.string(),
    zoneId: z.string().nullable(),
    bindingSource: z.enum(["catalog", "project_bind"]).nullable(),
    cloudflareAvailability: z.enum(["available", "missing"]),
    cloudflareStatus: z.string().nullable(),
    nameServers: z.array(z.string()),
    projectStatus: z.string(),
    catchAllEnabled: z.boolean(),
    lastProvisionError: z.string().nullable(),
    lastProvisionErrorCode: z.string().nullable(),
    lastProvisionErrorHint: z.string().nullable(),
    nextRetryAt: isoOrNull,
    createdAt: isoOrNull,
    updatedAt: isoOrNull,
    lastProvisionedAt: isoOrNull,
    disabledAt: isoOrNull,
  })
  .meta({ id: "CatalogItem" });
export type CatalogItemDTO = z.infer<typeof CatalogItem>;

export const Catalog = z
  .object({
    domains: z.array(CatalogItem),
    cloudflareSync: z.object({
      status: z.enum(["live", "disabled", "rate_limited"]),
      retryAfter: isoOrNull,
      retryAfterSeconds: z.number().int().nullable(),
      syncedAt: isoOrNull.describe("When Cloudflare's zone list was last read (cached for 60 s); null: never"),
    }),
    nextCursor: z.string().nullable(),
    total: z.number().int().describe("Domains in the whole catalog (all pages)"),
  })
  .meta({ id: "Catalog" });

export const MailboxStatus = z.enum(["active", "expired", "destroying", "destroyed"]);
export const Mailbox = z
  .object({
    id: z.string(),
    userId: z.string(),
    localPart: z.string(),
    subdomain: z.string(),
    mailDomain: z.string(),
    rootDomain: z.string(),
    address: z.string(),
    source: z.enum(["registered", "catch_all"]),
    status: MailboxStatus,
    createdAt: iso,
    lastReceivedAt: isoOrNull,
    expiresAt: isoOrNull.describe("null: never expires"),
    destroyedAt: isoOrNull,
    routingRuleId: z.string().nullable(),
    owner: z.object({ id: z.string(), email: z.string() }).optional().describe("The owning user (admins only)"),
  })
  .meta({ id: "Mailbox" });
export type MailboxDTO = z.infer<typeof Mailbox>;

export const Verification = z
  .object({
    code: z.string().nullable().describe("The verification code (one-time password), or null"),
    link: z.string().nullable().optional().describe("The primary sign-in, confirm, verify or reset link, or null"),
    source: z.string().nullable().describe("Where it was found: subject, text or html"),
    method: z.string(),
    confidence: z.number().min(0).max(1).optional().describe("0–1; callers may set their own threshold"),
  })
  .meta({ id: "Verification" });

export const MessageSummary = z
  .object({
    id: z.string(),
    mailboxId: z.string(),
    mailboxAddress: z.string(),
    subject: z.string(),
    previewText: z.string(),
    fromName: z.string().nullable(),
    fromAddress: z.string().nullable(),
    receivedAt: iso,
    sizeBytes: z.number().int(),
    attachmentCount: z.number().int(),
    hasHtml: z.boolean(),
    parseStatus: z.string(),
    verification: Verification.nullable(),
    seen: z.boolean().describe("Marked seen (PATCH /api/messages/{id}); reading a message does not mark it"),
  })
  .meta({ id: "MessageSummary" });
export type MessageSummaryDTO = z.infer<typeof MessageSummary>;

const Person = z.object({ name: z.string().nullable(), address: z.string() });
export const MessageDetail = MessageSummary.extend({
  envelopeFrom: z.string().nullable(),
  envelopeTo: z.string(),
  messageId: z.string().nullable().describe("The Message-ID header"),
  dateHeader: z.string().nullable(),
  parseError: z.string().nullable(),
  text: z.string().nullable(),
  html: z.string().nullable().describe("Untrusted HTML: render only in a sandbox"),
  headers: z.array(z.object({ key: z.string(), value: z.string() })),
  recipients: z.object({ to: z.array(Person), cc: z.array(Person), bcc: z.array(Person), replyTo: z.array(Person) }),
  attachments: z.array(
    z.object({
      id: z.string(),
      filename: z.string().nullable(),
      contentType: z.string(),
      sizeBytes: z.number().int(),
      contentId: z.string().nullable(),
      disposition: z.string(),
      downloadPath: z.string(),
    }),
  ),
  rawDownloadPath: z.string(),
}).meta({ id: "MessageDetail" });

export const Meta = z
  .object({
    domains: z.array(z.string()).describe("Active mail domains"),
    cloudflareDomainLifecycleEnabled: z.boolean(),
    cloudflareDomainBindingEnabled: z.boolean(),
    cloudflareCatchAllManagementEnabled: z.boolean(),
    cloudflareCatchAllEnablementEnabled: z.boolean(),
    supportsUnlimitedMailboxTtl: z.boolean(),
    defaultMailboxTtlMinutes: z.number().int(),
    minMailboxTtlMinutes: z.number().int(),
    maxMailboxTtlMinutes: z.number().int(),
    memberMaxMailboxTtlMinutes: z.number().int().nullable(),
    addressRules: z.object({
      format: z.string(),
      localPartPattern: z.string(),
      subdomainPattern: z.string(),
      examples: z.array(z.string()),
    }),
  })
  .meta({ id: "Meta" });

export const SetupReport = z
  .object({
    ok: z.boolean(),
    summary: z.object({ ok: z.number().int(), missing: z.number().int(), failing: z.number().int(), skipped: z.number().int() }),
    checks: z.array(
      z.object({
        id: z.string(),
        label: z.string(),
        status: z.enum(["ok", "missing", "failing", "skipped"]),
        detail: z.string(),
        error: z.object({ status: z.number().int(), code: z.number().int().nullable(), message: z.string() }).nullable(),
        fix: z.string().nullable(),
        docs: z.string(),
      }),
    ),
    warnings: z.array(z.object({ id: z.string(), rootDomain: z.string().nullable(), detail: z.string(), fix: z.string() })),
  })
  .meta({ id: "SetupReport" });

const Growth = z
  .object({
    d1Bytes: z.number().int().describe("change of the D1 database size"),
    r2Bytes: z.number().int(),
    messages: z.number().int(),
    since: z.string().describe("the snapshot compared with (ISO-8601, the start of its hour)"),
  })
  .nullable();

export const CapacityReport = z
  .object({
    stage: z
      .enum(["normal", "r2_bodies", "full"])
      .describe("normal < 80 % of D1_CAPACITY_BYTES ≤ r2_bodies (new parsed bodies go to R2 only) < 100 % ≤ full (inbound mail is refused with a temporary failure)"),
    d1: z.object({
      bytes: z.number().int().nullable().describe("D1's own size figure (meta.size_after); null if D1 did not report it"),
      capacityBytes: z.number().int().describe("D1_CAPACITY_BYTES"),
      usedRatio: z.number().nullable().describe("bytes / capacityBytes"),
    }),
    r2: z.object({ bytes: z.number().int(), objects: z.number().int() }).describe("running totals of what KaisouMail put in R2 (raw messages, parsed bodies, kept attachments)"),
    messages: z.number().int(),
    largestMailboxes: z
      .array(z.object({ id: z.string(), address: z.string(), status: z.string(), messageCount: z.number().int(), storedBytes: z.number().int() }))
      .describe("top 10 live mailboxes by R2 bytes"),
    growth: z.object({ last24h: Growth, last7d: Growth }).describe("from hourly snapshots written by the cron; null before the first one"),
    daysUntilFull: z.number().nullable().describe("at the D1 growth rate of the longest window; null when not growing"),
    retention: z.object({ messageRetentionDays: z.number().int().nullable(), maxMessagesPerMailbox: z.number().int() }),
  })
  .meta({ id: "CapacityReport" });

/** Responses that are not JSON. */
export const BINARY = "binary" as const;
export const EVENT_STREAM = "event-stream" as const;

export const WebhookFilter = z
  .object({
    hasCode: z.boolean().optional().describe("true: only messages with a verification code or link; false: only those without"),
    fromContains: z.string().optional().describe("Case-insensitive substring of the sender's address or name"),
    subjectContains: z.string().optional().describe("Case-insensitive substring of the subject"),
  })
  .meta({ id: "WebhookFilter" });

export const Webhook = z
  .object({
    id: z.string(),
    userId: z.string(),
    scope: z.enum(["user", "deployment"]).describe("user: the owner's mailboxes; deployment (admins only): every mailbox"),
    url: z.string(),
    description: z.string(),
    mailbox: z.string().nullable().describe("Only this mailbox's mail, or null for all"),
    filter: WebhookFilter,
    enabled: z.boolean(),
    disabledReason: z.string().nullable().describe("Why deliveries stopped (410 Gone, 24 h of failures, or disabled by the owner)"),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "Webhook" });
export type WebhookDTO = z.infer<typeof Webhook>;

export const NewWebhookSecret = z
  .object({
    webhook: Webhook,
    secret: z.string().describe("The signing secret (whsec_…): shown once, never again"),
  })
  .meta({ id: "NewWebhookSecret" });

export const WebhookAttempt = z
  .object({
    at: iso,
    statusCode: z.number().int().nullable().describe("The endpoint's HTTP status, or null (timeout, network error)"),
    durationMs: z.number().int(),
    error: z.string().nullable(),
  })
  .meta({ id: "WebhookAttempt" });

export const WebhookDelivery = z
  .object({
    id: z.string().describe("The webhook-id header: the same on every retry"),
    webhookId: z.string(),
    eventType: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attemptCount: z.number().int(),
    attempts: z.array(WebhookAttempt).describe("The latest attempts (at most 20), oldest first"),
    nextAttemptAt: isoOrNull.describe("When the next retry is due (pending only)"),
    createdAt: iso,
    deliveredAt: isoOrNull,
  })
  .meta({ id: "WebhookDelivery" });
export type WebhookDeliveryDTO = z.infer<typeof WebhookDelivery>;
