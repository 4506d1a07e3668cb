/**
 * Zones and token verify against the simulator: shapes (official schema), creation rules,
 * errors, routing errors, filters and Cloudflare-style pagination.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT, OTHER_ACCOUNT, TOKEN, fails, ok, startHarness, type Harness } from "./helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.sim.close());
beforeEach(async () => {
  await h.control("POST", "/reset");
});

const createBody = (name: string, accountId: string = ACCOUNT) => ({ name, account: { id: accountId }, type: "full" });

describe("GET /user/tokens/verify", () => {
  it("answers {id, status:active} with the 'valid and active' message", async () => {
    const res = await h.api("GET", "/user/tokens/verify");
    const result = ok(res, "tokenVerify");
    expect(result).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), status: "active" });
    expect(res.body.messages).toEqual([{ code: 10000, message: "This API Token is valid and active", type: null }]);
  });

  it("answers 401 1000 for an unknown token", async () => {
    fails(await h.api("GET", "/user/tokens/verify", { token: "nope" }), 401, 1000, "Invalid API Token");
  });

  it("answers 401 1000 for a disabled token", async () => {
    await h.token("disabled-token", { status: "disabled" });
    fails(await h.api("GET", "/user/tokens/verify", { token: "disabled-token" }), 401, 1000, "Invalid API Token");
  });

  it("still requires credentials (9106)", async () => {
    fails(await h.api("GET", "/user/tokens/verify", { token: null }), 400, 9106);
  });
});

describe("POST /zones", () => {
  it("creates a pending full zone with the 2026 field set", async () => {
    const zone = ok(await h.api("POST", "/zones", { body: createBody("example-shop.uk") }), "zoneCreate");
    expect(zone).toMatchObject({
      name: "example-shop.uk",
      status: "pending",
      type: "full",
      paused: false,
      development_mode: 0,
      activated_on: null,
      original_name_servers: null,
      original_registrar: null,
      original_dnshost: null,
      account: { id: ACCOUNT, name: expect.any(String) },
      owner: { id: ACCOUNT, type: "organization" },
      meta: { step: 4, phishing_detected: false },
      plan: { id: "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", legacy_id: "free" },
      vanity_name_servers: [],
    });
    expect(zone.id).toMatch(/^[0-9a-f]{32}$/);
    expect(zone.created_on).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(zone.modified_on).toMatch(/\.\d{6}Z$/);
    expect(zone.name_servers).toHaveLength(2);
    for (const ns of zone.name_servers) expect(ns).toMatch(/^[a-z]+\.ns\.cloudflare\.com$/);
    expect(zone.permissions).toContain("#zone:edit");
    expect(Object.keys(zone)).toEqual(
      expect.arrayContaining([
        "id", "name", "status", "paused", "type", "development_mode", "name_servers", "original_name_servers",
        "original_registrar", "original_dnshost", "created_on", "modified_on", "activated_on", "meta", "owner",
        "account", "permissions", "plan",
      ]),
    );
  });

  it("assigns the same nameserver pair to every zone of an account", async () => {
    const a = ok(await h.api("POST", "/zones", { body: createBody("first.com") }), "zoneCreate");
    const b = ok(await h.api("POST", "/zones", { body: createBody("second.org") }), "zoneCreate");
    expect(b.name_servers).toEqual(a.name_servers);
    expect(a.name_servers[0]).not.toBe(a.name_servers[1]);
  });

  it("lowercases the name and strips a trailing dot", async () => {
    const zone = ok(await h.api("POST", "/zones", { body: createBody("MixedCase.Example.") }), "zoneCreate");
    expect(zone.name).toBe("mixedcase.example");
  });

  it("refuses a name already in the account with 400 1061 '<name> already exists'", async () => {
    ok(await h.api("POST", "/zones", { body: createBody("dupe.dev") }), "zoneCreate");
    fails(await h.api("POST", "/zones", { body: createBody("DUPE.dev") }), 400, 1061, "dupe.dev already exists");
  });

  it("allows the same name in another account", async () => {
    await h.token(TOKEN, { accounts: [ACCOUNT, OTHER_ACCOUNT] });
    ok(await h.api("POST", "/zones", { body: createBody("shared.dev") }), "zoneCreate");
    ok(await h.api("POST", "/zones", { body: createBody("shared.dev", OTHER_ACCOUNT) }), "zoneCreate");
  });

  it("answers 400 1068 'Permission denied' without account.id", async () => {
    fails(await h.api("POST", "/zones", { body: { name: "x.com", type: "full" } }), 400, 1068, "Permission denied");
    fails(await h.api("POST", "/zones", { body: { name: "x.com", account: {} } }), 400, 1068);
  });

  it("rejects names that fail the schema pattern with 400 1002", async () => {
    for (const name of ["nodot", "-bad.com", "bad..com", "a.b", "x.toolongtldxxxxxxxxxxxxx", 42, `${"a".repeat(64)}.com`]) {
      const errors = fails(await h.api("POST", "/zones", { body: createBody(name as string) }), 400, 1002, "Invalid domain");
      expect(errors[0]?.source).toEqual({ pointer: "/name" });
    }
    fails(await h.api("POST", "/zones", { body: { account: { id: ACCOUNT } } }), 400, 1002);
  });

  it("only supports full zones (1104 otherwise)", async () => {
    fails(
      await h.api("POST", "/zones", { body: { ...createBody("p.com"), type: "partial" } }),
      400,
      1104,
      "Partial zone signup not allowed",
    );
  });

  it("answers 400 6007 for malformed JSON", async () => {
    fails(await h.api("POST", "/zones", { rawBody: "{nope" }), 400, 6007, "Malformed JSON in request body");
  });

  it("answers 413 for bodies over 1 MiB and creates nothing", async () => {
    const big = JSON.stringify({ name: "big.com", account: { id: ACCOUNT }, pad: "x".repeat(1024 * 1024) });
    fails(await h.api("POST", "/zones", { rawBody: big }), 413, 6007, "Request body too large");
    expect(ok(await h.api("GET", "/zones"), "zoneList")).toEqual([]);
  });
});

describe("GET/DELETE /zones/:id", () => {
  it("gets a zone by id", async () => {
    const created = ok(await h.api("POST", "/zones", { body: createBody("get.me") }), "zoneCreate");
    const zone = ok(await h.api("GET", `/zones/${created.id}`), "zone");
    expect(zone).toEqual(created);
  });

  it("deletes a zone (→ {id}); later reads answer 403 9109", async () => {
    const zone = await h.zone("gone.example");
    const rule = ok(
      await h.api("POST", `/zones/${zone.id}/email/routing/rules`, {
        body: { matchers: [{ type: "literal", field: "to", value: "a@gone.example" }], actions: [{ type: "drop" }] },
      }),
      "rule",
    );
    expect(rule.actions).toEqual([{ type: "drop" }]);
    const res = await h.api("DELETE", `/zones/${zone.id}`);
    expect(ok(res, "zoneDelete")).toEqual({ id: zone.id });
    fails(await h.api("GET", `/zones/${zone.id}`), 403, 9109, "Unauthorized to access requested resource");
    fails(await h.api("DELETE", `/zones/${zone.id}`), 403, 9109);
    fails(await h.api("GET", `/zones/${zone.id}/email/routing/rules`), 403, 9109);
    const list = ok(await h.api("GET", "/zones"), "zoneList");
    expect(list).toEqual([]);
    const state = await h.control("GET", "/state");
    expect(state.body.zones).toEqual([]);
  });

  it("answers 403 9109 for a well-formed id that never existed", async () => {
    fails(await h.api("GET", `/zones/${"a".repeat(32)}`), 403, 9109, "Unauthorized to access requested resource");
  });

  it("answers 400 7003 + 7000 for a malformed id", async () => {
    const errors = fails(
      await h.api("GET", "/zones/example-shop.uk"),
      400,
      7003,
      "Could not route to /client/v4/zones/example-shop.uk, perhaps your object identifier is invalid?",
    );
    expect(errors[1]).toEqual({ code: 7000, message: "No route for that URI" });
    fails(await h.api("GET", `/zones/${"A".repeat(32)}`), 400, 7003);
    fails(
      await h.api("GET", "/zones/short/email/routing"),
      400,
      7003,
      "Could not route to /client/v4/zones/short/email/routing, perhaps your object identifier is invalid?",
    );
  });

  it("answers 404 7000 for unknown routes and methods", async () => {
    fails(await h.api("GET", "/nope"), 404, 7000, "No route for that URI");
    fails(await h.api("PATCH", `/zones/${"a".repeat(32)}`), 404, 7000);
    fails(await h.api("GET", `/zones/${"a".repeat(32)}/email/routing/whatever`), 404, 7000);
    const outside = await fetch(`${h.sim.url}/somewhere`);
    expect(outside.status).toBe(404);
  });
});

describe("GET /zones filters", () => {
  it("filters by exact name, operators, status and account.id, sorted by name", async () => {
    await h.token(TOKEN, { accounts: [ACCOUNT, OTHER_ACCOUNT] });
    await h.zone("bravo.com");
    await h.zone("alpha.com", { status: "pending" });
    await h.zone("charlie.net");
    await h.zone("other.org", { accountId: OTHER_ACCOUNT });

    const names = async (q: string) =>
      (ok(await h.api("GET", `/zones${q}`), "zoneList") as Array<{ name: string }>).map((z) => z.name);
    expect(await names("")).toEqual(["alpha.com", "bravo.com", "charlie.net", "other.org"]);
    expect(await names("?name=bravo.com")).toEqual(["bravo.com"]);
    expect(await names("?name=bravo")).toEqual([]);
    expect(await names("?name=ends_with:.com")).toEqual(["alpha.com", "bravo.com"]);
    expect(await names("?name=contains:ar")).toEqual(["charlie.net"]);
    expect(await names("?status=pending")).toEqual(["alpha.com"]);
    expect(await names("?status=active")).toEqual(["bravo.com", "charlie.net", "other.org"]);
    expect(await names(`?account.id=${OTHER_ACCOUNT}`)).toEqual(["other.org"]);
    expect(await names("?direction=desc")).toEqual(["other.org", "charlie.net", "bravo.com", "alpha.com"]);
  });

  it("hides zones of accounts the token cannot access", async () => {
    await h.zone("mine.com");
    await h.zone("theirs.com", { accountId: OTHER_ACCOUNT });
    const zones = ok(await h.api("GET", "/zones"), "zoneList") as Array<{ name: string }>;
    expect(zones.map((z) => z.name)).toEqual(["mine.com"]);
  });
});

describe("GET /zones pagination", () => {
  const total = 120;
  beforeEach(() => {
    // Bulk setup in-process (the control API does the same, one HTTP call per zone).
    for (let i = 0; i < total; i++) {
      h.sim.store.createZone({ name: `zone-${String(total - 1 - i).padStart(3, "0")}.test`, accountId: ACCOUNT, status: "active" });
    }
  });

  it("pages 20 at a time with total_pages, and [] past the end", async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 6; page++) {
      const res = await h.api("GET", `/zones?page=${page}`);
      const zones = ok(res, "zoneList") as Array<{ name: string }>;
      expect(res.body.result_info).toEqual({ page, per_page: 20, count: 20, total_count: total, total_pages: 6 });
      seen.push(...zones.map((z) => z.name));
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen).toEqual([...seen].sort());
    const past = await h.api("GET", "/zones?page=7");
    expect(ok(past, "zoneList")).toEqual([]);
    expect(past.body.result_info).toEqual({ page: 7, per_page: 20, count: 0, total_count: total, total_pages: 6 });
  });

  it("clamps per_page into 5..50 and page below 1 to 1", async () => {
    let res = await h.api("GET", "/zones?per_page=100");
    expect(ok(res, "zoneList")).toHaveLength(50);
    expect(res.body.result_info).toMatchObject({ per_page: 50, total_pages: 3 });
    res = await h.api("GET", "/zones?per_page=1");
    expect(ok(res, "zoneList")).toHaveLength(5);
    expect(res.body.result_info).toMatchObject({ per_page: 5, total_pages: 24 });
    res = await h.api("GET", "/zones?per_page=50&page=3");
    expect(ok(res, "zoneList")).toHaveLength(20);
    expect(res.body.result_info).toMatchObject({ page: 3, count: 20 });
    res = await h.api("GET", "/zones?page=0");
    expect(res.body.result_info).toMatchObject({ page: 1, per_page: 20 });
    res = await h.api("GET", "/zones?page=abc&per_page=xyz");
    expect(res.body.result_info).toMatchObject({ page: 1, per_page: 20 });
  });

  it("paginates filtered results", async () => {
    const res = await h.api("GET", "/zones?name=starts_with:zone-11&per_page=5&page=2");
    const zones = ok(res, "zoneList") as Array<{ name: string }>;
    expect(zones.map((z) => z.name)).toEqual(["zone-115.test", "zone-116.test", "zone-117.test", "zone-118.test", "zone-119.test"]);
    expect(res.body.result_info).toEqual({ page: 2, per_page: 5, count: 5, total_count: 10, total_pages: 2 });
  });
});
