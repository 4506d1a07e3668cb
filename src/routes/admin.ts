import { CapacityReport, SetupReport } from "../api/dto";
import { cloudflareClient } from "../cloudflare/client";
import { CloudflareApiError } from "../cloudflare/errors";
import type { CfZone } from "../cloudflare/types";
import { json, nowIso } from "../lib/http";
import { liveCatchAllSql } from "../mailboxes/repo";
import { capacityReport, CRITICAL_RATIO, PRESSURE_RATIO, type CapacityReport as Capacity } from "../messages/capacity";
import { route } from "./define";

export type CheckStatus = "ok" | "missing" | "failing" | "skipped";

export interface SetupCheck {
  id: string;
  label: string;
  status: CheckStatus;
  detail: string;
  /** Cloudflare's own answer when a live check failed. */
  error: { status: number; code: number | null; message: string } | null;
  fix: string | null;
  docs: string;
}

/** Something working as configured that an admin should still act on (not a setup failure). */
export interface SetupWarning {
  id: string;
  /** The domain concerned; null for a deployment-wide warning (storage). */
  rootDomain: string | null;
  detail: string;
  fix: string;
}

const doc = (anchor: string) => `README.md#${anchor}`;

function cfError(e: unknown): SetupCheck["error"] {
  if (e instanceof CloudflareApiError) return { status: e.status, code: e.code, message: e.message };
  return { status: 0, code: null, message: e instanceof Error ? e.message : String(e) };
}

/**
 * The setup doctor: each requirement from the seeds, checked against this deployment's runtime
 * configuration and, where it can be, against Cloudflare itself. Never returns a secret's value,
 * only which variable holds it.
 */
