/**
 * The simulator's state and every operation on it: accounts, tokens, zones, Email Routing
 * settings/DNS, rules and catch-alls, plus the runtime config. Plain JSON-serialisable data, no
 * HTTP and no permission checks (those live in cloudflare-api.ts); business rules that Cloudflare
 * enforces regardless of the caller (duplicate zone, pending zone, rule limit, catch-all id) are
 * here and throw CfError. Imports only errors.ts and ids.ts.
 */
import { cf } from "./errors.ts";
import { HEX32, randomId, stableNumber, timestamp } from "./ids.ts";

// ── Types ──────────────────────────────────────────────────────────────────────────────────

/** Permission names a simulated token can hold. `:edit` implies `:read`. */
export const PERMISSIONS = [
  "zone:read",
  "zone:edit",
  "zone_settings:read",
  "zone_settings:edit",
  "email_routing_rules:read",
  "email_routing_rules:edit",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Zone statuses of the official schema enum. */
export const ZONE_STATUSES = ["initializing", "pending", "active", "moved"] as const;
export type ZoneStatus = (typeof ZONE_STATUSES)[number];

export interface Account {
  id: string;
  name: string;
}

/** A simulated API token. `value` is the secret; it is never echoed by any endpoint. */
export interface TokenRecord {
  id: string;
  value: string;
  status: "active" | "disabled";
  permissions: Permission[];
  /** Account ids the token may act on (zones in other accounts answer 9109). */
  accounts: string[];
}

/** One name (apex or subdomain) on which Email Routing DNS is enabled. */
export interface RoutingName {
  id: string;
  created: string;
  modified: string;
}

export interface RoutingRecord {
  id: string;
  created: string;
  modified: string;
  skip_wizard: boolean;
  support_subaddress: boolean;
  /** Per-zone MX priorities for route1/2/3 (Cloudflare picks values in 1..99 per zone). */
  mx_priorities: [number, number, number];
  /** fqdn → enabled record set. The apex's presence means "Email Routing enabled". */
  names: Record<string, RoutingName>;
}

export interface Matcher {
  type: "literal" | "all";
  field?: "to";
  value?: string;
}

export interface Action {
  type: "forward" | "worker" | "drop";
  value?: string[];
}

export interface RuleRecord {
  id: string;
  name: string;
  enabled: boolean;
  priority: number;
  matchers: Matcher[];
  actions: Action[];
  source: "api" | "wrangler";
  owner_worker_tag?: string;
}

export interface CatchAllRecord {
  id: string;
  name: string;
  enabled: boolean;
  matchers: Array<{ type: "all" }>;
  actions: Action[];
  source: "api" | "wrangler";
  owner_worker_tag?: string;
}

export interface ZoneRecord {
  id: string;
  name: string;
  account_id: string;
  status: ZoneStatus;
  type: "full";
  name_servers: string[];
  created_on: string;
  modified_on: string;
  activated_on: string | null;
  routing: RoutingRecord;
  /** Literal rules in creation order; the catch-all is kept apart (it is not in the list). */
  rules: RuleRecord[];
  catch_all: CatchAllRecord;
}

export interface RateLimitConfig {
  limit: number;
  windowSeconds: number;
}

/** Runtime knobs, changeable through PUT /__sim/config. */
export interface SimConfig {
  rateLimit: RateLimitConfig;
  /** Rules per zone (catch-all not counted). Cloudflare's default: 200. */
  rulesLimit: number;
  /** What enable/POST dns does on a zone that is not active: "reject" (2001) or "allow". */
  pendingZoneRouting: "reject" | "allow";
}

export interface SimState {
  version: 1;
  accounts: Record<string, Account>;
  zones: Record<string, ZoneRecord>;
  /** Keyed by token value. */
  tokens: Record<string, TokenRecord>;
  config: SimConfig;
}

/** What the store needs to (re)build its defaults. */
export interface StoreDefaults {
  accountId: string;
  accountName: string;
  token: string;
  config: SimConfig;
}

/** Validated input of a rule create/update. */
export interface RuleInput {
  name: string;
  enabled: boolean;
  priority: number;
  matchers: Matcher[];
  actions: Action[];
  source: "api" | "wrangler";
  owner_worker_tag?: string;
}

/** Validated input of a catch-all update. */
export interface CatchAllInput {
  name: string;
  enabled: boolean;
  matchers: Array<{ type: "all" }>;
  actions: Action[];
  source: "api" | "wrangler";
  owner_worker_tag?: string;
}

/** Filters of GET /zones. */
export interface ZoneFilter {
  name?: string;
  status?: string;
  accountId?: string;
  accountName?: string;
  /** Only zones in these accounts (the token's). */
  accounts?: readonly string[];
  order?: string;
  direction?: string;
  match?: string;
}

// ── Constants ──────────────────────────────────────────────────────────────────────────────

/** The schema's zone-name pattern (2024 `zones_name`). */
export const ZONE_NAME_PATTERN = /^([a-zA-Z0-9][\-a-zA-Z0-9]*\.)+[\-a-zA-Z0-9]{2,20}$/;

const NAMESERVER_POOL = [
  "ada", "bob", "cruz", "dana", "elle", "finn", "gina", "hugh",
  "iris", "jack", "kate", "leo", "mia", "nash", "olga", "pete",
];

/** Records Email Routing adds for a name: three MX plus SPF TXT. */
export const MX_HOSTS = ["route1.mx.cloudflare.net", "route2.mx.cloudflare.net", "route3.mx.cloudflare.net"];
export const SPF_CONTENT = "v=spf1 include:_spf.mx.cloudflare.net ~all";

/** Nameserver pair assigned to every zone of an account (stable per account, like Cloudflare). */
export function nameServersFor(accountId: string): string[] {
  const n = NAMESERVER_POOL.length;
  const a = stableNumber(`ns1:${accountId}`, n);
  const b = (a + 1 + stableNumber(`ns2:${accountId}`, n - 1)) % n;
  return [`${NAMESERVER_POOL[a]}.ns.cloudflare.com`, `${NAMESERVER_POOL[b]}.ns.cloudflare.com`];
}

/** Lowercase, no trailing dot. */
export function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, "");
}

