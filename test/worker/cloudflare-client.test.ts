import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CloudflareClient } from "../../src/cloudflare/client";
import { CloudflareApiError, parseRetryAfter } from "../../src/cloudflare/errors";
import { gateParams, TokenBucket } from "../../src/cloudflare/gate";
import { FULL_PERMISSIONS, resetCloudflare, sim, SIM_ACCOUNT, SIM_TOKEN } from "./helpers";

const gateStub = () => env.CF_GATE.get(env.CF_GATE.idFromName("global"));

function client(opts: { token?: string; timeoutMs?: number; maxGateWaitMs?: number } = {}) {
  return new CloudflareClient({
    baseUrl: env.CLOUDFLARE_API_BASE_URL!,
    token: opts.token ?? SIM_TOKEN,
    timeoutMs: opts.timeoutMs ?? 5_000,
    gate: gateStub(),
    maxGateWaitMs: opts.maxGateWaitMs,
  });
}

async function failure(p: Promise<unknown>): Promise<CloudflareApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CloudflareApiError);
    return e as CloudflareApiError;
  }
  throw new Error("expected a failure");
}

beforeEach(resetCloudflare);
afterEach(() => vi.restoreAllMocks());

describe("CloudflareClient against the simulator", () => {
  it("creates, reads and deletes zones with typed results", async () => {
    const c = client();
    const zone = await c.createZone("client-test.com", SIM_ACCOUNT);
    expect(zone).toMatchObject({ name: "client-test.com", status: "pending", account: { id: SIM_ACCOUNT } });
    expect(zone.name_servers).toHaveLength(2);
    expect((await c.getZone(zone.id)).id).toBe(zone.id);
    expect(await c.deleteZone(zone.id)).toEqual({ id: zone.id });
    expect((await c.verifyToken()).status).toBe("active");
  });

  it("follows every page of a list (120 zones, 50 per page)", async () => {
    for (let i = 0; i < 120; i++) await sim.createZone(`page${String(i).padStart(3, "0")}.com`);
    await sim.clearRequests();
    const zones = await client().listZones();
    expect(zones).toHaveLength(120);
    expect(new Set(zones.map((z) => z.id)).size).toBe(120);
    const log = await sim.requests();
    expect(log.map((r) => r.path)).toEqual(["/client/v4/zones", "/client/v4/zones", "/client/v4/zones"]);
  });

  it("maps 4xx to permanent failures with Cloudflare's code and message", async () => {
    await sim.setToken(SIM_TOKEN, { permissions: FULL_PERMISSIONS.filter((p) => p !== "zone:edit"), accounts: [SIM_ACCOUNT] });
    const e = await failure(client().createZone("denied.com", SIM_ACCOUNT));
    expect(e.toJSON()).toMatchObject({
      status: 403,
      code: 0,
      message: 'Requires permission "com.cloudflare.api.account.zone.create" to create zones for the selected account',
      retryable: false,
      kind: "http",
      method: "POST",
      path: "/zones",
    });
    const bad = await failure(client({ token: "unknown-token" }).listZones());
    expect(bad).toMatchObject({ status: 403, retryable: false });
    const notFound = await failure(client().getZone("0".repeat(32)));
    expect(notFound).toMatchObject({ status: 403, code: 9109, retryable: false });
  });

  it("classifies 5xx and network errors as retryable", async () => {
    await sim.fault({ method: "GET", path: "/zones", kind: "5xx", status: 502, count: 1 });
    expect(await failure(client().listZones())).toMatchObject({ status: 502, retryable: true, kind: "http" });
    const unreachable = new CloudflareClient({ baseUrl: "http://127.0.0.1:9/client/v4", token: SIM_TOKEN, timeoutMs: 2_000, gate: gateStub() });
    expect(await failure(unreachable.listZones())).toMatchObject({ status: 0, retryable: true, kind: "network" });
  });

  it("times out a hung call instead of hanging the request", async () => {
    await sim.fault({ method: "GET", path: "/zones", kind: "hang", hangMs: 10_000, count: 1 });
    const started = Date.now();
    const e = await failure(client({ timeoutMs: 300 }).listZones());
    expect(e).toMatchObject({ status: 504, retryable: true, kind: "timeout" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("after a 429 holds every call until Retry-After has passed", async () => {
    await sim.fault({ method: "GET", path: "/zones", kind: "429", retryAfter: 2, count: 1 });
    const first = await failure(client().listZones());
    expect(first).toMatchObject({ status: 429, code: 971, retryable: true, retryAfterSeconds: 2, kind: "rate_limited" });
    await sim.clearRequests();
    // A caller that cannot wait 2 s is refused locally without touching Cloudflare…
    const refused = await failure(client({ maxGateWaitMs: 100 }).verifyToken());
    expect(refused).toMatchObject({ status: 429, kind: "gate", retryable: true });
    expect(await sim.requests()).toEqual([]);
    // …and one that can wait is held until the window has passed, then goes through.
    const started = Date.now();
    expect((await client({ maxGateWaitMs: 5_000 }).verifyToken()).status).toBe("active");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect((await sim.requests()).length).toBe(1);
  });

  it("writes one log line per call without the token", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(" ")));
    await client().listZones();
    await sim.fault({ method: "GET", path: "/zones/:id", kind: "5xx", count: 1 });
    await failure(client().getZone("a".repeat(32)));
    const calls = lines.map((l) => JSON.parse(l)).filter((l) => l.event === "cloudflare.request");
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ method: "GET", path: "/zones", status: 200, pages: 1 });
    expect(typeof calls[0].durationMs).toBe("number");
    expect(calls[1]).toMatchObject({ method: "GET", status: 500 });
    expect(lines.join("\n")).not.toContain(SIM_TOKEN);
  });

  it("writes one log line for a listing of many pages, and its own for a page that fails", async () => {
    for (let i = 0; i < 11; i++) await sim.createZone(`z${i}-pages.example`);
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(" ")));
    await sim.clearRequests();
    // Cloudflare's smallest page of zones is 5: 11 zones are three pages.
    const zones = await client().listAll<{ name: string }>("/zones", {}, 5);
    expect(new Set(zones.map((z) => z.name)).size).toBe(11);
    expect((await sim.requests()).map((r) => r.path)).toEqual(["/client/v4/zones", "/client/v4/zones", "/client/v4/zones"]);
    const calls = () => lines.map((l) => JSON.parse(l)).filter((l) => l.event === "cloudflare.request");
    expect(calls()).toEqual([expect.objectContaining({ method: "GET", path: "/zones", status: 200, pages: 3, items: 11 })]);
    // A page that fails: that page's line says so, and there is no line for the listing.
    lines.length = 0;
    await sim.fault({ method: "GET", path: "/zones", kind: "5xx", count: 1 });
    await failure(client().listAll("/zones", {}, 5));
    expect(calls().some((l) => l.status >= 500)).toBe(true);
    expect(calls().some((l) => l.pages !== undefined)).toBe(false);
  });
});

describe("rate gate (pure bucket)", () => {
  it("keeps any 5-minute window under the limit", () => {
    const params = gateParams(1200);
    const bucket = new TokenBucket(params, 0);
    let admitted = 0;
    let now = 0;
    // Callers arrive as fast as they can for 5 minutes, waiting as told.
    while (now < 300_000) {
      const d = bucket.acquire(now, 60_000);
      if (!d.ok) throw new Error("refused");
      now += d.waitMs;
      if (now < 300_000) admitted++;
    }
    expect(admitted).toBeLessThanOrEqual(1200);
    expect(admitted).toBeGreaterThan(1000);
  });

  it("refuses callers that cannot wait for a block and reports when to come back", () => {
    const bucket = new TokenBucket(gateParams(1200), 0);
    bucket.block(30_000);
    expect(bucket.acquire(1_000, 5_000)).toEqual({ ok: false, retryAfterMs: 29_000, reason: "rate_limited" });
    expect(bucket.acquire(1_000, 60_000)).toEqual({ ok: true, waitMs: 29_000 });
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("7")).toBe(7);
    expect(parseRetryAfter("1.2")).toBe(2);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThanOrEqual(9);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});
