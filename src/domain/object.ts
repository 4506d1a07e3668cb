import { DurableObject } from "cloudflare:workers";
import { transition } from "xstate";
import { cloudflareClient, type CloudflareClient } from "../cloudflare/client";
import { CloudflareApiError } from "../cloudflare/errors";
import type { CfCatchAllRule, CfZone } from "../cloudflare/types";
import { loadConfig, type Config } from "../config";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { SerialQueue } from "../lib/serial";
import { dispatchDomainStatusChanged } from "../webhooks/repo";
import { forgetActiveDomains } from "./active-domains";
import { toDomainDTO, type DomainDTO } from "./dto";
import type { DomainError, FailureInput } from "./errors";
import { HINTS } from "./errors";
import {
  domainMachine,
  fresh,
  persist,
  rejection,
  restore,
  type CatchAllRule,
  type DomainEvent,
  type DomainSnapshot,
  type MachineState,
  type Op,
  type PersistedDomain,
  type ZoneInfo,
} from "./machine";
import { MailboxRouting } from "./mailbox-routing";

/** What the router receives over RPC: plain data, never a thrown custom error. */
export type DomainResult =
  | { ok: true; domain: DomainDTO | null; created: boolean; changed: boolean }
  | { ok: false; status: number; error: string; /** JSON text: keeps the RPC type flat. */ detailsJson: string };

type Command =
  | { type: "BIND" }
  | { type: "ENABLE"; zoneId: string }
  | { type: "RETRY" }
  | { type: "DISABLE" }
  | { type: "DELETE" }
  | { type: "CATCH_ALL_ENABLE"; ownerUserId: string }
  | { type: "CATCH_ALL_DISABLE" };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type ResultEvent = DistributiveOmit<DomainEvent, "now" | "random" | "policy">;

const STORAGE_KEY = "domain";
const MAX_STEPS = 24;

export const managedCatchAllName = (root: string) => `KaisouMail Catch All (${root})`;

/**
 * One Durable Object per root domain (`idFromName(normalisedRoot)`): the only place that talks to
 * Cloudflare about that domain. It loads the machine snapshot, runs one operation at a time,
 * performs the machine's operations through the Cloudflare client, persists the snapshot before
 * and after each step, and writes the D1 projection after every transition.
 */