/** Whether `name` passes the official zone-name pattern and DNS length limits. */
export function isValidZoneName(name: string): boolean {
  return (
    name.length <= 253 && ZONE_NAME_PATTERN.test(name) && name.split(".").every((l) => l.length <= 63)
  );
}

/** `:edit` implies `:read`. */
export function hasPermission(token: TokenRecord, needed: Permission): boolean {
  if (token.permissions.includes(needed)) return true;
  if (needed.endsWith(":read")) {
    return token.permissions.includes(needed.replace(/:read$/, ":edit") as Permission);
  }
  return false;
}

function defaultCatchAll(): CatchAllRecord {
  return {
    id: randomId(),
    name: "",
    enabled: false,
    matchers: [{ type: "all" }],
    actions: [{ type: "drop" }],
    source: "api",
  };
}

/** A fresh state: the default account, the default full-access token, no zones. */
export function initialState(d: StoreDefaults): SimState {
  const state: SimState = {
    version: 1,
    accounts: { [d.accountId]: { id: d.accountId, name: d.accountName } },
    zones: {},
    tokens: {},
    config: structuredClone(d.config),
  };
  state.tokens[d.token] = {
    id: randomId(),
    value: d.token,
    status: "active",
    permissions: [...PERMISSIONS],
    accounts: [d.accountId],
  };
  return state;
}

// ── Store ──────────────────────────────────────────────────────────────────────────────────

/**
 * Owns a SimState and applies operations to it. Every mutating method calls `onChange` once
 * (the server uses it to schedule a save). Reads return live records; callers must not mutate.
 */
export class SimStore {
  state: SimState;

  constructor(
    readonly defaults: StoreDefaults,
    state: SimState | undefined,
    private readonly onChange: () => void = () => {},
  ) {
    this.state = state ?? initialState(defaults);
    this.ensureDefaults();
  }

  /**
   * After a load: the default account exists, the start-up token is known, and the config comes
   * from the start options (config is a runtime knob like faults: persisted for inspection only).
   */
  private ensureDefaults(): void {
    const d = this.defaults;
    this.state.config = structuredClone(d.config);
    this.state.accounts[d.accountId] ??= { id: d.accountId, name: d.accountName };
    this.state.tokens[d.token] ??= {
      id: randomId(),
      value: d.token,
      status: "active",
      permissions: [...PERMISSIONS],
      accounts: [d.accountId],
    };
  }

  private changed(): void {
    this.onChange();
  }

  /** Back to the initial state (default account, token and config; no zones). */
  reset(): void {
    this.state = initialState(this.defaults);
    this.changed();
  }

  // ── accounts ──

  /** The account record, created on first use for unknown (well-formed) ids. */
  ensureAccount(id: string): Account {
    let account = this.state.accounts[id];
    if (!account) {
      account = { id, name: `Simulated Account ${id.slice(0, 8)}` };
      this.state.accounts[id] = account;
      this.changed();
    }
    return account;
  }

  account(id: string): Account {
    return this.state.accounts[id] ?? { id, name: `Simulated Account ${id.slice(0, 8)}` };
  }

  // ── tokens ──

  findToken(value: string): TokenRecord | undefined {
    return Object.prototype.hasOwnProperty.call(this.state.tokens, value) ? this.state.tokens[value] : undefined;
  }

