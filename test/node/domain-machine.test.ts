/**
 * Unit tests for the pure domain-lifecycle machine (src/domain/machine.ts), driven exactly as the
 * Durable Object drives it: `transition(domainMachine, snapshot, event)`, one event at a time, with
 * the clock, the random number and the retry policy carried by every event.
 *
 * Layout: one describe block per persisted state (none, pending, provisioning_error, active,
 * disabled, deleted), each covering every command (BIND, ENABLE, RETRY, DISABLE, DELETE,
 * CATCH_ALL_ENABLE, CATCH_ALL_DISABLE, ALARM, with what `rejection()` answers), every result event
 * with its operation in flight, CF_FAILED with each failure class, and every result event arriving
 * with no operation in flight (ignored). Then backoff, end-to-end flows and persistence.
 */
import { describe, expect, it } from "vitest";
import { transition } from "xstate";
import { classifyFailure, HINTS, type DomainError, type FailureInput, type OpKind } from "../../src/domain/errors";
import {
  backoffMs,
  domainMachine,
  fresh,
  initialContext,
  PENDING_GIVE_UP_MS,
  persist,
  rejection,
  restore,
  TRANSIENT_FAILURES_BEFORE_ERROR,
  type CatchAllRule,
  type CommandType,
  type DomainContext,
  type DomainEvent,
  type DomainSnapshot,
  type MachineState,
  type PersistedDomain,
  type Policy,
  type ZoneInfo,
} from "../../src/domain/machine";

// ---- fixtures --------------------------------------------------------------------------------

const ROOT = "example.com";
const ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";
const OTHER_ZONE_ID = "9a7806061c88ada191ed06f989cc3dac";
const NS = ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"];
const DOMAIN_ID = "dom_0f3c2a9e1b7d4c5a8e6f0a1b2c3d4e5f";
const NEW_DOMAIN_ID = "dom_new0000000000000000000000000000";
const OWNER = "usr_owner";
const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 3, 1, 12, 0, 0);
const POLICY: Policy = { retryBaseSeconds: 60, retryMaxSeconds: 3600 };

/** Backoff for retryCount n with random 0.5 (no jitter) under POLICY: 60s · 2^n, capped at 1h. */
const B = (n: number) => Math.min(3600, 60 * 2 ** n) * SECOND;

type Clock = { now?: number; random?: number; policy?: Policy };
const base = (c: Clock = {}) => ({ now: c.now ?? T0, random: c.random ?? 0.5, policy: c.policy ?? POLICY });

const zone = (status: string, over: Partial<ZoneInfo> = {}): ZoneInfo => ({ id: ZONE_ID, name: ROOT, status, nameServers: NS, ...over });

const ORIGINAL_RULE: CatchAllRule = {
  enabled: true,
  name: "Forward everything",
  matchers: [{ type: "all" }],
  actions: [{ type: "forward", value: ["owner@elsewhere.example"] }],
};

const ev = {
  BIND: (c?: Clock): DomainEvent => ({ ...base(c), type: "BIND", domainId: NEW_DOMAIN_ID }),
  ENABLE: (zoneId = ZONE_ID, c?: Clock): DomainEvent => ({ ...base(c), type: "ENABLE", domainId: NEW_DOMAIN_ID, zoneId }),
  RETRY: (c?: Clock): DomainEvent => ({ ...base(c), type: "RETRY" }),
  DISABLE: (c?: Clock): DomainEvent => ({ ...base(c), type: "DISABLE" }),
  DELETE: (c?: Clock): DomainEvent => ({ ...base(c), type: "DELETE" }),
  CATCH_ALL_ENABLE: (c?: Clock): DomainEvent => ({ ...base(c), type: "CATCH_ALL_ENABLE", ownerUserId: OWNER }),
  CATCH_ALL_DISABLE: (c?: Clock): DomainEvent => ({ ...base(c), type: "CATCH_ALL_DISABLE" }),
  ALARM: (c?: Clock): DomainEvent => ({ ...base(c), type: "ALARM" }),
  ZONE_CREATED: (z: ZoneInfo, c?: Clock): DomainEvent => ({ ...base(c), type: "ZONE_CREATED", zone: z }),
  ZONE_FOUND: (z: ZoneInfo | null, c?: Clock): DomainEvent => ({ ...base(c), type: "ZONE_FOUND", zone: z }),
  ZONE_CHECKED: (z: ZoneInfo, c?: Clock): DomainEvent => ({ ...base(c), type: "ZONE_CHECKED", zone: z }),
  ROUTING_ENABLED: (c?: Clock): DomainEvent => ({ ...base(c), type: "ROUTING_ENABLED" }),
  ZONE_DELETED: (c?: Clock): DomainEvent => ({ ...base(c), type: "ZONE_DELETED" }),
  CATCH_ALL_READ: (rule: CatchAllRule = ORIGINAL_RULE, c?: Clock): DomainEvent => ({ ...base(c), type: "CATCH_ALL_READ", rule }),
  CATCH_ALL_WRITTEN: (c?: Clock): DomainEvent => ({ ...base(c), type: "CATCH_ALL_WRITTEN" }),
  RULES_RESTORED: (c?: Clock): DomainEvent => ({ ...base(c), type: "RULES_RESTORED" }),
  CATCH_ALL_RESTORED: (c?: Clock): DomainEvent => ({ ...base(c), type: "CATCH_ALL_RESTORED" }),
  CF_FAILED: (failure: FailureInput, c?: Clock): DomainEvent => ({ ...base(c), type: "CF_FAILED", failure }),
};

const fail = (status: number, code: number | null, message: string, retryable = false, retryAfterSeconds: number | null = null): FailureInput => ({
  status,
  code,
  message,
  retryable,
  retryAfterSeconds,
});

/** The failure classes the Cloudflare client produces (src/cloudflare/errors.ts). */
const FAIL = {
  "5xx": fail(502, null, "Bad Gateway", true),
  "429": fail(429, 971, "Please wait and consider throttling your request speed", true, 600),
  timeout: fail(504, null, "Cloudflare API request timed out after 10000ms", true),
  "403 zone.create": fail(
    403,
    0,
    'Requires permission "com.cloudflare.api.account.zone.create" to create zones for the selected account',
  ),
  "403 auth 10000": fail(403, 10000, "Authentication error"),
  "403 9109": fail(403, 9109, "Unauthorized to access requested resource"),
  "404": fail(404, 7003, `Could not route to /zones/${ZONE_ID}, perhaps your object identifier is invalid?`),
  "400 1061": fail(400, 1061, `${ROOT} already exists`),
  "400 2001": fail(400, 2001, "Zone is pending activation"),
} satisfies Record<string, FailureInput>;
type FailKey = keyof typeof FAIL;
const FAIL_KEYS = Object.keys(FAIL) as FailKey[];

const PENDING_ERROR: DomainError = {
  status: 409,
  message: "Zone is pending activation",
  code: "zone_pending",
  hint: HINTS.zone_pending,
  retryable: true,
  cloudflareCode: null,
};
const UNAVAILABLE = classifyFailure("create_zone", FAIL["5xx"]);
const AUTH_ON_ROUTING = classifyFailure("enable_routing", FAIL["403 auth 10000"]);

// ---- driving the machine -----------------------------------------------------------------

const step = (s: DomainSnapshot, e: DomainEvent): DomainSnapshot => transition(domainMachine, s, e)[0];
const run = (s: DomainSnapshot, ...events: DomainEvent[]): DomainSnapshot => events.reduce(step, s);
const valueOf = (s: DomainSnapshot) => s.value as MachineState;
const ctx = (over: Partial<DomainContext> = {}): DomainContext => ({ ...initialContext(ROOT), ...over });
const at = (value: MachineState, over: Partial<DomainContext> = {}): DomainSnapshot => restore({ value, context: ctx({ resting: value, ...over }) });
const roundTrip = (s: DomainSnapshot): DomainSnapshot => restore(JSON.parse(JSON.stringify(persist(s))) as PersistedDomain);

// ---- realistic starting snapshots -----------------------------------------------------------

/** Bound project zone waiting for nameserver delegation; its re-check (retry #4) is due now. */
const pendingDomain = (daysPending = 2, over: Partial<DomainContext> = {}) =>
  at("pending", {
    domainId: DOMAIN_ID,
    zoneId: ZONE_ID,
    nameServers: NS,
    cloudflareStatus: "pending",
    bindingSource: "project_bind",
    retryCount: 3,
    nextRetryAt: T0,
    retryOp: { kind: "check_zone" },
    pendingSince: T0 - daysPending * DAY,
    lastError: PENDING_ERROR,
    outcome: { command: "BIND", ok: true, error: null, retrying: false },
    createdAt: T0 - daysPending * DAY,
    updatedAt: T0 - HOUR,
    ...over,
  });

/** A bind whose zone create answered 5xx: uncertain, so the alarm looks the zone up first. */
const provisioningErrorNoZone = (over: Partial<DomainContext> = {}) =>
  at("provisioning_error", {
    domainId: DOMAIN_ID,
    bindingSource: "project_bind",
    retryCount: 1,
    transientFailures: 1,
    nextRetryAt: T0,
    retryOp: { kind: "find_zone" },
    lastError: UNAVAILABLE,
    outcome: { command: "BIND", ok: false, error: UNAVAILABLE, retrying: true },
    createdAt: T0 - 2 * 60 * SECOND,
    updatedAt: T0 - 2 * 60 * SECOND,
    ...over,
  });

/** A catalog domain whose routing enable failed for lack of permission: waits for an operator. */
const provisioningErrorWithZone = (over: Partial<DomainContext> = {}) =>
  at("provisioning_error", {
    domainId: DOMAIN_ID,
    zoneId: ZONE_ID,
    nameServers: NS,
    cloudflareStatus: "active",
    bindingSource: "catalog",
    lastError: AUTH_ON_ROUTING,
    outcome: { command: "ENABLE", ok: false, error: AUTH_ON_ROUTING, retrying: false },
    createdAt: T0 - DAY,
    updatedAt: T0 - DAY,
    ...over,
  });

type CatchAllSetup = "off" | "on" | "off, stale snapshot";
const activeDomain = (catchAll: CatchAllSetup = "off", over: Partial<DomainContext> = {}) =>
  at("active", {
    domainId: DOMAIN_ID,
    zoneId: ZONE_ID,
    nameServers: NS,
    cloudflareStatus: "active",
    bindingSource: "project_bind",
    lastProvisionedAt: T0 - 10 * DAY,
    createdAt: T0 - 12 * DAY,
    updatedAt: T0 - 10 * DAY,
    outcome: { command: "BIND", ok: true, error: null, retrying: false },
    catchAll:
      catchAll === "on"
        ? { enabled: true, ownerUserId: OWNER, snapshot: ORIGINAL_RULE }
        : catchAll === "off, stale snapshot"
          ? { enabled: false, ownerUserId: OWNER, snapshot: ORIGINAL_RULE }
          : { enabled: false, ownerUserId: null, snapshot: null },
    ...over,
  });

const disabledDomain = (over: Partial<DomainContext> = {}) =>
  at("disabled", {
    domainId: DOMAIN_ID,
    zoneId: ZONE_ID,
    nameServers: NS,
    cloudflareStatus: "active",
    bindingSource: "project_bind",
    lastProvisionedAt: T0 - 10 * DAY,
    disabledAt: T0 - DAY,
    createdAt: T0 - 12 * DAY,
    updatedAt: T0 - DAY,
    outcome: { command: "DISABLE", ok: true, error: null, retrying: false },
    ...over,
  });

const deletedDomain = (over: Partial<DomainContext> = {}) =>
  at("deleted", {
    domainId: DOMAIN_ID,
    bindingSource: "project_bind",
    lastProvisionedAt: T0 - 10 * DAY,
    deletedAt: T0 - DAY,
    createdAt: T0 - 12 * DAY,
    updatedAt: T0 - DAY,
    outcome: { command: "DELETE", ok: true, error: null, retrying: false },
    ...over,
  });

// ---- shared table-driven cases --------------------------------------------------------------

type Cmd = CommandType | "ALARM";
type Rejects = [status: number, code: string, message: string];
interface CmdRow {
  cmd: Cmd;
  /** "ignored": no transition, the snapshot is unchanged. */
  to: MachineState | "ignored";
  op?: OpKind | null;
  rejects?: Rejects;
}

