/** The contract check itself has teeth: it flags what the document does not describe. */
import { describe, expect, it } from "vitest";
import { contractViolation } from "./contract";
import { api, makeUser } from "./helpers";

const JSON_TYPE = "application/json; charset=utf-8";

describe("API contract check", () => {
  it("accepts a real answer and flags an undocumented status, an extra field, a missing field and a wrong type", async () => {
    const member = await makeUser();
    const real = await api("GET", "/api/auth/session", { key: member.key });
    const text = JSON.stringify(real.body);
    expect(contractViolation("GET", "/api/auth/session", 200, JSON_TYPE, text)).toBeNull();
    expect(contractViolation("GET", "/api/auth/session", 418, JSON_TYPE, text)).toMatch(/status 418 is not documented/);
    expect(contractViolation("GET", "/api/auth/session", 200, JSON_TYPE, JSON.stringify({ ...real.body, secret: 1 }))).toMatch(/does not match/);
    const { via: _via, ...noVia } = real.body;
    expect(contractViolation("GET", "/api/auth/session", 200, JSON_TYPE, JSON.stringify(noVia))).toMatch(/does not match/);
    expect(contractViolation("GET", "/api/auth/session", 200, JSON_TYPE, JSON.stringify({ ...real.body, scopes: "all" }))).toMatch(/does not match/);
    expect(contractViolation("GET", "/api/auth/session", 200, "text/plain", text)).toMatch(/not JSON/);
  });

  it("flags an error answer that is not the {error, details} envelope", () => {
    expect(contractViolation("GET", "/api/mailboxes/mbx_0", 404, JSON_TYPE, JSON.stringify({ error: "Mailbox not found", details: null }))).toBeNull();
    expect(contractViolation("GET", "/api/mailboxes/mbx_0", 404, JSON_TYPE, JSON.stringify({ message: "nope" }))).toMatch(/does not match/);
  });

  it("serves the document and the reference page", async () => {
    const doc = await api("GET", "/api/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(doc.body.paths["/api/messages/wait"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["mailbox", "after", "timeout", "hasCode"]);
    const page = await api("GET", "/api/docs");
    expect(page.status).toBe(200);
    expect(page.res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(String(page.body)).toContain('<script type="module" src="/api-docs.js">');
  });
});
