import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { DomainObject } from "../../src/domain/object";
import { handleFetch } from "../../src/router";
import { beforeEach, describe, expect, it } from "vitest";
import { api, cfCalls, simZone, domainObject, FULL_PERMISSIONS, makeUser, resetCloudflare, sim, SIM_ACCOUNT, SIM_TOKEN, type Caller, until } from "./helpers";

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

  it.each([
    ["co.uk", "icann"],
    ["github.io", "private"],
    ["Com.Au.", "icann"],
  ])("refuses the public suffix %s with a hint, calls nothing and keeps no record", async (input, kind) => {
    const name = input.toLowerCase().replace(/\.$/, "");
    const res = await bind(input);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: "A public suffix cannot be bound",
      details: { code: "public_suffix_not_supported", mailDomain: name, suffixKind: kind },
    });
    expect(res.body.details.hint).toContain(`example.${name}`);
    expect(await cfCalls()).toEqual([]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM domains WHERE root_domain = ?").bind(name).first("n")).toBe(0);
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

describe("configuration preconditions (seed messages)", () => {
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  async function bindWith(overrides: Record<string, string | undefined>, domain = "precond.com") {
    const res = await handleFetch(
      new Request("http://kaisoumail.test/api/domains/bind", {
        method: "POST",
        headers: { authorization: `Bearer ${admin.key}`, "content-type": "application/json" },
        body: JSON.stringify({ mailDomain: domain }),
      }),
      { ...env, ...overrides },
      ctx,
    );
    return { status: res.status, body: (await res.json()) as { error: string; details: { code: string; hint: string } } };
  }

  it.each([
    [{ EMAIL_ROUTING_MANAGEMENT_ENABLED: "false" }, 409, "Cloudflare domain binding requires EMAIL_ROUTING_MANAGEMENT_ENABLED=true", "management_disabled"],
    [
      { CLOUDFLARE_RUNTIME_API_TOKEN: undefined, CLOUDFLARE_API_TOKEN: undefined },
      503,
      "Email Routing management is enabled but CLOUDFLARE_RUNTIME_API_TOKEN or CLOUDFLARE_API_TOKEN is not configured",
      "missing_token",
    ],
    [{ CLOUDFLARE_ACCOUNT_ID: undefined }, 503, "Cloudflare domain binding requires CLOUDFLARE_ACCOUNT_ID to be configured", "missing_account_id"],
    [{ EMAIL_WORKER_NAME: undefined }, 503, "Email Routing management is enabled but EMAIL_WORKER_NAME is not configured", "missing_email_worker_name"],
  ])("%j → %i %s", async (overrides, status, message, code) => {
    const res = await bindWith(overrides);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(message);
    expect(res.body.details.code).toBe(code);
    expect(res.body.details.hint.length).toBeGreaterThan(10);
    expect(await cfCalls()).toEqual([]);
  });

  it("the shared CLOUDFLARE_API_TOKEN is used when the runtime token is absent", async () => {
    const res = await bindWith({ CLOUDFLARE_RUNTIME_API_TOKEN: undefined, CLOUDFLARE_API_TOKEN: SIM_TOKEN }, "shared-token.com");
    expect(res.status).toBe(201);
  });
});

describe("GET /api/domains/catalog", () => {
  // The zone list is cached in D1 (src/domain/catalog.ts); each test starts with none.
  beforeEach(async () => {
    await env.DB.prepare("UPDATE zone_catalog SET zones_json = '[]', fetched_at = NULL, sweep_until = NULL, rate_limited_until = NULL").run();
  });
  const catalog = (query = "") => api("GET", `/api/domains/catalog${query}`, { key: admin.key });
  const zoneListCalls = async () => (await cfCalls()).filter((c) => c === "GET /client/v4/zones").length;

  it("20 page loads within a minute cost one sweep of Cloudflare's zone list; Refresh sweeps again", async () => {
    for (let i = 0; i < 120; i++) await sim.createZone(`swp${String(i).padStart(3, "0")}.net`);
    await sim.clearRequests();
    const loads = await Promise.all(Array.from({ length: 20 }, () => catalog("?limit=1000")));
    for (const r of loads) {
      expect(r.status).toBe(200);
      expect(r.body.domains.filter((d: { cloudflareAvailability: string }) => d.cloudflareAvailability === "available")).toHaveLength(120);
      expect(r.body.cloudflareSync.syncedAt).not.toBeNull();
    }
    // 120 zones at Cloudflare's maximum of 50 per page: 3 list calls, once, for all 20 loads.
    expect(await zoneListCalls()).toBe(3);
    // A zone added in the dashboard: the cached list does not have it yet; Refresh does.
    await sim.createZone("added-later.net");
    expect((await catalog()).body.domains.some((d: { rootDomain: string }) => d.rootDomain === "added-later.net")).toBe(false);
    expect(await zoneListCalls()).toBe(3);
    const fresh = await catalog("?refresh=true");
    expect(fresh.body.domains.find((d: { rootDomain: string }) => d.rootDomain === "added-later.net")).toMatchObject({ cloudflareAvailability: "available" });
    expect(await zoneListCalls()).toBe(6);
  });

  it("a stale list is answered at once while one background sweep refreshes it", async () => {
    await sim.createZone("stale-one.net");
    expect((await catalog()).status).toBe(200);
    await sim.createZone("stale-two.net");
    // The list is now two minutes old.
    const old = new Date(Date.now() - 120_000).toISOString();
    await env.DB.prepare("UPDATE zone_catalog SET fetched_at = ?").bind(old).run();
    await sim.clearRequests();
    const answers = await Promise.all(Array.from({ length: 5 }, () => catalog()));
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(r.body.cloudflareSync.syncedAt).toBe(old); // served from the cache, not waiting for Cloudflare
      expect(r.body.domains.some((d: { rootDomain: string }) => d.rootDomain === "stale-two.net")).toBe(false);
    }
    await until(async () => (await env.DB.prepare("SELECT fetched_at FROM zone_catalog").first<string>("fetched_at")) !== old);
    expect(await zoneListCalls()).toBe(1); // five stale loads, one sweep
    expect((await catalog()).body.domains.some((d: { rootDomain: string }) => d.rootDomain === "stale-two.net")).toBe(true);
  });

  it("pages with cursor and limit (100 by default); a bad cursor or limit is a 400", async () => {
    for (let i = 0; i < 110; i++) await sim.createZone(`dflt${String(i).padStart(3, "0")}.org`);
    const first = await catalog();
    expect(first.body.domains).toHaveLength(100);
    expect(first.body.total).toBeGreaterThanOrEqual(110);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    for (let i = 0; i < 7; i++) await sim.createZone(`page${i}.org`);
    await bind("page-bound.org");
    expect((await catalog("?refresh=true")).status).toBe(200); // the zones added since the first load
    const seen: string[] = [];
    let cursor: string | null = null;
    let calls = 0;
    let total = 0;
    do {
      const r: { status: number; body: any } = await catalog(`?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status).toBe(200);
      expect(r.body.domains.length).toBeLessThanOrEqual(3);
      total = r.body.total;
      seen.push(...r.body.domains.map((d: { rootDomain: string }) => d.rootDomain));
      cursor = r.body.nextCursor;
      calls++;
    } while (cursor);
    // Earlier tests' local domains are in the catalog too: every item once, in order.
    expect(total).toBeGreaterThanOrEqual(8);
    expect(calls).toBe(Math.ceil(total / 3));
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(total);
    expect(seen).toEqual(expect.arrayContaining(["page-bound.org", ...Array.from({ length: 7 }, (_, i) => `page${i}.org`)]));
    for (const q of ["?cursor=%%%", "?cursor=bm90IGEgZG9tYWluIQ", "?limit=0", "?limit=1001", "?refresh=maybe"]) {
      const r = await catalog(q);
      expect(r.status, q).toBe(400);
      expect(r.body.error).toBe("Invalid request");
    }
  });

  it("merges every zone the token can see (all pages) with local records", async () => {
    for (let i = 0; i < 118; i++) await sim.createZone(`cat${String(i).padStart(3, "0")}.net`, i % 2 ? "active" : "pending");
    const bound = await bind("catalog-bound.com");
    const enabledZone = await sim.createZone("catalog-enabled.com");
    await api("POST", "/api/domains", { key: admin.key, body: { mailDomain: "catalog-enabled.com", zoneId: enabledZone.id } });
    const res = await api("GET", "/api/domains/catalog?limit=1000", { key: admin.key });
    expect(res.status).toBe(200);
    expect(res.body.cloudflareSync.status).toBe("live");
    const visible = res.body.domains.filter((d: { cloudflareAvailability: string }) => d.cloudflareAvailability === "available");
    expect(visible).toHaveLength(120);
    expect(res.body.domains.find((d: { rootDomain: string }) => d.rootDomain === "cat000.net")).toMatchObject({
      id: null,
      projectStatus: "not_enabled",
      cloudflareStatus: "pending",
      bindingSource: null,
    });
    expect(res.body.domains.find((d: { rootDomain: string }) => d.rootDomain === "catalog-bound.com")).toMatchObject({
      id: bound.body.id,
      projectStatus: "pending",
      bindingSource: "project_bind",
      nameServers: bound.body.nameServers,
    });
    expect(res.body.domains.find((d: { rootDomain: string }) => d.rootDomain === "catalog-enabled.com")).toMatchObject({
      projectStatus: "active",
      bindingSource: "catalog",
    });
  });

  it("degrades to 200 with local rows when Cloudflare rate limits", async () => {
    await bind("ratelimited.com");
    await sim.fault({ method: "GET", path: "/zones", kind: "429", retryAfter: 30, count: 1 });
    const res = await api("GET", "/api/domains/catalog", { key: admin.key });
    expect(res.status).toBe(200);
    expect(res.body.cloudflareSync).toMatchObject({ status: "rate_limited", retryAfterSeconds: 30 });
    expect(res.body.domains.some((d: { rootDomain: string }) => d.rootDomain === "ratelimited.com")).toBe(true);
  });

  it("a rate limit during Refresh keeps the last zone list (zones stay available) and says until when", async () => {
    await sim.createZone("kept-zone.net");
    expect((await catalog()).body.domains.find((d: { rootDomain: string }) => d.rootDomain === "kept-zone.net").cloudflareAvailability).toBe("available");
    await sim.fault({ method: "GET", path: "/zones", kind: "429", retryAfter: 40, count: 1 });
    const res = await catalog("?refresh=true");
    expect(res.status).toBe(200);
    expect(res.body.cloudflareSync).toMatchObject({ status: "rate_limited", retryAfterSeconds: 40 });
    expect(res.body.domains.find((d: { rootDomain: string }) => d.rootDomain === "kept-zone.net").cloudflareAvailability).toBe("available");
    // During the cooldown no page load calls Cloudflare, even with Refresh.
    await sim.clearRequests();
    expect((await catalog("?refresh=true")).body.cloudflareSync.status).toBe("rate_limited");
    expect(await zoneListCalls()).toBe(0);
  });
});

describe("enable, disable, delete", () => {
  it("enable from the catalog requires the zone's id and name to match", async () => {
    const zone = await sim.createZone("match.com");
    const other = await sim.createZone("other-match.com");
    const wrong = await api("POST", "/api/domains", { key: admin.key, body: { mailDomain: "match.com", zoneId: other.id } });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: "Mailbox domain is not available in Cloudflare", details: { code: "domain_not_in_catalog" } });
    const missing = await api("POST", "/api/domains", { key: admin.key, body: { mailDomain: "match.com", zoneId: "f".repeat(32) } });
    expect(missing.status).toBe(400);
    await sim.clearRequests();
    const ok = await api("POST", "/api/domains", { key: admin.key, body: { rootDomain: "match.com", zoneId: zone.id } });
    expect(ok.status).toBe(201);
    expect(await cfCalls()).toEqual([`GET /client/v4/zones/${zone.id}`, `POST /client/v4/zones/${zone.id}/email/routing/dns`]);
  });

  it.each(["co.uk", "github.io"])("enable from the catalog refuses the public suffix %s, even when a zone by that name exists", async (name) => {
    const zone = await sim.createZone(name);
    await sim.clearRequests();
    const res = await api("POST", "/api/domains", { key: admin.key, body: { mailDomain: name, zoneId: zone.id } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "A public suffix cannot be bound", details: { code: "public_suffix_not_supported", mailDomain: name } });
    expect(res.body.details.hint).toEqual(expect.any(String));
    expect(await cfCalls()).toEqual([]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM domains WHERE root_domain = ?").bind(name).first("n")).toBe(0);
  });

  it("enable of a pending catalog zone waits for delegation and activates by alarm", async () => {
    const zone = await sim.createZone("pending-catalog.com", "pending");
    const res = await api("POST", "/api/domains", { key: admin.key, body: { mailDomain: "pending-catalog.com", zoneId: zone.id } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "pending", bindingSource: "catalog", nameServers: zone.name_servers });
    await sim.activate(zone.id);
    await runDurableObjectAlarm(domainObject("pending-catalog.com"));
    expect((await env.DB.prepare("SELECT status FROM domains WHERE id = ?").bind(res.body.id).first("status"))).toBe("active");
  });

  it("disable keeps the record; delete removes the project zone (404 counts as done) and keeps the id", async () => {
    const res = await bind("lifecycle.com");
    const disabled = await api("POST", `/api/domains/${res.body.id}/disable`, { key: admin.key });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ status: "disabled" });
    expect(disabled.body.disabledAt).not.toBeNull();
    expect(await runDurableObjectAlarm(domainObject("lifecycle.com"))).toBe(false);
    // The zone vanishes behind our back: delete still succeeds.
    await fetch(`${env.SIM_URL}/client/v4/zones/${res.body.zoneId}`, { method: "DELETE", headers: { authorization: `Bearer ${SIM_TOKEN}` } });
    expect((await api("POST", `/api/domains/${res.body.id}/delete`, { key: admin.key })).status).toBe(204);
    expect((await api("GET", "/api/domains", { key: admin.key })).body.domains.some((d: { id: string }) => d.id === res.body.id)).toBe(false);
    expect((await api("POST", `/api/domains/${res.body.id}/retry`, { key: admin.key })).status).toBe(404);
    const again = await bind("lifecycle.com");
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(res.body.id);
    expect(again.body.zoneId).not.toBe(res.body.zoneId);
  });

  it("catalog domains cannot be deleted", async () => {
    const zone = await sim.createZone("catalog-only.com");
    const res = await api("POST", "/api/domains", { key: admin.key, body: { mailDomain: "catalog-only.com", zoneId: zone.id } });
    const del = await api("POST", `/api/domains/${res.body.id}/delete`, { key: admin.key });
    expect(del.status).toBe(409);
    expect(del.body.error).toBe("Only project-bound domains can be deleted");
  });

  it("transient Cloudflare failures during bind are retried by the alarm without a second zone", async () => {
    await sim.fault({ method: "POST", path: "/zones", kind: "5xx", count: 1 });
    const res = await bind("flaky.com");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "provisioning_error", lastProvisionErrorCode: "cloudflare_unavailable" });
    expect(res.body.nextRetryAt).not.toBeNull();
    await runDurableObjectAlarm(domainObject("flaky.com"));
    const after = await api("GET", "/api/domains", { key: admin.key });
    expect(after.body.domains.find((d: { rootDomain: string }) => d.rootDomain === "flaky.com")).toMatchObject({ status: "pending" });
    expect((await sim.state()).zones.filter((z) => z.zone.name === "flaky.com")).toHaveLength(1);
  });
});

describe("alarm after eviction", () => {
  it("a fresh instance loads the persisted machine before handling the alarm", async () => {
    const res = await bind("evicted.com");
    await sim.activate(res.body.zoneId);
    // Drop every live instance: the next alarm runs on a brand-new object, as after eviction.
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(domainObject("evicted.com"))).toBe(true);
    const row = await env.DB.prepare("SELECT status FROM domains WHERE root_domain = 'evicted.com'").first<{ status: string }>();
    expect(row?.status).toBe("active");
  });
});
