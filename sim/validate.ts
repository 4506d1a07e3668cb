/**
 * Request-body validation for Email Routing rules and the catch-all, following the official
 * schema (2024 `email_create_rule_properties` + 2026 overlay): `matchers` and `actions` required,
 * literal matchers need `field:"to"` and a `value` of ≤ 90 chars, actions are
 * forward|worker|drop, `name` ≤ 256. Failures throw 400 code 2003 with `source.pointer`.
 * Imports errors.ts and state.ts types only.
 */
import { cf } from "./errors.ts";
import type { Action, CatchAllInput, Matcher, RuleInput } from "./state.ts";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function requireObject(body: unknown): Json {
  if (!isObject(body)) throw cf.invalidRule("request body must be a JSON object", "/");
  return body;
}

function validateActions(raw: unknown): Action[] {
  if (raw === undefined) throw cf.invalidRule("actions is required", "/actions");
  if (!Array.isArray(raw) || raw.length === 0) {
    throw cf.invalidRule("actions must be a non-empty array", "/actions");
  }
  return raw.map((a, i): Action => {
    const at = `/actions/${i}`;
    if (!isObject(a)) throw cf.invalidRule("action must be an object", at);
    const type = a.type;
    if (type !== "forward" && type !== "worker" && type !== "drop") {
      throw cf.invalidRule("action type must be one of forward, worker, drop", `${at}/type`);
    }
    const value = a.value;
    if (value === undefined || value === null) {
      if (type === "drop") return { type };
      throw cf.invalidRule(`${type} action requires a value`, `${at}/value`);
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.length === 0 || v.length > 90)) {
      throw cf.invalidRule("action value must be an array of strings of 1..90 characters", `${at}/value`);
    }
    if (type !== "drop" && value.length === 0) {
      throw cf.invalidRule(`${type} action requires a value`, `${at}/value`);
    }
    if (type === "worker" && value.length !== 1) {
      throw cf.invalidRule("worker action takes exactly one script name", `${at}/value`);
    }
    return { type, value: [...(value as string[])] };
  });
}

function validateCommon(body: Json) {
  const name = body.name ?? "";
  if (typeof name !== "string" || name.length > 256) {
    throw cf.invalidRule("name must be a string of at most 256 characters", "/name");
  }
  const enabled = body.enabled ?? true;
  if (typeof enabled !== "boolean") throw cf.invalidRule("enabled must be a boolean", "/enabled");
  const source = body.source ?? "api";
  if (source !== "api" && source !== "wrangler") {
    throw cf.invalidRule("source must be api or wrangler", "/source");
  }
  const tag = body.owner_worker_tag;
  if (tag !== undefined && typeof tag !== "string") {
    throw cf.invalidRule("owner_worker_tag must be a string", "/owner_worker_tag");
  }
  if (source === "wrangler" && tag === undefined) {
    throw cf.invalidRule("owner_worker_tag is required when source is wrangler", "/owner_worker_tag");
  }
  return { name, enabled, source, ...(tag !== undefined ? { owner_worker_tag: tag as string } : {}) } as const;
}

/** Validate POST/PUT /rules bodies. */
export function parseRuleInput(body: unknown): RuleInput {
  const b = requireObject(body);
  const rawMatchers = b.matchers;
  if (rawMatchers === undefined) throw cf.invalidRule("matchers is required", "/matchers");
  if (!Array.isArray(rawMatchers) || rawMatchers.length === 0) {
    throw cf.invalidRule("matchers must be a non-empty array", "/matchers");
  }
  const matchers = rawMatchers.map((m, i): Matcher => {
    const at = `/matchers/${i}`;
    if (!isObject(m)) throw cf.invalidRule("matcher must be an object", at);
    if (m.type === "all") return { type: "all" };
    if (m.type !== "literal") throw cf.invalidRule("matcher type must be literal or all", `${at}/type`);
    if (m.field !== "to") throw cf.invalidRule('literal matcher requires field "to"', `${at}/field`);
    if (typeof m.value !== "string" || m.value.length === 0) {
      throw cf.invalidRule("literal matcher requires a value", `${at}/value`);
    }
    if (m.value.length > 90) throw cf.invalidRule("matcher value must be at most 90 characters", `${at}/value`);
    return { type: "literal", field: "to", value: m.value };
  });
  const actions = validateActions(b.actions);
  const priority = b.priority ?? 0;
  if (typeof priority !== "number" || !Number.isFinite(priority) || priority < 0) {
    throw cf.invalidRule("priority must be a number >= 0", "/priority");
  }
  return { ...validateCommon(b), priority, matchers, actions };
}

/** Validate PUT /rules/catch_all bodies: matchers must all be `{type:"all"}`, no priority. */
export function parseCatchAllInput(body: unknown): CatchAllInput {
  const b = requireObject(body);
  const rawMatchers = b.matchers;
  if (rawMatchers === undefined) throw cf.invalidRule("matchers is required", "/matchers");
  if (!Array.isArray(rawMatchers) || rawMatchers.length === 0) {
    throw cf.invalidRule("matchers must be a non-empty array", "/matchers");
  }
  rawMatchers.forEach((m, i) => {
    if (!isObject(m) || m.type !== "all") {
      throw cf.invalidRule('catch-all matchers must be [{"type":"all"}]', `/matchers/${i}/type`);
    }
  });
  const actions = validateActions(b.actions);
  return { ...validateCommon(b), matchers: rawMatchers.map(() => ({ type: "all" as const })), actions };
}
