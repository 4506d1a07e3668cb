/**
 * The domain lifecycle as an xstate v5 machine. Pure: it imports xstate and nothing from
 * Cloudflare or the Workers runtime; time (`now`), randomness (`random`, for jitter) and the retry
 * policy arrive in every event. The Durable Object drives it with `transition()`:
 *
 *   command event ─▶ machine sets `context.op` (the next Cloudflare operation)
 *   host performs op ─▶ result event (ZONE_CREATED, CF_FAILED, …) ─▶ next op or a settled state
 *
 * Because the pending operation lives in the persisted context, a crash between two steps loses
 * nothing: the next alarm (or command) performs `context.op` again. Every operation is idempotent
 * or preceded by a lookup (an uncertain zone create is followed by `find_zone`, never a blind
 * second create).
 *
 * Persisted states: pending · provisioning_error · active · disabled · deleted (+ `none`, the
 * state of a domain that has no record yet).
 */
import { assign, setup } from "xstate";
import { classifyFailure, HINTS, isNotFound, isPendingFailure, type DomainError, type FailureInput, type OpKind } from "./errors";

export type DomainStatus = "pending" | "provisioning_error" | "active" | "disabled" | "deleted";
export type MachineState = "none" | DomainStatus;

export interface Op {
  kind: OpKind;
}

export interface ZoneInfo {
  id: string;
  name: string;
  status: string;
  nameServers: string[];
}

export interface CatchAllRule {
  enabled: boolean;
  name: string;
  matchers: Array<{ type: string; field?: string; value?: string }>;
  actions: Array<{ type: string; value?: string[] }>;
}

export type CommandType = "BIND" | "ENABLE" | "RETRY" | "DISABLE" | "DELETE" | "CATCH_ALL_ENABLE" | "CATCH_ALL_DISABLE";

export interface Outcome {
  command: CommandType;
  ok: boolean;
  /** Set when the command failed, or when it hit a transient failure that the alarm will retry. */
  error: DomainError | null;
  retrying: boolean;
}

export interface DomainContext {
  rootDomain: string;
  domainId: string | null;
  zoneId: string | null;
  nameServers: string[];
  cloudflareStatus: string | null;
  bindingSource: "catalog" | "project_bind" | null;
  /** The persisted state the machine last rested in (transient routing states return to it). */
  resting: MachineState;
  /** The operation the host must perform next; null when settled. */
  op: Op | null;
  /** The user command the current chain of operations serves, and the state it started from. */
  command: { type: CommandType; from: MachineState; zoneCreated: boolean; prior?: Prior } | null;
  outcome: Outcome | null;
  retryCount: number;
  transientFailures: number;
  nextRetryAt: number | null;
  /** What the alarm performs when `nextRetryAt` is due. */
  retryOp: Op | null;
  /** A DISABLE interrupted by a transient failure: the alarm finishes it (ends `disabled`). */
  retryDisable?: boolean;
  pendingSince: number | null;
  lastError: DomainError | null;
  catchAll: { enabled: boolean; ownerUserId: string | null; snapshot: CatchAllRule | null };
  createdAt: number | null;
  updatedAt: number | null;
  lastProvisionedAt: number | null;
  disabledAt: number | null;
  deletedAt: number | null;
}

/** What a command changed when it started, put back when it fails without changing the domain. */
export type Prior = Pick<
  DomainContext,
  "domainId" | "zoneId" | "nameServers" | "cloudflareStatus" | "bindingSource" | "createdAt" | "nextRetryAt" | "retryOp" | "retryCount" | "transientFailures"
>;

export interface Policy {
  retryBaseSeconds: number;
  retryMaxSeconds: number;
}

/** Every event carries the clock, a random number in [0, 1) and the retry policy. */
interface Base {
  now: number;
  random: number;
  policy: Policy;
}

