import type { AuthContext } from "../auth/authenticate";
import type { Config } from "../config";
import { domainFailure } from "../domain/object";
import { domainStub } from "../domain/stub";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { newId, nowIso } from "../lib/http";
import { log } from "../lib/log";
import { buildAddress, parseAddress } from "./address";
import { MAX_ATTEMPTS, randomLocalPart, randomSubdomain } from "./generator";
import { canSee, getMailbox, liveMailboxByAddress, toMailboxDTO, type MailboxDTO, type MailboxRow } from "./repo";

export const MIN_TTL = 60;
export const MAX_TTL = 525_600;
/** Expired mailboxes are kept this long for recovery before the cron destroys them. */
export const EXPIRED_GRACE_MS = 24 * 60 * 60 * 1000;

interface ActiveDomain {
  id: string;
  root_domain: string;
}

export async function activeDomains(db: D1Database): Promise<ActiveDomain[]> {
  const { results } = await db.prepare("SELECT id, root_domain FROM domains WHERE status = 'active' ORDER BY root_domain").all<ActiveDomain>();
  return results;
}

async function chooseDomain(db: D1Database, requested: string | undefined): Promise<ActiveDomain> {
  if (requested) {
    const row = await db.prepare("SELECT id, root_domain FROM domains WHERE root_domain = ? AND status = 'active'").bind(requested).first<ActiveDomain>();
    if (!row) {
      throw new ApiError(400, "Mailbox domain is not enabled", {
        code: "domain_not_enabled",
        rootDomain: requested,
        hint: "Use one of the active domains listed by GET /api/meta.",
      });
    }
    return row;
  }
  const all = await activeDomains(db);
  if (all.length === 0) {
    throw new ApiError(400, "No mailbox domains are enabled", { code: "no_active_domains", hint: "An admin must bind a domain first." });
  }
  return all[Math.floor(Math.random() * all.length)]!;
}

/** `undefined` → default TTL; `null` → unlimited; minutes → absolute expiry. */
export function expiryFor(minutes: number | null | undefined, config: Config, now = Date.now()): string | null {
  if (minutes === null) return null;
  return new Date(now + (minutes ?? config.defaultMailboxTtlMinutes) * 60_000).toISOString();
}

/** The later of two expiries, where null (unlimited) beats everything. */
export function laterExpiry(a: string | null, b: string | null): string | null {
  if (a === null || b === null) return null;
  return a >= b ? a : b;
}

export interface CreateInput {
  localPart?: string;
  subdomain?: string;
  domain?: string;
  expiresInMinutes?: number | null;
}

export class MailboxService {
  constructor(
    private readonly env: Env,
    private readonly config: Config,
  ) {}
  private get db() {
    return this.env.DB;
  }

  async create(auth: AuthContext, input: CreateInput): Promise<MailboxDTO> {
    const domain = await chooseDomain(this.db, input.domain);
    const expiresAt = expiryFor(input.expiresInMinutes, this.config);
    const chosen = input.localPart !== undefined && input.subdomain !== undefined;
    if (chosen) await this.assertAddressFree(auth, buildAddress(input.localPart!, input.subdomain!, domain.root_domain));

    for (let attempt = 0; attempt < (chosen ? 1 : MAX_ATTEMPTS); attempt++) {
      const localPart = input.localPart ?? randomLocalPart(Math.random, attempt);
      const subdomain = input.subdomain ?? randomSubdomain(Math.random, attempt);
      const address = buildAddress(localPart, subdomain, domain.root_domain);
      const id = newId("mbx");
      const inserted = await this.insertPlaceholder({ id, userId: auth.user.id, domain, localPart, subdomain, address, expiresAt, source: "registered" });
      if (!inserted) {
        if (chosen) await this.assertAddressFree(auth, address);
        continue; // generated address taken: try another
      }
      const result = await domainStub(this.env, domain.root_domain).provisionMailbox(domain.root_domain, id);
      if ("error" in result) {
        await this.db.prepare("DELETE FROM mailboxes WHERE id = ? AND status = 'creating'").bind(id).run();
        throw domainFailure(result);
      }
      return toMailboxDTO((await getMailbox(this.db, id))!);
    }
    throw new ApiError(409, "Could not find a free random address", { code: "address_space_exhausted", hint: "Pass localPart and subdomain explicitly." });
  }

