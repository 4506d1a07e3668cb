import type { AuthContext } from "../auth/authenticate";
import type { Config } from "../config";
import { domainFailure } from "../domain/object";
import { domainStub } from "../domain/stub";
import type { Env } from "../env";
import { actionable, ApiError } from "../lib/errors";
import { newId, nowIso } from "../lib/http";
import { log } from "../lib/log";
import { purgeMailboxMessages } from "../messages/store";
import { buildAddress, parseAddress } from "./address";
import { MAX_ATTEMPTS, randomLocalPart, randomSubdomain } from "./generator";
import { canSee, getMailbox, liveMailboxByAddress, toMailboxDTO, type MailboxDTO, type MailboxRow } from "./repo";

export const MIN_TTL = 60;
export const MAX_TTL = 525_600;
/** Expired mailboxes are kept this long for recovery before the cron destroys them. */
export const EXPIRED_GRACE_MS = 24 * 60 * 60 * 1000;
/** The window of MEMBER_MAILBOX_CREATES_PER_MINUTE. */
const RATE_WINDOW_MS = 60_000;

/**
 * SQL for "this user's mailboxes that hold a routing rule": creates in flight, active ones, and
 * expired ones (they keep their rule through the 24 h grace until the cron destroys them, so not
 * counting them would let one member hold 200 rules within an hour). `user` is the statement's
 * placeholder (e.g. "?2") bound to the user id; `_now` is kept for the call sites' shape.
 */
const liveOfUserSql = (user: string, _now: string) =>
  `SELECT COUNT(*) FROM mailboxes WHERE user_id = ${user} AND status IN ('creating', 'active', 'expired')`;