  /** Create or update a token. New tokens default to all permissions on the default account. */
  upsertToken(
    value: string,
    patch: { permissions?: Permission[]; accounts?: string[]; status?: "active" | "disabled" },
  ): TokenRecord {
    const existing = this.findToken(value);
    const token: TokenRecord = existing ?? {
      id: randomId(),
      value,
      status: "active",
      permissions: [...PERMISSIONS],
      accounts: [this.defaults.accountId],
    };
    if (patch.permissions) token.permissions = [...new Set(patch.permissions)];
    if (patch.accounts) token.accounts = [...new Set(patch.accounts)];
    if (patch.status) token.status = patch.status;
    this.state.tokens[value] = token;
    for (const a of token.accounts) this.ensureAccount(a);
    this.changed();
    return token;
  }

  deleteToken(value: string): boolean {
    if (!this.findToken(value)) return false;
    delete this.state.tokens[value];
    this.changed();
    return true;
  }

  listTokens(): TokenRecord[] {
    return Object.values(this.state.tokens);
  }

  // ── zones ──

  getZone(id: string): ZoneRecord | undefined {
    return Object.prototype.hasOwnProperty.call(this.state.zones, id) ? this.state.zones[id] : undefined;
  }

  /** Zones matching GET /zones filters, sorted (default: by name ascending). */
  listZones(f: ZoneFilter): ZoneRecord[] {
    const tests: Array<(z: ZoneRecord) => boolean> = [];
    if (f.name !== undefined) tests.push((z) => matchOperator(z.name, f.name as string));
    if (f.status !== undefined) tests.push((z) => z.status === f.status);
    if (f.accountId !== undefined) tests.push((z) => z.account_id === f.accountId);
    if (f.accountName !== undefined) {
      tests.push((z) => matchOperator(this.account(z.account_id).name, f.accountName as string));
    }
    const any = f.match === "any" && tests.length > 0;
    let zones = Object.values(this.state.zones).filter((z) => {
      if (f.accounts && !f.accounts.includes(z.account_id)) return false;
      return any ? tests.some((t) => t(z)) : tests.every((t) => t(z));
    });
    const key = (z: ZoneRecord): string => {
      switch (f.order) {
        case "status":
          return z.status;
        case "account.id":
          return z.account_id;
        case "account.name":
          return this.account(z.account_id).name;
        default:
          return z.name;
      }
    };
    zones = zones.sort((a, b) => key(a).localeCompare(key(b)) || a.name.localeCompare(b.name));
    if (f.direction === "desc") zones.reverse();
    return zones;
  }

  /**
   * Create a zone. Validates the name (1002), refuses a duplicate name in the same account (1061).
   * API-created zones start `pending`; the control API may create them `active`.
   */
  createZone(input: { name: unknown; accountId: string; status?: ZoneStatus }): ZoneRecord {
    if (typeof input.name !== "string") throw cf.invalidDomain();
    const name = normalizeName(input.name);
    if (!isValidZoneName(name)) throw cf.invalidDomain();
    const duplicate = Object.values(this.state.zones).some(
      (z) => z.account_id === input.accountId && z.name === name,
    );
    if (duplicate) throw cf.zoneExists(name);
    this.ensureAccount(input.accountId);
    const now = timestamp();
    const status = input.status ?? "pending";
    const id = randomId();
    const zone: ZoneRecord = {
      id,
      name,
      account_id: input.accountId,
      status,
      type: "full",
      name_servers: nameServersFor(input.accountId),
      created_on: now,
      modified_on: now,
      activated_on: status === "active" ? now : null,
      routing: {
        id: randomId(),
        created: now,
        modified: now,
        skip_wizard: false,
        support_subaddress: false,
        mx_priorities: [
          1 + stableNumber(`mx1:${id}`, 99),
          1 + stableNumber(`mx2:${id}`, 99),
          1 + stableNumber(`mx3:${id}`, 99),
        ],
        names: {},
      },
      rules: [],
      catch_all: defaultCatchAll(),
    };
    this.state.zones[id] = zone;
    this.changed();
    return zone;
  }

  /** Delete a zone with everything under it. Returns false when it does not exist. */
  deleteZone(id: string): boolean {
    if (!this.getZone(id)) return false;
    delete this.state.zones[id];
    this.changed();
    return true;
  }

  /** Set a zone's status (control API). Becoming active stamps `activated_on`. */
  setZoneStatus(zone: ZoneRecord, status: ZoneStatus): ZoneRecord {
    const now = timestamp();
    if (status === "active" && zone.status !== "active") zone.activated_on = now;
    if (status === "pending" || status === "initializing") zone.activated_on = null;
    zone.status = status;
    zone.modified_on = now;
    this.changed();
    return zone;
  }

  // ── Email Routing: settings and DNS ──