  /** 409 with the visible mailbox (so the page can offer a TTL extension), or without details. */
  private async assertAddressFree(auth: AuthContext, address: string): Promise<void> {
    const existing = await liveMailboxByAddress(this.db, address);
    if (!existing) return;
    const dto = toMailboxDTO(existing);
    if (canSee(auth, existing) && (dto.status === "active" || dto.status === "expired")) {
      throw new ApiError(409, "Mailbox already exists", { code: "mailbox_exists", mailbox: dto });
    }
    throw new ApiError(409, "Mailbox already exists", { code: "mailbox_exists" });
  }

  private async insertPlaceholder(m: {
    id: string;
    userId: string;
    domain: ActiveDomain;
    localPart: string;
    subdomain: string;
    address: string;
    expiresAt: string | null;
    source: "registered" | "catch_all";
  }): Promise<boolean> {
    try {
      // Guarded by the domain still being active; the partial unique index refuses live duplicates.
      const res = await this.db
        .prepare(
          `INSERT INTO mailboxes (id, user_id, domain_id, local_part, subdomain, root_domain, address, source, status, created_at, expires_at)
           SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'creating', ?9, ?10 WHERE EXISTS (SELECT 1 FROM domains WHERE id = ?3 AND status = 'active')`,
        )
        .bind(m.id, m.userId, m.domain.id, m.localPart, m.subdomain, m.domain.root_domain, m.address, m.source, nowIso(), m.expiresAt)
        .run();
      if (res.meta.changes === 0) {
        throw new ApiError(409, "Mailbox domain is no longer available", { code: "domain_not_active", rootDomain: m.domain.root_domain });
      }
      return true;
    } catch (e) {
      if (String(e).includes("UNIQUE")) return false;
      throw e;
    }
  }

  /** Idempotent create: 201 when created, 200 when an existing visible mailbox was reused. */
  async ensure(
    auth: AuthContext,
    input: { address?: string; localPart?: string; subdomain?: string; domain?: string; expiresInMinutes?: number | null },
  ): Promise<{ mailbox: MailboxDTO; created: boolean }> {
    let localPart: string;
    let subdomain: string;
    let root: string | undefined;
    if (input.address !== undefined) {
      const roots = (await activeDomains(this.db)).map((d) => d.root_domain);
      const parsed = parseAddress(input.address, roots);
      if (!parsed) {
        throw new ApiError(400, "Invalid mailbox address", {
          code: "invalid_address",
          address: input.address,
          activeRootDomains: roots,
          hint: "Addresses look like name@subdomain.<active domain>.",
        });
      }
      ({ localPart, subdomain, rootDomain: root } = parsed);
    } else {
      localPart = input.localPart!;
      subdomain = input.subdomain!;
      root = input.domain ?? (await chooseDomain(this.db, undefined)).root_domain;
    }
    const address = buildAddress(localPart, subdomain, root!);
    const existing = await liveMailboxByAddress(this.db, address);
    if (existing) {
      const status = toMailboxDTO(existing).status;
      if (!canSee(auth, existing) || (status !== "active" && status !== "expired")) {
        throw new ApiError(409, "Mailbox already exists", { code: "mailbox_exists" });
      }
      const wanted = expiryFor(input.expiresInMinutes, this.config);
      const merged = laterExpiry(existing.expires_at, wanted);
      if (existing.source === "catch_all") {
        const result = await domainStub(this.env, existing.root_domain).provisionMailbox(existing.root_domain, existing.id, {
          promote: true,
          expiresAt: merged,
        });
        if ("error" in result) throw domainFailure(result);
        return { mailbox: toMailboxDTO((await getMailbox(this.db, existing.id))!), created: false };
      }
      if (merged !== existing.expires_at) {
        const revived = merged === null || merged > nowIso();
        await this.db
          .prepare("UPDATE mailboxes SET expires_at = ?2, status = CASE WHEN ?3 = 1 AND status IN ('active','expired') THEN 'active' ELSE status END WHERE id = ?1")
          .bind(existing.id, merged, revived ? 1 : 0)
          .run();
      }
      return { mailbox: toMailboxDTO((await getMailbox(this.db, existing.id))!), created: false };
    }
    const mailbox = await this.create(auth, { localPart, subdomain, domain: root, expiresInMinutes: input.expiresInMinutes });
    return { mailbox, created: true };
  }