/** A member's mailbox limits (see MEMBER_* in config); admins have none. */
interface MemberLimits {
  maxActive: number;
  perMinute: number;
}

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

  /** Null for admins: they are exempt from the per-member limits. */
  private limitsFor(auth: AuthContext): MemberLimits | null {
    if (auth.user.role === "admin") return null;
    return { maxActive: this.config.memberMaxActiveMailboxes, perMinute: this.config.memberMailboxCreatesPerMinute };
  }

  /**
   * The TTL a caller may have. Members get at most MEMBER_MAX_TTL_MINUTES, and an unlimited
   * mailbox only when that cap is 0; an omitted TTL is the default, shortened to the cap. Admins
   * may ask for anything the schema allows.
   */
  ttlFor(auth: AuthContext, minutes: number | null | undefined): number | null {
    const cap = auth.user.role === "admin" ? null : this.config.memberMaxTtlMinutes;
    if (minutes === undefined) return cap === null ? this.config.defaultMailboxTtlMinutes : Math.min(this.config.defaultMailboxTtlMinutes, cap);
    if (cap !== null && (minutes === null || minutes > cap)) {
      throw actionable(
        400,
        minutes === null ? "Members cannot create mailboxes that never expire" : `Mailbox lifetime is longer than members may choose (${cap} minutes)`,
        "mailbox_ttl_too_long",
        `Pass expiresInMinutes from ${MIN_TTL} to ${cap}, or ask an admin for a longer-lived mailbox.`,
        { maxExpiresInMinutes: cap },
      );
    }
    return minutes;
  }

  async create(auth: AuthContext, input: CreateInput): Promise<MailboxDTO> {
    const expiresAt = expiryFor(this.ttlFor(auth, input.expiresInMinutes), this.config);
    const domain = await chooseDomain(this.db, input.domain);
    const chosen = input.localPart !== undefined && input.subdomain !== undefined;
    if (chosen) await this.assertAddressFree(auth, buildAddress(input.localPart!, input.subdomain!, domain.root_domain));

    for (let attempt = 0; attempt < (chosen ? 1 : MAX_ATTEMPTS); attempt++) {
      const localPart = input.localPart ?? randomLocalPart(Math.random, attempt);
      const subdomain = input.subdomain ?? randomSubdomain(Math.random, attempt);
      const address = buildAddress(localPart, subdomain, domain.root_domain);
      const id = newId("mbx");
      const inserted = await this.insertPlaceholder(
        { id, userId: auth.user.id, domain, localPart, subdomain, address, expiresAt, source: "registered" },
        this.limitsFor(auth),
      );
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

  /**
   * Inserts the `creating` placeholder. The member's limits are part of the same statement, not a
   * SELECT before it: D1 runs one statement at a time, so forty parallel creates by one member
   * count each other's placeholders and never get past the limit together.
   */
  private async insertPlaceholder(
    m: {
      id: string;
      userId: string;
      domain: ActiveDomain;
      localPart: string;
      subdomain: string;
      address: string;
      expiresAt: string | null;
      source: "registered" | "catch_all";
    },
    limits: MemberLimits | null,
  ): Promise<boolean> {
    const now = Date.now();
    try {
      // Guarded by the domain still being active; the partial unique index refuses live duplicates.
      const res = await this.db
        .prepare(
          `INSERT INTO mailboxes (id, user_id, domain_id, local_part, subdomain, root_domain, address, source, status, created_at, expires_at)
           SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'creating', ?9, ?10
           WHERE EXISTS (SELECT 1 FROM domains WHERE id = ?3 AND status = 'active')
             AND (?11 IS NULL OR (${liveOfUserSql("?2", "?9")}) < ?11)
             AND (?12 IS NULL OR (SELECT COUNT(*) FROM mailboxes WHERE user_id = ?2 AND created_at > ?13) < ?12)`,
        )
        .bind(
          m.id,
          m.userId,
          m.domain.id,
          m.localPart,
          m.subdomain,
          m.domain.root_domain,
          m.address,
          m.source,
          nowIso(now),
          m.expiresAt,
          limits?.maxActive ?? null,
          limits?.perMinute ?? null,
          nowIso(now - RATE_WINDOW_MS),
        )
        .run();
      if (res.meta.changes === 0) {
        const active = await this.db.prepare("SELECT 1 FROM domains WHERE id = ? AND status = 'active'").bind(m.domain.id).first();
        if (!active || !limits) throw new ApiError(409, "Mailbox domain is no longer available", { code: "domain_not_active", rootDomain: m.domain.root_domain });
        throw await this.limitError(m.userId, limits, now);
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
    const ttlMinutes = this.ttlFor(auth, input.expiresInMinutes);
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
      const wanted = expiryFor(ttlMinutes, this.config);
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
        const now = Date.now();
        const revived = merged === null || merged > nowIso(now);
        const limits = this.limitsFor(auth);
        // Reviving an expired mailbox changes no count: expired mailboxes already count against
        // the owner's limit (they still hold their routing rule).
        await this.db
          .prepare("UPDATE mailboxes SET expires_at = ?2, status = CASE WHEN ?3 = 1 AND status IN ('active','expired') THEN 'active' ELSE status END WHERE id = ?1")
          .bind(existing.id, merged, revived ? 1 : 0)
          .run();
      }
      return { mailbox: toMailboxDTO((await getMailbox(this.db, existing.id))!), created: false };
    }
    const mailbox = await this.create(auth, { localPart, subdomain, domain: root, expiresInMinutes: ttlMinutes });
    return { mailbox, created: true };
  }

  /**
   * Which member limit refused a write, with the wait it implies. Read after the refusal (which
   * was decided atomically): if neither limit holds any more by now, the caller may simply retry.
   */
  private async limitError(userId: string, limits: MemberLimits, now: number): Promise<ApiError> {
    const usage = (await this.db
      .prepare(
        `SELECT (${liveOfUserSql("?1", "?2")}) AS live,
           (SELECT MIN(expires_at) FROM mailboxes WHERE user_id = ?1 AND status IN ('active', 'expired') AND expires_at IS NOT NULL) AS next_expiry,
           (SELECT COUNT(*) FROM mailboxes WHERE user_id = ?1 AND created_at > ?3) AS recent,
           (SELECT MIN(created_at) FROM mailboxes WHERE user_id = ?1 AND created_at > ?3) AS oldest_recent`,
      )
      .bind(userId, nowIso(now), nowIso(now - RATE_WINDOW_MS))
      .first<{ live: number; next_expiry: string | null; recent: number; oldest_recent: string | null }>())!;
    const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
    if (usage.live >= limits.maxActive) {
      // Frees up when the soonest of them is destroyed, 24 h after it expires (or when one is deleted).
      const wait = usage.next_expiry ? seconds(Date.parse(usage.next_expiry) + EXPIRED_GRACE_MS - now) : 3600;
      return actionable(
        429,
        `Mailbox limit reached: members may have ${limits.maxActive} live mailboxes`,
        "mailbox_quota_exceeded",
        "Delete mailboxes you no longer need (expired ones count until they are destroyed, 24 h after expiry), or ask an admin to raise MEMBER_MAX_ACTIVE_MAILBOXES.",
        { limit: limits.maxActive, live: usage.live, retryAfterSeconds: wait },
        { "retry-after": String(wait) },
      );
    }
    const wait = usage.oldest_recent ? seconds(Date.parse(usage.oldest_recent) + RATE_WINDOW_MS - now) : 1;
    return actionable(
      429,
      `Too many mailboxes created: members may create ${limits.perMinute} per minute`,
      "mailbox_rate_limited",
      `Wait ${wait} s before creating another mailbox.`,
      { limit: limits.perMinute, windowSeconds: RATE_WINDOW_MS / 1000, retryAfterSeconds: wait },
      { "retry-after": String(wait) },
    );
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
    await this.releaseSubdomain(row);
    return toMailboxDTO((await getMailbox(this.db, row.id))!);
  }

  /**
   * The mailbox is destroyed; if it was the last live one on its subdomain, the domain's object
   * removes that subdomain's Email Routing DNS (it re-checks inside its serial section, so a create
   * on the same subdomain at the same moment keeps or re-enables it). Never fails the destroy: the
   * object logs a Cloudflare failure and keeps its memo, so the next destroy there tries again.
   */
  private async releaseSubdomain(row: MailboxRow): Promise<void> {
    try {
      await domainStub(this.env, row.root_domain).releaseSubdomain(row.root_domain, row.subdomain);
    } catch (e) {
      log("warn", "mailbox.dns_release.failed", { mailboxId: row.id, subdomain: row.subdomain, error: e instanceof Error ? e.message : String(e) });
    }
  }
}

/** Removes every message of a mailbox: R2 objects first, then the rows (so a failure can be retried). See src/messages/store.ts. */
export async function purgeMailboxMail(env: Env, mailboxId: string): Promise<void> {
  await purgeMailboxMessages(env, mailboxId);
}