export class DomainObject extends DurableObject<Env> {
  private readonly queue = new SerialQueue();
  private snapshot: DomainSnapshot | null = null;
  readonly mailboxes: MailboxRouting;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.mailboxes = new MailboxRouting(this);
  }

  // ---- RPC: domain commands -------------------------------------------------------------

  bind(rootDomain: string): Promise<DomainResult> {
    return this.command(rootDomain, { type: "BIND" });
  }
  enable(rootDomain: string, zoneId: string): Promise<DomainResult> {
    return this.command(rootDomain, { type: "ENABLE", zoneId });
  }
  retry(rootDomain: string): Promise<DomainResult> {
    return this.command(rootDomain, { type: "RETRY" });
  }
  disable(rootDomain: string): Promise<DomainResult> {
    return this.command(rootDomain, { type: "DISABLE" });
  }
  remove(rootDomain: string): Promise<DomainResult> {
    return this.command(rootDomain, { type: "DELETE" });
  }
  catchAllEnable(rootDomain: string, ownerUserId: string): Promise<DomainResult> {
    return this.command(rootDomain, { type: "CATCH_ALL_ENABLE", ownerUserId });
  }
  catchAllDisable(rootDomain: string): Promise<DomainResult> {
    return this.command(rootDomain, { type: "CATCH_ALL_DISABLE" });
  }

  // ---- RPC: mailbox routing (issue: mailboxes go through their domain's object) ------------

  provisionMailbox(rootDomain: string, mailboxId: string, opts: { expiresAt?: string | null; promote?: boolean } = {}) {
    return this.mailboxes.provision(rootDomain, mailboxId, opts);
  }
  removeMailboxRule(rootDomain: string, ruleId: string) {
    return this.mailboxes.removeRule(rootDomain, ruleId);
  }
  releaseSubdomain(rootDomain: string, subdomain: string) {
    return this.mailboxes.releaseSubdomain(rootDomain, subdomain);
  }

  /** The current record (no Cloudflare call). */
  async get(rootDomain: string): Promise<{ state: MachineState; domain: DomainDTO | null }> {
    const s = this.load(rootDomain);
    return { state: s.value as MachineState, domain: toDomainDTO(s.value as MachineState, s.context) };
  }

  /** Test and diagnostics hook: the persisted machine snapshot. */
  async inspect(): Promise<PersistedDomain | null> {
    return this.ctx.storage.kv.get<PersistedDomain>(STORAGE_KEY) ?? null;
  }

  override async alarm(): Promise<void> {
    const stored = this.ctx.storage.kv.get<PersistedDomain>(STORAGE_KEY);
    if (!stored) return;
    // A domain failure never throws out of alarm(): it is recorded in the machine and rescheduled.
    try {
      await this.queue.run(async () => {
        // A fresh instance (the object was evicted since the alarm was set) has nothing loaded yet.
        this.load(stored.context.rootDomain);
        const config = this.config();
        if (!this.canTalkToCloudflare(config)) {
          log("warn", "domain.alarm.skipped", { rootDomain: stored.context.rootDomain, reason: "cloudflare management not configured" });
          return;
        }
        this.apply({ ...this.base(), type: "ALARM" });
        await this.drive();
      });
    } catch (e) {
      log("error", "domain.alarm.failed", { rootDomain: stored.context.rootDomain, error: String(e) });
      await this.scheduleAlarm(Date.now() + 60_000);
    }
  }

  // ---- the host loop ------------------------------------------------------------------------

  /** Runs `fn` inside the object's serial queue with the machine loaded (used by mailbox routing). */
  exclusive<T>(rootDomain: string, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.load(rootDomain);
      return fn();
    });
  }

  private command(rootDomain: string, cmd: Command): Promise<DomainResult> {
    return this.queue.run(async () => {
      const before = this.load(rootDomain);
      const config = this.config();
      const pre = precondition(cmd.type, config, Boolean(this.snapshot?.context.zoneId));
      if (pre) return pre;
      // Finish work a crash left behind before starting anything new.
      if (before.context.op) await this.drive();
      const event = this.event(cmd);
      const current = this.snapshot!;
      const refused = rejection(current.value as MachineState, current.context, event);
      if (refused) return failed(refused, { rootDomain });
      const existedBefore = !["none", "deleted"].includes(current.value as string);
      const versionBefore = JSON.stringify(current.context);
      this.apply(event);
      await this.drive();
      const after = this.snapshot!;
      const outcome = after.context.outcome;
      const state = after.value as MachineState;
      const domain = toDomainDTO(state, after.context);
      const changed = JSON.stringify(after.context) !== versionBefore;
      if (outcome && !outcome.ok && outcome.error) {
        // A transient failure that left (or created) a record the alarm will retry is reported
        // with the record for bind/enable; for other commands the caller learns it failed.
        if (outcome.retrying && (cmd.type === "BIND" || cmd.type === "ENABLE") && domain) {
          return { ok: true, domain, created: !existedBefore, changed };
        }
        return failed(outcome.error, {
          rootDomain,
          ...(outcome.retrying && after.context.nextRetryAt ? { retryAt: new Date(after.context.nextRetryAt).toISOString() } : {}),
          ...(domain ? { domain } : {}),
        });
      }
      return { ok: true, domain, created: !existedBefore && domain !== null, changed };
    });
  }

  private event(cmd: Command): DomainEvent {
    const base = this.base();
    const domainId = `dom_${crypto.randomUUID().replaceAll("-", "")}`;
    switch (cmd.type) {
      case "BIND":
        return { ...base, type: "BIND", domainId };
      case "ENABLE":
        return { ...base, type: "ENABLE", domainId, zoneId: cmd.zoneId };
      case "CATCH_ALL_ENABLE":
        return { ...base, type: "CATCH_ALL_ENABLE", ownerUserId: cmd.ownerUserId };
      default:
        return { ...base, type: cmd.type };
    }
  }

  private base() {
    const config = this.config();
    return {
      now: Date.now(),
      random: Math.random(),
      policy: { retryBaseSeconds: config.retryBaseSeconds, retryMaxSeconds: config.retryMaxSeconds },
    };
  }

  private config(): Config {
    return loadConfig(this.env);
  }

  private canTalkToCloudflare(config: Config): boolean {
    return config.managementEnabled && Boolean(config.cloudflareToken);
  }

  get kv(): SyncKvStorage {
    return this.ctx.storage.kv;
  }
  get db(): D1Database {
    return this.env.DB;
  }
  workerName(): string {
    const name = this.config().emailWorkerName;
    if (!name) throw new Error("Email Routing management is enabled but EMAIL_WORKER_NAME is not configured");
    return name;
  }

  client(opts: { maxGateWaitMs?: number } = {}): CloudflareClient {
    const client = cloudflareClient(this.env, this.config(), opts);
    if (!client) throw new Error("Cloudflare token missing");
    return client;
  }

  load(rootDomain: string): DomainSnapshot {
    if (this.snapshot) return this.snapshot;
    const stored = this.ctx.storage.kv.get<PersistedDomain>(STORAGE_KEY);
    this.snapshot = stored ? restore(stored) : fresh(rootDomain);
    return this.snapshot;
  }

  get state(): { value: MachineState; context: DomainSnapshot["context"] } {
    return { value: this.snapshot!.value as MachineState, context: this.snapshot!.context };
  }

  /** One machine transition: persist the snapshot, then project it to D1. */
  private apply(event: DomainEvent): void {
    const [next] = transition(domainMachine, this.snapshot!, event);
    this.snapshot = next;
    this.ctx.storage.kv.put(STORAGE_KEY, persist(next));
    this.dirty = true;
  }
  private dirty = false;

  /** Performs `context.op` until the machine settles; writes the projection and the alarm. */
  private async drive(): Promise<void> {
    for (let step = 0; step < MAX_STEPS && this.snapshot!.context.op; step++) {
      await this.project();
      const op = this.snapshot!.context.op!;
      const result = await this.perform(op);
      this.apply({ ...this.base(), ...result } as DomainEvent);
    }
    await this.project();
    const next = this.snapshot!.context.nextRetryAt;
    if (next !== null) await this.scheduleAlarm(next);
    else await this.ctx.storage.deleteAlarm();
  }

  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current !== at) await this.ctx.storage.setAlarm(at);
  }

  private async perform(op: Op): Promise<ResultEvent> {
    const ctx = this.snapshot!.context;
    const config = this.config();
    try {
      const client = this.client();
      switch (op.kind) {
        case "create_zone":
          return { type: "ZONE_CREATED", zone: zoneInfo(await client.createZone(ctx.rootDomain, config.accountId!)) };
        case "find_zone": {
          const zone = await client.findZoneByName(ctx.rootDomain);
          const mine = zone && (!config.accountId || zone.account?.id === config.accountId) ? zone : null;
          return { type: "ZONE_FOUND", zone: mine ? zoneInfo(mine) : null };
        }
        case "check_zone":
          return { type: "ZONE_CHECKED", zone: zoneInfo(await client.getZone(ctx.zoneId!)) };
        case "enable_routing":
          await client.enableEmailRoutingDns(ctx.zoneId!);
          return { type: "ROUTING_ENABLED" };
        case "delete_zone":
          if (!ctx.zoneId) return { type: "ZONE_DELETED" };
          await client.deleteZone(ctx.zoneId);
          return { type: "ZONE_DELETED" };
        case "read_catch_all":
          return { type: "CATCH_ALL_READ", rule: normaliseCatchAll(await client.getCatchAll(ctx.zoneId!)) };
        case "write_catch_all":
          await client.putCatchAll(ctx.zoneId!, {
            enabled: true,
            name: managedCatchAllName(ctx.rootDomain),
            matchers: [{ type: "all" }],
            actions: [{ type: "worker", value: [config.emailWorkerName!] }],
          });
          return { type: "CATCH_ALL_WRITTEN" };
        case "restore_rules":
          await this.mailboxes.restoreLiteralRules(ctx.domainId!, ctx.zoneId!);
          return { type: "RULES_RESTORED" };
        case "restore_catch_all": {
          const snap = ctx.catchAll.snapshot ?? DEFAULT_CATCH_ALL;
          await client.putCatchAll(ctx.zoneId!, snap as CfCatchAllRule);
          return { type: "CATCH_ALL_RESTORED" };
        }
      }
    } catch (e) {
      return { type: "CF_FAILED", failure: toFailure(e) };
    }
  }

  /** Writes the domain's D1 row (the projection read by lists, the catalog and /api/meta). */
  private async project(): Promise<void> {
    if (!this.dirty) return;
    const s = this.snapshot!;
    const dto = toDomainDTO(s.value as MachineState, s.context);
    if (!dto) {
      // Back to `none` (a bind rolled back): the record written mid-bind must not survive.
      if (s.context.domainId) await this.env.DB.prepare("DELETE FROM domains WHERE id = ?").bind(s.context.domainId).run();
      forgetActiveDomains();
      this.dirty = false;
      return;
    }
    const ctx = s.context;
    const previous = await this.env.DB.prepare("SELECT status FROM domains WHERE id = ?").bind(dto.id).first<string>("status");
    const written = await this.env.DB.prepare(
      `INSERT INTO domains (id, root_domain, zone_id, binding_source, status, cloudflare_status, name_servers, catch_all_enabled,
         catch_all_owner_user_id, last_provision_error, last_error_code, last_error_hint, next_retry_at, retry_count,
         created_at, updated_at, last_provisioned_at, disabled_at, deleted_at, version)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
       ON CONFLICT (id) DO UPDATE SET zone_id = ?3, binding_source = ?4, status = ?5, cloudflare_status = ?6, name_servers = ?7,
         catch_all_enabled = ?8, catch_all_owner_user_id = ?9, last_provision_error = ?10, last_error_code = ?11,
         last_error_hint = ?12, next_retry_at = ?13, retry_count = ?14, updated_at = ?16, last_provisioned_at = ?17,
         disabled_at = ?18, deleted_at = ?19, version = ?20
       WHERE domains.version < ?20`,
    )
      .bind(
        dto.id,
        dto.rootDomain,
        dto.zoneId,
        dto.bindingSource,
        dto.status,
        dto.cloudflareStatus,
        JSON.stringify(dto.nameServers),
        dto.catchAllEnabled ? 1 : 0,
        ctx.catchAll.enabled ? ctx.catchAll.ownerUserId : null,
        dto.lastProvisionError,
        dto.lastProvisionErrorCode,
        dto.lastProvisionErrorHint,
        dto.nextRetryAt,
        dto.retryCount,
        dto.createdAt,
        dto.updatedAt,
        dto.lastProvisionedAt,
        dto.disabledAt,
        ctx.deletedAt !== null && s.value === "deleted" ? new Date(ctx.deletedAt).toISOString() : null,
        this.nextVersion(),
      )
      .run();
    forgetActiveDomains();
    this.dirty = false;
    // Webhooks: domain.status_changed to deployment-wide (admin) hooks. Never throws.
    if (written.meta.changes > 0 && previous !== dto.status) await dispatchDomainStatusChanged(this.env, dto, previous);
  }

  private nextVersion(): number {
    const v = (this.ctx.storage.kv.get<number>("projectionVersion") ?? 0) + 1;
    this.ctx.storage.kv.put("projectionVersion", v);
    return v;
  }
}