  /**
   * Deletes the rule, the mail in R2 and its rows, then marks the mailbox destroyed. On failure
   * the row stays `destroying` with a backoff, and the cron finishes the job.
   */
  async destroy(row: MailboxRow): Promise<MailboxDTO> {
    if (row.status === "destroyed") return toMailboxDTO(row);
    await this.db.prepare("UPDATE mailboxes SET status = 'destroying' WHERE id = ? AND status <> 'destroyed'").bind(row.id).run();
    try {
      // The rule as recorded now: turning catch-all off may have given the mailbox one since `row`
      // was read (from here on it cannot: only live mailboxes get restored rules).
      const ruleId = (await this.db.prepare("SELECT routing_rule_id FROM mailboxes WHERE id = ?").bind(row.id).first<string | null>("routing_rule_id")) ?? null;
      if (ruleId) {
        const result = await domainStub(this.env, row.root_domain).removeMailboxRule(row.root_domain, ruleId);
        if ("error" in result) throw domainFailure(result);
        await this.db.prepare("UPDATE mailboxes SET routing_rule_id = NULL WHERE id = ?").bind(row.id).run();
      }
      await purgeMailboxMail(this.env, row.id);
      await this.db
        .prepare("UPDATE mailboxes SET status = 'destroyed', destroyed_at = ?2, routing_rule_id = NULL, cleanup_next_attempt_at = NULL, cleanup_last_error = NULL, cleanup_attempts = 0 WHERE id = ?1")
        .bind(row.id, nowIso())
        .run();
    } catch (e) {
      const attempts = (row.cleanup_attempts ?? 0) + 1;
      const delay = Math.min(6 * 3600_000, 5 * 60_000 * 2 ** (attempts - 1));
      const message = e instanceof Error ? e.message : String(e);
      await this.db
        .prepare("UPDATE mailboxes SET cleanup_attempts = ?2, cleanup_next_attempt_at = ?3, cleanup_last_error = ?4 WHERE id = ?1")
        .bind(row.id, attempts, nowIso(Date.now() + delay), message.slice(0, 1000))
        .run();
      log("warn", "mailbox.destroy.failed", { mailboxId: row.id, attempts, error: message });
      if (e instanceof ApiError) {
        throw new ApiError(e.status, e.message, {
          ...(typeof e.details === "object" && e.details ? e.details : {}),
          mailbox: toMailboxDTO((await getMailbox(this.db, row.id))!),
          retryAt: nowIso(Date.now() + delay),
        });
      }
      throw e;
    }
    return toMailboxDTO((await getMailbox(this.db, row.id))!);
  }
}

/** Removes every message of a mailbox: R2 objects first, then the rows (so a failure can be retried). */
export async function purgeMailboxMail(env: Env, mailboxId: string): Promise<void> {
  for (;;) {
    const { results } = await env.DB.prepare("SELECT id, raw_r2_key, parsed_r2_key FROM messages WHERE mailbox_id = ? LIMIT 90")
      .bind(mailboxId)
      .all<{ id: string; raw_r2_key: string; parsed_r2_key: string | null }>();
    if (results.length === 0) return;
    const ids = results.map((r) => r.id);
    const marks = ids.map(() => "?").join(",");
    const { results: atts } = await env.DB.prepare(`SELECT r2_key FROM message_attachments WHERE message_id IN (${marks}) AND r2_key IS NOT NULL`)
      .bind(...ids)
      .all<{ r2_key: string }>();
    const keys = [...results.flatMap((r) => [r.raw_r2_key, r.parsed_r2_key]), ...atts.map((a) => a.r2_key)].filter((k): k is string => Boolean(k));
    for (let i = 0; i < keys.length; i += 1000) await env.MAIL_BUCKET.delete(keys.slice(i, i + 1000));
    await env.DB.batch([
      env.DB.prepare(`DELETE FROM message_recipients WHERE message_id IN (${marks})`).bind(...ids),
      env.DB.prepare(`DELETE FROM message_attachments WHERE message_id IN (${marks})`).bind(...ids),
      env.DB.prepare(`DELETE FROM message_bodies WHERE message_id IN (${marks})`).bind(...ids),
      env.DB.prepare(`DELETE FROM messages WHERE id IN (${marks})`).bind(...ids),
    ]);
  }
}
