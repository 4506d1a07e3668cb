import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { DomainObject } from "../../src/domain/object";
import { beforeEach, describe, expect, it } from "vitest";
import { api, cfCalls, simZone, domainObject, FULL_PERMISSIONS, makeUser, resetCloudflare, sim, SIM_ACCOUNT, SIM_TOKEN, type Caller } from "./helpers";

let admin: Caller;

beforeEach(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
});

async function bind(domain: string) {
  return api("POST", "/api/domains/bind", { key: admin.key, body: { mailDomain: domain } });
}

describe("POST /api/domains/bind", () => {
  it("creates the zone, lands in pending with nameservers, and the alarm activates it", async () => {
    const res = await bind("Example-Shop.com");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      mailDomain: "example-shop.com",
      rootDomain: "example-shop.com",
      bindingSource: "project_bind",
      status: "pending",
      cloudflareStatus: "pending",
      catchAllEnabled: false,
      lastProvisionErrorCode: "zone_pending",
    });
    expect(res.body.nameServers).toHaveLength(2);
    expect(res.body.nextRetryAt).not.toBeNull();
    expect(await cfCalls()).toEqual(["POST /client/v4/zones"]);

    // Alarm before delegation: still pending, re-scheduled with backoff.
    const stub = domainObject("example-shop.com");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    let row = await env.DB.prepare("SELECT status, retry_count FROM domains WHERE root_domain = ?").bind("example-shop.com").first<{ status: string; retry_count: number }>();
    expect(row).toMatchObject({ status: "pending", retry_count: 2 });

    await sim.activate(res.body.zoneId);
    await sim.clearRequests();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await cfCalls()).toEqual([`GET /client/v4/zones/${res.body.zoneId}`, `POST /client/v4/zones/${res.body.zoneId}/email/routing/dns`]);
    row = await env.DB.prepare("SELECT status, retry_count FROM domains WHERE root_domain = ?").bind("example-shop.com").first();
    expect(row).toMatchObject({ status: "active", retry_count: 0 });
    // No alarm left once active.
    expect(await runDurableObjectAlarm(stub)).toBe(false);

    const meta = await api("GET", "/api/meta");
    expect(meta.body.domains).toEqual(["example-shop.com"]);
    const again = await bind("example-shop.com");
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: "Mailbox domain already exists", details: { code: "domain_exists" } });
  });

  it("refuses subdomains with the recommended apex and mailbox subdomain", async () => {
    const res = await bind("mail.customer.co.uk");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: "Direct subdomain binding is not supported",
      details: { code: "subdomain_direct_bind_not_supported", mailDomain: "mail.customer.co.uk", recommendedApex: "customer.co.uk", recommendedMailboxSubdomain: "mail" },
    });
    // private suffixes count: a user site on github.io is itself an apex
    const priv = await bind("alice.github.io");
    expect(priv.status).toBe(201);
    expect(await cfCalls()).toEqual(["POST /client/v4/zones"]);
  });

  it("passes the zone.create permission error through and keeps no record", async () => {
    await sim.setToken(SIM_TOKEN, { permissions: FULL_PERMISSIONS.filter((p) => p !== "zone:edit"), accounts: [SIM_ACCOUNT] });
    const res = await bind("noperm.com");
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('Requires permission "com.cloudflare.api.account.zone.create" to create zones for the selected account');
    expect(res.body.details).toMatchObject({ code: "zone_create_permission", cloudflareCode: 0 });
    expect(res.body.details.hint).toMatch(/Zone: Zone: Edit/);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM domains WHERE root_domain = 'noperm.com'").first("n")).toBe(0);
  });

  it("reports an existing zone with code zone_exists", async () => {
    await sim.createZone("already.com");
    const res = await bind("already.com");
    expect(res.status).toBe(409);
    expect(res.body.details.code).toBe("zone_exists");
    expect(res.body.error).toBe("already.com already exists");
  });

  it("twenty concurrent binds of one new domain create exactly one zone", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => bind("race.com")));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    const creates = (await cfCalls()).filter((c) => c === "POST /client/v4/zones");
    expect(creates).toHaveLength(1);
    const state = await sim.state();
    expect(state.zones.filter((z) => z.zone.name === "race.com")).toHaveLength(1);
  });

  it("records a permanent routing failure after activation as provisioning_error with the seed message", async () => {
    const res = await bind("authfail.com");
    await sim.activate(res.body.zoneId);
    await sim.setToken(SIM_TOKEN, { permissions: FULL_PERMISSIONS.filter((p) => p !== "zone_settings:edit"), accounts: [SIM_ACCOUNT] });
    await runDurableObjectAlarm(domainObject("authfail.com"));
    const list = await api("GET", "/api/domains", { key: admin.key });
    expect(list.body.domains.find((d: { rootDomain: string }) => d.rootDomain === "authfail.com")).toMatchObject({
      status: "provisioning_error",
      lastProvisionError: "Authentication error",
      lastProvisionErrorCode: "authentication_error",
      nextRetryAt: null,
    });
    // Manual retry after fixing the token.
    await sim.setToken(SIM_TOKEN, { permissions: FULL_PERMISSIONS, accounts: [SIM_ACCOUNT] });
    const retried = await api("POST", `/api/domains/${res.body.id}/retry`, { key: admin.key });
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe("active");
  });
});

describe("catch-all", () => {
  it("enable snapshots the rule once, disable restores it exactly", async () => {
    const zone = await sim.createZone("catchy.com");
    const enable = await api("POST", "/api/domains", { key: admin.key, body: { mailDomain: "catchy.com", zoneId: zone.id } });
    expect(enable.status).toBe(201);
    expect(enable.body).toMatchObject({ status: "active", bindingSource: "catalog" });
    const before = (await simZone("catchy.com"))!.catch_all;
    expect(before).toMatchObject({ enabled: false, actions: [{ type: "drop" }] });
    const on = await api("POST", `/api/domains/${enable.body.id}/catch-all/enable`, { key: admin.key });
    expect(on.status).toBe(200);
    expect(on.body.catchAllEnabled).toBe(true);
    const during = (await simZone("catchy.com"))!.catch_all;
    expect(during).toMatchObject({ enabled: true, name: "KaisouMail Catch All (catchy.com)", actions: [{ type: "worker", value: ["kaisoumail"] }] });
    const off = await api("POST", `/api/domains/${enable.body.id}/catch-all/disable`, { key: admin.key });
    expect(off.status).toBe(200);
    expect(off.body.catchAllEnabled).toBe(false);
    expect((await simZone("catchy.com"))!.catch_all).toEqual(before);
  });
});

describe("runInDurableObject", () => {
  it("persists the machine snapshot", async () => {
    await bind("persist.com");
    await runInDurableObject(domainObject("persist.com"), async (instance) => {
      const snap = await (instance as DomainObject).inspect();
      expect(snap?.value).toBe("pending");
      expect(snap?.context.zoneId).toMatch(/^[0-9a-f]{32}$/);
    });
  });
});