export const adminRoutes = [
  route({
    method: "GET",
    path: "/api/admin/setup",
    access: "admin",
    scope: "admin",
    doc: { summary: "Setup doctor: every configuration requirement, checked live against Cloudflare where it can be", responses: { 200: SetupReport } },
    handler: async (_req, c) => {
      const cfg = c.config;
      const checks: SetupCheck[] = [];
      const add = (check: Omit<SetupCheck, "error" | "fix"> & { error?: SetupCheck["error"]; fix?: string | null }) =>
        checks.push({ error: null, fix: null, ...check });

      add({
        id: "management_enabled",
        label: "EMAIL_ROUTING_MANAGEMENT_ENABLED",
        status: cfg.managementEnabled ? "ok" : "missing",
        detail: cfg.managementEnabled ? "Cloudflare domain and Email Routing management is on." : "Management is off: KaisouMail will not call Cloudflare.",
        fix: cfg.managementEnabled ? null : "Set EMAIL_ROUTING_MANAGEMENT_ENABLED=true in the Worker's variables and redeploy.",
        docs: doc("runtime-configuration"),
      });
      add({
        id: "runtime_token",
        label: "Runtime API token",
        status: cfg.cloudflareTokenSource ? "ok" : "missing",
        detail:
          cfg.cloudflareTokenSource === "runtime"
            ? "Using CLOUDFLARE_RUNTIME_API_TOKEN (split token profile)."
            : cfg.cloudflareTokenSource === "shared"
              ? "Using the shared CLOUDFLARE_API_TOKEN (quickstart profile); CLOUDFLARE_RUNTIME_API_TOKEN would take precedence."
              : "Neither CLOUDFLARE_RUNTIME_API_TOKEN nor CLOUDFLARE_API_TOKEN is set.",
        fix: cfg.cloudflareTokenSource ? null : "Run `wrangler secret put CLOUDFLARE_RUNTIME_API_TOKEN` with a token that has the runtime permissions.",
        docs: doc("token-permissions"),
      });
      add({
        id: "account_id",
        label: "CLOUDFLARE_ACCOUNT_ID",
        status: cfg.accountId ? "ok" : "missing",
        detail: cfg.accountId ? `Zones are created in account ${cfg.accountId}.` : "Direct binding is unavailable: the Worker does not know which account should own new zones.",
        fix: cfg.accountId ? null : "Add CLOUDFLARE_ACCOUNT_ID to the Worker's runtime variables (the deploy workflow injects it from the repository secret).",
        docs: doc("cloudflare-account-id"),
      });
      add({
        id: "email_worker_name",
        label: "EMAIL_WORKER_NAME",
        status: cfg.emailWorkerName ? "ok" : "missing",
        detail: cfg.emailWorkerName ? `Routing rules and catch-all deliver to the Worker "${cfg.emailWorkerName}".` : "Routing rules have no Worker to deliver to.",
        fix: cfg.emailWorkerName ? null : "Set EMAIL_WORKER_NAME to this Worker's name (kaisoumail) and redeploy.",
        docs: doc("runtime-configuration"),
      });

      const client = cfg.managementEnabled ? cloudflareClient(c.env, cfg, { maxGateWaitMs: 2_000 }) : null;
      const skipped = (id: string, label: string, anchor: string) =>
        add({ id, label, status: "skipped", detail: "Skipped until management is enabled and a runtime token is set.", docs: doc(anchor) });
      if (!client) {
        skipped("token_valid", "Token is valid", "token-permissions");
        skipped("zones_readable", "Zones are readable", "token-permissions");
        skipped("routing_rules_readable", "Email Routing rules are readable", "token-permissions");
      } else {
        try {
          const verify = await client.verifyToken();
          add({ id: "token_valid", label: "Token is valid", status: verify.status === "active" ? "ok" : "failing", detail: `Cloudflare says the token is ${verify.status}.`, docs: doc("token-permissions") });
        } catch (e) {
          add({
            id: "token_valid",
            label: "Token is valid",
            status: "failing",
            detail: "GET /user/tokens/verify failed.",
            error: cfError(e),
            fix: "Create a new API token (My Profile → API Tokens) with the runtime permissions and store it as CLOUDFLARE_RUNTIME_API_TOKEN. Account-owned tokens fail this check even when valid; the next two checks show whether they work.",
            docs: doc("token-permissions"),
          });
        }
        let zones: CfZone[] = [];
        try {
          const { result } = await client.request<CfZone[]>("GET", "/zones", { query: { per_page: 50, ...(cfg.accountId ? { "account.id": cfg.accountId } : {}) } });
          zones = result ?? [];
          add({ id: "zones_readable", label: "Zones are readable", status: "ok", detail: `The token sees ${zones.length}${zones.length === 50 ? "+" : ""} zone(s).`, docs: doc("token-permissions") });
        } catch (e) {
          add({
            id: "zones_readable",
            label: "Zones are readable",
            status: "failing",
            detail: "GET /zones failed.",
            error: cfError(e),
            fix: 'Add "Zone: Zone: Edit" (it includes read) to the runtime token and include the zones KaisouMail should manage.',
            docs: doc("token-permissions"),
          });
        }
        const known = await c.env.DB.prepare("SELECT zone_id FROM domains WHERE status = 'active' AND zone_id IS NOT NULL ORDER BY root_domain LIMIT 1").first<{ zone_id: string }>();
        const zoneId = known?.zone_id ?? zones.find((z) => z.status === "active")?.id ?? zones[0]?.id;
        if (!zoneId) {
          add({ id: "routing_rules_readable", label: "Email Routing rules are readable", status: "skipped", detail: "No zone to check yet: bind or enable a domain first.", docs: doc("token-permissions") });
        } else {
          try {
            await client.request("GET", `/zones/${zoneId}/email/routing/rules`, { query: { per_page: 5 } });
            add({ id: "routing_rules_readable", label: "Email Routing rules are readable", status: "ok", detail: `Read the routing rules of zone ${zoneId}.`, docs: doc("token-permissions") });
          } catch (e) {
            add({
              id: "routing_rules_readable",
              label: "Email Routing rules are readable",
              status: "failing",
              detail: `GET /zones/${zoneId}/email/routing/rules failed.`,
              error: cfError(e),
              fix: 'Add "Zone: Email Routing Rules: Edit" and "Zone: Zone Settings: Edit" to the runtime token for this zone.',
              docs: doc("token-permissions"),
            });
          }
        }
      }
      const capacity = await capacityReport(c.env);
      add(storageCheck(capacity));
      const count = (s: CheckStatus) => checks.filter((x) => x.status === s).length;
      return json({
        ok: count("missing") === 0 && count("failing") === 0,
        summary: { ok: count("ok"), missing: count("missing"), failing: count("failing"), skipped: count("skipped") },
        checks,
        warnings: [...storageWarnings(capacity), ...(await catchAllWarnings(c.env.DB, cfg.catchAllMaxMailboxes))],
      });
    },
  }),
  route({
    method: "GET",
    path: "/api/admin/capacity",
    access: "admin",
    scope: "admin",
    doc: {
      summary: "Storage capacity: D1 size against D1_CAPACITY_BYTES, R2 totals, largest mailboxes, growth and days until full",
      description:
        "The D1 size is D1's own figure; R2 bytes and objects are running totals kept with every message write and delete. Growth compares with hourly snapshots the cron writes. See README.md#capacity-and-retention.",
      responses: { 200: CapacityReport },
    },
    handler: async (_req, c) => json(await capacityReport(c.env)),
  }),
];

