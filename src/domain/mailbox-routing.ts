import { CloudflareApiError } from "../cloudflare/errors";
import type { CfRoutingRule } from "../cloudflare/types";
import { log } from "../lib/log";
import { classifyFailure, HINTS } from "./errors";
import type { DomainObject, DomainResult } from "./object";
import { failed, toFailure } from "./object";

/** Cloudflare's limit of Email Routing rules per zone. */
export const RULE_LIMIT = 200;

export type MailboxRoutingResult =
  | { ok: true; routingRuleId: string | null; cloudflareCalls: number }
  | Extract<DomainResult, { ok: false }>;

export const mailboxRuleName = (address: string) => `Mailbox ${address}`;

/** Email Routing DNS is per zone: a re-bound domain (new zone) enables its subdomains again. */
const dnsKey = (zoneId: string, subdomain: string) => `dns:${zoneId}:${subdomain}`;

const isRuleNotFound = (e: unknown) =>
  e instanceof CloudflareApiError && e.status === 404 && /rule not found/i.test(e.message);

/**
 * The mailbox side of a domain object: subdomain Email Routing DNS, per-address literal rules and
 * the zone's rule count. Runs inside the object's serial queue, so two mailboxes on one domain
 * never race for the last rule slot or enable one subdomain twice.
 */
export class MailboxRouting {
  constructor(private readonly host: DomainObject) {}

  private get kv() {
    return this.host.kv;
  }
  private get db() {
    return this.host.db;
  }

  /**
   * Activates a mailbox row that the router inserted as `creating`: enables DNS for its subdomain
   * the first time, creates its literal rule (unless the domain is under catch-all), then flips the
   * row to `active`. Any failure undoes what was done: no mailbox without its rule, no rule without
   * its mailbox.
   */
  provision(rootDomain: string, mailboxId: string, opts: { expiresAt?: string | null; promote?: boolean } = {}): Promise<MailboxRoutingResult> {
    return this.host.exclusive(rootDomain, async () => {
      const { value: state, context: ctx } = this.host.state;
      const row = await this.db
        .prepare("SELECT id, address, subdomain, status, source, routing_rule_id FROM mailboxes WHERE id = ?")
        .bind(mailboxId)
        .first<{ id: string; address: string; subdomain: string; status: string; source: string; routing_rule_id: string | null }>();
      if (!row) return failed({ status: 404, message: "Mailbox not found", code: "mailbox_not_found", hint: "", retryable: false, cloudflareCode: null });
      if (state !== "active" || !ctx.zoneId) {
        return failed(
          { status: 409, message: "Mailbox domain is no longer available", code: "domain_not_active", hint: "Pick an active domain (GET /api/meta).", retryable: false, cloudflareCode: null },
          { rootDomain },
        );
      }
      const zoneId = ctx.zoneId;
      const client = this.host.client();
      let calls = 0;
      let createdRuleId: string | null = null;
      try {
        const fqdn = `${row.subdomain}.${rootDomain}`;
        if (!this.kv.get<boolean>(dnsKey(zoneId, row.subdomain))) {
          calls++;
          await client.enableEmailRoutingDns(zoneId, fqdn);
          this.kv.put(dnsKey(zoneId, row.subdomain), true);
        }
        const needsRule = !ctx.catchAll.enabled && !row.routing_rule_id;
        if (needsRule) {
          const count = await this.ruleCount(zoneId, () => calls++);
          if (count >= RULE_LIMIT) {
            return failed(
              { status: 409, message: "Cloudflare routing rule limit reached for this domain", code: "routing_rule_limit", hint: HINTS.routing_rule_limit, retryable: false, cloudflareCode: null },
              { rootDomain, limit: RULE_LIMIT },
            );
          }
          calls++;
          createdRuleId = await this.createRule(zoneId, row.address, () => calls++);
          this.adjustCount(+1);
        }
        const activate = opts.promote
          ? this.db
              .prepare(
                "UPDATE mailboxes SET status = 'active', source = 'registered', routing_rule_id = COALESCE(?2, routing_rule_id), expires_at = ?3, destroyed_at = NULL WHERE id = ?1 AND status IN ('active', 'expired')",
              )
              .bind(row.id, createdRuleId, opts.expiresAt ?? null)
          : this.db
              .prepare("UPDATE mailboxes SET status = 'active', routing_rule_id = ?2 WHERE id = ?1 AND status = 'creating'")
              .bind(row.id, createdRuleId);
        const result = await activate.run();
        if (result.meta.changes !== 1) throw new Error("mailbox row changed while its rule was being created");
        return { ok: true, routingRuleId: createdRuleId ?? row.routing_rule_id, cloudflareCalls: calls };
      } catch (e) {
        if (createdRuleId && (await this.deleteRuleQuietly(zoneId, createdRuleId))) this.adjustCount(-1);
        const f = toFailure(e);
        log("warn", "mailbox.provision.failed", { rootDomain, mailboxId, status: f.status, message: f.message });
        const error = classifyFailure("restore_rules", f);
        return failed(
          f.retryable
            ? { ...error, status: 503, message: `Cloudflare could not set up the mailbox: ${f.message}`, hint: "Nothing was created; try again in a moment." }
            : error,
          { rootDomain },
        );
      }
    });
  }