export type DomainEvent =
  | (Base & { type: "BIND"; domainId: string })
  | (Base & { type: "ENABLE"; domainId: string; zoneId: string })
  | (Base & { type: "RETRY" })
  | (Base & { type: "DISABLE" })
  | (Base & { type: "DELETE" })
  | (Base & { type: "CATCH_ALL_ENABLE"; ownerUserId: string })
  | (Base & { type: "CATCH_ALL_DISABLE" })
  | (Base & { type: "ALARM" })
  | (Base & { type: "ZONE_CREATED"; zone: ZoneInfo })
  | (Base & { type: "ZONE_FOUND"; zone: ZoneInfo | null })
  | (Base & { type: "ZONE_CHECKED"; zone: ZoneInfo })
  | (Base & { type: "ROUTING_ENABLED" })
  | (Base & { type: "ZONE_DELETED" })
  | (Base & { type: "CATCH_ALL_READ"; rule: CatchAllRule })
  | (Base & { type: "CATCH_ALL_WRITTEN" })
  | (Base & { type: "RULES_RESTORED" })
  | (Base & { type: "CATCH_ALL_RESTORED" })
  | (Base & { type: "CF_FAILED"; failure: FailureInput });

export const PENDING_GIVE_UP_MS = 28 * 24 * 60 * 60 * 1000;
/** After this many consecutive transient failures a domain shows provisioning_error (still retried). */
export const TRANSIENT_FAILURES_BEFORE_ERROR = 5;

export function initialContext(rootDomain: string): DomainContext {
  return {
    rootDomain,
    domainId: null,
    zoneId: null,
    nameServers: [],
    cloudflareStatus: null,
    bindingSource: null,
    resting: "none",
    op: null,
    command: null,
    outcome: null,
    retryCount: 0,
    transientFailures: 0,
    nextRetryAt: null,
    retryOp: null,
    pendingSince: null,
    lastError: null,
    catchAll: { enabled: false, ownerUserId: null, snapshot: null },
    createdAt: null,
    updatedAt: null,
    lastProvisionedAt: null,
    disabledAt: null,
    deletedAt: null,
  };
}

// ---- pure helpers --------------------------------------------------------------------------

/** Exponential backoff from the policy's base, doubling to its cap, with ±25% jitter. */
export function backoffMs(retryCount: number, random: number, policy: Policy, retryAfterSeconds: number | null = null): number {
  const seconds = Math.min(policy.retryMaxSeconds, policy.retryBaseSeconds * 2 ** Math.min(retryCount, 30));
  const jittered = seconds * (0.75 + 0.5 * random);
  return Math.round(Math.max(jittered, retryAfterSeconds ?? 0) * 1000);
}

const schedule = (ctx: DomainContext, e: Base, op: Op, retryAfterSeconds: number | null = null) => ({
  nextRetryAt: e.now + backoffMs(ctx.retryCount, e.random, e.policy, retryAfterSeconds),
  retryCount: ctx.retryCount + 1,
  retryOp: op,
});

const settled = (ctx: DomainContext, ok: boolean, error: DomainError | null, retrying = false) => ({
  // Success clears the last error; a failing action overrides it after this spread.
  ...(ok ? { lastError: null, transientFailures: 0 } : {}),
  op: null,
  command: null,
  outcome: ctx.command ? { command: ctx.command.type, ok, error, retrying } : ctx.outcome,
});

const zoneFields = (zone: ZoneInfo) => ({ zoneId: zone.id, nameServers: zone.nameServers, cloudflareStatus: zone.status });

const opFor = (ctx: DomainContext): Op =>
  ctx.zoneId ? { kind: "check_zone" } : ctx.bindingSource === "project_bind" ? { kind: "find_zone" } : { kind: "check_zone" };

const pendingError = (): DomainError => ({
  status: 409,
  message: "Zone is pending activation",
  code: "zone_pending",
  hint: HINTS.zone_pending,
  retryable: true,
  cloudflareCode: null,
});

const priorOf = (ctx: DomainContext): Prior => ({
  domainId: ctx.domainId,
  zoneId: ctx.zoneId,
  nameServers: ctx.nameServers,
  cloudflareStatus: ctx.cloudflareStatus,
  bindingSource: ctx.bindingSource,
  createdAt: ctx.createdAt,
  nextRetryAt: ctx.nextRetryAt,
  retryOp: ctx.retryOp,
  retryCount: ctx.retryCount,
  transientFailures: ctx.transientFailures,
});