const NOT_FOUND: Rejects = [404, "domain_not_found", "Mailbox domain not found"];
const EXISTS: Rejects = [409, "domain_exists", "Mailbox domain already exists"];
const CA_ENABLE_NOT_ACTIVE: Rejects = [409, "domain_not_active", "Only active mailbox domains can enable catch-all"];
const CA_DISABLE_NOT_ACTIVE: Rejects = [409, "domain_not_active", "Only active mailbox domains can disable catch-all"];
const NOT_PROJECT_BOUND: Rejects = [409, "not_project_bound", "Only project-bound domains can be deleted"];

const commandEvent = (cmd: Cmd, c?: Clock): DomainEvent => (cmd === "ENABLE" ? ev.ENABLE(ZONE_ID, c) : ev[cmd](c));

function commandCases(make: () => DomainSnapshot, rows: CmdRow[]) {
  it.each(rows)("$cmd → $to (op $op)", ({ cmd, to, op = null, rejects }) => {
    const s = make();
    const e = commandEvent(cmd);
    const refused = rejection(valueOf(s), s.context, e);
    if (rejects) {
      expect(refused).toMatchObject({ status: rejects[0], code: rejects[1], message: rejects[2], retryable: false, cloudflareCode: null });
      expect(refused!.hint.length).toBeGreaterThan(10);
    } else {
      expect(refused).toBeNull();
    }
    const next = step(s, e);
    if (to === "ignored") {
      expect(valueOf(next)).toBe(valueOf(s));
      expect(next.context).toEqual(s.context);
      return;
    }
    expect(valueOf(next)).toBe(to);
    expect(next.context.op).toEqual(op ? { kind: op } : null);
    if (cmd === "ALARM") {
      // The alarm performs the scheduled op; it is not a user command, the outcome is untouched.
      expect(next.context.command).toBeNull();
      expect(next.context.outcome).toEqual(s.context.outcome);
      expect(next.context.nextRetryAt).toBeNull();
      expect(next.context.retryCount).toBe(s.context.retryCount);
    } else if (op) {
      // A person acting starts a chain of operations and resets the automatic retry schedule.
      expect(next.context.command).toMatchObject({ type: cmd, from: valueOf(s), zoneCreated: false });
      expect(next.context.outcome).toBeNull();
      expect(next.context).toMatchObject({ nextRetryAt: null, retryOp: null, retryCount: 0, transientFailures: 0, updatedAt: T0 });
    } else {
      // Settled at once (disable without catch-all, or a no-op): a successful outcome.
      expect(next.context.command).toBeNull();
      expect(next.context.outcome).toEqual({ command: cmd, ok: true, error: null, retrying: false });
    }
  });
}

interface FailRow {
  to: MachineState;
  /** lastError.code after the failure (null: no error recorded). */
  last: string | null;
  /** How the command ended: ok, retrying (transient), failed; "unchanged" when no command (alarm). */
  out: "ok" | "retrying" | "failed" | "unchanged";
  /** The outcome's error code when it differs from lastError. */
  err?: string;
  /** [op the alarm performs, delay from now]; null when nothing is scheduled. */
  retry: [OpKind, number] | null;
  /** retryCount afterwards, when it is not one more than before (a schedule put back). */
  count?: number;
  /** The op left in flight (default none). */
  op?: OpKind;
  status?: number;
}

/** One row per failure class (the Record type makes TypeScript insist on all nine). */
function failureCases(make: () => DomainSnapshot, command: CommandType | null, rows: Record<FailKey, FailRow>) {
  it.each(FAIL_KEYS.map((k) => [k, rows[k]] as const))("CF_FAILED %s → %o", (key, x) => {
    const s = make();
    expect(s.context.op).not.toBeNull();
    expect(s.context.command?.type ?? null).toBe(command);
    const next = step(s, ev.CF_FAILED(FAIL[key]));
    expect(valueOf(next)).toBe(x.to);
    expect(next.context.op).toEqual(x.op ? { kind: x.op } : null);
    if (!x.op) expect(next.context.command).toBeNull();
    expect(next.context.lastError?.code ?? null).toBe(x.last);
    if (x.status !== undefined) expect(next.context.lastError?.status).toBe(x.status);
    if (x.retry) {
      expect(next.context.retryOp).toEqual({ kind: x.retry[0] });
      expect(next.context.nextRetryAt).toBe(T0 + x.retry[1]);
      expect(next.context.retryCount).toBe(x.count ?? s.context.retryCount + 1);
    } else {
      expect(next.context.nextRetryAt).toBeNull();
    }
    if (x.out === "unchanged") {
      expect(next.context.outcome).toEqual(s.context.outcome);
    } else {
      const o = next.context.outcome!;
      expect(o.command).toBe(command);
      expect(o.ok).toBe(x.out === "ok");
      expect(o.retrying).toBe(x.out === "retrying");
      expect(o.error?.code ?? null).toBe(x.out === "ok" ? null : (x.err ?? x.last));
    }
  });
}

const STRAY: Array<[string, DomainEvent]> = [
  ["ZONE_CREATED", ev.ZONE_CREATED(zone("active"))],
  ["ZONE_FOUND (zone)", ev.ZONE_FOUND(zone("pending"))],
  ["ZONE_FOUND (null)", ev.ZONE_FOUND(null)],
  ["ZONE_CHECKED", ev.ZONE_CHECKED(zone("active"))],
  ["ROUTING_ENABLED", ev.ROUTING_ENABLED()],
  ["ZONE_DELETED", ev.ZONE_DELETED()],
  ["CATCH_ALL_READ", ev.CATCH_ALL_READ()],
  ["CATCH_ALL_WRITTEN", ev.CATCH_ALL_WRITTEN()],
  ["RULES_RESTORED", ev.RULES_RESTORED()],
  ["CATCH_ALL_RESTORED", ev.CATCH_ALL_RESTORED()],
  ...FAIL_KEYS.map((k): [string, DomainEvent] => [`CF_FAILED ${k}`, ev.CF_FAILED(FAIL[k])]),
];

/**
 * A result event with no operation in flight (a duplicate delivery, a bug in the host, a replay
 * after the op was already settled) is ignored: same state, same context. It must neither move
 * the domain (e.g. ROUTING_ENABLED turning a deleted domain active) nor throw.
 */
function strayCases(make: () => DomainSnapshot) {
  it.each(STRAY)("ignores a stray %s (no op in flight)", (_, e) => {
    const s = make();
    expect(s.context.op).toBeNull();
    const next = step(s, e);
    expect(valueOf(next)).toBe(valueOf(s));
    expect(next.context).toEqual(s.context);
  });
}

// ==============================================================================================

