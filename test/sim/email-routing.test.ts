/**
 * Email Routing against the simulator: settings, enable/dns (pending-zone refusal, subdomains),
 * rules (validation, pagination, the 200-rule limit, catch-all protection) and the catch-all.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fails, ok, ruleBody, startHarness, type Harness } from "./helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.sim.close());

let zone: { id: string; name: string };
const er = (suffix = "") => `/zones/${zone.id}/email/routing${suffix}`;
const stateZone = async () => (await h.control("GET", "/state")).body.zones[0];

beforeEach(async () => {
  await h.control("POST", "/reset");
  zone = await h.zone("mail.example");
});

describe("GET /zones/:id/email/routing", () => {
  it("reports a never-enabled zone as unconfigured", async () => {
    const s = ok(await h.api("GET", er()), "settings");
    expect(s).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      tag: s.id,
      name: "mail.example",
      enabled: false,
      status: "unconfigured",
      skip_wizard: false,
      created: expect.stringMatching(/\.\d{6}Z$/),
      modified: expect.stringMatching(/\.\d{6}Z$/),
      support_subaddress: false,
      subdomains: [],
    });
  });
});

describe("enable / dns on a pending zone", () => {
  it("refuses POST /enable and POST /dns with 400 2001 'Zone is pending activation' and changes nothing", async () => {
    const pending = await h.zone("pending.example", { status: "pending" });
    const p = `/zones/${pending.id}/email/routing`;
    fails(await h.api("POST", `${p}/enable`, { body: {} }), 400, 2001, "Zone is pending activation");
    fails(await h.api("POST", `${p}/dns`, { body: {} }), 400, 2001, "Zone is pending activation");
    fails(await h.api("POST", `${p}/dns`, { body: { name: "sub.pending.example" } }), 400, 2001);
    const s = ok(await h.api("GET", p), "settings");
    expect(s).toMatchObject({ enabled: false, status: "unconfigured", subdomains: [] });
    expect(ok(await h.api("GET", `${p}/dns`), "dnsRecords")).toEqual([]);

    // Nameservers delegated → activation → enable works.
    const activated = await h.control("POST", `/zones/${pending.id}/activate`);
    expect(activated.body).toMatchObject({ status: "active", activated_on: expect.stringMatching(/Z$/) });
    const enabled = ok(await h.api("POST", `${p}/enable`, { body: {} }), "settings");
    expect(enabled).toMatchObject({ enabled: true, status: "ready", skip_wizard: true });
  });

  it("also refuses zones in other non-active statuses", async () => {
    await h.control("POST", `/zones/${zone.id}/status`, { status: "moved" });
    fails(await h.api("POST", er("/dns"), { body: {} }), 400, 2001);
  });

  it("can be switched to allow via config", async () => {
    const pending = await h.zone("lenient.example", { status: "pending" });
    await h.control("PUT", "/config", { pendingZoneRouting: "allow" });
    ok(await h.api("POST", `/zones/${pending.id}/email/routing/dns`, { body: {} }), "settings");
  });
});

describe("POST/GET/DELETE /zones/:id/email/routing/dns", () => {
  it("enables the apex (deprecated /enable and /dns alike) and lists MX + SPF", async () => {
    const s = ok(await h.api("POST", er("/enable"), { body: {} }), "settings");
    expect(s).toMatchObject({ name: "mail.example", enabled: true, status: "ready", subdomains: [] });
    // idempotent
    ok(await h.api("POST", er("/dns"), { body: {} }), "settings");
    const records = ok(await h.api("GET", er("/dns")), "dnsRecords") as Array<Record<string, unknown>>;
    expect(records.map((r) => [r.type, r.name, r.content])).toEqual([
      ["MX", "mail.example", "route1.mx.cloudflare.net"],
      ["MX", "mail.example", "route2.mx.cloudflare.net"],
      ["MX", "mail.example", "route3.mx.cloudflare.net"],
      ["TXT", "mail.example", "v=spf1 include:_spf.mx.cloudflare.net ~all"],
    ]);
    for (const r of records.slice(0, 3)) {
      expect(r.priority).toBeGreaterThanOrEqual(1);
      expect(r.priority).toBeLessThanOrEqual(99);
    }
    expect(records.every((r) => r.ttl === 1)).toBe(true);
  });

  it("enables a subdomain with {name}, lists it under subdomains and ?subdomain=", async () => {
    ok(await h.api("POST", er("/dns"), { body: {} }), "settings");
    const s = ok(await h.api("POST", er("/dns"), { body: { name: "In.Box.mail.example" } }), "settings");
    expect(s.subdomains).toEqual([
      { id: expect.stringMatching(/^[0-9a-f]{32}$/), tag: expect.any(String), name: "in.box.mail.example", enabled: true, status: "ready" },
    ]);
    const records = ok(await h.api("GET", er("/dns?subdomain=in.box.mail.example")), "dnsRecords");
    expect(records).toHaveLength(4);
    expect(records.every((r: { name: string }) => r.name === "in.box.mail.example")).toBe(true);
    expect(ok(await h.api("GET", er("/dns?subdomain=other.mail.example")), "dnsRecords")).toEqual([]);
    const dump = await stateZone();
    expect(Object.keys(dump.dns)).toEqual(["in.box.mail.example", "mail.example"]);
  });

  it("enabling a subdomain alone leaves the apex disabled", async () => {
    const s = ok(await h.api("POST", er("/dns"), { body: { name: "sub.mail.example" } }), "settings");
    expect(s).toMatchObject({ enabled: false, status: "unconfigured" });
    expect(s.subdomains).toHaveLength(1);
  });

  it("rejects names outside the zone with 400 2006", async () => {
    for (const name of ["other.example", "notmail.example", "x.mail.example.evil", "bad_label.mail.example", 5]) {
      const errors = fails(await h.api("POST", er("/dns"), { body: { name } }), 400, 2006);
      expect(errors[0]?.source).toEqual({ pointer: "/name" });
    }
    fails(await h.api("GET", er("/dns?subdomain=elsewhere.com")), 400, 2006);
    expect((await stateZone()).dns).toEqual({});
  });

  it("DELETE removes a subdomain's records, then the apex's", async () => {
    ok(await h.api("POST", er("/dns"), { body: {} }), "settings");
    ok(await h.api("POST", er("/dns"), { body: { name: "sub.mail.example" } }), "settings");
    let s = ok(await h.api("DELETE", er("/dns"), { body: { name: "sub.mail.example" } }), "settings");
    expect(s).toMatchObject({ enabled: true, subdomains: [] });
    expect(ok(await h.api("GET", er("/dns?subdomain=sub.mail.example")), "dnsRecords")).toEqual([]);
    s = ok(await h.api("DELETE", er("/dns")), "settings");
    expect(s).toMatchObject({ enabled: false, status: "unconfigured" });
    expect(ok(await h.api("GET", er("/dns")), "dnsRecords")).toEqual([]);
    // idempotent
    ok(await h.api("DELETE", er("/dns")), "settings");
  });

  it("DELETE {name} removes only that subdomain (what KaisouMail does when a subdomain's last mailbox goes)", async () => {
    ok(await h.api("POST", er("/dns"), { body: {} }), "settings");
    for (const name of ["a.mail.example", "b.mail.example"]) ok(await h.api("POST", er("/dns"), { body: { name } }), "settings");
    const s = ok(await h.api("DELETE", er("/dns"), { body: { name: "A.mail.example" } }), "settings");
    expect(s).toMatchObject({ enabled: true, status: "ready" });
    expect(s.subdomains.map((d: { name: string }) => d.name)).toEqual(["b.mail.example"]);
    expect(Object.keys((await stateZone()).dns).sort()).toEqual(["b.mail.example", "mail.example"]);
    expect(ok(await h.api("GET", er("/dns?subdomain=b.mail.example")), "dnsRecords")).toHaveLength(4);
    // Removing a name that has no records is a no-op; a name outside the zone is refused like the POST.
    ok(await h.api("DELETE", er("/dns"), { body: { name: "never.mail.example" } }), "settings");
    const errors = fails(await h.api("DELETE", er("/dns"), { body: { name: "b.other.example" } }), 400, 2006);
    expect(errors[0]?.source).toEqual({ pointer: "/name" });
    expect(Object.keys((await stateZone()).dns).sort()).toEqual(["b.mail.example", "mail.example"]);
  });

  it("POST /disable (deprecated) disables too", async () => {
    ok(await h.api("POST", er("/dns"), { body: {} }), "settings");
    expect(ok(await h.api("POST", er("/disable"), { body: {} }), "settings")).toMatchObject({ enabled: false });
  });
});

describe("rules", () => {
  it("creates a rule with defaults (enabled, priority 0, source api, tag = id)", async () => {
    const rule = ok(
      await h.api("POST", er("/rules"), {
        body: { matchers: [{ type: "literal", field: "to", value: "info@mail.example" }], actions: [{ type: "forward", value: ["dest@example.net"] }] },
      }),
      "rule",
    );
    expect(rule).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      tag: rule.id,
      name: "",
      enabled: true,
      priority: 0,
      matchers: [{ type: "literal", field: "to", value: "info@mail.example" }],
      actions: [{ type: "forward", value: ["dest@example.net"] }],
      source: "api",
    });
    expect(ok(await h.api("GET", er(`/rules/${rule.id}`)), "rule")).toEqual(rule);
  });

  it("works on a zone whose Email Routing is not enabled (even pending)", async () => {
    const pending = await h.zone("early.example", { status: "pending" });
    ok(await h.api("POST", `/zones/${pending.id}/email/routing/rules`, { body: ruleBody("a@early.example") }), "rule");
  });

  it("lists rules paginated, filters by enabled, never lists the catch-all", async () => {
    for (let i = 0; i < 25; i++) {
      ok(await h.api("POST", er("/rules"), { body: ruleBody(`u${i}@mail.example`, { enabled: i % 5 !== 0 }) }), "rule");
    }
    const first = await h.api("GET", er("/rules"));
    expect(ok(first, "ruleList")).toHaveLength(20);
    expect(first.body.result_info).toEqual({ page: 1, per_page: 20, count: 20, total_count: 25, total_pages: 2 });
    const second = await h.api("GET", er("/rules?page=2"));
    expect(ok(second, "ruleList").map((r: { matchers: Array<{ value: string }> }) => r.matchers[0]?.value)).toEqual(
      [20, 21, 22, 23, 24].map((i) => `u${i}@mail.example`),
    );
    expect(ok(await h.api("GET", er("/rules?page=3")), "ruleList")).toEqual([]);
    const disabled = await h.api("GET", er("/rules?enabled=false"));
    expect(ok(disabled, "ruleList")).toHaveLength(5);
    expect(disabled.body.result_info.total_count).toBe(5);
    expect(ok(await h.api("GET", er("/rules?enabled=true&per_page=50")), "ruleList")).toHaveLength(20);
    const catchAll = ok(await h.api("GET", er("/rules/catch_all")), "catchAll");
    const all = ok(await h.api("GET", er("/rules?per_page=50")), "ruleList") as Array<{ id: string }>;
    expect(all.map((r) => r.id)).not.toContain(catchAll.id);
  });

  it("PUT replaces a rule keeping its id", async () => {
    const rule = ok(await h.api("POST", er("/rules"), { body: ruleBody("a@mail.example") }), "rule");
    const updated = ok(
      await h.api("PUT", er(`/rules/${rule.id}`), { body: ruleBody("b@mail.example", { enabled: false, priority: 3, name: "renamed" }) }),
      "rule",
    );
    expect(updated).toMatchObject({ id: rule.id, name: "renamed", enabled: false, priority: 3 });
    expect(updated.matchers[0].value).toBe("b@mail.example");
  });

  it("DELETE returns the deleted rule; unknown rule → 404 2002 'Rule not found'", async () => {
    const rule = ok(await h.api("POST", er("/rules"), { body: ruleBody("a@mail.example") }), "rule");
    expect(ok(await h.api("DELETE", er(`/rules/${rule.id}`)), "rule")).toEqual(rule);
    fails(await h.api("DELETE", er(`/rules/${rule.id}`)), 404, 2002, /rule not found/i);
    fails(await h.api("GET", er(`/rules/${rule.id}`)), 404, 2002, "Rule not found");
    fails(await h.api("PUT", er(`/rules/${"b".repeat(32)}`), { body: ruleBody("x@mail.example") }), 404, 2002);
  });

  it("the catch-all through /rules/:id answers 400 2020 'Invalid rule operation'", async () => {
    const catchAll = ok(await h.api("GET", er("/rules/catch_all")), "catchAll");
    fails(await h.api("GET", er(`/rules/${catchAll.id}`)), 400, 2020, "Invalid rule operation");
    fails(await h.api("DELETE", er(`/rules/${catchAll.id}`)), 400, 2020, "Invalid rule operation");
    fails(await h.api("DELETE", er("/rules/catch_all")), 400, 2020);
    fails(await h.api("PUT", er(`/rules/${catchAll.id}`), { body: ruleBody("x@mail.example") }), 400, 2020);
  });

  it("malformed rule ids answer 400 7003", async () => {
    fails(await h.api("GET", er("/rules/nope")), 400, 7003, /perhaps your object identifier is invalid/);
  });

  it("validates bodies with 400 2003 and a source pointer, creating nothing", async () => {
    const literal = (value: unknown, extra: Record<string, unknown> = {}) => ({ type: "literal", field: "to", value, ...extra });
    const worker = [{ type: "worker", value: ["w"] }];
    const cases: Array<[unknown, string]> = [
      [{ actions: worker }, "/matchers"],
      [{ matchers: [literal("a@mail.example")] }, "/actions"],
      [{ matchers: [], actions: worker }, "/matchers"],
      [{ matchers: [literal("a@mail.example")], actions: [] }, "/actions"],
      [{ matchers: [{ type: "literal", value: "a@mail.example" }], actions: worker }, "/matchers/0/field"],
      [{ matchers: [{ type: "literal", field: "to" }], actions: worker }, "/matchers/0/value"],
      [{ matchers: [literal(`${"a".repeat(80)}@mail.example`)], actions: worker }, "/matchers/0/value"],
      [{ matchers: [{ type: "regex", field: "to", value: "x" }], actions: worker }, "/matchers/0/type"],
      [{ matchers: [literal("a@mail.example")], actions: [{ type: "bounce" }] }, "/actions/0/type"],
      [{ matchers: [literal("a@mail.example")], actions: [{ type: "forward" }] }, "/actions/0/value"],
      [{ matchers: [literal("a@mail.example")], actions: [{ type: "worker", value: [] }] }, "/actions/0/value"],
      [{ matchers: [literal("a@mail.example")], actions: worker, name: "n".repeat(257) }, "/name"],
      [{ matchers: [literal("a@mail.example")], actions: worker, enabled: "yes" }, "/enabled"],
      [{ matchers: [literal("a@mail.example")], actions: worker, priority: -1 }, "/priority"],
      [[1, 2], "/"],
    ];
    for (const [body, pointer] of cases) {
      const errors = fails(await h.api("POST", er("/rules"), { body }), 400, 2003, /^Invalid rule: /);
      expect(errors[0]?.source, JSON.stringify(body)).toEqual({ pointer });
    }
    // boundaries that are valid
    ok(await h.api("POST", er("/rules"), { body: { matchers: [literal(`${"a".repeat(77)}@mail.example`)], actions: worker, name: "n".repeat(256) } }), "rule");
    fails(await h.api("POST", er("/rules"), { rawBody: "{" }), 400, 6007);
    expect((await stateZone()).rules).toHaveLength(1);
  });

  it("allows 200 rules per zone; the 201st answers 400 2004 'Rules limit reached'", async () => {
    for (let i = 0; i < 200; i++) {
      ok(await h.api("POST", er("/rules"), { body: ruleBody(`user${i}@mail.example`) }), "rule");
    }
    fails(await h.api("POST", er("/rules"), { body: ruleBody("one-too-many@mail.example") }), 400, 2004, "Rules limit reached");
    expect((await h.api("GET", er("/rules"))).body.result_info.total_count).toBe(200);
    // the catch-all is not counted and still writable
    ok(await h.api("PUT", er("/rules/catch_all"), { body: { matchers: [{ type: "all" }], actions: [{ type: "worker", value: ["w"] }], enabled: true } }), "catchAll");
    // another zone has its own budget; deleting one frees a slot
    const other = await h.zone("other.example");
    ok(await h.api("POST", `/zones/${other.id}/email/routing/rules`, { body: ruleBody("a@other.example") }), "rule");
    const first = ok(await h.api("GET", er("/rules?per_page=5")), "ruleList")[0];
    ok(await h.api("DELETE", er(`/rules/${first.id}`)), "rule");
    ok(await h.api("POST", er("/rules"), { body: ruleBody("now-fits@mail.example") }), "rule");
  });

  it("the limit is configurable", async () => {
    await h.control("PUT", "/config", { rulesLimit: 2 });
    ok(await h.api("POST", er("/rules"), { body: ruleBody("a@mail.example") }), "rule");
    ok(await h.api("POST", er("/rules"), { body: ruleBody("b@mail.example") }), "rule");
    fails(await h.api("POST", er("/rules"), { body: ruleBody("c@mail.example") }), 400, 2004);
  });
});

describe("GET/PUT /zones/:id/email/routing/rules/catch_all", () => {
  it("starts as Cloudflare's generated default: disabled drop", async () => {
    const c = ok(await h.api("GET", er("/rules/catch_all")), "catchAll");
    expect(c).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      tag: c.id,
      name: "",
      enabled: false,
      matchers: [{ type: "all" }],
      actions: [{ type: "drop" }],
      source: "api",
    });
  });

  it("PUT replaces it (id kept) and can be reset to the default body", async () => {
    const before = ok(await h.api("GET", er("/rules/catch_all")), "catchAll");
    const body = { enabled: true, name: "catch-all to worker", matchers: [{ type: "all" }], actions: [{ type: "worker", value: ["my-email-worker"] }] };
    const put = ok(await h.api("PUT", er("/rules/catch_all"), { body }), "catchAll");
    expect(put).toEqual({ id: before.id, tag: before.id, source: "api", ...body });
    expect(ok(await h.api("GET", er("/rules/catch_all")), "catchAll")).toEqual(put);
    const reset = ok(
      await h.api("PUT", er("/rules/catch_all"), {
        body: { matchers: [{ type: "all" }], actions: [{ type: "drop" }], enabled: false, name: "", source: "api" },
      }),
      "catchAll",
    );
    expect(reset).toEqual(before);
  });

  it("validates matchers [{type:'all'}] and actions (400 2003)", async () => {
    fails(await h.api("PUT", er("/rules/catch_all"), { body: { actions: [{ type: "drop" }] } }), 400, 2003);
    fails(await h.api("PUT", er("/rules/catch_all"), { body: { matchers: [{ type: "all" }] } }), 400, 2003);
    fails(
      await h.api("PUT", er("/rules/catch_all"), {
        body: { matchers: [{ type: "literal", field: "to", value: "a@mail.example" }], actions: [{ type: "drop" }] },
      }),
      400,
      2003,
    );
    fails(await h.api("PUT", er("/rules/catch_all"), { body: { matchers: [{ type: "all" }], actions: [{ type: "forward" }] } }), 400, 2003);
    expect((await stateZone()).catch_all.enabled).toBe(false);
  });
});