/** The automatic retry schedule the command's start reset. */
const priorSchedule = (ctx: DomainContext): Partial<DomainContext> => {
  const p = ctx.command?.prior;
  return p ? { nextRetryAt: p.nextRetryAt, retryOp: p.retryOp, retryCount: p.retryCount, transientFailures: p.transientFailures } : {};
};

function startCommand(ctx: DomainContext, type: CommandType, op: Op | null, now: number): Partial<DomainContext> {
  return {
    op,
    command: { type, from: ctx.resting, zoneCreated: false, prior: priorOf(ctx) },
    outcome: null,
    updatedAt: now,
    // A person acting resets the automatic retry schedule.
    ...(op ? { nextRetryAt: null, retryOp: null, retryCount: 0, transientFailures: 0 } : {}),
  };
}

// ---- the machine ----------------------------------------------------------------------------

type E<T extends DomainEvent["type"]> = Extract<DomainEvent, { type: T }>;

const fromState = (ctx: DomainContext): MachineState => ctx.command?.from ?? ctx.resting;

/** The operation each result event answers. */
const RESULT_OF: Partial<Record<DomainEvent["type"], OpKind>> = {
  ZONE_CREATED: "create_zone",
  ZONE_FOUND: "find_zone",
  ZONE_CHECKED: "check_zone",
  ROUTING_ENABLED: "enable_routing",
  ZONE_DELETED: "delete_zone",
  CATCH_ALL_READ: "read_catch_all",
  CATCH_ALL_WRITTEN: "write_catch_all",
  RULES_RESTORED: "restore_rules",
  CATCH_ALL_RESTORED: "restore_catch_all",
};
/** Ignored: a result for an operation that is not in flight (duplicate delivery, replay, host bug). */
const STRAY = { guard: "stray" } as const;
const failure = (e: DomainEvent) => (e as E<"CF_FAILED">).failure;

