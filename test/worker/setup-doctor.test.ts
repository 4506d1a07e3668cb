import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { handleFetch } from "../../src/router";
import { activeDomain, api, FULL_PERMISSIONS, makeUser, resetCloudflare, sim, SIM_ACCOUNT, SIM_TOKEN, type Caller } from "./helpers";

let admin: Caller;
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

beforeEach(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
});

async function doctor(overrides: Record<string, string | undefined> = {}) {
  const res = await handleFetch(new Request("http://kaisoumail.test/api/admin/setup", { headers: { authorization: `Bearer ${admin.key}` } }), { ...env, ...overrides }, ctx);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { ok: boolean; checks: Array<{ id: string; status: string; detail: string; fix: string | null; docs: string; error: { status: number; code: number | null; message: string } | null }> };
  return { ...body, byId: Object.fromEntries(body.checks.map((c) => [c.id, c])) };
}

describe("GET /api/admin/setup", () => {
  it("reports everything ok on a complete setup, naming the token in use but never its value", async () => {
    await activeDomain(admin.key, "doctor.com");
    const d = await doctor();
    expect(d.ok).toBe(true);
    expect(d.checks.map((c) => [c.id, c.status])).toEqual([
      ["management_enabled", "ok"],
      ["runtime_token", "ok"],
      ["account_id", "ok"],
      ["email_worker_name", "ok"],
      ["token_valid", "ok"],
      ["zones_readable", "ok"],
      ["routing_rules_readable", "ok"],
      ["storage_capacity", "ok"],
    ]);
    expect(d.byId.runtime_token!.detail).toContain("CLOUDFLARE_RUNTIME_API_TOKEN");
    expect(JSON.stringify(d)).not.toContain(SIM_TOKEN);
    const shared = await doctor({ CLOUDFLARE_RUNTIME_API_TOKEN: undefined, CLOUDFLARE_API_TOKEN: SIM_TOKEN });
    expect(shared.byId.runtime_token!.detail).toContain("shared CLOUDFLARE_API_TOKEN");
  });

  it.each([
    [{ EMAIL_ROUTING_MANAGEMENT_ENABLED: "false" }, "management_enabled", "runtime-configuration"],
    [{ CLOUDFLARE_RUNTIME_API_TOKEN: undefined, CLOUDFLARE_API_TOKEN: undefined }, "runtime_token", "token-permissions"],
    [{ CLOUDFLARE_ACCOUNT_ID: undefined }, "account_id", "cloudflare-account-id"],
    [{ EMAIL_WORKER_NAME: undefined }, "email_worker_name", "runtime-configuration"],
  ])("missing setting %j → %s missing with a fix", async (overrides, id, anchor) => {
    const d = await doctor(overrides);
    expect(d.ok).toBe(false);
    expect(d.byId[id]).toMatchObject({ status: "missing", docs: `README.md#${anchor}` });
    expect(d.byId[id]!.fix).toBeTruthy();
  });

  it.each([
    ["zone:edit", "zones_readable"],
    ["email_routing_rules:edit", "routing_rules_readable"],
  ])("removing %s makes %s fail with Cloudflare's exact error", async (permission, id) => {
    await activeDomain(admin.key, `doctor-${id.replaceAll("_", "-")}.com`);
    const drop = permission === "zone:edit" ? ["zone:edit", "zone:read"] : ["email_routing_rules:edit", "email_routing_rules:read"];
    await sim.setToken(SIM_TOKEN, { permissions: FULL_PERMISSIONS.filter((p) => !drop.includes(p)), accounts: [SIM_ACCOUNT] });
    const d = await doctor();
    expect(d.byId[id]).toMatchObject({ status: "failing", error: { status: 403, code: 10000, message: "Authentication error" } });
    expect(d.byId[id]!.fix).toMatch(/Zone:/);
  });

  it("an invalid token fails verification with Cloudflare's message", async () => {
    const d = await doctor({ CLOUDFLARE_RUNTIME_API_TOKEN: "revoked-token-value-000000000000" });
    expect(d.byId.token_valid).toMatchObject({ status: "failing", error: { status: 401, code: 1000, message: "Invalid API Token" } });
    expect(d.byId.zones_readable!.status).toBe("failing");
    expect(JSON.stringify(d)).not.toContain("revoked-token-value");
  });

  it("is admin only", async () => {
    const member = await makeUser("member");
    expect((await api("GET", "/api/admin/setup", { key: member.key })).status).toBe(403);
  });
});
