/**
 * Credentials, token permissions and account scoping, with Cloudflare's codes and messages
 * (checked against the official error catalogue where it has them).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT, OTHER_ACCOUNT, TOKEN, fails, ok, ruleBody, startHarness, type Harness } from "./helpers.ts";
import { errorCatalogue } from "./schema.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.sim.close());

const ALL = [
  "zone:read",
  "zone:edit",
  "zone_settings:read",
  "zone_settings:edit",
  "email_routing_rules:read",
  "email_routing_rules:edit",
];
const without = (...drop: string[]) => ALL.filter((p) => !drop.includes(p));
const catalogue = (section: string, code: number, message?: string) =>
  errorCatalogue[section]?.find((e) => e.code === code && (message === undefined || e.message === message));

let zoneId: string;
let ruleId: string;
beforeEach(async () => {
  await h.control("POST", "/reset");
  const zone = await h.zone("perm.example");
  zoneId = zone.id;
  ruleId = ok(await h.api("POST", `/zones/${zoneId}/email/routing/rules`, { body: ruleBody("a@perm.example") }), "rule").id;
});

describe("credentials", () => {
  it("answers 400 9106 without any credentials", async () => {
    const errors = fails(await h.api("GET", "/zones", { token: null }), 400, 9106);
    expect(errors[0]?.message).toBe(catalogue("auth", 9106)?.message);
  });

  it("answers 400 6003 with error_chain 6111 for a malformed Authorization header", async () => {
    for (const value of ["Token abc", "Bearer", "Bearer ", "Bearer a b", "abc"]) {
      const errors = fails(await h.api("GET", "/zones", { headers: { Authorization: value } }), 400, 6003, "Invalid request headers");
      expect(errors[0]?.error_chain).toEqual([{ code: 6111, message: "Invalid format for Authorization header" }]);
      expect(errors[0]?.error_chain).toEqual(catalogue("auth", 6003)?.error_chain);
    }
  });

  it("accepts X-Auth-Email + X-Auth-Key (key looked up like a token) and rejects a malformed key", async () => {
    ok(await h.api("GET", "/zones", { token: null, headers: { "X-Auth-Email": "a@b.c", "X-Auth-Key": TOKEN } }), "zoneList");
    const errors = fails(
      await h.api("GET", "/zones", { token: null, headers: { "X-Auth-Email": "a@b.c", "X-Auth-Key": "has space" } }),
      400,
      6003,
    );
    expect(errors[0]?.error_chain).toEqual([{ code: 6103, message: "Invalid format for X-Auth-Key header" }]);
    fails(await h.api("GET", "/zones", { token: null, headers: { "X-Auth-Key": TOKEN } }), 400, 9106);
  });

  it("answers 403 9109 'Invalid access token' for unknown and disabled tokens", async () => {
    fails(await h.api("GET", "/zones", { token: "unknown-token" }), 403, 9109, "Invalid access token");
    await h.token("off", { status: "disabled" });
    fails(await h.api("GET", "/zones", { token: "off" }), 403, 9109, "Invalid access token");
    await h.token("off", { status: "active" });
    ok(await h.api("GET", "/zones", { token: "off" }), "zoneList");
  });

  it("forgets a deleted token", async () => {
    await h.token("temp", {});
    ok(await h.api("GET", "/zones", { token: "temp" }), "zoneList");
    expect((await h.control("DELETE", "/tokens/temp")).status).toBe(200);
    fails(await h.api("GET", "/zones", { token: "temp" }), 403, 9109);
    expect((await h.control("DELETE", "/tokens/temp")).status).toBe(404);
  });
});

describe("permissions", () => {
  const rules = () => `/zones/${zoneId}/email/routing/rules`;
  const AUTH = "Authentication error";

  it("zone:read gates GET /zones and GET /zones/:id (403 10000)", async () => {
    await h.token("t", { permissions: without("zone:read", "zone:edit") });
    fails(await h.api("GET", "/zones", { token: "t" }), 403, 10000, AUTH);
    fails(await h.api("GET", `/zones/${zoneId}`, { token: "t" }), 403, 10000, AUTH);
    expect(catalogue("auth", 10000, AUTH)?.http).toBe(403);
  });

  it(":edit implies :read", async () => {
    await h.token("t", { permissions: ["zone:edit", "zone_settings:edit", "email_routing_rules:edit"] });
    ok(await h.api("GET", "/zones", { token: "t" }), "zoneList");
    ok(await h.api("GET", `/zones/${zoneId}/email/routing`, { token: "t" }), "settings");
    ok(await h.api("GET", rules(), { token: "t" }), "ruleList");
  });

  it("POST /zones without zone:edit answers 403 code 0 with the zone.create message", async () => {
    await h.token("t", { permissions: without("zone:edit") });
    const errors = fails(
      await h.api("POST", "/zones", { token: "t", body: { name: "new.com", account: { id: ACCOUNT }, type: "full" } }),
      403,
      0,
      'Requires permission "com.cloudflare.api.account.zone.create" to create zones for the selected account',
    );
    expect(errors[0]?.message).toBe(catalogue("auth", 0)?.message);
    ok(await h.api("GET", "/zones", { token: "t" }), "zoneList");
  });

  it("DELETE /zones/:id needs zone:edit (10000)", async () => {
    await h.token("t", { permissions: without("zone:edit") });
    fails(await h.api("DELETE", `/zones/${zoneId}`, { token: "t" }), 403, 10000, AUTH);
    ok(await h.api("GET", `/zones/${zoneId}`), "zone");
  });

  it("zone_settings:read gates routing settings and dns reads", async () => {
    await h.token("t", { permissions: without("zone_settings:read", "zone_settings:edit") });
    fails(await h.api("GET", `/zones/${zoneId}/email/routing`, { token: "t" }), 403, 10000, AUTH);
    fails(await h.api("GET", `/zones/${zoneId}/email/routing/dns`, { token: "t" }), 403, 10000, AUTH);
  });

  it("zone_settings:edit gates enable and dns writes", async () => {
    await h.token("t", { permissions: without("zone_settings:edit") });
    ok(await h.api("GET", `/zones/${zoneId}/email/routing`, { token: "t" }), "settings");
    fails(await h.api("POST", `/zones/${zoneId}/email/routing/enable`, { token: "t", body: {} }), 403, 10000, AUTH);
    fails(await h.api("POST", `/zones/${zoneId}/email/routing/dns`, { token: "t", body: {} }), 403, 10000, AUTH);
    fails(await h.api("DELETE", `/zones/${zoneId}/email/routing/dns`, { token: "t" }), 403, 10000, AUTH);
    fails(await h.api("POST", `/zones/${zoneId}/email/routing/disable`, { token: "t", body: {} }), 403, 10000, AUTH);
    const state = await h.control("GET", "/state");
    expect(state.body.zones[0].settings.enabled).toBe(false);
  });

  it("email_routing_rules:read gates rule and catch-all reads", async () => {
    await h.token("t", { permissions: without("email_routing_rules:read", "email_routing_rules:edit") });
    fails(await h.api("GET", rules(), { token: "t" }), 403, 10000, AUTH);
    fails(await h.api("GET", `${rules()}/${ruleId}`, { token: "t" }), 403, 10000, AUTH);
    fails(await h.api("GET", `${rules()}/catch_all`, { token: "t" }), 403, 10000, AUTH);
  });

  it("email_routing_rules:edit gates rule and catch-all writes", async () => {
    await h.token("t", { permissions: without("email_routing_rules:edit") });
    ok(await h.api("GET", rules(), { token: "t" }), "ruleList");
    ok(await h.api("GET", `${rules()}/catch_all`, { token: "t" }), "catchAll");
    fails(await h.api("POST", rules(), { token: "t", body: ruleBody("b@perm.example") }), 403, 10000, AUTH);
    fails(await h.api("PUT", `${rules()}/${ruleId}`, { token: "t", body: ruleBody("c@perm.example") }), 403, 10000, AUTH);
    fails(await h.api("DELETE", `${rules()}/${ruleId}`, { token: "t" }), 403, 10000, AUTH);
    fails(
      await h.api("PUT", `${rules()}/catch_all`, {
        token: "t",
        body: { matchers: [{ type: "all" }], actions: [{ type: "drop" }] },
      }),
      403,
      10000,
      AUTH,
    );
    const state = await h.control("GET", "/state");
    expect(state.body.zones[0].rules).toHaveLength(1);
  });

  it("a token with no permissions can still verify itself", async () => {
    await h.token("t", { permissions: [] });
    ok(await h.api("GET", "/user/tokens/verify", { token: "t" }), "tokenVerify");
    fails(await h.api("GET", "/zones", { token: "t" }), 403, 10000);
  });
});

describe("account scoping", () => {
  it("answers 403 9109 for zones of an account the token cannot access", async () => {
    await h.token("other", { accounts: [OTHER_ACCOUNT] });
    const msg = "Unauthorized to access requested resource";
    fails(await h.api("GET", `/zones/${zoneId}`, { token: "other" }), 403, 9109, msg);
    fails(await h.api("GET", `/zones/${zoneId}/email/routing`, { token: "other" }), 403, 9109, msg);
    fails(await h.api("GET", `/zones/${zoneId}/email/routing/rules`, { token: "other" }), 403, 9109, msg);
    fails(await h.api("DELETE", `/zones/${zoneId}`, { token: "other" }), 403, 9109, msg);
    expect(ok(await h.api("GET", "/zones", { token: "other" }), "zoneList")).toEqual([]);
  });

  it("checks the zone before the permission (9109 wins over 10000)", async () => {
    await h.token("other", { accounts: [OTHER_ACCOUNT], permissions: [] });
    fails(await h.api("GET", `/zones/${zoneId}/email/routing`, { token: "other" }), 403, 9109);
  });

  it("POST /zones for an account not in the token answers the code-0 zone.create error", async () => {
    await h.token("other", { accounts: [OTHER_ACCOUNT] });
    fails(
      await h.api("POST", "/zones", { token: "other", body: { name: "x.com", account: { id: ACCOUNT } } }),
      403,
      0,
      'Requires permission "com.cloudflare.api.account.zone.create" to create zones for the selected account',
    );
    const zone = ok(
      await h.api("POST", "/zones", { token: "other", body: { name: "x.com", account: { id: OTHER_ACCOUNT } } }),
      "zoneCreate",
    );
    expect(zone.account.id).toBe(OTHER_ACCOUNT);
    // Different account → its own nameserver pair, still stable.
    const again = ok(
      await h.api("POST", "/zones", { token: "other", body: { name: "y.com", account: { id: OTHER_ACCOUNT } } }),
      "zoneCreate",
    );
    expect(again.name_servers).toEqual(zone.name_servers);
  });
});

describe("/__sim/tokens", () => {
  it("lists ids, status, permissions and accounts but never values", async () => {
    await h.token("secret-value-123", { permissions: ["zone:read"] });
    const res = await h.control("GET", "/tokens");
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain("secret-value-123");
    expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    expect(res.body).toContainEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      status: "active",
      permissions: ["zone:read"],
      accounts: [ACCOUNT],
    });
  });

  it("defaults new tokens to every permission on the default account and updates partially", async () => {
    const created = await h.token("fresh", {});
    expect(created.body).toMatchObject({ status: "active", permissions: ALL, accounts: [ACCOUNT] });
    const updated = await h.token("fresh", { status: "disabled" });
    expect(updated.body).toMatchObject({ id: created.body.id, status: "disabled", permissions: ALL });
  });

  it("rejects unknown permissions, bad account ids and bad status with 400", async () => {
    expect((await h.token("x", { permissions: ["dns:edit"] })).status).toBe(400);
    expect((await h.token("x", { accounts: ["nope"] })).status).toBe(400);
    expect((await h.token("x", { status: "maybe" })).status).toBe(400);
  });
});