export const domainMachine = setup({
  types: {
    context: {} as DomainContext,
    events: {} as DomainEvent,
    input: {} as { rootDomain: string },
  },
  guards: {
    // The runtime decides when an alarm is due; an alarm with nothing scheduled does nothing.
    alarmDue: ({ context }) => context.op !== null || context.nextRetryAt !== null,
    stray: ({ context, event }) =>
      event.type === "CF_FAILED" ? context.op === null : context.op?.kind !== RESULT_OF[event.type],
    hasZone: ({ context }) => context.zoneId !== null,
    catchAllOn: ({ context }) => context.catchAll.enabled,
    hasSnapshot: ({ context }) => context.catchAll.snapshot !== null,
    zoneActive: ({ event }) => (event as E<"ZONE_CHECKED">).zone.status === "active",
    zoneWaiting: ({ event }) => ["pending", "initializing"].includes((event as E<"ZONE_CHECKED">).zone.status),
    nameMismatch: ({ context, event }) =>
      (event as E<"ZONE_CHECKED">).zone.name.toLowerCase() !== context.rootDomain,
    pendingTooLong: ({ context, event }) => context.pendingSince !== null && event.now - context.pendingSince >= PENDING_GIVE_UP_MS,
    foundZone: ({ event }) => (event as E<"ZONE_FOUND">).zone !== null,
    opIs: ({ context }, params: { kind: OpKind }) => context.op?.kind === params.kind,
    deleteForRollback: ({ context }) => context.op?.kind === "delete_zone" && context.command?.type === "BIND" && context.command.zoneCreated && (context.command.from === "none" || context.command.from === "deleted"),
    /** The domain has no live record yet (never bound, or soft-deleted). */
    noRecord: ({ context }) => context.resting === "none" || context.resting === "deleted",
    startedFrom: ({ context }, params: { state: MachineState }) => fromState(context) === params.state,
    restingIn: ({ context }, params: { state: MachineState }) => context.resting === params.state,
    commandIs: ({ context }, params: { type: CommandType }) => context.command?.type === params.type,
    failedNotFound: ({ event }) => isNotFound(failure(event)),
    failedPending: ({ event }) => isPendingFailure(failure(event)),
    failedTransient: ({ event }) => failure(event).retryable,
    failedAuthOnNewZone: ({ context, event }) => {
      const f = failure(event);
      return (
        (f.status === 401 || f.status === 403) &&
        context.command?.type === "BIND" &&
        context.command.zoneCreated &&
        (context.command.from === "none" || context.command.from === "deleted")
      );
    },
    catalogEnableOfNewDomain: ({ context }) =>
      context.command?.type === "ENABLE" && (context.resting === "none" || context.resting === "deleted"),
    catchAllOp: ({ context }) =>
      ["read_catch_all", "write_catch_all", "restore_rules", "restore_catch_all"].includes(context.op?.kind ?? ""),
    tooManyTransient: ({ context }) => context.transientFailures + 1 >= TRANSIENT_FAILURES_BEFORE_ERROR,
  },
  actions: {
    startBind: assign(({ context, event }) => {
      const e = event as E<"BIND">;
      const fresh = context.domainId === null;
      // A record without a zone id got there through an uncertain create: look the zone up first.
      const op: Op = context.zoneId
        ? { kind: "check_zone" }
        : context.resting === "none" || context.resting === "deleted"
          ? { kind: "create_zone" }
          : { kind: "find_zone" };
      return {
        ...startCommand(context, "BIND", op, e.now),
        domainId: context.domainId ?? e.domainId,
        createdAt: fresh ? e.now : context.createdAt,
        bindingSource: context.zoneId ? (context.bindingSource ?? "project_bind") : "project_bind",
      };
    }),
    startEnable: assign(({ context, event }) => {
      const e = event as E<"ENABLE">;
      const sameZone = context.zoneId === e.zoneId;
      return {
        ...startCommand(context, "ENABLE", { kind: "check_zone" }, e.now),
        domainId: context.domainId ?? e.domainId,
        createdAt: context.createdAt ?? e.now,
        zoneId: e.zoneId,
        nameServers: sameZone ? context.nameServers : [],
        bindingSource: sameZone && context.bindingSource === "project_bind" ? "project_bind" : "catalog",
      };
    }),
    rest: assign((_, params: { state: MachineState }) => ({ resting: params.state })),
    startRetry: assign(({ context, event }) => startCommand(context, "RETRY", opFor(context), event.now)),
    startDisable: assign(({ context, event }) =>
      startCommand(context, "DISABLE", context.catchAll.enabled ? { kind: "restore_rules" } : null, event.now),
    ),
    startDelete: assign(({ context, event }) => startCommand(context, "DELETE", { kind: "delete_zone" }, event.now)),
    startCatchAllEnable: assign(({ context, event }) => ({
      ...startCommand(context, "CATCH_ALL_ENABLE", { kind: context.catchAll.snapshot ? "write_catch_all" : "read_catch_all" }, event.now),
      catchAll: { ...context.catchAll, ownerUserId: (event as E<"CATCH_ALL_ENABLE">).ownerUserId },
    })),
    startCatchAllDisable: assign(({ context, event }) =>
      startCommand(context, "CATCH_ALL_DISABLE", { kind: "restore_rules" }, event.now),
    ),
    noopCommand: assign(({ context, event }) => ({
      outcome: { command: commandOf(event), ok: true, error: null, retrying: false },
      updatedAt: context.updatedAt,
    })),
    runRetryOp: assign(({ context, event }) => {
      const op = context.op ?? context.retryOp ?? opFor(context);
      const resumesDisable = !context.op && context.retryDisable === true && (op.kind === "restore_rules" || op.kind === "restore_catch_all");
      return {
        op,
        ...(resumesDisable ? { command: { type: "DISABLE" as const, from: context.resting, zoneCreated: false } } : {}),
        retryDisable: false,
        nextRetryAt: null,
        updatedAt: event.now,
      };
    }),
    becomeDisabled: assign(({ context, event }) => ({
      ...settled(context, true, null),
      disabledAt: event.now,
      nextRetryAt: null,
      retryOp: null,
      updatedAt: event.now,
    })),
    // -- results --
    zoneArrived: assign(({ context, event }) => {
      const zone = (event as E<"ZONE_CREATED">).zone!;
      const active = zone.status === "active";
      return {
        ...zoneFields(zone),
        command: context.command ? { ...context.command, zoneCreated: event.type === "ZONE_CREATED" || context.command.zoneCreated } : null,
        pendingSince: active ? null : (context.pendingSince ?? event.now),
        updatedAt: event.now,
        ...(active
          ? { op: { kind: "enable_routing" as const } }
          : { ...settled(context, true, null), lastError: pendingError(), ...schedule({ ...context, retryCount: 0 }, event, { kind: "check_zone" }) }),
      };
    }),
    createAgain: assign(() => ({ op: { kind: "create_zone" as const } })),
    zoneIsActive: assign(({ event }) => ({
      ...zoneFields((event as E<"ZONE_CHECKED">).zone),
      op: { kind: "enable_routing" as const },
      updatedAt: event.now,
    })),
    zoneIsWaiting: assign(({ context, event }) => ({
      ...zoneFields((event as E<"ZONE_CHECKED">).zone),
      ...settled(context, true, null),
      pendingSince: context.pendingSince ?? event.now,
      lastError: pendingError(),
      transientFailures: 0,
      ...schedule(context, event, { kind: "check_zone" }),
      updatedAt: event.now,
    })),
    zoneGaveUp: assign(({ context, event }) => {
      const error: DomainError = {
        status: 409,
        message: "Zone was not activated within 28 days",
        code: "zone_not_activated",
        hint: HINTS.zone_not_activated,
        retryable: false,
        cloudflareCode: null,
      };
      return {
        ...settled(context, false, error),
        lastError: error,
        // The next manual retry or bind starts a new 28-day window.
        pendingSince: null,
        nextRetryAt: null,
        retryOp: null,
        updatedAt: event.now,
      };
    }),
    zoneUnusable: assign(({ context, event }) => {
      const zone = (event as E<"ZONE_CHECKED">).zone;
      const error: DomainError = {
        status: 409,
        message: `Zone is ${zone.status} in Cloudflare`,
        code: "zone_not_active",
        hint: HINTS.zone_not_active,
        retryable: false,
        cloudflareCode: null,
      };
      return { ...zoneFields(zone), ...settled(context, false, error), lastError: error, nextRetryAt: null, retryOp: null, updatedAt: event.now };
    }),
    notInCatalog: assign(({ context, event }) => {
      const error: DomainError = {
        status: 400,
        message: "Mailbox domain is not available in Cloudflare",
        code: "domain_not_in_catalog",
        hint: HINTS.domain_not_in_catalog,
        retryable: false,
        cloudflareCode: null,
      };
      // The refused zone must not stick: put back what the ENABLE changed.
      return { ...settled(context, false, error), ...(context.command?.prior ?? {}), resting: fromState(context), updatedAt: event.now };
    }),
    routingEnabled: assign(({ context, event }) => ({
      ...settled(context, true, null),
      cloudflareStatus: "active",
      lastProvisionedAt: event.now,
      lastError: null,
      retryCount: 0,
      transientFailures: 0,
      nextRetryAt: null,
      retryOp: null,
      pendingSince: null,
      disabledAt: null,
      deletedAt: null,
      updatedAt: event.now,
    })),
    zoneDeleted: assign(({ context, event }) => ({
      ...settled(context, true, null),
      zoneId: null,
      nameServers: [],
      cloudflareStatus: null,
      catchAll: { enabled: false, ownerUserId: null, snapshot: null },
      lastError: null,
      nextRetryAt: null,
      retryOp: null,
      retryCount: 0,
      pendingSince: null,
      deletedAt: event.now,
      updatedAt: event.now,
    })),
    rolledBack: assign(({ context, event }) => ({
      // The bind failed after its zone was created and the zone is gone again: no record remains.
      ...settled(context, false, context.lastError),
      resting: fromState(context),
      zoneId: null,
      nameServers: [],
      cloudflareStatus: null,
      nextRetryAt: null,
      retryOp: null,
      updatedAt: event.now,
    })),
    startRollback: assign(({ context, event }) => ({
      lastError: classifyFailure(context.op!.kind, failure(event)),
      op: { kind: "delete_zone" as const },
    })),
    snapshotTaken: assign(({ context, event }) => ({
      catchAll: { ...context.catchAll, snapshot: (event as E<"CATCH_ALL_READ">).rule },
      op: { kind: "write_catch_all" as const },
    })),
    catchAllOn: assign(({ context, event }) => ({
      ...settled(context, true, null),
      catchAll: { ...context.catchAll, enabled: true },
      nextRetryAt: null,
      retryOp: null,
      updatedAt: event.now,
    })),
    restoreCatchAll: assign(() => ({ op: { kind: "restore_catch_all" as const } })),
    catchAllOff: assign(({ context, event }) => ({
      ...(context.command?.type === "DISABLE" ? {} : settled(context, true, null)),
      catchAll: { enabled: false, ownerUserId: null, snapshot: null },
      nextRetryAt: null,
      retryOp: null,
      updatedAt: event.now,
    })),
    /** A permanent failure that leaves the domain unchanged (the command simply failed). */
    commandFailed: assign(({ context, event }) => {
      const error = classifyFailure(context.op!.kind, failure(event));
      return { ...settled(context, false, error), ...priorSchedule(context), resting: fromState(context), lastError: error, updatedAt: event.now };
    }),
    /** A permanent failure: the domain needs an operator. */
    provisioningFailed: assign(({ context, event }) => {
      const error = classifyFailure(context.op!.kind, failure(event));
      return { ...settled(context, false, error), lastError: error, nextRetryAt: null, retryOp: null, updatedAt: event.now };
    }),
    /** Transient failure: keep the op for the alarm, with backoff (Retry-After honoured). */
    retryLater: assign(({ context, event }) => {
      const f = failure(event);
      const op = context.op!.kind === "create_zone" ? { kind: "find_zone" as const } : context.op!;
      const error = classifyFailure(context.op!.kind, f);
      return {
        ...settled(context, false, error, true),
        retryDisable: context.command?.type === "DISABLE",
        lastError: error,
        transientFailures: context.transientFailures + 1,
        ...schedule(context, event, op, f.retryAfterSeconds),
        updatedAt: event.now,
      };
    }),
    pendingAgain: assign(({ context, event }) => ({
      ...settled(context, true, null),
      lastError: classifyFailure("enable_routing", failure(event)),
      pendingSince: context.pendingSince ?? event.now,
      ...schedule(context, event, { kind: "check_zone" }),
      updatedAt: event.now,
    })),
  },
}).createMachine({
  id: "domain",
  initial: "none",
  context: ({ input }) => initialContext(input.rootDomain),
  // Results of Cloudflare operations are handled the same way in every state; the target state
  // is chosen by guards on the operation and the failure.
  on: {
    ZONE_CREATED: [STRAY, { target: ".routing", actions: "zoneArrived" }],
    ZONE_FOUND: [
      STRAY,
      { guard: "foundZone", target: ".routing", actions: "zoneArrived" },
      { actions: "createAgain" },
    ],
    ZONE_CHECKED: [
      STRAY,
      { guard: { type: "commandIs", params: { type: "ENABLE" } }, target: ".checkCatalog" },
      { target: ".checkZone" },
    ],
    ROUTING_ENABLED: [STRAY, { target: ".active", actions: "routingEnabled" }],
    ZONE_DELETED: [
      STRAY,
      { guard: "deleteForRollback", target: ".rollback" },
      { target: ".deleted", actions: "zoneDeleted" },
    ],
    CATCH_ALL_READ: [STRAY, { actions: "snapshotTaken" }],
    CATCH_ALL_WRITTEN: [STRAY, { actions: "catchAllOn" }],
    RULES_RESTORED: [STRAY, { actions: "restoreCatchAll" }],
    CATCH_ALL_RESTORED: [
      STRAY,
      { guard: { type: "commandIs", params: { type: "DISABLE" } }, target: ".disabled", actions: ["catchAllOff", "becomeDisabled"] },
      { actions: "catchAllOff" },
    ],
    CF_FAILED: [
      STRAY,
      { guard: { type: "opIs", params: { kind: "delete_zone" } }, target: ".deleteFailed" },
      { guard: "failedAuthOnNewZone", actions: "startRollback" },
      { guard: { type: "opIs", params: { kind: "create_zone" } }, target: ".createFailed" },
      { guard: "failedTransient", target: ".transientFailure" },
      // A catch-all/rules call that fails permanently fails its command; it never moves the domain.
      { guard: "catchAllOp", actions: "commandFailed" },
      { guard: "failedPending", target: ".pending", actions: "pendingAgain" },
      { guard: { type: "opIs", params: { kind: "check_zone" } }, target: ".checkFailed" },
      { target: ".provisioning_error", actions: "provisioningFailed" },
    ],
  },
  states: {
    none: {
      entry: { type: "rest", params: { state: "none" } },
      on: {
        BIND: { actions: "startBind" },
        ENABLE: { actions: "startEnable" },
        ALARM: { guard: "alarmDue", actions: "runRetryOp" },
      },
    },
    pending: {
      entry: { type: "rest", params: { state: "pending" } },
      on: {
        BIND: { actions: "startBind" },
        ENABLE: { actions: "startEnable" },
        RETRY: { actions: "startRetry" },
        ALARM: { guard: "alarmDue", actions: "runRetryOp" },
        DISABLE: { target: "disabled", actions: ["startDisable", "becomeDisabled"] },
        DELETE: { actions: "startDelete" },
      },
    },
    provisioning_error: {
      entry: { type: "rest", params: { state: "provisioning_error" } },
      on: {
        BIND: { actions: "startBind" },
        ENABLE: { actions: "startEnable" },
        RETRY: { actions: "startRetry" },
        ALARM: { guard: "alarmDue", actions: "runRetryOp" },
        DISABLE: { target: "disabled", actions: ["startDisable", "becomeDisabled"] },
        DELETE: { actions: "startDelete" },
      },
    },
    active: {
      entry: { type: "rest", params: { state: "active" } },
      on: {
        RETRY: { actions: "startRetry" },
        ALARM: { guard: "alarmDue", actions: "runRetryOp" },
        DISABLE: [
          { guard: "catchAllOn", actions: "startDisable" },
          { target: "disabled", actions: ["startDisable", "becomeDisabled"] },
        ],
        DELETE: { actions: "startDelete" },
        CATCH_ALL_ENABLE: [
          { guard: "catchAllOn", actions: "noopCommand" },
          { actions: "startCatchAllEnable" },
        ],
        CATCH_ALL_DISABLE: [
          { guard: "catchAllOn", actions: "startCatchAllDisable" },
          { actions: "noopCommand" },
        ],
      },
    },
    disabled: {
      entry: { type: "rest", params: { state: "disabled" } },
      on: {
        BIND: { actions: "startBind" },
        ENABLE: { actions: "startEnable" },
        RETRY: { actions: "startRetry" },
        DISABLE: { actions: "noopCommand" },
        DELETE: { actions: "startDelete" },
        ALARM: { guard: "alarmDue", actions: "runRetryOp" },
      },
    },
    deleted: {
      entry: { type: "rest", params: { state: "deleted" } },
      on: {
        BIND: { actions: "startBind" },
        ENABLE: { actions: "startEnable" },
        ALARM: { guard: "alarmDue", actions: "runRetryOp" },
      },
    },
    // ---- transient routing states: each resolves immediately (eventless) to a persisted state ----
    routing: {
      // A zone arrived (created or found): pending unless it is already active (then enabling).
      always: [{ target: "pending" }],
    },
    checkCatalog: {
      always: [
        { guard: "nameMismatch", target: "restore", actions: "notInCatalog" },
        { target: "checkZone" },
      ],
    },
    checkZone: {
      always: [
        { guard: "zoneActive", target: "stay", actions: "zoneIsActive" },
        { guard: "pendingTooLong", target: "provisioning_error", actions: "zoneGaveUp" },
        { guard: "zoneWaiting", target: "pending", actions: "zoneIsWaiting" },
        { target: "provisioning_error", actions: "zoneUnusable" },
      ],
    },
    checkFailed: {
      always: [
        {
          guard: "catalogEnableOfNewDomain",
          target: "restore",
          actions: "notInCatalog",
        },
        { target: "provisioning_error", actions: "provisioningFailed" },
      ],
    },
    createFailed: {
      always: [
        { guard: "failedTransient", target: "transientFailure" },
        { target: "restore", actions: "commandFailed" },
      ],
    },
    deleteFailed: {
      always: [
        { guard: "failedNotFound", target: "zoneGone" },
        { guard: "failedTransient", target: "transientFailure" },
        { target: "restore", actions: "commandFailed" },
      ],
    },
    zoneGone: {
      always: [
        { guard: "deleteForRollback", target: "rollback" },
        { target: "deleted", actions: "zoneDeleted" },
      ],
    },
    transientFailure: {
      always: [
        { guard: "tooManyTransient", target: "provisioning_error", actions: "retryLater" },
        { guard: "noRecord", target: "provisioning_error", actions: "retryLater" },
        { target: "back", actions: "retryLater" },
      ],
    },
    rollback: {
      always: [{ target: "restore", actions: "rolledBack" }],
    },
    /** An active zone check keeps the state the domain rests in while routing is (re-)enabled. */
    stay: {
      always: [{ guard: "noRecord", target: "pending" }, { target: "back" }],
    },
    /** Back to the persisted state the machine was resting in. */
    back: {
      always: [
        { guard: { type: "restingIn", params: { state: "pending" } }, target: "pending" },
        { guard: { type: "restingIn", params: { state: "provisioning_error" } }, target: "provisioning_error" },
        { guard: { type: "restingIn", params: { state: "active" } }, target: "active" },
        { guard: { type: "restingIn", params: { state: "disabled" } }, target: "disabled" },
        { guard: { type: "restingIn", params: { state: "deleted" } }, target: "deleted" },
        { target: "none" },
      ],
    },
    /** Back to the state the current command started from (or where the machine was before). */
    restore: {
      always: [
        { guard: { type: "startedFrom", params: { state: "pending" } }, target: "pending" },
        { guard: { type: "startedFrom", params: { state: "provisioning_error" } }, target: "provisioning_error" },
        { guard: { type: "startedFrom", params: { state: "active" } }, target: "active" },
        { guard: { type: "startedFrom", params: { state: "disabled" } }, target: "disabled" },
        { guard: { type: "startedFrom", params: { state: "deleted" } }, target: "deleted" },
        { target: "none" },
      ],
    },
  },
});

