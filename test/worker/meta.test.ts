import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /api/meta", () => {
  it("answers anonymously with the capability flags", async () => {
    const res = await exports.default.fetch("http://app.test/api/meta");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      domains: [],
      cloudflareDomainLifecycleEnabled: true,
      cloudflareDomainBindingEnabled: true,
      defaultMailboxTtlMinutes: 60,
      minMailboxTtlMinutes: 60,
      maxMailboxTtlMinutes: 525600,
    });
  });
  it("answers a 404 envelope for unknown API paths", async () => {
    const res = await exports.default.fetch("http://app.test/api/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "Not found", details: { path: "/api/nope" } });
  });
});
