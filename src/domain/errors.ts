/**
 * Turning a Cloudflare failure into something an operator can act on: the message the seeds use,
 * a stable machine-readable code and a one-line fix. Pure; shared by the machine and the routes.
 */
export interface FailureInput {
  status: number;
  code: number | null;
  message: string;
  retryable: boolean;
  retryAfterSeconds: number | null;
}

export interface DomainError {
  status: number; // HTTP status to answer with
  message: string;
  code: string;
  hint: string;
  retryable: boolean;
  cloudflareCode: number | null;
}

export type OpKind =
  | "create_zone"
  | "find_zone"
  | "check_zone"
  | "enable_routing"
  | "delete_zone"
  | "read_catch_all"
  | "write_catch_all"
  | "restore_rules"
  | "restore_catch_all";

export const HINTS = {
  zone_create_permission:
    'Give the runtime token account-scoped "Zone: Zone: Edit" for this account (README: Token permissions), then bind again.',
  authentication_error:
    'The runtime token lacks a permission for this call: add "Zone: Zone Settings: Edit" and "Zone: Email Routing Rules: Edit" and cover this zone, then click Retry.',
  email_routing_permission:
    'Add "Zone: Zone Settings: Edit" and "Zone: Email Routing Rules: Edit" to the runtime token for this zone, then click Retry.',
  zone_pending:
    "Copy the two Cloudflare nameservers into your registrar; KaisouMail re-checks automatically and enables Email Routing once the zone is active.",
  zone_not_activated:
    "The nameservers were never delegated. Update them at your registrar, then click Retry (or bind again).",
  zone_exists:
    "The zone already exists in Cloudflare: enable it from the domain catalog instead of binding it.",
  zone_not_visible:
    "The runtime token cannot see this zone: check the token's zone resources, or whether the zone was deleted in Cloudflare.",
  zone_not_active: "The zone is not active in Cloudflare any more: fix it in the Cloudflare dashboard, then click Retry.",
  rate_limited: "Cloudflare is rate limiting this account; KaisouMail holds its calls and retries automatically.",
  cloudflare_unavailable: "Cloudflare did not answer correctly; KaisouMail retries automatically.",
  cloudflare_error: "Read Cloudflare's message above, fix the cause in Cloudflare or the token, then click Retry.",
  domain_not_in_catalog: "Pick the zone from GET /api/domains/catalog: its name and id must match a zone the token can see.",
  routing_rule_limit: "Cloudflare allows 200 routing rules per zone: enable catch-all on this domain to receive mail for any address without per-address rules.",
} as const;

export function isNotFound(f: FailureInput): boolean {
  return f.status === 404 || (f.status === 403 && f.code === 9109);
}

export function isPendingFailure(f: FailureInput): boolean {
  if (f.status === 401 || f.status === 403 || f.status >= 500) return false;
  return /pending|activat|delegat|name ?server/i.test(f.message);
}

/** Classifies a Cloudflare failure of one operation. */
export function classifyFailure(op: OpKind, f: FailureInput): DomainError {
  const base = { cloudflareCode: f.code, retryable: f.retryable };
  if (f.status === 429) {
    return { ...base, status: 429, message: f.message || "Cloudflare API rate limit reached; retry later", code: "rate_limited", hint: HINTS.rate_limited, retryable: true };
  }
  if (f.retryable) {
    return { ...base, status: 503, message: f.message, code: "cloudflare_unavailable", hint: HINTS.cloudflare_unavailable, retryable: true };
  }
  if (op === "create_zone" && (f.code === 0 || /com\.cloudflare\.api\.account\.zone\.create/.test(f.message))) {
    return { ...base, status: f.status, message: f.message, code: "zone_create_permission", hint: HINTS.zone_create_permission };
  }
  if (op === "create_zone" && (f.code === 1061 || /already exists/i.test(f.message))) {
    return { ...base, status: 409, message: f.message, code: "zone_exists", hint: HINTS.zone_exists };
  }
  if (isPendingFailure(f)) {
    return { ...base, status: 409, message: f.message, code: "zone_pending", hint: HINTS.zone_pending, retryable: true };
  }
  if (f.status === 403 && f.code === 9109) {
    return { ...base, status: 403, message: f.message, code: "zone_not_visible", hint: HINTS.zone_not_visible };
  }
  if (f.status === 401 || f.status === 403) {
    const routing =
      !(f.code === 10000 || /authentication error/i.test(f.message)) &&
      (op === "enable_routing" || op.includes("catch_all") || op === "restore_rules");
    return {
      ...base,
      status: f.status,
      message: f.message,
      code: routing ? "email_routing_permission" : "authentication_error",
      hint: routing ? HINTS.email_routing_permission : HINTS.authentication_error,
    };
  }
  return { ...base, status: f.status >= 400 && f.status < 500 ? f.status : 502, message: f.message, code: "cloudflare_error", hint: HINTS.cloudflare_error };
}