function commandOf(event: DomainEvent): CommandType {
  return event.type as CommandType;
}

/** Why a command cannot run in a state, as the API answers it; null when it may run. */
export function rejection(state: MachineState, ctx: DomainContext, event: DomainEvent): DomainError | null {
  const err = (status: number, message: string, code: string, hint: string): DomainError => ({
    status,
    message,
    code,
    hint,
    retryable: false,
    cloudflareCode: null,
  });
  const exists = state !== "none" && state !== "deleted";
  switch (event.type) {
    case "BIND":
    case "ENABLE":
      return state === "active"
        ? err(409, "Mailbox domain already exists", "domain_exists", "The domain is already active: use it for mailboxes, or disable it first.")
        : null;
    case "RETRY":
    case "DISABLE":
      return exists ? null : err(404, "Mailbox domain not found", "domain_not_found", "Bind the domain or enable it from the catalog first.");
    case "DELETE":
      if (!exists) return err(404, "Mailbox domain not found", "domain_not_found", "Nothing to delete.");
      return ctx.bindingSource === "project_bind"
        ? null
        : err(409, "Only project-bound domains can be deleted", "not_project_bound", "Catalog domains belong to your Cloudflare account: disable them here, delete the zone in Cloudflare.");
    case "CATCH_ALL_ENABLE":
    case "CATCH_ALL_DISABLE": {
      if (!exists) return err(404, "Mailbox domain not found", "domain_not_found", "Bind the domain first.");
      const verb = event.type === "CATCH_ALL_ENABLE" ? "enable" : "disable";
      return state === "active"
        ? null
        : err(409, `Only active mailbox domains can ${verb} catch-all`, "domain_not_active", "Wait until the domain is active (or retry it), then toggle catch-all.");
    }
    default:
      return null;
  }
}

export type DomainSnapshot = ReturnType<typeof domainMachine.resolveState>;

/** The persisted form: the state value and the context, nothing else. */
export interface PersistedDomain {
  value: MachineState;
  context: DomainContext;
}

export function restore(persisted: PersistedDomain): DomainSnapshot {
  return domainMachine.resolveState({ value: persisted.value, context: persisted.context });
}

export function persist(snapshot: DomainSnapshot): PersistedDomain {
  return { value: snapshot.value as MachineState, context: snapshot.context };
}

export function fresh(rootDomain: string): DomainSnapshot {
  return restore({ value: "none", context: initialContext(rootDomain) });
}