  /** Deletes a mailbox's rule; a rule that is already gone counts as deleted. */
  removeRule(rootDomain: string, ruleId: string): Promise<{ ok: true } | Extract<DomainResult, { ok: false }>> {
    return this.host.exclusive(rootDomain, async () => {
      const zoneId = this.host.state.context.zoneId;
      if (!zoneId) return { ok: true };
      try {
        await this.host.client().deleteRoutingRule(zoneId, ruleId);
        this.adjustCount(-1);
      } catch (e) {
        if (!isRuleNotFound(e)) {
          const f = toFailure(e);
          return failed({ ...classifyFailure("restore_rules", f), status: f.retryable ? 503 : f.status });
        }
      }
      return { ok: true };
    });
  }

  /**
   * Removes the Email Routing DNS of a subdomain whose last live mailbox is gone, so create/delete
   * cycles on fresh subdomains leave nothing behind in the zone. Kept while any mailbox there is
   * creating, active or expired (an expired one can be revived without this object), while
   * catch-all is on (it receives on every address of the domain), and when this object did not
   * enable it. The re-check runs in the serial section: a create on the same subdomain either
   * inserted its row before (DNS kept) or provisions after (finds no memo, enables DNS again).
   * A Cloudflare failure is logged and the memo kept, so the next destroy there tries again.
   */
  releaseSubdomain(rootDomain: string, subdomain: string): Promise<{ removed: boolean }> {
    return this.host.exclusive(rootDomain, async () => {
      const { value: state, context: ctx } = this.host.state;
      if (!ctx.zoneId || !ctx.domainId || state === "none" || state === "deleted") return { removed: false };
      const key = dnsKey(ctx.zoneId, subdomain);
      if (!this.kv.get<boolean>(key) || ctx.catchAll.enabled) return { removed: false };
      const live = await this.db
        .prepare("SELECT 1 FROM mailboxes WHERE domain_id = ? AND subdomain = ? AND status IN ('creating', 'active', 'expired') LIMIT 1")
        .bind(ctx.domainId, subdomain)
        .first();
      if (live) return { removed: false };
      try {
        // A short gate wait: this runs after the destroy is done and must not hold its answer long.
        await this.host.client({ maxGateWaitMs: 1_000 }).disableEmailRoutingDns(ctx.zoneId, `${subdomain}.${rootDomain}`);
        this.kv.delete(key);
        return { removed: true };
      } catch (e) {
        log("warn", "mailbox.dns.release_failed", { rootDomain, subdomain, error: toFailure(e).message });
        return { removed: false };
      }
    });
  }