describe("none", () => {
  commandCases(() => fresh(ROOT), [
    { cmd: "BIND", to: "none", op: "create_zone" },
    { cmd: "ENABLE", to: "none", op: "check_zone" },
    { cmd: "RETRY", to: "ignored", rejects: NOT_FOUND },
    { cmd: "DISABLE", to: "ignored", rejects: NOT_FOUND },
    { cmd: "DELETE", to: "ignored", rejects: NOT_FOUND },
    { cmd: "CATCH_ALL_ENABLE", to: "ignored", rejects: NOT_FOUND },
    { cmd: "CATCH_ALL_DISABLE", to: "ignored", rejects: NOT_FOUND },
    { cmd: "ALARM", to: "ignored" },
  ]);

  it("fresh() is the empty record", () => {
    const s = fresh(ROOT);
    expect(valueOf(s)).toBe("none");
    expect(s.context).toEqual(initialContext(ROOT));
  });

  it("BIND records the new domain id, project binding and creation time", () => {
    const next = step(fresh(ROOT), ev.BIND());
    expect(next.context).toMatchObject({
      domainId: NEW_DOMAIN_ID,
      bindingSource: "project_bind",
      createdAt: T0,
      zoneId: null,
      command: { type: "BIND", from: "none", zoneCreated: false },
    });
  });

  it("ENABLE records the catalog zone id and catalog binding", () => {
    const next = step(fresh(ROOT), ev.ENABLE(ZONE_ID));
    expect(next.context).toMatchObject({ domainId: NEW_DOMAIN_ID, zoneId: ZONE_ID, bindingSource: "catalog", nameServers: [], createdAt: T0 });
  });

  describe("BIND: ZONE_CREATED", () => {
    const binding = () => step(fresh(ROOT), ev.BIND());

    it("a pending zone lands in pending with its nameservers and a scheduled re-check", () => {
      const next = step(binding(), ev.ZONE_CREATED(zone("pending")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({
        op: null,
        command: null,
        zoneId: ZONE_ID,
        nameServers: NS,
        cloudflareStatus: "pending",
        pendingSince: T0,
        retryOp: { kind: "check_zone" },
        nextRetryAt: T0 + B(0),
        retryCount: 1,
        resting: "pending",
        outcome: { command: "BIND", ok: true, error: null, retrying: false },
      });
      expect(next.context.lastError).toEqual(PENDING_ERROR);
    });

    it("an active zone goes on to enable routing (still resting in pending meanwhile)", () => {
      const next = step(binding(), ev.ZONE_CREATED(zone("active")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({
        op: { kind: "enable_routing" },
        command: { type: "BIND", from: "none", zoneCreated: true },
        zoneId: ZONE_ID,
        cloudflareStatus: "active",
        pendingSince: null,
        outcome: null,
      });
    });
  });

  describe("BIND: CF_FAILED on create_zone", () => {
    failureCases(() => step(fresh(ROOT), ev.BIND()), "BIND", {
      // An uncertain create (the zone may exist): a record in provisioning_error, retried with a lookup.
      "5xx": { to: "provisioning_error", last: "cloudflare_unavailable", status: 503, out: "retrying", retry: ["find_zone", B(0)] },
      "429": { to: "provisioning_error", last: "rate_limited", status: 429, out: "retrying", retry: ["find_zone", 600 * SECOND] },
      timeout: { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["find_zone", B(0)] },
      // A permanent refusal: nothing was created, the command failed, there is still no record.
      "403 zone.create": { to: "none", last: "zone_create_permission", status: 403, out: "failed", retry: null },
      "403 auth 10000": { to: "none", last: "authentication_error", status: 403, out: "failed", retry: null },
      "403 9109": { to: "none", last: "zone_not_visible", status: 403, out: "failed", retry: null },
      "404": { to: "none", last: "cloudflare_error", status: 404, out: "failed", retry: null },
      "400 1061": { to: "none", last: "zone_exists", status: 409, out: "failed", retry: null },
      // Unrealistic for a create; classified as zone_pending, and the command simply fails.
      "400 2001": { to: "none", last: "zone_pending", status: 409, out: "failed", retry: null },
    });

    it("a transient create failure leaves no zone id and counts one transient failure", () => {
      const next = run(fresh(ROOT), ev.BIND(), ev.CF_FAILED(FAIL["5xx"]));
      expect(next.context).toMatchObject({ zoneId: null, transientFailures: 1, domainId: NEW_DOMAIN_ID, resting: "provisioning_error" });
    });

    it("zone_create_permission carries the Cloudflare message and the token hint", () => {
      const next = run(fresh(ROOT), ev.BIND(), ev.CF_FAILED(FAIL["403 zone.create"]));
      expect(next.context.outcome?.error).toEqual({
        status: 403,
        message: FAIL["403 zone.create"].message,
        code: "zone_create_permission",
        hint: HINTS.zone_create_permission,
        retryable: false,
        cloudflareCode: 0,
      });
    });
  });

  describe("ENABLE: ZONE_CHECKED", () => {
    const enabling = (zoneId = ZONE_ID) => step(fresh(ROOT), ev.ENABLE(zoneId));

    it("an active zone with the right name goes on to enable routing", () => {
      const next = step(enabling(), ev.ZONE_CHECKED(zone("active")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({ op: { kind: "enable_routing" }, zoneId: ZONE_ID, nameServers: NS, cloudflareStatus: "active" });
    });

    it("a pending zone lands in pending with a re-check", () => {
      const next = step(enabling(), ev.ZONE_CHECKED(zone("pending")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({
        op: null,
        pendingSince: T0,
        nextRetryAt: T0 + B(0),
        retryCount: 1,
        retryOp: { kind: "check_zone" },
        outcome: { command: "ENABLE", ok: true, error: null, retrying: false },
      });
    });

    it("a zone with another name is refused (domain_not_in_catalog) and leaves no record behind", () => {
      const next = step(enabling(OTHER_ZONE_ID), ev.ZONE_CHECKED(zone("active", { id: OTHER_ZONE_ID, name: "other.example" })));
      expect(valueOf(next)).toBe("none");
      expect(next.context.outcome).toMatchObject({ command: "ENABLE", ok: false, retrying: false, error: { code: "domain_not_in_catalog", status: 400 } });
      // The refused zone id must not stick: a later BIND would otherwise check that zone instead of creating one.
      expect(next.context).toMatchObject({ op: null, command: null, zoneId: null, nameServers: [], bindingSource: null, domainId: null });
      expect(step(next, ev.BIND()).context.op).toEqual({ kind: "create_zone" });
    });

    it("a zone name that differs only in case is accepted", () => {
      const next = step(enabling(), ev.ZONE_CHECKED(zone("active", { name: "Example.COM" })));
      expect(next.context.op).toEqual({ kind: "enable_routing" });
    });

    it("a zone that is moved/deactivated is unusable: provisioning_error without retry", () => {
      const next = step(enabling(), ev.ZONE_CHECKED(zone("moved")));
      expect(valueOf(next)).toBe("provisioning_error");
      expect(next.context.lastError).toMatchObject({ code: "zone_not_active", message: "Zone is moved in Cloudflare" });
      expect(next.context).toMatchObject({ nextRetryAt: null, retryOp: null, op: null });
      expect(next.context.outcome).toMatchObject({ command: "ENABLE", ok: false, error: { code: "zone_not_active" } });
    });
  });

  describe("ENABLE: CF_FAILED on check_zone", () => {
    failureCases(() => step(fresh(ROOT), ev.ENABLE(ZONE_ID)), "ENABLE", {
      "5xx": { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
      "429": { to: "provisioning_error", last: "rate_limited", out: "retrying", retry: ["check_zone", 600 * SECOND] },
      timeout: { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
      // The catalog zone cannot be read with that id: the enable is refused, no record is created.
      "403 zone.create": { to: "none", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "403 auth 10000": { to: "none", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "403 9109": { to: "none", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "404": { to: "none", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "400 1061": { to: "none", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      // Cloudflare says the zone is pending: the domain waits in pending like a pending zone.
      "400 2001": { to: "pending", last: "zone_pending", out: "ok", retry: ["check_zone", B(0)] },
    });

    it("a refused enable leaves no zone id behind", () => {
      const next = run(fresh(ROOT), ev.ENABLE(ZONE_ID), ev.CF_FAILED(FAIL["404"]));
      expect(next.context).toMatchObject({ zoneId: null, bindingSource: null, domainId: null });
    });

    it("a transient failure keeps the zone id for the alarm's re-check", () => {
      const next = run(fresh(ROOT), ev.ENABLE(ZONE_ID), ev.CF_FAILED(FAIL["5xx"]));
      expect(next.context).toMatchObject({ zoneId: ZONE_ID, bindingSource: "catalog" });
    });
  });

  strayCases(() => fresh(ROOT));
});

// ==============================================================================================

describe("pending", () => {
  commandCases(() => pendingDomain(), [
    { cmd: "BIND", to: "pending", op: "check_zone" },
    { cmd: "ENABLE", to: "pending", op: "check_zone" },
    { cmd: "RETRY", to: "pending", op: "check_zone" },
    { cmd: "DISABLE", to: "disabled", op: null },
    { cmd: "DELETE", to: "pending", op: "delete_zone" },
    { cmd: "CATCH_ALL_ENABLE", to: "ignored", rejects: CA_ENABLE_NOT_ACTIVE },
    { cmd: "CATCH_ALL_DISABLE", to: "ignored", rejects: CA_DISABLE_NOT_ACTIVE },
    { cmd: "ALARM", to: "pending", op: "check_zone" },
  ]);

  it("BIND keeps the domain id, creation time and project binding", () => {
    const s = pendingDomain();
    const next = step(s, ev.BIND());
    expect(next.context).toMatchObject({ domainId: DOMAIN_ID, createdAt: s.context.createdAt, bindingSource: "project_bind", zoneId: ZONE_ID });
  });

  it("ENABLE with the same zone keeps the project binding and the nameservers", () => {
    const next = step(pendingDomain(), ev.ENABLE(ZONE_ID));
    expect(next.context).toMatchObject({ bindingSource: "project_bind", nameServers: NS, zoneId: ZONE_ID, domainId: DOMAIN_ID });
  });

  it("ENABLE with another zone switches to that catalog zone (nameservers unknown until checked)", () => {
    const next = step(pendingDomain(), ev.ENABLE(OTHER_ZONE_ID));
    expect(next.context).toMatchObject({ bindingSource: "catalog", nameServers: [], zoneId: OTHER_ZONE_ID });
  });

  it("ENABLE with a zone whose name does not match is refused and changes nothing (zone, binding, re-check schedule)", () => {
    const s = pendingDomain();
    const next = run(s, ev.ENABLE(OTHER_ZONE_ID), ev.ZONE_CHECKED(zone("active", { id: OTHER_ZONE_ID, name: "other.example" })));
    expect(valueOf(next)).toBe("pending");
    expect(next.context.outcome).toMatchObject({ command: "ENABLE", ok: false, error: { code: "domain_not_in_catalog" } });
    expect(next.context).toMatchObject({
      zoneId: ZONE_ID,
      nameServers: NS,
      bindingSource: "project_bind",
      cloudflareStatus: "pending",
      nextRetryAt: s.context.nextRetryAt,
      retryOp: { kind: "check_zone" },
      retryCount: 3,
    });
  });

  it("DISABLE stops the re-checks and clears the pending error", () => {
    const next = step(pendingDomain(), ev.DISABLE());
    expect(next.context).toMatchObject({ disabledAt: T0, nextRetryAt: null, retryOp: null, op: null, lastError: null, resting: "disabled" });
  });

  it("DELETE of a catalog domain is refused by rejection()", () => {
    const s = pendingDomain(2, { bindingSource: "catalog" });
    expect(rejection("pending", s.context, ev.DELETE())).toMatchObject({ status: 409, code: "not_project_bound" });
  });

  it("ALARM with nothing scheduled does nothing", () => {
    const s = pendingDomain(2, { nextRetryAt: null, retryOp: null });
    const next = step(s, ev.ALARM());
    expect(next.context).toEqual(s.context);
  });

  describe("alarm re-check: ZONE_CHECKED", () => {
    const checking = (days = 2) => step(pendingDomain(days), ev.ALARM());

    it("zone active → enable routing (still pending until routing is on)", () => {
      const next = step(checking(), ev.ZONE_CHECKED(zone("active")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({ op: { kind: "enable_routing" }, cloudflareStatus: "active" });
    });

    it("zone still pending → re-check later with a longer backoff", () => {
      const s = checking();
      const next = step(s, ev.ZONE_CHECKED(zone("pending")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({
        op: null,
        nextRetryAt: T0 + B(3),
        retryCount: 4,
        retryOp: { kind: "check_zone" },
        pendingSince: T0 - 2 * DAY,
        transientFailures: 0,
      });
      expect(next.context.lastError).toEqual(PENDING_ERROR);
      expect(next.context.outcome).toEqual(s.context.outcome);
    });

    it("zone initializing counts as waiting", () => {
      expect(valueOf(step(checking(), ev.ZONE_CHECKED(zone("initializing"))))).toBe("pending");
    });

    it("27 days pending: still waiting", () => {
      const next = step(checking(27), ev.ZONE_CHECKED(zone("pending")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context.nextRetryAt).toBe(T0 + B(3));
    });

    it.each([28, 29])("%i days pending: gives up → provisioning_error zone_not_activated, no more retries", (days) => {
      const next = step(checking(days), ev.ZONE_CHECKED(zone("pending")));
      expect(valueOf(next)).toBe("provisioning_error");
      expect(next.context.lastError).toMatchObject({
        status: 409,
        code: "zone_not_activated",
        message: "Zone was not activated within 28 days",
        hint: HINTS.zone_not_activated,
        retryable: false,
      });
      expect(next.context).toMatchObject({ op: null, nextRetryAt: null, retryOp: null });
    });

    it("just under 28 days is not a give-up", () => {
      const s = pendingDomain(0, { pendingSince: T0 - PENDING_GIVE_UP_MS + 1 });
      expect(valueOf(run(s, ev.ALARM(), ev.ZONE_CHECKED(zone("pending"))))).toBe("pending");
    });

    it("29 days pending but the zone is now active: activation wins", () => {
      const next = step(checking(29), ev.ZONE_CHECKED(zone("active")));
      expect(next.context.op).toEqual({ kind: "enable_routing" });
    });

    it("zone deactivated → provisioning_error zone_not_active", () => {
      const next = step(checking(), ev.ZONE_CHECKED(zone("deactivated")));
      expect(valueOf(next)).toBe("provisioning_error");
      expect(next.context.lastError?.code).toBe("zone_not_active");
      expect(next.context.nextRetryAt).toBeNull();
    });
  });

  describe("ROUTING_ENABLED", () => {
    it("→ active, clearing the retry schedule, the pending clock and the error", () => {
      const next = run(pendingDomain(), ev.ALARM(), ev.ZONE_CHECKED(zone("active")), ev.ROUTING_ENABLED());
      expect(valueOf(next)).toBe("active");
      expect(next.context).toMatchObject({
        op: null,
        resting: "active",
        cloudflareStatus: "active",
        lastProvisionedAt: T0,
        lastError: null,
        retryCount: 0,
        transientFailures: 0,
        nextRetryAt: null,
        retryOp: null,
        pendingSince: null,
        zoneId: ZONE_ID,
      });
    });
  });

  describe("DELETE: ZONE_DELETED", () => {
    it("→ deleted, zone forgotten, deletedAt set", () => {
      const next = run(pendingDomain(), ev.DELETE(), ev.ZONE_DELETED());
      expect(valueOf(next)).toBe("deleted");
      expect(next.context).toMatchObject({
        zoneId: null,
        nameServers: [],
        cloudflareStatus: null,
        deletedAt: T0,
        nextRetryAt: null,
        retryOp: null,
        pendingSince: null,
        domainId: DOMAIN_ID,
        outcome: { command: "DELETE", ok: true, error: null, retrying: false },
      });
    });
  });

  describe("alarm re-check: CF_FAILED on check_zone", () => {
    failureCases(() => step(pendingDomain(), ev.ALARM()), null, {
      "5xx": { to: "pending", last: "cloudflare_unavailable", out: "unchanged", retry: ["check_zone", B(3)] },
      "429": { to: "pending", last: "rate_limited", out: "unchanged", retry: ["check_zone", 600 * SECOND] },
      timeout: { to: "pending", last: "cloudflare_unavailable", out: "unchanged", retry: ["check_zone", B(3)] },
      "403 zone.create": { to: "provisioning_error", last: "authentication_error", out: "unchanged", retry: null },
      "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "unchanged", retry: null },
      "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "unchanged", retry: null },
      "404": { to: "provisioning_error", last: "cloudflare_error", status: 404, out: "unchanged", retry: null },
      "400 1061": { to: "provisioning_error", last: "cloudflare_error", status: 400, out: "unchanged", retry: null },
      "400 2001": { to: "pending", last: "zone_pending", out: "unchanged", retry: ["check_zone", B(3)] },
    });

    it("a transient failure keeps the zone id and counts a transient failure", () => {
      const next = run(pendingDomain(), ev.ALARM(), ev.CF_FAILED(FAIL.timeout));
      expect(next.context).toMatchObject({ zoneId: ZONE_ID, transientFailures: 1, pendingSince: T0 - 2 * DAY });
    });

    it(`the ${TRANSIENT_FAILURES_BEFORE_ERROR}th consecutive transient failure shows provisioning_error but keeps retrying`, () => {
      const next = run(pendingDomain(2, { transientFailures: TRANSIENT_FAILURES_BEFORE_ERROR - 1 }), ev.ALARM(), ev.CF_FAILED(FAIL["5xx"]));
      expect(valueOf(next)).toBe("provisioning_error");
      expect(next.context).toMatchObject({ transientFailures: TRANSIENT_FAILURES_BEFORE_ERROR, retryOp: { kind: "check_zone" }, nextRetryAt: T0 + B(3) });
    });
  });

  describe("alarm: CF_FAILED on enable_routing (zone became active)", () => {
    failureCases(() => run(pendingDomain(), ev.ALARM(), ev.ZONE_CHECKED(zone("active"))), null, {
      "5xx": { to: "pending", last: "cloudflare_unavailable", out: "unchanged", retry: ["enable_routing", B(3)] },
      "429": { to: "pending", last: "rate_limited", out: "unchanged", retry: ["enable_routing", 600 * SECOND] },
      timeout: { to: "pending", last: "cloudflare_unavailable", out: "unchanged", retry: ["enable_routing", B(3)] },
      // No rollback: the alarm is not a bind that created the zone.
      "403 zone.create": { to: "provisioning_error", last: "email_routing_permission", out: "unchanged", retry: null },
      "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "unchanged", retry: null },
      "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "unchanged", retry: null },
      "404": { to: "provisioning_error", last: "cloudflare_error", out: "unchanged", retry: null },
      "400 1061": { to: "provisioning_error", last: "cloudflare_error", out: "unchanged", retry: null },
      "400 2001": { to: "pending", last: "zone_pending", out: "unchanged", retry: ["check_zone", B(3)] },
    });
  });

  describe("DELETE: CF_FAILED on delete_zone", () => {
    failureCases(() => step(pendingDomain(), ev.DELETE()), "DELETE", {
      "5xx": { to: "pending", last: "cloudflare_unavailable", out: "retrying", retry: ["delete_zone", B(0)] },
      "429": { to: "pending", last: "rate_limited", out: "retrying", retry: ["delete_zone", 600 * SECOND] },
      timeout: { to: "pending", last: "cloudflare_unavailable", out: "retrying", retry: ["delete_zone", B(0)] },
      // Refused: the domain stays pending and gets back its own re-check schedule (retry #4 due now).
      "403 zone.create": { to: "pending", last: "authentication_error", out: "failed", retry: ["check_zone", 0], count: 3 },
      "403 auth 10000": { to: "pending", last: "authentication_error", out: "failed", retry: ["check_zone", 0], count: 3 },
      // A zone Cloudflare no longer knows counts as deleted.
      "403 9109": { to: "deleted", last: null, out: "ok", retry: null },
      "404": { to: "deleted", last: null, out: "ok", retry: null },
      "400 1061": { to: "pending", last: "cloudflare_error", out: "failed", retry: ["check_zone", 0], count: 3 },
      "400 2001": { to: "pending", last: "zone_pending", out: "failed", retry: ["check_zone", 0], count: 3 },
    });
  });

  strayCases(() => pendingDomain(2, { nextRetryAt: T0 + HOUR }));

  it("a result for another op than the one in flight is ignored (op stays in flight)", () => {
    const s = step(pendingDomain(), ev.ALARM());
    for (const e of [ev.ROUTING_ENABLED(), ev.ZONE_DELETED(), ev.ZONE_CREATED(zone("active")), ev.CATCH_ALL_WRITTEN()]) {
      const next = step(s, e);
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toEqual(s.context);
    }
  });
});

// ==============================================================================================

describe("provisioning_error", () => {
  describe("without a zone (uncertain create, find_zone scheduled)", () => {
    commandCases(() => provisioningErrorNoZone(), [
      // Never a blind second create: the first create may have succeeded.
      { cmd: "BIND", to: "provisioning_error", op: "find_zone" },
      { cmd: "ENABLE", to: "provisioning_error", op: "check_zone" },
      { cmd: "RETRY", to: "provisioning_error", op: "find_zone" },
      { cmd: "DISABLE", to: "disabled", op: null },
      { cmd: "DELETE", to: "provisioning_error", op: "delete_zone" },
      { cmd: "CATCH_ALL_ENABLE", to: "ignored", rejects: CA_ENABLE_NOT_ACTIVE },
      { cmd: "CATCH_ALL_DISABLE", to: "ignored", rejects: CA_DISABLE_NOT_ACTIVE },
      { cmd: "ALARM", to: "provisioning_error", op: "find_zone" },
    ]);

    describe("alarm: ZONE_FOUND", () => {
      const finding = () => step(provisioningErrorNoZone(), ev.ALARM());

      it("null → create the zone again", () => {
        const next = step(finding(), ev.ZONE_FOUND(null));
        expect(valueOf(next)).toBe("provisioning_error");
        expect(next.context.op).toEqual({ kind: "create_zone" });
      });

      it("a pending zone (the uncertain create did succeed) → pending, re-check from a fresh backoff", () => {
        const next = step(finding(), ev.ZONE_FOUND(zone("pending")));
        expect(valueOf(next)).toBe("pending");
        expect(next.context).toMatchObject({
          zoneId: ZONE_ID,
          nameServers: NS,
          pendingSince: T0,
          op: null,
          retryOp: { kind: "check_zone" },
          nextRetryAt: T0 + B(0),
          retryCount: 1,
          transientFailures: 0,
        });
        expect(next.context.lastError).toEqual(PENDING_ERROR);
      });

      it("an active zone → enable routing", () => {
        const next = step(finding(), ev.ZONE_FOUND(zone("active")));
        expect(valueOf(next)).toBe("pending");
        expect(next.context.op).toEqual({ kind: "enable_routing" });
        expect(next.context.command).toBeNull();
      });

      it("ZONE_CREATED after the second create → pending", () => {
        const next = run(finding(), ev.ZONE_FOUND(null), ev.ZONE_CREATED(zone("pending")));
        expect(valueOf(next)).toBe("pending");
        expect(next.context.zoneId).toBe(ZONE_ID);
      });
    });

    describe("alarm: CF_FAILED on find_zone", () => {
      failureCases(() => step(provisioningErrorNoZone(), ev.ALARM()), null, {
        "5xx": { to: "provisioning_error", last: "cloudflare_unavailable", out: "unchanged", retry: ["find_zone", B(1)] },
        "429": { to: "provisioning_error", last: "rate_limited", out: "unchanged", retry: ["find_zone", 600 * SECOND] },
        timeout: { to: "provisioning_error", last: "cloudflare_unavailable", out: "unchanged", retry: ["find_zone", B(1)] },
        "403 zone.create": { to: "provisioning_error", last: "authentication_error", out: "unchanged", retry: null },
        "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "unchanged", retry: null },
        "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "unchanged", retry: null },
        "404": { to: "provisioning_error", last: "cloudflare_error", out: "unchanged", retry: null },
        "400 1061": { to: "provisioning_error", last: "cloudflare_error", out: "unchanged", retry: null },
        // Unrealistic for a zone lookup; documented: treated like a pending zone (re-check scheduled).
        "400 2001": { to: "pending", last: "zone_pending", out: "unchanged", retry: ["check_zone", B(1)] },
      });
    });

    describe("alarm: CF_FAILED on the second create_zone", () => {
      failureCases(() => run(provisioningErrorNoZone(), ev.ALARM(), ev.ZONE_FOUND(null)), null, {
        // Uncertain again: look the zone up again next time.
        "5xx": { to: "provisioning_error", last: "cloudflare_unavailable", out: "unchanged", retry: ["find_zone", B(1)] },
        "429": { to: "provisioning_error", last: "rate_limited", out: "unchanged", retry: ["find_zone", 600 * SECOND] },
        timeout: { to: "provisioning_error", last: "cloudflare_unavailable", out: "unchanged", retry: ["find_zone", B(1)] },
        "403 zone.create": { to: "provisioning_error", last: "zone_create_permission", out: "unchanged", retry: null },
        "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "unchanged", retry: null },
        "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "unchanged", retry: null },
        "404": { to: "provisioning_error", last: "cloudflare_error", out: "unchanged", retry: null },
        "400 1061": { to: "provisioning_error", last: "zone_exists", out: "unchanged", retry: null },
        "400 2001": { to: "provisioning_error", last: "zone_pending", out: "unchanged", retry: null },
      });
    });

    it("DELETE with no zone: the host answers ZONE_DELETED at once → deleted", () => {
      const next = run(provisioningErrorNoZone(), ev.DELETE(), ev.ZONE_DELETED());
      expect(valueOf(next)).toBe("deleted");
      expect(next.context).toMatchObject({ nextRetryAt: null, retryOp: null, retryCount: 0, deletedAt: T0 });
    });

    it("DISABLE cancels the scheduled lookup", () => {
      const next = step(provisioningErrorNoZone(), ev.DISABLE());
      expect(next.context).toMatchObject({ nextRetryAt: null, retryOp: null, disabledAt: T0 });
    });

    strayCases(() => provisioningErrorNoZone({ nextRetryAt: T0 + HOUR }));
  });

  describe("with a zone (permission error on enable_routing, nothing scheduled)", () => {
    commandCases(() => provisioningErrorWithZone(), [
      { cmd: "BIND", to: "provisioning_error", op: "check_zone" },
      { cmd: "ENABLE", to: "provisioning_error", op: "check_zone" },
      { cmd: "RETRY", to: "provisioning_error", op: "check_zone" },
      { cmd: "DISABLE", to: "disabled", op: null },
      // Catalog zone: not ours to delete (the machine is never asked).
      { cmd: "DELETE", to: "provisioning_error", op: "delete_zone", rejects: NOT_PROJECT_BOUND },
      { cmd: "CATCH_ALL_ENABLE", to: "ignored", rejects: CA_ENABLE_NOT_ACTIVE },
      { cmd: "CATCH_ALL_DISABLE", to: "ignored", rejects: CA_DISABLE_NOT_ACTIVE },
      { cmd: "ALARM", to: "ignored" },
    ]);

    it("BIND of a catalog domain keeps the catalog binding", () => {
      expect(step(provisioningErrorWithZone(), ev.BIND()).context.bindingSource).toBe("catalog");
    });

    it("RETRY → zone active → enable routing → active", () => {
      const s = provisioningErrorWithZone();
      const checking = step(s, ev.RETRY());
      const enabling = step(checking, ev.ZONE_CHECKED(zone("active")));
      expect(valueOf(enabling)).toBe("provisioning_error");
      expect(enabling.context.op).toEqual({ kind: "enable_routing" });
      const done = step(enabling, ev.ROUTING_ENABLED());
      expect(valueOf(done)).toBe("active");
      expect(done.context).toMatchObject({ lastError: null, outcome: { command: "RETRY", ok: true, error: null, retrying: false } });
    });

    it("RETRY → zone pending → pending", () => {
      const next = run(provisioningErrorWithZone(), ev.RETRY(), ev.ZONE_CHECKED(zone("pending")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({ pendingSince: T0, nextRetryAt: T0 + B(0) });
    });

    describe("RETRY: CF_FAILED on enable_routing", () => {
      failureCases(() => run(provisioningErrorWithZone(), ev.RETRY(), ev.ZONE_CHECKED(zone("active"))), "RETRY", {
        "5xx": { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["enable_routing", B(0)] },
        "429": { to: "provisioning_error", last: "rate_limited", out: "retrying", retry: ["enable_routing", 600 * SECOND] },
        timeout: { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["enable_routing", B(0)] },
        "403 zone.create": { to: "provisioning_error", last: "email_routing_permission", out: "failed", retry: null },
        "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "failed", retry: null },
        "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "failed", retry: null },
        "404": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
        "400 1061": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
        "400 2001": { to: "pending", last: "zone_pending", out: "ok", retry: ["check_zone", B(0)] },
      });
    });

    describe("RETRY: CF_FAILED on check_zone", () => {
      failureCases(() => step(provisioningErrorWithZone(), ev.RETRY()), "RETRY", {
        "5xx": { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
        "429": { to: "provisioning_error", last: "rate_limited", out: "retrying", retry: ["check_zone", 600 * SECOND] },
        timeout: { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
        "403 zone.create": { to: "provisioning_error", last: "authentication_error", out: "failed", retry: null },
        "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "failed", retry: null },
        "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "failed", retry: null },
        "404": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
        "400 1061": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
        "400 2001": { to: "pending", last: "zone_pending", out: "ok", retry: ["check_zone", B(0)] },
      });
    });

    strayCases(() => provisioningErrorWithZone());
  });

  describe("after the 28-day give-up", () => {
    const gaveUp = () => run(pendingDomain(29), ev.ALARM(), ev.ZONE_CHECKED(zone("pending")));

    it("the alarm has nothing to do", () => {
      const s = gaveUp();
      expect(step(s, ev.ALARM()).context).toEqual(s.context);
    });

    it("RETRY after the nameservers were fixed starts a new 28-day window instead of giving up at once", () => {
      const next = run(gaveUp(), ev.RETRY({ now: T0 + HOUR }), ev.ZONE_CHECKED(zone("pending"), { now: T0 + HOUR }));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({ pendingSince: T0 + HOUR, nextRetryAt: T0 + HOUR + B(0), retryOp: { kind: "check_zone" } });
      expect(next.context.outcome).toEqual({ command: "RETRY", ok: true, error: null, retrying: false });
    });

    it("RETRY once the zone is active → active", () => {
      const next = run(gaveUp(), ev.RETRY(), ev.ZONE_CHECKED(zone("active")), ev.ROUTING_ENABLED());
      expect(valueOf(next)).toBe("active");
    });
  });
});

// ==============================================================================================

describe("active", () => {
  describe("catch-all off", () => {
    commandCases(() => activeDomain("off"), [
      { cmd: "BIND", to: "ignored", rejects: EXISTS },
      { cmd: "ENABLE", to: "ignored", rejects: EXISTS },
      { cmd: "RETRY", to: "active", op: "check_zone" },
      { cmd: "DISABLE", to: "disabled", op: null },
      { cmd: "DELETE", to: "active", op: "delete_zone" },
      { cmd: "CATCH_ALL_ENABLE", to: "active", op: "read_catch_all" },
      { cmd: "CATCH_ALL_DISABLE", to: "active", op: null },
      { cmd: "ALARM", to: "ignored" },
    ]);
    strayCases(() => activeDomain("off"));
  });

  describe("catch-all on (with the original rule snapshotted)", () => {
    commandCases(() => activeDomain("on"), [
      { cmd: "BIND", to: "ignored", rejects: EXISTS },
      { cmd: "ENABLE", to: "ignored", rejects: EXISTS },
      { cmd: "RETRY", to: "active", op: "check_zone" },
      // Disabling a catch-all domain first restores the literal rules and the original catch-all.
      { cmd: "DISABLE", to: "active", op: "restore_rules" },
      { cmd: "DELETE", to: "active", op: "delete_zone" },
      { cmd: "CATCH_ALL_ENABLE", to: "active", op: null },
      { cmd: "CATCH_ALL_DISABLE", to: "active", op: "restore_rules" },
      { cmd: "ALARM", to: "ignored" },
    ]);
    strayCases(() => activeDomain("on"));
  });

  describe("catch-all off with a snapshot left by an earlier failed enable", () => {
    it("CATCH_ALL_ENABLE skips the read (the snapshot is taken once) and writes", () => {
      const next = step(activeDomain("off, stale snapshot"), ev.CATCH_ALL_ENABLE());
      expect(next.context.op).toEqual({ kind: "write_catch_all" });
      expect(next.context.catchAll.snapshot).toEqual(ORIGINAL_RULE);
    });
  });

  it("a catalog domain cannot be deleted (rejection)", () => {
    const s = activeDomain("off", { bindingSource: "catalog" });
    expect(rejection("active", s.context, ev.DELETE())).toMatchObject({ status: 409, code: "not_project_bound" });
    expect(rejection("active", s.context, ev.DISABLE())).toBeNull();
  });

  it("CATCH_ALL_ENABLE records the owner", () => {
    expect(step(activeDomain("off"), ev.CATCH_ALL_ENABLE()).context.catchAll).toEqual({ enabled: false, ownerUserId: OWNER, snapshot: null });
  });

  describe("RETRY (re-provision)", () => {
    it("zone active → enable routing → active, catch-all untouched", () => {
      const s = activeDomain("on");
      const enabling = run(s, ev.RETRY(), ev.ZONE_CHECKED(zone("active")));
      expect(valueOf(enabling)).toBe("active");
      expect(enabling.context.op).toEqual({ kind: "enable_routing" });
      const done = step(enabling, ev.ROUTING_ENABLED());
      expect(valueOf(done)).toBe("active");
      expect(done.context).toMatchObject({ lastProvisionedAt: T0, catchAll: s.context.catchAll, outcome: { command: "RETRY", ok: true } });
    });

    it("zone went pending → pending", () => {
      const next = run(activeDomain(), ev.RETRY(), ev.ZONE_CHECKED(zone("pending")));
      expect(valueOf(next)).toBe("pending");
      expect(next.context).toMatchObject({ pendingSince: T0, retryOp: { kind: "check_zone" }, nextRetryAt: T0 + B(0) });
    });

    it("zone moved → provisioning_error zone_not_active", () => {
      const next = run(activeDomain(), ev.RETRY(), ev.ZONE_CHECKED(zone("moved")));
      expect(valueOf(next)).toBe("provisioning_error");
      expect(next.context.outcome).toMatchObject({ command: "RETRY", ok: false, error: { code: "zone_not_active" } });
    });
  });

  describe("RETRY: CF_FAILED on check_zone", () => {
    failureCases(() => step(activeDomain(), ev.RETRY()), "RETRY", {
      "5xx": { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
      "429": { to: "active", last: "rate_limited", out: "retrying", retry: ["check_zone", 600 * SECOND] },
      timeout: { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
      "403 zone.create": { to: "provisioning_error", last: "authentication_error", out: "failed", retry: null },
      "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "failed", retry: null },
      "404": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
      "400 1061": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
      "400 2001": { to: "pending", last: "zone_pending", out: "ok", retry: ["check_zone", B(0)] },
    });
  });

  describe("RETRY: CF_FAILED on enable_routing", () => {
    failureCases(() => run(activeDomain(), ev.RETRY(), ev.ZONE_CHECKED(zone("active"))), "RETRY", {
      "5xx": { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["enable_routing", B(0)] },
      "429": { to: "active", last: "rate_limited", out: "retrying", retry: ["enable_routing", 600 * SECOND] },
      timeout: { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["enable_routing", B(0)] },
      "403 zone.create": { to: "provisioning_error", last: "email_routing_permission", out: "failed", retry: null },
      "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "failed", retry: null },
      "404": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
      "400 1061": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
      "400 2001": { to: "pending", last: "zone_pending", out: "ok", retry: ["check_zone", B(0)] },
    });
  });

  describe("CATCH_ALL_ENABLE", () => {
    it("read → snapshot stored → write → catch-all on", () => {
      const reading = step(activeDomain(), ev.CATCH_ALL_ENABLE());
      const writing = step(reading, ev.CATCH_ALL_READ(ORIGINAL_RULE));
      expect(valueOf(writing)).toBe("active");
      expect(writing.context.op).toEqual({ kind: "write_catch_all" });
      expect(writing.context.catchAll).toEqual({ enabled: false, ownerUserId: OWNER, snapshot: ORIGINAL_RULE });
      const done = step(writing, ev.CATCH_ALL_WRITTEN());
      expect(valueOf(done)).toBe("active");
      expect(done.context).toMatchObject({
        op: null,
        command: null,
        catchAll: { enabled: true, ownerUserId: OWNER, snapshot: ORIGINAL_RULE },
        outcome: { command: "CATCH_ALL_ENABLE", ok: true, error: null, retrying: false },
      });
    });

    it("when already on: no-op success, nothing to perform", () => {
      const s = activeDomain("on");
      const next = step(s, ev.CATCH_ALL_ENABLE());
      expect(next.context).toEqual({ ...s.context, outcome: { command: "CATCH_ALL_ENABLE", ok: true, error: null, retrying: false } });
    });
  });

  describe("CATCH_ALL_ENABLE: CF_FAILED on write_catch_all", () => {
    failureCases(() => run(activeDomain(), ev.CATCH_ALL_ENABLE(), ev.CATCH_ALL_READ()), "CATCH_ALL_ENABLE", {
      "5xx": { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["write_catch_all", B(0)] },
      "429": { to: "active", last: "rate_limited", out: "retrying", retry: ["write_catch_all", 600 * SECOND] },
      timeout: { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["write_catch_all", B(0)] },
      // Permanent: the command fails, the domain stays active (catch-all still off).
      "403 zone.create": { to: "active", last: "email_routing_permission", out: "failed", retry: null },
      "403 auth 10000": { to: "active", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "active", last: "zone_not_visible", out: "failed", retry: null },
      "404": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      "400 1061": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      // A routing-rules call saying "pending" must not flip an active domain to pending nor report success.
      "400 2001": { to: "active", last: "zone_pending", out: "failed", retry: null },
    });

    it("a failed write keeps the snapshot, so the next enable does not re-read our own rule", () => {
      const failed = run(activeDomain(), ev.CATCH_ALL_ENABLE(), ev.CATCH_ALL_READ(), ev.CF_FAILED(FAIL["403 auth 10000"]));
      expect(failed.context.catchAll).toEqual({ enabled: false, ownerUserId: OWNER, snapshot: ORIGINAL_RULE });
      expect(step(failed, ev.CATCH_ALL_ENABLE()).context.op).toEqual({ kind: "write_catch_all" });
    });

    it("a transient failure is completed by the alarm", () => {
      const retrying = run(activeDomain(), ev.CATCH_ALL_ENABLE(), ev.CATCH_ALL_READ(), ev.CF_FAILED(FAIL["5xx"]));
      const writing = step(retrying, ev.ALARM({ now: T0 + B(0) }));
      expect(writing.context.op).toEqual({ kind: "write_catch_all" });
      const done = step(writing, ev.CATCH_ALL_WRITTEN({ now: T0 + B(0) }));
      expect(done.context.catchAll.enabled).toBe(true);
      expect(done.context).toMatchObject({ nextRetryAt: null, retryOp: null, op: null });
    });
  });

  describe("CATCH_ALL_ENABLE: CF_FAILED on read_catch_all", () => {
    failureCases(() => step(activeDomain(), ev.CATCH_ALL_ENABLE()), "CATCH_ALL_ENABLE", {
      "5xx": { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["read_catch_all", B(0)] },
      "429": { to: "active", last: "rate_limited", out: "retrying", retry: ["read_catch_all", 600 * SECOND] },
      timeout: { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["read_catch_all", B(0)] },
      "403 zone.create": { to: "active", last: "email_routing_permission", out: "failed", retry: null },
      "403 auth 10000": { to: "active", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "active", last: "zone_not_visible", out: "failed", retry: null },
      "404": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      "400 1061": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      "400 2001": { to: "active", last: "zone_pending", out: "failed", retry: null },
    });
  });

  describe("CATCH_ALL_DISABLE", () => {
    it("restore_rules → restore_catch_all → catch-all off, snapshot dropped, still active", () => {
      const restoringRules = step(activeDomain("on"), ev.CATCH_ALL_DISABLE());
      const restoringCatchAll = step(restoringRules, ev.RULES_RESTORED());
      expect(valueOf(restoringCatchAll)).toBe("active");
      expect(restoringCatchAll.context.op).toEqual({ kind: "restore_catch_all" });
      const done = step(restoringCatchAll, ev.CATCH_ALL_RESTORED());
      expect(valueOf(done)).toBe("active");
      expect(done.context).toMatchObject({
        op: null,
        command: null,
        catchAll: { enabled: false, ownerUserId: null, snapshot: null },
        outcome: { command: "CATCH_ALL_DISABLE", ok: true, error: null, retrying: false },
      });
    });

    it("when already off: no-op success", () => {
      const next = step(activeDomain("off"), ev.CATCH_ALL_DISABLE());
      expect(next.context.outcome).toEqual({ command: "CATCH_ALL_DISABLE", ok: true, error: null, retrying: false });
      expect(next.context.op).toBeNull();
    });
  });

  describe("CATCH_ALL_DISABLE: CF_FAILED on restore_rules", () => {
    failureCases(() => step(activeDomain("on"), ev.CATCH_ALL_DISABLE()), "CATCH_ALL_DISABLE", {
      "5xx": { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["restore_rules", B(0)] },
      "429": { to: "active", last: "rate_limited", out: "retrying", retry: ["restore_rules", 600 * SECOND] },
      timeout: { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["restore_rules", B(0)] },
      "403 zone.create": { to: "active", last: "email_routing_permission", out: "failed", retry: null },
      "403 auth 10000": { to: "active", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "active", last: "zone_not_visible", out: "failed", retry: null },
      "404": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      "400 1061": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      "400 2001": { to: "active", last: "zone_pending", out: "failed", retry: null },
    });

    it("a permanent failure leaves catch-all on", () => {
      const next = run(activeDomain("on"), ev.CATCH_ALL_DISABLE(), ev.CF_FAILED(FAIL["403 auth 10000"]));
      expect(next.context.catchAll.enabled).toBe(true);
    });
  });

  describe("CATCH_ALL_DISABLE: CF_FAILED on restore_catch_all", () => {
    failureCases(() => run(activeDomain("on"), ev.CATCH_ALL_DISABLE(), ev.RULES_RESTORED()), "CATCH_ALL_DISABLE", {
      "5xx": { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["restore_catch_all", B(0)] },
      "429": { to: "active", last: "rate_limited", out: "retrying", retry: ["restore_catch_all", 600 * SECOND] },
      timeout: { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["restore_catch_all", B(0)] },
      "403 zone.create": { to: "active", last: "email_routing_permission", out: "failed", retry: null },
      "403 auth 10000": { to: "active", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "active", last: "zone_not_visible", out: "failed", retry: null },
      "404": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      "400 1061": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      "400 2001": { to: "active", last: "zone_pending", out: "failed", retry: null },
    });
  });

  describe("DISABLE", () => {
    it("catch-all off → disabled at once", () => {
      const next = step(activeDomain("off"), ev.DISABLE());
      expect(valueOf(next)).toBe("disabled");
      expect(next.context).toMatchObject({ disabledAt: T0, op: null, zoneId: ZONE_ID, outcome: { command: "DISABLE", ok: true } });
    });

    it("catch-all on → restore_rules → restore_catch_all → disabled with catch-all off", () => {
      const s = activeDomain("on");
      const a = step(s, ev.DISABLE());
      const b = step(a, ev.RULES_RESTORED());
      expect(valueOf(b)).toBe("active");
      expect(b.context.op).toEqual({ kind: "restore_catch_all" });
      const done = step(b, ev.CATCH_ALL_RESTORED());
      expect(valueOf(done)).toBe("disabled");
      expect(done.context).toMatchObject({
        op: null,
        command: null,
        resting: "disabled",
        disabledAt: T0,
        zoneId: ZONE_ID,
        catchAll: { enabled: false, ownerUserId: null, snapshot: null },
        outcome: { command: "DISABLE", ok: true, error: null, retrying: false },
      });
    });

    it("catch-all on, restoring the rules is refused → still active, catch-all on, command failed", () => {
      const next = run(activeDomain("on"), ev.DISABLE(), ev.CF_FAILED(FAIL["403 zone.create"]));
      expect(valueOf(next)).toBe("active");
      expect(next.context.catchAll.enabled).toBe(true);
      expect(next.context.outcome).toMatchObject({ command: "DISABLE", ok: false, error: { code: "email_routing_permission" } });
    });

    it("catch-all on, restore answers 'pending activation' → command fails, domain stays active", () => {
      const next = run(activeDomain("on"), ev.DISABLE(), ev.CF_FAILED(FAIL["400 2001"]));
      expect(valueOf(next)).toBe("active");
      expect(next.context.outcome).toMatchObject({ command: "DISABLE", ok: false });
    });
  });

  describe("DELETE", () => {
    it("ZONE_DELETED → deleted, catch-all and zone forgotten", () => {
      const next = run(activeDomain("on"), ev.DELETE(), ev.ZONE_DELETED());
      expect(valueOf(next)).toBe("deleted");
      expect(next.context).toMatchObject({
        zoneId: null,
        catchAll: { enabled: false, ownerUserId: null, snapshot: null },
        deletedAt: T0,
        domainId: DOMAIN_ID,
        outcome: { command: "DELETE", ok: true },
      });
    });
  });

  describe("DELETE: CF_FAILED on delete_zone", () => {
    failureCases(() => step(activeDomain(), ev.DELETE()), "DELETE", {
      "5xx": { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["delete_zone", B(0)] },
      "429": { to: "active", last: "rate_limited", out: "retrying", retry: ["delete_zone", 600 * SECOND] },
      timeout: { to: "active", last: "cloudflare_unavailable", out: "retrying", retry: ["delete_zone", B(0)] },
      "403 zone.create": { to: "active", last: "authentication_error", out: "failed", retry: null },
      "403 auth 10000": { to: "active", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "deleted", last: null, out: "ok", retry: null },
      "404": { to: "deleted", last: null, out: "ok", retry: null },
      "400 1061": { to: "active", last: "cloudflare_error", out: "failed", retry: null },
      "400 2001": { to: "active", last: "zone_pending", out: "failed", retry: null },
    });

    it("a refused delete keeps the zone", () => {
      expect(run(activeDomain(), ev.DELETE(), ev.CF_FAILED(FAIL["403 auth 10000"])).context.zoneId).toBe(ZONE_ID);
    });

    it("a transient failure is finished by the alarm", () => {
      const s = run(activeDomain(), ev.DELETE(), ev.CF_FAILED(FAIL.timeout));
      const done = run(s, ev.ALARM({ now: T0 + B(0) }), ev.ZONE_DELETED({ now: T0 + B(0) }));
      expect(valueOf(done)).toBe("deleted");
      expect(done.context.zoneId).toBeNull();
    });
  });
});

// ==============================================================================================

describe("disabled", () => {
  commandCases(() => disabledDomain(), [
    { cmd: "BIND", to: "disabled", op: "check_zone" },
    { cmd: "ENABLE", to: "disabled", op: "check_zone" },
    { cmd: "RETRY", to: "disabled", op: "check_zone" },
    { cmd: "DISABLE", to: "disabled", op: null },
    { cmd: "DELETE", to: "disabled", op: "delete_zone" },
    { cmd: "CATCH_ALL_ENABLE", to: "ignored", rejects: CA_ENABLE_NOT_ACTIVE },
    { cmd: "CATCH_ALL_DISABLE", to: "ignored", rejects: CA_DISABLE_NOT_ACTIVE },
    { cmd: "ALARM", to: "ignored" },
  ]);

  it("DISABLE again is a no-op success that changes nothing else", () => {
    const s = disabledDomain();
    const next = step(s, ev.DISABLE());
    expect(next.context).toEqual({ ...s.context, outcome: { command: "DISABLE", ok: true, error: null, retrying: false } });
  });

  it.each(["RETRY", "ENABLE", "BIND"] as const)("%s → zone active → enable routing → active (disabledAt cleared)", (cmd) => {
    const enabling = run(disabledDomain(), commandEvent(cmd), ev.ZONE_CHECKED(zone("active")));
    expect(valueOf(enabling)).toBe("disabled");
    expect(enabling.context.op).toEqual({ kind: "enable_routing" });
    const done = step(enabling, ev.ROUTING_ENABLED());
    expect(valueOf(done)).toBe("active");
    expect(done.context).toMatchObject({ disabledAt: null, zoneId: ZONE_ID, outcome: { command: cmd, ok: true } });
  });

  it("RETRY → zone pending → pending", () => {
    const next = run(disabledDomain(), ev.RETRY(), ev.ZONE_CHECKED(zone("pending")));
    expect(valueOf(next)).toBe("pending");
  });

  it("ENABLE with a zone id whose name does not match → refused, still disabled with its own zone", () => {
    const next = run(disabledDomain(), ev.ENABLE(OTHER_ZONE_ID), ev.ZONE_CHECKED(zone("active", { id: OTHER_ZONE_ID, name: "other.example" })));
    expect(valueOf(next)).toBe("disabled");
    expect(next.context.outcome).toMatchObject({ command: "ENABLE", ok: false, error: { code: "domain_not_in_catalog" } });
    expect(next.context).toMatchObject({ zoneId: ZONE_ID, nameServers: NS, bindingSource: "project_bind", cloudflareStatus: "active" });
  });

  describe("RETRY: CF_FAILED on check_zone", () => {
    failureCases(() => step(disabledDomain(), ev.RETRY()), "RETRY", {
      "5xx": { to: "disabled", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
      "429": { to: "disabled", last: "rate_limited", out: "retrying", retry: ["check_zone", 600 * SECOND] },
      timeout: { to: "disabled", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
      "403 zone.create": { to: "provisioning_error", last: "authentication_error", out: "failed", retry: null },
      "403 auth 10000": { to: "provisioning_error", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "provisioning_error", last: "zone_not_visible", out: "failed", retry: null },
      "404": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
      "400 1061": { to: "provisioning_error", last: "cloudflare_error", out: "failed", retry: null },
      "400 2001": { to: "pending", last: "zone_pending", out: "ok", retry: ["check_zone", B(0)] },
    });

    it("the alarm finishes a transient RETRY failure (disabled → active)", () => {
      const s = run(disabledDomain(), ev.RETRY(), ev.CF_FAILED(FAIL["5xx"]));
      const enabling = run(s, ev.ALARM({ now: T0 + B(0) }), ev.ZONE_CHECKED(zone("active")));
      expect(enabling.context.op).toEqual({ kind: "enable_routing" });
      expect(valueOf(step(enabling, ev.ROUTING_ENABLED()))).toBe("active");
    });
  });

  describe("DELETE: CF_FAILED on delete_zone", () => {
    failureCases(() => step(disabledDomain(), ev.DELETE()), "DELETE", {
      "5xx": { to: "disabled", last: "cloudflare_unavailable", out: "retrying", retry: ["delete_zone", B(0)] },
      "429": { to: "disabled", last: "rate_limited", out: "retrying", retry: ["delete_zone", 600 * SECOND] },
      timeout: { to: "disabled", last: "cloudflare_unavailable", out: "retrying", retry: ["delete_zone", B(0)] },
      "403 zone.create": { to: "disabled", last: "authentication_error", out: "failed", retry: null },
      "403 auth 10000": { to: "disabled", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "deleted", last: null, out: "ok", retry: null },
      "404": { to: "deleted", last: null, out: "ok", retry: null },
      "400 1061": { to: "disabled", last: "cloudflare_error", out: "failed", retry: null },
      "400 2001": { to: "disabled", last: "zone_pending", out: "failed", retry: null },
    });
  });

  it("DELETE → ZONE_DELETED → deleted", () => {
    expect(valueOf(run(disabledDomain(), ev.DELETE(), ev.ZONE_DELETED()))).toBe("deleted");
  });

  it("a catalog domain cannot be deleted (rejection)", () => {
    const s = disabledDomain({ bindingSource: "catalog" });
    expect(rejection("disabled", s.context, ev.DELETE())).toMatchObject({ status: 409, code: "not_project_bound" });
  });

  strayCases(() => disabledDomain());
});

// ==============================================================================================

describe("deleted", () => {
  commandCases(() => deletedDomain(), [
    { cmd: "BIND", to: "deleted", op: "create_zone" },
    { cmd: "ENABLE", to: "deleted", op: "check_zone" },
    { cmd: "RETRY", to: "ignored", rejects: NOT_FOUND },
    { cmd: "DISABLE", to: "ignored", rejects: NOT_FOUND },
    { cmd: "DELETE", to: "ignored", rejects: NOT_FOUND },
    { cmd: "CATCH_ALL_ENABLE", to: "ignored", rejects: NOT_FOUND },
    { cmd: "CATCH_ALL_DISABLE", to: "ignored", rejects: NOT_FOUND },
    { cmd: "ALARM", to: "ignored" },
  ]);

  it("BIND again reuses the domain id (same record)", () => {
    const next = step(deletedDomain(), ev.BIND());
    expect(next.context).toMatchObject({ domainId: DOMAIN_ID, createdAt: T0 - 12 * DAY, command: { type: "BIND", from: "deleted" } });
  });

  it("BIND → ZONE_CREATED(pending) → pending", () => {
    const next = run(deletedDomain(), ev.BIND(), ev.ZONE_CREATED(zone("pending")));
    expect(valueOf(next)).toBe("pending");
    expect(next.context).toMatchObject({ domainId: DOMAIN_ID, zoneId: ZONE_ID, pendingSince: T0 });
  });

  it("BIND → ZONE_CREATED(active) → ROUTING_ENABLED → active", () => {
    const next = run(deletedDomain(), ev.BIND(), ev.ZONE_CREATED(zone("active")), ev.ROUTING_ENABLED());
    expect(valueOf(next)).toBe("active");
    expect(next.context).toMatchObject({ domainId: DOMAIN_ID, zoneId: ZONE_ID, deletedAt: null });
  });

  describe("BIND: CF_FAILED on create_zone", () => {
    failureCases(() => step(deletedDomain(), ev.BIND()), "BIND", {
      "5xx": { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["find_zone", B(0)] },
      "429": { to: "provisioning_error", last: "rate_limited", out: "retrying", retry: ["find_zone", 600 * SECOND] },
      timeout: { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["find_zone", B(0)] },
      "403 zone.create": { to: "deleted", last: "zone_create_permission", out: "failed", retry: null },
      "403 auth 10000": { to: "deleted", last: "authentication_error", out: "failed", retry: null },
      "403 9109": { to: "deleted", last: "zone_not_visible", out: "failed", retry: null },
      "404": { to: "deleted", last: "cloudflare_error", out: "failed", retry: null },
      "400 1061": { to: "deleted", last: "zone_exists", out: "failed", retry: null },
      "400 2001": { to: "deleted", last: "zone_pending", out: "failed", retry: null },
    });
  });

  describe("ENABLE: CF_FAILED on check_zone", () => {
    failureCases(() => step(deletedDomain(), ev.ENABLE(ZONE_ID)), "ENABLE", {
      "5xx": { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
      "429": { to: "provisioning_error", last: "rate_limited", out: "retrying", retry: ["check_zone", 600 * SECOND] },
      timeout: { to: "provisioning_error", last: "cloudflare_unavailable", out: "retrying", retry: ["check_zone", B(0)] },
      "403 zone.create": { to: "deleted", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "403 auth 10000": { to: "deleted", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "403 9109": { to: "deleted", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "404": { to: "deleted", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "400 1061": { to: "deleted", last: null, out: "failed", err: "domain_not_in_catalog", retry: null },
      "400 2001": { to: "pending", last: "zone_pending", out: "ok", retry: ["check_zone", B(0)] },
    });

    it("a refused enable leaves the deleted record as it was (no zone id, project binding)", () => {
      const s = deletedDomain();
      const next = run(s, ev.ENABLE(OTHER_ZONE_ID), ev.CF_FAILED(FAIL["404"]));
      expect(next.context).toMatchObject({ zoneId: null, bindingSource: "project_bind", domainId: DOMAIN_ID, nameServers: [] });
      // so that binding again creates a zone rather than checking the refused one
      expect(step(next, ev.BIND()).context.op).toEqual({ kind: "create_zone" });
    });
  });

  it("ENABLE → ZONE_CHECKED(active) → ROUTING_ENABLED → active as a catalog domain", () => {
    const next = run(deletedDomain(), ev.ENABLE(ZONE_ID), ev.ZONE_CHECKED(zone("active")), ev.ROUTING_ENABLED());
    expect(valueOf(next)).toBe("active");
    expect(next.context).toMatchObject({ bindingSource: "catalog", zoneId: ZONE_ID, domainId: DOMAIN_ID, deletedAt: null });
  });

  strayCases(() => deletedDomain());
});

// ==============================================================================================

describe("backoffMs", () => {
  it.each([
    [0, 60_000],
    [1, 120_000],
    [2, 240_000],
    [3, 480_000],
    [4, 960_000],
    [5, 1_920_000],
    [6, 3_600_000],
    [7, 3_600_000],
    [1000, 3_600_000],
  ])("retryCount %i → %i ms without jitter (base doubling, capped at max)", (n, ms) => {
    expect(backoffMs(n, 0.5, POLICY)).toBe(ms);
  });

  it.each([
    [0, 45_000],
    [0.25, 52_500],
    [0.5, 60_000],
    [0.75, 67_500],
    [1, 75_000],
  ])("random %d → %i ms (±25%% jitter)", (random, ms) => {
    expect(backoffMs(0, random, POLICY)).toBe(ms);
  });

  it("jitter applies to the capped value too", () => {
    expect(backoffMs(20, 0, POLICY)).toBe(2_700_000);
    expect(backoffMs(20, 1, POLICY)).toBe(4_500_000);
  });

  it("Retry-After is a floor, never shortens the backoff", () => {
    expect(backoffMs(0, 0.5, POLICY, 600)).toBe(600_000);
    expect(backoffMs(0, 0.5, POLICY, 5)).toBe(60_000);
    expect(backoffMs(6, 0.5, POLICY, 7200)).toBe(7_200_000);
    expect(backoffMs(0, 0.5, POLICY, null)).toBe(60_000);
  });

  it("follows the policy", () => {
    expect(backoffMs(2, 0.5, { retryBaseSeconds: 5, retryMaxSeconds: 15 })).toBe(15_000);
    expect(backoffMs(1, 0.5, { retryBaseSeconds: 5, retryMaxSeconds: 15 })).toBe(10_000);
  });

  it("the machine uses the event's random and policy for the schedule", () => {
    const s = step(fresh(ROOT), ev.BIND());
    expect(step(s, ev.CF_FAILED(FAIL["5xx"], { random: 0 })).context.nextRetryAt).toBe(T0 + 45_000);
    expect(step(s, ev.CF_FAILED(FAIL["5xx"], { random: 0.999 })).context.nextRetryAt).toBe(T0 + backoffMs(0, 0.999, POLICY));
    expect(step(s, ev.CF_FAILED(FAIL["5xx"], { policy: { retryBaseSeconds: 10, retryMaxSeconds: 20 } })).context.nextRetryAt).toBe(T0 + 10_000);
    // 429 with a short Retry-After: the backoff wins
    expect(step(s, ev.CF_FAILED({ ...FAIL["429"], retryAfterSeconds: 5 })).context.nextRetryAt).toBe(T0 + 60_000);
  });
});

// ==============================================================================================

describe("flows", () => {
  it("bind → pending → alarm → zone active → routing enabled → active", () => {
    let s = fresh(ROOT);
    s = step(s, ev.BIND());
    expect(s.context.op).toEqual({ kind: "create_zone" });
    s = step(s, ev.ZONE_CREATED(zone("pending")));
    expect(valueOf(s)).toBe("pending");
    expect(s.context.nameServers).toEqual(NS);
    const firstCheck = s.context.nextRetryAt!;
    expect(firstCheck).toBe(T0 + 60_000);

    // first re-check: still pending, backoff doubles
    s = run(s, ev.ALARM({ now: firstCheck }), ev.ZONE_CHECKED(zone("pending"), { now: firstCheck }));
    expect(valueOf(s)).toBe("pending");
    expect(s.context).toMatchObject({ retryCount: 2, nextRetryAt: firstCheck + 120_000 });

    // second re-check: the nameservers are delegated now
    const t = s.context.nextRetryAt!;
    s = step(s, ev.ALARM({ now: t }));
    expect(s.context.op).toEqual({ kind: "check_zone" });
    s = step(s, ev.ZONE_CHECKED(zone("active"), { now: t }));
    expect(s.context.op).toEqual({ kind: "enable_routing" });
    s = step(s, ev.ROUTING_ENABLED({ now: t }));
    expect(valueOf(s)).toBe("active");
    expect(s.context).toMatchObject({
      op: null,
      command: null,
      zoneId: ZONE_ID,
      domainId: NEW_DOMAIN_ID,
      bindingSource: "project_bind",
      cloudflareStatus: "active",
      lastProvisionedAt: t,
      pendingSince: null,
      nextRetryAt: null,
      retryOp: null,
      retryCount: 0,
      lastError: null,
      // the bind's own outcome is still the last command outcome
      outcome: { command: "BIND", ok: true, error: null, retrying: false },
    });
    // nothing left for the alarm
    expect(step(s, ev.ALARM()).context).toEqual(s.context);
  });

  it("bind where the zone is already active → routing enabled in the same command", () => {
    const s = run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("active")), ev.ROUTING_ENABLED());
    expect(valueOf(s)).toBe("active");
    expect(s.context.outcome).toEqual({ command: "BIND", ok: true, error: null, retrying: false });
  });

  it("bind again on a pending domain whose zone has become active → enable → active", () => {
    const s = run(pendingDomain(), ev.BIND(), ev.ZONE_CHECKED(zone("active")), ev.ROUTING_ENABLED());
    expect(valueOf(s)).toBe("active");
    expect(s.context).toMatchObject({ domainId: DOMAIN_ID, outcome: { command: "BIND", ok: true } });
  });

  it("bind of a zone that exists already (1061) → refused with zone_exists → enable it from the catalog → active", () => {
    const refused = run(fresh(ROOT), ev.BIND(), ev.CF_FAILED(FAIL["400 1061"]));
    expect(valueOf(refused)).toBe("none");
    expect(refused.context.outcome?.error).toMatchObject({ status: 409, code: "zone_exists", hint: HINTS.zone_exists, cloudflareCode: 1061 });
    expect(rejection("none", refused.context, ev.ENABLE(ZONE_ID))).toBeNull();
    const s = run(refused, ev.ENABLE(ZONE_ID), ev.ZONE_CHECKED(zone("active")), ev.ROUTING_ENABLED());
    expect(valueOf(s)).toBe("active");
    expect(s.context).toMatchObject({ bindingSource: "catalog", zoneId: ZONE_ID, lastError: null });
  });

  it("uncertain create (5xx) → provisioning_error (find_zone) → alarm → ZONE_FOUND(null) → create again → pending", () => {
    let s = run(fresh(ROOT), ev.BIND(), ev.CF_FAILED(FAIL["5xx"]));
    expect(valueOf(s)).toBe("provisioning_error");
    expect(s.context).toMatchObject({ zoneId: null, retryOp: { kind: "find_zone" }, nextRetryAt: T0 + 60_000 });
    expect(s.context.outcome).toMatchObject({ command: "BIND", ok: false, retrying: true, error: { code: "cloudflare_unavailable" } });

    const t = s.context.nextRetryAt!;
    s = step(s, ev.ALARM({ now: t }));
    expect(s.context.op).toEqual({ kind: "find_zone" });
    s = step(s, ev.ZONE_FOUND(null, { now: t }));
    expect(s.context.op).toEqual({ kind: "create_zone" });
    s = step(s, ev.ZONE_CREATED(zone("pending"), { now: t }));
    expect(valueOf(s)).toBe("pending");
    expect(s.context).toMatchObject({ zoneId: ZONE_ID, pendingSince: t, retryCount: 1, transientFailures: 0, nextRetryAt: t + 60_000 });
    expect(s.context.lastError?.code).toBe("zone_pending");
  });

  it("uncertain create whose zone did get created → the lookup finds it, no second create", () => {
    const s = run(fresh(ROOT), ev.BIND(), ev.CF_FAILED(FAIL.timeout), ev.ALARM(), ev.ZONE_FOUND(zone("active")), ev.ROUTING_ENABLED());
    expect(valueOf(s)).toBe("active");
  });

  it("bind again after an uncertain create looks the zone up first (never a blind second create)", () => {
    const s = run(fresh(ROOT), ev.BIND(), ev.CF_FAILED(FAIL["5xx"]), ev.BIND({ now: T0 + 10 * SECOND }));
    expect(s.context.op).toEqual({ kind: "find_zone" });
    const found = step(s, ev.ZONE_FOUND(zone("pending")));
    expect(valueOf(found)).toBe("pending");
    expect(found.context.outcome).toMatchObject({ command: "BIND", ok: true });
  });

  it("bind with a permission failure after the zone was created → rollback delete → none, original error reported", () => {
    let s = run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("active")));
    expect(s.context.command).toMatchObject({ type: "BIND", from: "none", zoneCreated: true });
    s = step(s, ev.CF_FAILED(FAIL["403 zone.create"]));
    // the rollback deletes the zone this bind created
    expect(s.context.op).toEqual({ kind: "delete_zone" });
    expect(s.context.lastError?.code).toBe("email_routing_permission");
    s = step(s, ev.ZONE_DELETED());
    expect(valueOf(s)).toBe("none");
    expect(s.context).toMatchObject({ op: null, command: null, zoneId: null, nameServers: [], cloudflareStatus: null, nextRetryAt: null, retryOp: null, resting: "none" });
    expect(s.context.outcome).toEqual({
      command: "BIND",
      ok: false,
      retrying: false,
      error: classifyFailure("enable_routing", FAIL["403 zone.create"]),
    });
    // A fresh bind starts over with a create.
    expect(step(s, ev.BIND()).context.op).toEqual({ kind: "create_zone" });
  });

  it("rollback: 403 10000 Authentication error on enable is rolled back too", () => {
    const s = run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("active")), ev.CF_FAILED(FAIL["403 auth 10000"]), ev.ZONE_DELETED());
    expect(valueOf(s)).toBe("none");
    expect(s.context.outcome?.error?.code).toBe("authentication_error");
  });

  it("rollback: a 404 on the rollback delete counts as deleted", () => {
    const s = run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("active")), ev.CF_FAILED(FAIL["403 auth 10000"]), ev.CF_FAILED(FAIL["404"]));
    expect(valueOf(s)).toBe("none");
    expect(s.context.zoneId).toBeNull();
    expect(s.context.outcome).toMatchObject({ ok: false, error: { code: "authentication_error" } });
  });

  it("rollback of a re-bind of a deleted domain returns to deleted", () => {
    const s = run(deletedDomain(), ev.BIND(), ev.ZONE_CREATED(zone("active")), ev.CF_FAILED(FAIL["403 zone.create"]), ev.ZONE_DELETED());
    expect(valueOf(s)).toBe("deleted");
    expect(s.context).toMatchObject({ zoneId: null, domainId: DOMAIN_ID, outcome: { command: "BIND", ok: false, error: { code: "email_routing_permission" } } });
  });

  it("rollback refused as well → back to none, but the zone id is kept (the zone still exists)", () => {
    const s = run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("active")), ev.CF_FAILED(FAIL["403 zone.create"]), ev.CF_FAILED(FAIL["403 auth 10000"]));
    expect(valueOf(s)).toBe("none");
    expect(s.context).toMatchObject({ zoneId: ZONE_ID, op: null, command: null });
    expect(s.context.outcome).toMatchObject({ command: "BIND", ok: false });
    // binding again checks the existing zone rather than creating a second one
    expect(step(s, ev.BIND()).context.op).toEqual({ kind: "check_zone" });
  });

  it("no rollback when the bind did not create the zone (re-bind of a pending domain)", () => {
    const s = run(pendingDomain(), ev.BIND(), ev.ZONE_CHECKED(zone("active")), ev.CF_FAILED(FAIL["403 zone.create"]));
    expect(valueOf(s)).toBe("provisioning_error");
    expect(s.context).toMatchObject({ op: null, zoneId: ZONE_ID });
    expect(s.context.lastError?.code).toBe("email_routing_permission");
  });

  it("no rollback for a zone found by lookup (not created by this command)", () => {
    const s = run(provisioningErrorNoZone(), ev.RETRY(), ev.ZONE_FOUND(zone("active")), ev.CF_FAILED(FAIL["403 zone.create"]));
    expect(valueOf(s)).toBe("provisioning_error");
    expect(s.context.zoneId).toBe(ZONE_ID);
  });

  it("catch-all: enable (snapshot read once) → disable (restore rules, restore catch-all) → enable reads afresh", () => {
    let s = activeDomain();
    s = run(s, ev.CATCH_ALL_ENABLE(), ev.CATCH_ALL_READ(ORIGINAL_RULE), ev.CATCH_ALL_WRITTEN());
    expect(s.context.catchAll).toEqual({ enabled: true, ownerUserId: OWNER, snapshot: ORIGINAL_RULE });
    expect(valueOf(s)).toBe("active");
    s = run(s, ev.CATCH_ALL_DISABLE(), ev.RULES_RESTORED(), ev.CATCH_ALL_RESTORED());
    expect(s.context.catchAll).toEqual({ enabled: false, ownerUserId: null, snapshot: null });
    expect(valueOf(s)).toBe("active");
    expect(step(s, ev.CATCH_ALL_ENABLE()).context.op).toEqual({ kind: "read_catch_all" });
  });

  it("disable of a catch-all domain ends in disabled; re-enable via RETRY comes back active with catch-all off", () => {
    let s = run(activeDomain("on"), ev.DISABLE(), ev.RULES_RESTORED(), ev.CATCH_ALL_RESTORED());
    expect(valueOf(s)).toBe("disabled");
    expect(s.context.catchAll.enabled).toBe(false);
    s = run(s, ev.RETRY(), ev.ZONE_CHECKED(zone("active")), ev.ROUTING_ENABLED());
    expect(valueOf(s)).toBe("active");
    expect(s.context.catchAll.enabled).toBe(false);
  });

  it("delete: ZONE_DELETED and a 404 both end in deleted; bind again reuses the id", () => {
    const a = run(activeDomain(), ev.DELETE(), ev.ZONE_DELETED());
    const b = run(activeDomain(), ev.DELETE(), ev.CF_FAILED(FAIL["404"]));
    for (const s of [a, b]) {
      expect(valueOf(s)).toBe("deleted");
      expect(s.context).toMatchObject({ zoneId: null, deletedAt: T0, outcome: { command: "DELETE", ok: true, error: null } });
    }
    expect(step(b, ev.BIND()).context).toMatchObject({ domainId: DOMAIN_ID, op: { kind: "create_zone" } });
  });

  it("28-day give-up: 27 days still pending, 29 days → provisioning_error; a RETRY that hits it reports the error", () => {
    const at27 = run(pendingDomain(27), ev.ALARM(), ev.ZONE_CHECKED(zone("pending")));
    expect(valueOf(at27)).toBe("pending");
    expect(at27.context.nextRetryAt).not.toBeNull();

    const at29 = run(pendingDomain(29), ev.ALARM(), ev.ZONE_CHECKED(zone("pending")));
    expect(valueOf(at29)).toBe("provisioning_error");
    expect(at29.context.lastError?.code).toBe("zone_not_activated");
    // alarm-driven: the bind's old outcome stays
    expect(at29.context.outcome).toEqual(pendingDomain(29).context.outcome);

    const byRetry = run(pendingDomain(29), ev.RETRY(), ev.ZONE_CHECKED(zone("pending")));
    expect(valueOf(byRetry)).toBe("provisioning_error");
    expect(byRetry.context.outcome).toMatchObject({ command: "RETRY", ok: false, retrying: false, error: { code: "zone_not_activated" } });
  });

  it("5 consecutive transient failures move pending → provisioning_error while still scheduling retries", () => {
    let s = run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("pending")));
    const delays: number[] = [];
    const states: MachineState[] = [];
    for (let i = 1; i <= 7; i++) {
      const now = s.context.nextRetryAt!;
      const before = s.context.retryCount;
      s = run(s, ev.ALARM({ now }), ev.CF_FAILED(FAIL["5xx"], { now }));
      expect(s.context).toMatchObject({ transientFailures: i, retryCount: before + 1, retryOp: { kind: "check_zone" }, op: null });
      expect(s.context.lastError?.code).toBe("cloudflare_unavailable");
      delays.push(s.context.nextRetryAt! - now);
      states.push(valueOf(s));
    }
    expect(states).toEqual(["pending", "pending", "pending", "pending", "provisioning_error", "provisioning_error", "provisioning_error"]);
    // retryCount was 1 after the create; backoff doubles to the 1h cap
    expect(delays).toEqual([B(1), B(2), B(3), B(4), B(5), B(6), B(7)]);
    expect(delays.at(-1)).toBe(3_600_000);
    // the outcome of the bind is not rewritten by the alarm's failures
    expect(s.context.outcome).toEqual({ command: "BIND", ok: true, error: null, retrying: false });

    // Cloudflare answers again: the zone is still pending → back to pending, failure count reset.
    const now = s.context.nextRetryAt!;
    const back = run(s, ev.ALARM({ now }), ev.ZONE_CHECKED(zone("pending"), { now }));
    expect(valueOf(back)).toBe("pending");
    expect(back.context).toMatchObject({ transientFailures: 0, lastError: PENDING_ERROR });
    // …or active: provisioning_error → enable routing → active.
    const active = run(s, ev.ALARM({ now }), ev.ZONE_CHECKED(zone("active"), { now }), ev.ROUTING_ENABLED({ now }));
    expect(valueOf(active)).toBe("active");
    expect(active.context).toMatchObject({ transientFailures: 0, retryCount: 0, nextRetryAt: null });
  });

  it("a command resets the transient failure count and the schedule", () => {
    const s = run(pendingDomain(2, { transientFailures: 4 }), ev.RETRY(), ev.CF_FAILED(FAIL["5xx"]));
    expect(valueOf(s)).toBe("pending");
    expect(s.context).toMatchObject({ transientFailures: 1, retryCount: 1, nextRetryAt: T0 + B(0) });
  });

  it("a refused DELETE on a pending domain keeps its re-check schedule", () => {
    const s = pendingDomain();
    const next = run(s, ev.DELETE(), ev.CF_FAILED(FAIL["403 auth 10000"]));
    expect(valueOf(next)).toBe("pending");
    expect(next.context).toMatchObject({ nextRetryAt: s.context.nextRetryAt, retryOp: { kind: "check_zone" }, retryCount: 3 });
    // and the alarm still re-checks it
    expect(step(next, ev.ALARM()).context.op).toEqual({ kind: "check_zone" });
  });
});

// ==============================================================================================

describe("persistence", () => {
  it("persist() is {value, context}; JSON round trip restores an equal snapshot", () => {
    const s = run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("pending")));
    const p = persist(s);
    expect(Object.keys(p).sort()).toEqual(["context", "value"]);
    expect(p.value).toBe("pending");
    const r = roundTrip(s);
    expect(valueOf(r)).toBe("pending");
    expect(r.context).toEqual(s.context);
  });

  it("an op in flight survives the round trip and the chain continues from it", () => {
    const mid = run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("active")));
    const r = roundTrip(mid);
    expect(r.context.op).toEqual({ kind: "enable_routing" });
    expect(r.context.command).toEqual(mid.context.command);
    const done = step(r, ev.ROUTING_ENABLED());
    expect(valueOf(done)).toBe("active");
    expect(done.context.outcome).toEqual({ command: "BIND", ok: true, error: null, retrying: false });
  });

  it("after a crash the alarm performs the op in flight again (not the scheduled one)", () => {
    const mid = roundTrip(step(activeDomain("on"), ev.CATCH_ALL_DISABLE()));
    const r = step(mid, ev.ALARM());
    expect(r.context.op).toEqual({ kind: "restore_rules" });
    const done = run(r, ev.RULES_RESTORED(), ev.CATCH_ALL_RESTORED());
    expect(done.context.catchAll.enabled).toBe(false);
    expect(done.context.outcome).toMatchObject({ command: "CATCH_ALL_DISABLE", ok: true });
  });

  it("a rollback in flight survives the round trip and still returns to none", () => {
    const mid = roundTrip(run(fresh(ROOT), ev.BIND(), ev.ZONE_CREATED(zone("active")), ev.CF_FAILED(FAIL["403 zone.create"])));
    expect(mid.context.op).toEqual({ kind: "delete_zone" });
    expect(valueOf(step(mid, ev.ZONE_DELETED()))).toBe("none");
  });

  it.each([
    ["none", () => fresh(ROOT)],
    ["pending", () => pendingDomain()],
    ["provisioning_error", () => provisioningErrorNoZone()],
    ["active", () => activeDomain("on")],
    ["disabled", () => disabledDomain()],
    ["deleted", () => deletedDomain()],
  ] as const)("%s round-trips", (value, make) => {
    const s = make();
    const r = roundTrip(s);
    expect(valueOf(r)).toBe(value);
    expect(r.context).toEqual(s.context);
  });
});

describe("rejection() for result events and alarms", () => {
  it.each(STRAY)("%s is never rejected (not a command)", (_, e) => {
    for (const s of [fresh(ROOT), pendingDomain(), activeDomain(), deletedDomain()]) {
      expect(rejection(valueOf(s), s.context, e)).toBeNull();
    }
  });
});

describe("regression: a DISABLE interrupted by a transient failure", () => {
  it("is finished by the alarm and ends disabled", () => {
    const policy = { retryBaseSeconds: 60, retryMaxSeconds: 3600 };
    let now = 1_000_000;
    const ev = (e: Record<string, unknown>) => ({ now, random: 0.5, policy, ...e }) as DomainEvent;
    let s = restore({
      value: "active",
      context: {
        ...initialContext("stop.com"),
        domainId: "dom_x",
        zoneId: "z".repeat(32),
        bindingSource: "project_bind",
        resting: "active",
        catchAll: { enabled: true, ownerUserId: "usr_1", snapshot: { enabled: false, name: "", matchers: [{ type: "all" }], actions: [{ type: "drop" }] } },
      },
    });
    const step = (e: Record<string, unknown>) => ([s] = transition(domainMachine, s, ev(e)));
    step({ type: "DISABLE" });
    expect(s.context.op).toEqual({ kind: "restore_rules" });
    step({ type: "CF_FAILED", failure: { status: 503, code: null, message: "down", retryable: true, retryAfterSeconds: null } });
    expect(s.value).toBe("active");
    expect(s.context.outcome).toMatchObject({ command: "DISABLE", ok: false, retrying: true });
    now += 120_000;
    step({ type: "ALARM" });
    expect(s.context.op).toEqual({ kind: "restore_rules" });
    step({ type: "RULES_RESTORED" });
    step({ type: "CATCH_ALL_RESTORED" });
    expect(s.value).toBe("disabled");
    expect(s.context.catchAll.enabled).toBe(false);
    expect(s.context.nextRetryAt).toBeNull();
  });
});
