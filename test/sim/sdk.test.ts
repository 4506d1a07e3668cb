/**
 * The official `cloudflare` TypeScript SDK (7.3.0) against the simulator: auto-pagination, zone
 * CRUD, Email Routing rules and catch-all, and typed errors.
 */
import Cloudflare from "cloudflare";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT, OTHER_ACCOUNT, TOKEN, startHarness, type Harness } from "./helpers.ts";

let h: Harness;
let client: Cloudflare;
beforeAll(async () => {
  h = await startHarness();
  client = new Cloudflare({ apiToken: TOKEN, baseURL: h.sim.apiBase, maxRetries: 0 });
});
afterAll(() => h.sim.close());
beforeEach(async () => {
  await h.control("POST", "/reset");
});

describe("cloudflare SDK", () => {
  it("zones.list() auto-paginates over 120 zones", async () => {
    for (let i = 0; i < 120; i++) {
      h.sim.store.createZone({ name: `sdk-${String(i).padStart(3, "0")}.test`, accountId: ACCOUNT, status: "active" });
    }
    const names: string[] = [];
    for await (const zone of client.zones.list()) names.push(zone.name);
    expect(names).toHaveLength(120);
    expect(new Set(names).size).toBe(120);
    const firstPage = await client.zones.list({ per_page: 50 });
    expect(firstPage.result).toHaveLength(50);
    expect(firstPage.result_info).toMatchObject({ total_count: 120, total_pages: 3 });
    // 120/20 = 6 full pages + the empty page that stops the pager
    const log = (await h.control("GET", "/requests")).body as Array<{ path: string }>;
    expect(log.filter((e) => e.path === "/client/v4/zones")).toHaveLength(8);
  });

  it("zones.create / get / delete", async () => {
    const zone = await client.zones.create({ account: { id: ACCOUNT }, name: "sdk-shop.uk", type: "full" });
    expect(zone).toMatchObject({ name: "sdk-shop.uk", status: "pending", activated_on: null });
    expect(zone.name_servers).toHaveLength(2);
    const got = await client.zones.get({ zone_id: zone.id });
    expect(got.id).toBe(zone.id);
    const deleted = await client.zones.delete({ zone_id: zone.id });
    expect(deleted).toEqual({ id: zone.id });
    const err = await client.zones.get({ zone_id: zone.id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.PermissionDeniedError);
    expect((err as InstanceType<typeof Cloudflare.APIError>).errors).toEqual([
      { code: 9109, message: "Unauthorized to access requested resource" },
    ]);
  });

  it("zones.create duplicate surfaces as BadRequestError with code 1061", async () => {
    await client.zones.create({ account: { id: ACCOUNT }, name: "twice.dev" });
    const err = await client.zones.create({ account: { id: ACCOUNT }, name: "twice.dev" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.BadRequestError);
    expect((err as InstanceType<typeof Cloudflare.APIError>).errors[0]).toMatchObject({ code: 1061 });
  });

  it("emailRouting.rules.create / list / get / delete", async () => {
    const zone = await h.zone("sdk-mail.example");
    const rule = await client.emailRouting.rules.create({
      zone_id: zone.id,
      name: "to worker",
      enabled: true,
      matchers: [{ type: "literal", field: "to", value: "inbox@sdk-mail.example" }],
      actions: [{ type: "worker", value: ["kaisoumail"] }],
    });
    expect(rule).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), enabled: true, source: "api" });
    const listed: string[] = [];
    for await (const r of client.emailRouting.rules.list({ zone_id: zone.id })) listed.push(r.id as string);
    expect(listed).toEqual([rule.id]);
    expect((await client.emailRouting.rules.get(rule.id as string, { zone_id: zone.id })).id).toBe(rule.id);
    const deleted = await client.emailRouting.rules.delete(rule.id as string, { zone_id: zone.id });
    expect(deleted.id).toBe(rule.id);
    const err = await client.emailRouting.rules.delete(rule.id as string, { zone_id: zone.id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.NotFoundError);
    expect(String((err as Error).message)).toMatch(/rule not found/i);
  });

  it("emailRouting.rules.catchAlls.get / update", async () => {
    const zone = await h.zone("sdk-catch.example");
    const before = await client.emailRouting.rules.catchAlls.get({ zone_id: zone.id });
    expect(before).toMatchObject({ enabled: false, matchers: [{ type: "all" }], actions: [{ type: "drop" }] });
    const after = await client.emailRouting.rules.catchAlls.update({
      zone_id: zone.id,
      enabled: true,
      matchers: [{ type: "all" }],
      actions: [{ type: "worker", value: ["kaisoumail"] }],
    });
    expect(after).toMatchObject({ id: before.id, enabled: true, actions: [{ type: "worker", value: ["kaisoumail"] }] });
  });

  it("emailRouting.get and dns.create (pending zone → BadRequestError 2001)", async () => {
    const zone = await client.zones.create({ account: { id: ACCOUNT }, name: "sdk-pending.example" });
    const err = await client.emailRouting.dns.create({ zone_id: zone.id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.BadRequestError);
    expect((err as InstanceType<typeof Cloudflare.APIError>).errors[0]).toMatchObject({ code: 2001, message: "Zone is pending activation" });
    await h.control("POST", `/zones/${zone.id}/activate`);
    const settings = await client.emailRouting.dns.create({ zone_id: zone.id });
    expect(settings).toMatchObject({ enabled: true, status: "ready" });
    expect(await client.emailRouting.get({ zone_id: zone.id })).toMatchObject({ enabled: true });
    expect(await client.emailRouting.dns.delete({ zone_id: zone.id })).toMatchObject({ enabled: false });
  });

  it("a missing zone.create permission surfaces as PermissionDeniedError with the code-0 message", async () => {
    await h.token("zone-scoped", { accounts: [OTHER_ACCOUNT] });
    const limited = new Cloudflare({ apiToken: "zone-scoped", baseURL: h.sim.apiBase, maxRetries: 0 });
    const err = await limited.zones.create({ account: { id: ACCOUNT }, name: "nope.example" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.PermissionDeniedError);
    const apiErr = err as InstanceType<typeof Cloudflare.APIError>;
    expect(apiErr.status).toBe(403);
    expect(apiErr.errors).toEqual([
      {
        code: 0,
        message: 'Requires permission "com.cloudflare.api.account.zone.create" to create zones for the selected account',
      },
    ]);
  });

  it("rate limiting surfaces as RateLimitError with retry-after", async () => {
    await h.control("POST", "/faults", { path: "/zones", kind: "429", retryAfter: 2 });
    const err = await client.zones.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.RateLimitError);
    expect((err as InstanceType<typeof Cloudflare.APIError>).headers?.get("retry-after")).toBe("2");
  });

  it("tokens verify via user.tokens.verify", async () => {
    const verified = await client.user.tokens.verify();
    expect(verified).toMatchObject({ status: "active" });
  });
});
