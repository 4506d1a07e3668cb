import type { MailboxDTO } from "../api/dto";
import type { AuthContext } from "../auth/authenticate";

export type MailboxStatus = "active" | "expired" | "destroying" | "destroyed";

export interface MailboxRow {
  id: string;
  user_id: string;
  domain_id: string;
  local_part: string;
  subdomain: string;
  root_domain: string;
  address: string;
  source: "registered" | "catch_all";
  routing_rule_id: string | null;
  status: "creating" | MailboxStatus;
  created_at: string;
  expires_at: string | null;
  destroyed_at: string | null;
  last_received_at: string | null;
  cleanup_next_attempt_at: string | null;
  cleanup_attempts: number;
  cleanup_last_error: string | null;
}

/** The response shape is defined once, as a zod schema, in src/api/dto.ts. */
export type { MailboxDTO };

/** An `active` mailbox whose time has passed reads as `expired` before the cron writes it. */
export function effectiveStatus(row: Pick<MailboxRow, "status" | "expires_at">, now = new Date().toISOString()): MailboxStatus {
  if (row.status === "creating") return "destroying";
  if (row.status === "active" && row.expires_at !== null && row.expires_at <= now) return "expired";
  return row.status;
}

export function toMailboxDTO(row: MailboxRow, now?: string): MailboxDTO {
  return {
    id: row.id,
    userId: row.user_id,
    localPart: row.local_part,
    subdomain: row.subdomain,
    mailDomain: row.root_domain,
    rootDomain: row.root_domain,
    address: row.address,
    source: row.source,
    status: effectiveStatus(row, now),
    createdAt: row.created_at,
    lastReceivedAt: row.last_received_at,
    expiresAt: row.expires_at,
    destroyedAt: row.destroyed_at,
    routingRuleId: row.routing_rule_id,
  };
}

/** SQL for the effective status (see `effectiveStatus`); `nowParam` is the placeholder bound to now. */
export const effectiveStatusSql = (nowParam: string) =>
  `CASE WHEN status = 'active' AND expires_at IS NOT NULL AND expires_at <= ${nowParam} THEN 'expired' WHEN status = 'creating' THEN 'destroying' ELSE status END`;

/** SQL counting a domain's live catch-all mailboxes (the ones CATCH_ALL_MAX_MAILBOXES caps). */
export const liveCatchAllSql = (domainId: string, now: string) =>
  `SELECT COUNT(*) FROM mailboxes WHERE domain_id = ${domainId} AND source = 'catch_all' AND status = 'active' AND (expires_at IS NULL OR expires_at > ${now})`;

export const canSee = (auth: AuthContext, row: { user_id: string }) => auth.user.role === "admin" || row.user_id === auth.user.id;

export async function getMailbox(db: D1Database, id: string): Promise<MailboxRow | null> {
  return db.prepare("SELECT * FROM mailboxes WHERE id = ?").bind(id).first<MailboxRow>();
}

/** The live (not destroyed) row holding an address, if any. */
export async function liveMailboxByAddress(db: D1Database, address: string): Promise<MailboxRow | null> {
  return db.prepare("SELECT * FROM mailboxes WHERE address = ? AND status <> 'destroyed'").bind(address).first<MailboxRow>();
}