const pct = (ratio: number) => `${Math.round(ratio * 1000) / 10} %`;
const STORAGE_FIX =
  "Lower MESSAGE_RETENTION_DAYS or MAX_MESSAGES_PER_MAILBOX (the cron applies them within minutes), destroy large mailboxes (GET /api/admin/capacity lists them), or move to Workers Paid and raise D1_CAPACITY_BYTES; see DESIGN.md \"Scaling past one D1\".";

/** The storage check: failing from 95 % of D1_CAPACITY_BYTES (at 100 % inbound mail is refused). */
function storageCheck(c: Capacity): Omit<SetupCheck, "error" | "fix"> & { fix: string | null } {
  const ratio = c.d1.usedRatio;
  const failing = ratio !== null && ratio >= CRITICAL_RATIO;
  const used = ratio === null ? "D1 did not report its size" : `D1 holds ${c.d1.bytes} of ${c.d1.capacityBytes} bytes (${pct(ratio)})`;
  return {
    id: "storage_capacity",
    label: "Storage capacity",
    status: failing ? "failing" : "ok",
    detail:
      c.stage === "full"
        ? `${used}: inbound mail is being refused (senders retry later).`
        : failing
          ? `${used}: mail will be refused at 100 %.`
          : `${used}.`,
    fix: failing ? STORAGE_FIX : null,
    docs: doc("capacity-and-retention"),
  };
}

function storageWarnings(c: Capacity): SetupWarning[] {
  const ratio = c.d1.usedRatio;
  if (ratio === null || ratio < PRESSURE_RATIO) return [];
  return [
    {
      id: "storage_pressure",
      rootDomain: null,
      detail: `The D1 database is at ${pct(ratio)} of D1_CAPACITY_BYTES: new parsed bodies go to R2 only and the cron moves old ones out${c.daysUntilFull !== null ? `; full in about ${c.daysUntilFull} days at the current rate` : ""}.`,
      fix: STORAGE_FIX,
    },
  ];
}

/**
 * Catch-all domains at CATCH_ALL_MAX_MAILBOXES live catch-all mailboxes: mail to new addresses on
 * them is being refused (inbound also logs `inbound.catch_all.limit_reached` each time).
 */
async function catchAllWarnings(db: D1Database, limit: number): Promise<SetupWarning[]> {
  const { results } = await db
    .prepare(
      `SELECT root_domain, live FROM (SELECT d.root_domain, (${liveCatchAllSql("d.id", "?1")}) AS live FROM domains d WHERE d.catch_all_enabled = 1 AND d.status = 'active')
       WHERE live >= ?2 ORDER BY root_domain`,
    )
    .bind(nowIso(), limit)
    .all<{ root_domain: string; live: number }>();
  return results.map((r) => ({
    id: "catch_all_limit_reached",
    rootDomain: r.root_domain,
    detail: `${r.root_domain} has ${r.live} live catch-all mailboxes (limit ${limit}): mail to new addresses is refused until some expire.`,
    fix: "Delete catch-all mailboxes you do not need, shorten CATCH_ALL_MAILBOX_TTL_MINUTES, or raise CATCH_ALL_MAX_MAILBOXES.",
  }));
}
