/**
 * Shared helpers for the simulator tests: start a simulator, call the Cloudflare API and the
 * control API with fetch, and assert Cloudflare envelopes (key order, schema, error codes).
 */
import { expect } from "vitest";
import {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_TOKEN,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from "../../sim/server.ts";
import { schemaErrors, type SchemaName } from "./schema.ts";

export { DEFAULT_ACCOUNT_ID as ACCOUNT, DEFAULT_TOKEN as TOKEN };

/** A second well-formed account id. */
export const OTHER_ACCOUNT = "fedcba9876543210fedcba9876543210";

/** Parsed response. */
export interface Res {
  status: number;
  headers: Headers;
  body: any;
}

/** Options of an API call. `token: null` sends no credentials. */
export interface CallOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** A started simulator plus call helpers. */
export interface Harness {
  sim: Simulator;
  api(method: string, path: string, opts?: CallOptions): Promise<Res>;
  control(method: string, path: string, body?: unknown): Promise<Res>;
  /** Control-API zone creation (default: active, default account); returns the Zone. */
  zone(name: string, extra?: { accountId?: string; status?: string }): Promise<any>;
  /** PUT /__sim/tokens/:value */
  token(value: string, spec: { permissions?: string[]; accounts?: string[]; status?: string }): Promise<Res>;
}

async function parse(r: Response): Promise<Res> {
  const text = await r.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: r.status, headers: r.headers, body };
}

/** Start a simulator with a high rate limit (tests make many calls) unless overridden. */
export async function startHarness(opts: SimulatorOptions = {}): Promise<Harness> {
  const sim = await startSimulator({ rateLimit: { limit: 100_000, windowSeconds: 300 }, ...opts });
  const api = async (method: string, path: string, o: CallOptions = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? (opts.token ?? DEFAULT_TOKEN) : o.token;
    if (token !== null && headers.Authorization === undefined) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return parse(await fetch(`${sim.apiBase}${path}`, { method, headers, body }));
  };
  const control = async (method: string, path: string, body?: unknown) =>
    parse(
      await fetch(`${sim.url}/__sim${path}`, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  return {
    sim,
    api,
    control,
    async zone(name, extra = {}) {
      const r = await control("POST", "/zones", { name, ...extra });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    },
    token: (value, spec) => control("PUT", `/tokens/${encodeURIComponent(value)}`, spec),
  };
}

/** Assert a Cloudflare success envelope (status 200, key order, official schema) and return `result`. */
export function ok(res: Res, schema: SchemaName): any {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const keys = Object.keys(res.body);
  expect(keys).toEqual(
    "result_info" in res.body
      ? ["result", "result_info", "success", "errors", "messages"]
      : ["result", "success", "errors", "messages"],
  );
  expect(res.body.success).toBe(true);
  expect(res.body.errors).toEqual([]);
  expect(schemaErrors(schema, res.body)).toBeNull();
  return res.body.result;
}

/** Assert a Cloudflare error envelope: status, first error's code (and message), key order, `result: null`. */
export function fails(res: Res, status: number, code: number, message?: string | RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body)).toEqual(["result", "success", "errors", "messages"]);
  expect(res.body.result).toBeNull();
  expect(res.body.success).toBe(false);
  expect(res.body.messages).toEqual([]);
  expect(res.body.errors.length).toBeGreaterThan(0);
  const first = res.body.errors[0];
  expect(first.code).toBe(code);
  if (typeof message === "string") expect(first.message).toBe(message);
  else if (message) expect(first.message).toMatch(message);
  return res.body.errors as Array<{ code: number; message: string; error_chain?: unknown; source?: unknown }>;
}

/** A valid literal rule body routing `address` to a worker. */
export function ruleBody(address: string, extra: Record<string, unknown> = {}) {
  return {
    name: `to ${address}`,
    enabled: true,
    matchers: [{ type: "literal", field: "to", value: address }],
    actions: [{ type: "worker", value: ["kaisoumail"] }],
    ...extra,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