export type CommandType = Command["type"];

/**
 * Configuration a command needs before anything is sent to Cloudflare, in the reference's order
 * and wording. Checked by the router (so the caller gets the answer without waking the object)
 * and again by the object itself.
 */
export function precondition(type: Command["type"], config: Config, hasZone: boolean): Extract<DomainResult, { ok: false }> | null {
const cmd = { type };
  const needsCloudflare = cmd.type !== "DISABLE";
  const verb = {
    BIND: "Cloudflare domain binding",
    ENABLE: "Cloudflare domain enablement",
    RETRY: "Cloudflare domain retry",
    DISABLE: "Domain disable",
    DELETE: "Cloudflare domain deletion",
    CATCH_ALL_ENABLE: "Catch-all enable",
    CATCH_ALL_DISABLE: "Catch-all disable",
  }[cmd.type];
  if (needsCloudflare && !config.managementEnabled) {
    return failed({
      status: 409,
      message: `${verb} requires EMAIL_ROUTING_MANAGEMENT_ENABLED=true`,
      code: "management_disabled",
      hint: "Set EMAIL_ROUTING_MANAGEMENT_ENABLED=true in the Worker's variables and redeploy.",
      retryable: false,
      cloudflareCode: null,
    });
  }
  if (needsCloudflare && !config.cloudflareToken) {
    return failed({
      status: 503,
      message: "Email Routing management is enabled but CLOUDFLARE_RUNTIME_API_TOKEN or CLOUDFLARE_API_TOKEN is not configured",
      code: "missing_token",
      hint: "Set the CLOUDFLARE_RUNTIME_API_TOKEN Worker secret (or the shared CLOUDFLARE_API_TOKEN).",
      retryable: false,
      cloudflareCode: null,
    });
  }
  if (cmd.type === "BIND" && !config.accountId && !hasZone) {
    return failed({
      status: 503,
      message: "Cloudflare domain binding requires CLOUDFLARE_ACCOUNT_ID to be configured",
      code: "missing_account_id",
      hint: "Set CLOUDFLARE_ACCOUNT_ID in the Worker's runtime variables (not only in the CI job) and redeploy.",
      retryable: false,
      cloudflareCode: null,
    });
  }
  if ((cmd.type === "BIND" || cmd.type === "ENABLE" || cmd.type === "CATCH_ALL_ENABLE") && !config.emailWorkerName) {
    return failed({
      status: 503,
      message:
        cmd.type === "CATCH_ALL_ENABLE"
          ? "Catch-all management requires EMAIL_WORKER_NAME to be configured"
          : "Email Routing management is enabled but EMAIL_WORKER_NAME is not configured",
      code: "missing_email_worker_name",
      hint: "Set EMAIL_WORKER_NAME to the name of the Worker that receives mail (this Worker: kaisoumail).",
      retryable: false,
      cloudflareCode: null,
    });
  }
  return null;
}