  /**
   * Catch-all is being turned off: every active registered mailbox of the domain without a rule
   * gets its literal rule back (created while catch-all covered it). Each rule is recorded on its
   * mailbox as soon as it exists, so a failure part way (the error propagates to the machine, which
   * retries or keeps catch-all on) leaves no rule without its mailbox, even when Cloudflare would
   * also refuse a rollback; the next pass continues with the mailboxes still without a rule.
   */
  async restoreLiteralRules(domainId: string, zoneId: string): Promise<void> {
    const { results } = await this.db
      .prepare(
        "SELECT id, address, subdomain FROM mailboxes WHERE domain_id = ? AND status = 'active' AND source = 'registered' AND routing_rule_id IS NULL",
      )
      .bind(domainId)
      .all<{ id: string; address: string; subdomain: string }>();
    if (results.length === 0) return;
    const client = this.host.client();
    const count = await this.ruleCount(zoneId);
    if (count + results.length > RULE_LIMIT) {
      throw new CloudflareApiError({
        status: 409,
        code: null,
        message: `Turning catch-all off needs ${results.length} routing rules but only ${Math.max(0, RULE_LIMIT - count)} of Cloudflare's ${RULE_LIMIT} remain`,
        retryable: false,
        retryAfterSeconds: null,
        kind: "http",
        method: "POST",
        path: `/zones/${zoneId}/email/routing/rules`,
      });
    }
    for (const mbx of results) {
      if (!this.kv.get<boolean>(dnsKey(zoneId, mbx.subdomain))) {
        await client.enableEmailRoutingDns(zoneId, `${mbx.subdomain}.${this.host.state.context.rootDomain}`);
        this.kv.put(dnsKey(zoneId, mbx.subdomain), true);
      }
      const ruleId = await this.createRule(zoneId, mbx.address);
      this.adjustCount(+1);
      let recorded = false;
      try {
        // Only while the mailbox is still live and ruleless: one deleted meanwhile must not get it.
        const res = await this.db
          .prepare("UPDATE mailboxes SET routing_rule_id = ?2 WHERE id = ?1 AND status = 'active' AND routing_rule_id IS NULL")
          .bind(mbx.id, ruleId)
          .run();
        recorded = res.meta.changes === 1;
      } finally {
        if (!recorded && (await this.deleteRuleQuietly(zoneId, ruleId))) this.adjustCount(-1);
      }
    }
  }

  /** The zone's rule count, read once from Cloudflare and then kept up to date by this object. */
  private async ruleCount(zoneId: string, onCall: () => void = () => {}): Promise<number> {
    const known = this.kv.get<{ zoneId: string; count: number }>("ruleCountOf");
    if (known && known.zoneId === zoneId) return known.count;
    onCall();
    const rules = await this.host.client().listRoutingRules(zoneId);
    this.kv.put("ruleCountOf", { zoneId, count: rules.length });
    return rules.length;
  }

  private adjustCount(delta: number) {
    const known = this.kv.get<{ zoneId: string; count: number }>("ruleCountOf");
    if (known) this.kv.put("ruleCountOf", { ...known, count: Math.max(0, known.count + delta) });
  }

  /**
   * Creates the literal rule. If the create failed in a way that leaves it uncertain (timeout,
   * 5xx), look for the rule before giving up, so a retry never leaves a duplicate behind.
   */
  private async createRule(zoneId: string, address: string, onCall: () => void = () => {}): Promise<string> {
    const client = this.host.client();
    const body: Omit<CfRoutingRule, "id" | "tag"> = {
      name: mailboxRuleName(address),
      enabled: true,
      priority: 0,
      matchers: [{ type: "literal", field: "to", value: address }],
      actions: [{ type: "worker", value: [this.host.workerName()] }],
    };
    try {
      return (await client.createRoutingRule(zoneId, body)).id;
    } catch (e) {
      if (!(e instanceof CloudflareApiError) || !e.retryable || e.kind === "gate" || e.kind === "rate_limited") throw e;
      onCall();
      const existing = (await client.listRoutingRules(zoneId)).find((r) =>
        r.matchers.some((m) => m.type === "literal" && m.value?.toLowerCase() === address),
      );
      if (existing) return existing.id;
      throw e;
    }
  }

  /** Best-effort rollback of a rule this object just made; true when the rule is gone. */
  private async deleteRuleQuietly(zoneId: string, ruleId: string): Promise<boolean> {
    try {
      await this.host.client().deleteRoutingRule(zoneId, ruleId);
      return true;
    } catch (e) {
      if (isRuleNotFound(e)) return true;
      log("error", "mailbox.rule.rollback_failed", { zoneId, ruleId, error: String(e) });
      return false;
    }
  }
}
