/**
 * Renders state records as the exact objects Cloudflare's API returns (official field names,
 * 2026 SDK field set). Pure functions; imports only state.ts types/constants.
 */
import {
  MX_HOSTS,
  SPF_CONTENT,
  type Account,
  type CatchAllRecord,
  type Permission,
  type RuleRecord,
  type ZoneRecord,
} from "./state.ts";

/** Free plan object (deprecated field, still returned). */
const FREE_PLAN = {
  id: "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
  name: "Free Website",
  price: 0,
  currency: "USD",
  frequency: "",
  is_subscribed: false,
  can_subscribe: false,
  legacy_id: "free",
  legacy_discount: false,
  externally_managed: false,
};

/** Zone `permissions` (deprecated) as `#zone:read`-style strings for the caller's token. */
function zonePermissions(perms: readonly Permission[]): string[] {
  const out = new Set<string>();
  for (const p of perms) {
    out.add(`#${p}`);
    if (p.endsWith(":edit")) out.add(`#${p.replace(/:edit$/, ":read")}`);
  }
  return [...out].sort();
}

/**
 * The Zone object. `owner` carries the account (the 2024 schema types `owner.id` as a string;
 * live account-owned zones show nulls there). `tenant`/`tenant_unit` are omitted (optional).
 */
export function zoneView(zone: ZoneRecord, account: Account, perms: readonly Permission[]) {
  return {
    id: zone.id,
    name: zone.name,
    status: zone.status,
    paused: false,
    type: zone.type,
    development_mode: 0,
    name_servers: [...zone.name_servers],
    original_name_servers: null,
    original_registrar: null,
    original_dnshost: null,
    modified_on: zone.modified_on,
    created_on: zone.created_on,
    activated_on: zone.activated_on,
    vanity_name_servers: [],
    meta: { step: 4, custom_certificate_quota: 0, page_rule_quota: 3, phishing_detected: false },
    owner: { id: account.id, type: "organization", name: account.name },
    account: { id: account.id, name: account.name },
    permissions: zonePermissions(perms),
    plan: { ...FREE_PLAN },
  };
}

/** Email Routing settings (GET /email/routing and the result of enable / dns writes). */
export function settingsView(zone: ZoneRecord) {
  const r = zone.routing;
  const enabled = zone.name in r.names;
  const subdomains = Object.entries(r.names)
    .filter(([name]) => name !== zone.name)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => ({ id: n.id, tag: n.id, name, enabled: true, status: "ready" }));
  return {
    id: r.id,
    tag: r.id,
    name: zone.name,
    enabled,
    status: enabled ? "ready" : "unconfigured",
    skip_wizard: r.skip_wizard,
    created: r.created,
    modified: r.modified,
    support_subaddress: r.support_subaddress,
    subdomains,
  };
}

/** The records Email Routing places for `name`: MX route1..3 and the SPF TXT. */
export function dnsRecordsView(zone: ZoneRecord, name: string) {
  const p = zone.routing.mx_priorities;
  return [
    ...MX_HOSTS.map((content, i) => ({ type: "MX", name, content, priority: p[i] as number, ttl: 1 })),
    { type: "TXT", name, content: SPF_CONTENT, ttl: 1 },
  ];
}

/** A routing rule. */
export function ruleView(rule: RuleRecord) {
  return {
    id: rule.id,
    tag: rule.id,
    name: rule.name,
    enabled: rule.enabled,
    priority: rule.priority,
    matchers: structuredClone(rule.matchers),
    actions: structuredClone(rule.actions),
    source: rule.source,
    ...(rule.owner_worker_tag !== undefined ? { owner_worker_tag: rule.owner_worker_tag } : {}),
  };
}

/** The catch-all rule. */
export function catchAllView(c: CatchAllRecord) {
  return {
    id: c.id,
    tag: c.id,
    name: c.name,
    enabled: c.enabled,
    matchers: structuredClone(c.matchers),
    actions: structuredClone(c.actions),
    source: c.source,
    ...(c.owner_worker_tag !== undefined ? { owner_worker_tag: c.owner_worker_tag } : {}),
  };
}