export const DEFAULT_CATCH_ALL: CatchAllRule = { enabled: false, name: "", matchers: [{ type: "all" }], actions: [{ type: "drop" }] };

function normaliseCatchAll(rule: CfCatchAllRule | null): CatchAllRule {
  if (!rule) return DEFAULT_CATCH_ALL;
  return {
    enabled: Boolean(rule.enabled),
    name: rule.name ?? "",
    matchers: rule.matchers?.length ? rule.matchers.map((m) => ({ ...m })) : [{ type: "all" }],
    actions: (rule.actions ?? []).map((a) => ({ type: a.type, ...(a.value ? { value: [...a.value] } : {}) })),
  };
}

function zoneInfo(zone: CfZone): ZoneInfo {
  return { id: zone.id, name: zone.name.toLowerCase(), status: zone.status, nameServers: zone.name_servers ?? [] };
}

export function toFailure(e: unknown): FailureInput {
  if (e instanceof CloudflareApiError) {
    return { status: e.status, code: e.code, message: e.message, retryable: e.retryable, retryAfterSeconds: e.retryAfterSeconds };
  }
  // Anything else (D1 hiccup, a bug) is treated as transient: the alarm tries again later.
  return { status: 500, code: null, message: e instanceof Error ? e.message : String(e), retryable: true, retryAfterSeconds: null };
}

export function failed(error: DomainError, extra: Record<string, unknown> = {}): Extract<DomainResult, { ok: false }> {
  return {
    ok: false,
    status: error.status,
    error: error.message,
    detailsJson: JSON.stringify({
      code: error.code,
      hint: error.hint,
      ...(error.cloudflareCode !== null ? { cloudflareCode: error.cloudflareCode } : {}),
      ...extra,
    }),
  };
}

/** Router side: a failed object result becomes the API error it describes. */
export function domainFailure(result: { status: number; error: string; detailsJson: string }): ApiError {
  return new ApiError(result.status, result.error, JSON.parse(result.detailsJson));
}

export { HINTS };