  /**
   * Resolve a routing name (`name` body field or `subdomain` query): absent/empty = apex; else it
   * must be the apex or a valid hostname under it (2006).
   */
  routingName(zone: ZoneRecord, raw: unknown, pointer: string): string {
    if (raw === undefined || raw === null || raw === "") return zone.name;
    if (typeof raw !== "string") throw cf.invalidRoutingName(String(raw), zone.name, pointer);
    const name = normalizeName(raw);
    const underZone = name === zone.name || name.endsWith(`.${zone.name}`);
    const wellFormed =
      name.length <= 253 && name.split(".").every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
    if (!underZone || !wellFormed) throw cf.invalidRoutingName(raw, zone.name, pointer);
    return name;
  }

  /** Enable Email Routing DNS for a name (idempotent). Refused on a non-active zone (2001). */
  enableRouting(zone: ZoneRecord, name: string): void {
    if (zone.status !== "active" && this.state.config.pendingZoneRouting === "reject") {
      throw cf.zonePending();
    }
    const now = timestamp();
    if (!zone.routing.names[name]) {
      zone.routing.names[name] = { id: randomId(), created: now, modified: now };
    }
    zone.routing.skip_wizard = true;
    zone.routing.modified = now;
    this.changed();
  }

  /** Remove the Email Routing DNS records of a name (idempotent). */
  disableRouting(zone: ZoneRecord, name: string): void {
    const now = timestamp();
    delete zone.routing.names[name];
    zone.routing.modified = now;
    this.changed();
  }

  // ── Email Routing: rules ──

  listRules(zone: ZoneRecord, enabled?: boolean): RuleRecord[] {
    return enabled === undefined ? zone.rules : zone.rules.filter((r) => r.enabled === enabled);
  }

  /** A rule by id: the catch-all's id → 2020, unknown → 404 2002. */
  getRule(zone: ZoneRecord, ruleId: string): RuleRecord {
    if (ruleId === zone.catch_all.id || ruleId === "catch_all") throw cf.invalidRuleOperation();
    const rule = zone.rules.find((r) => r.id === ruleId);
    if (!rule) throw cf.ruleNotFound();
    return rule;
  }

  /** Create a rule; the (rulesLimit+1)th → 2004. */
  createRule(zone: ZoneRecord, input: RuleInput): RuleRecord {
    if (zone.rules.length >= this.state.config.rulesLimit) throw cf.rulesLimit();
    const rule: RuleRecord = { id: randomId(), ...structuredClone(input) };
    zone.rules.push(rule);
    this.changed();
    return rule;
  }

  /** Full replace of a rule, keeping its id. */
  updateRule(zone: ZoneRecord, ruleId: string, input: RuleInput): RuleRecord {
    const rule = this.getRule(zone, ruleId);
    const updated: RuleRecord = { id: rule.id, ...structuredClone(input) };
    zone.rules[zone.rules.indexOf(rule)] = updated;
    this.changed();
    return updated;
  }

  /** Delete a rule; returns the deleted rule. */
  deleteRule(zone: ZoneRecord, ruleId: string): RuleRecord {
    const rule = this.getRule(zone, ruleId);
    zone.rules = zone.rules.filter((r) => r !== rule);
    this.changed();
    return rule;
  }

  /** Replace the catch-all (its id is kept). */
  putCatchAll(zone: ZoneRecord, input: CatchAllInput): CatchAllRecord {
    zone.catch_all = { id: zone.catch_all.id, ...structuredClone(input) };
    this.changed();
    return zone.catch_all;
  }

  // ── config ──

  setConfig(patch: Partial<SimConfig>): SimConfig {
    this.state.config = { ...this.state.config, ...structuredClone(patch) };
    this.changed();
    return this.state.config;
  }
}

/** Cloudflare's name-filter operators: `equal:` (default), `not_equal:`, `starts_with:`, … */
function matchOperator(actual: string, filter: string): boolean {
  const m = /^(equal|not_equal|starts_with|ends_with|contains|starts_with_case_sensitive|ends_with_case_sensitive|contains_case_sensitive):(.*)$/s.exec(
    filter,
  );
  const op = m ? (m[1] as string) : "equal";
  const raw = m ? (m[2] as string) : filter;
  const sensitive = op.endsWith("_case_sensitive");
  const a = sensitive ? actual : actual.toLowerCase();
  const v = sensitive ? raw : raw.toLowerCase();
  switch (op) {
    case "not_equal":
      return a !== v;
    case "starts_with":
    case "starts_with_case_sensitive":
      return a.startsWith(v);
    case "ends_with":
    case "ends_with_case_sensitive":
      return a.endsWith(v);
    case "contains":
    case "contains_case_sensitive":
      return a.includes(v);
    default:
      return a === v;
  }
}

/** Whether a string is a well-formed 32-hex Cloudflare id. */
export function isId(value: string): boolean {
  return HEX32.test(value);
}

