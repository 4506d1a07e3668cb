import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config";
import { handleFetch } from "../../src/router";
import { api, makeUser, type Caller } from "./helpers";

let admin: Caller;
let member: Caller;

beforeAll(async () => {
  admin = await makeUser("admin");
  member = await makeUser("member");
});

afterEach(() => vi.restoreAllMocks());

async function signIn(key: string, headers: Record<string, string> = {}) {
  const res = await api("POST", "/api/auth/session", { body: { apiKey: key }, headers });
  const setCookie = res.res.headers.get("set-cookie") ?? "";
  return { res, setCookie, cookie: setCookie.split(";")[0]! };
}

describe("sessions", () => {
  it("exchanges an API key for a 7-day HttpOnly SameSite=Lax cookie", async () => {
    const { res, setCookie, cookie } = await signIn(member.key);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: member.userId, role: "member" });
    expect(setCookie).toMatch(/^kaisoumail_session=[^;]+; HttpOnly; Path=\/; SameSite=Lax; Max-Age=604800$/);
    expect(setCookie).not.toContain("Secure"); // APP_ENV=development in tests
    const me = await api("GET", "/api/auth/session", { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(member.userId);
  });

  it("adds Secure in production", async () => {
    const prod = { ...env, APP_ENV: "production" };
    const res = await handleFetch(
      new Request("https://kaisoumail.test/api/auth/session", { method: "POST", body: JSON.stringify({ apiKey: member.key }), headers: { "content-type": "application/json" } }),
      prod,
      { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext,
    );
    expect(res.headers.get("set-cookie")).toMatch(/; Secure$/);
  });

  it("re-reads the role on every request", async () => {
    const { cookie } = await signIn(member.key);
    expect((await api("GET", "/api/users", { headers: { cookie } })).status).toBe(403);
    await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(member.userId).run();
    expect((await api("GET", "/api/users", { headers: { cookie } })).status).toBe(200);
    await env.DB.prepare("UPDATE users SET role = 'member' WHERE id = ?").bind(member.userId).run();
  });

  it("rejects a tampered or expired cookie and signs out", async () => {
    const { cookie } = await signIn(member.key);
    const tampered = cookie.slice(0, -3) + (cookie.endsWith("AAA") ? "BBB" : "AAA");
    expect((await api("GET", "/api/auth/session", { headers: { cookie: tampered } })).status).toBe(401);
    const out = await api("DELETE", "/api/auth/session", { headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.res.headers.get("set-cookie")).toMatch(/^kaisoumail_session=; HttpOnly; Path=\/; SameSite=Lax; Max-Age=0/);
  });

  it("a Bearer header is the only credential considered when present", async () => {
    const { cookie } = await signIn(admin.key);
    const res = await api("GET", "/api/auth/session", { headers: { cookie, authorization: "Bearer km_wrong_wrong_wrong_wrong" } });
    expect(res.status).toBe(401);
  });

  it("refuses cookie-authenticated writes from a foreign Origin, accepts same-origin ones", async () => {
    const { cookie } = await signIn(member.key);
    const foreign = await api("POST", "/api/api-keys", { headers: { cookie, origin: "https://evil.example" }, body: { name: "x" } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.details.code).toBe("origin_not_allowed");
    const missing = await api("POST", "/api/api-keys", { headers: { cookie }, body: { name: "x" } });
    expect(missing.status).toBe(403);
    const same = await api("POST", "/api/api-keys", { headers: { cookie, origin: "http://kaisoumail.test" }, body: { name: "x" } });
    expect(same.status).toBe(201);
    // API keys are not ambient credentials: no Origin needed.
    expect((await api("POST", "/api/api-keys", { key: member.key, body: { name: "y" } })).status).toBe(201);
  });

  it("slows down repeated failed key exchanges from one client", async () => {
    const headers = { "cf-connecting-ip": "203.0.113.7" };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await api("POST", "/api/auth/session", { body: { apiKey: `km_${"x".repeat(40)}${i}` }, headers })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses).toContain(429);
    const blocked = await api("POST", "/api/auth/session", { body: { apiKey: member.key }, headers });
    expect(blocked.status).toBe(429);
    expect(blocked.res.headers.get("retry-after")).toMatch(/^\d+$/);
    // Another client is unaffected.
    expect((await signIn(member.key, { "cf-connecting-ip": "203.0.113.8" })).res.status).toBe(200);
  });
});

describe("API keys and users", () => {
  it("creates a key shown once, stores only its hash, and revokes it", async () => {
    const created = await api("POST", "/api/api-keys", { key: member.key, body: { name: "ci" } });
    expect(created.status).toBe(201);
    expect(created.body.apiKey).toMatch(/^km_[A-Za-z0-9_-]{43}$/);
    expect(created.body.apiKeyRecord).toMatchObject({ name: "ci", prefix: created.body.apiKey.slice(0, 10), revokedAt: null });
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(created.body.apiKeyRecord.id).first<Record<string, string>>();
    expect(JSON.stringify(stored)).not.toContain(created.body.apiKey);
    expect(stored!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await api("GET", "/api/auth/session", { key: created.body.apiKey })).status).toBe(200);
    const list = await api("GET", "/api/api-keys", { key: member.key });
    expect(JSON.stringify(list.body)).not.toContain(created.body.apiKey);
    expect((await api("POST", `/api/api-keys/${created.body.apiKeyRecord.id}/revoke`, { key: member.key })).status).toBe(204);
    expect((await api("GET", "/api/auth/session", { key: created.body.apiKey })).status).toBe(401);
    expect((await api("POST", "/api/api-keys/key_nope/revoke", { key: member.key })).status).toBe(404);
  });

  it("admins create users with a first key; duplicates answer 409", async () => {
    const res = await api("POST", "/api/users", { key: admin.key, body: { email: "New.Person@Example.test", name: "New Person" } });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ email: "new.person@example.test", role: "member" });
    expect(res.body.initialKey.apiKeyRecord.name).toBe("Initial API Key");
    expect((await api("GET", "/api/auth/session", { key: res.body.initialKey.apiKey })).body.user.email).toBe("new.person@example.test");
    const dup = await api("POST", "/api/users", { key: admin.key, body: { email: "new.person@example.test", name: "Again" } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe("User already exists");
    const bad = await api("POST", "/api/users", { key: admin.key, body: { email: "not-an-email", name: "", role: "owner" } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details.fieldErrors).sort()).toEqual(["email", "name", "role"]);
  });
});

describe("CORS", () => {
  it("answers preflight for allowed origins only", async () => {
    const ok = await exports.default.fetch(
      new Request("http://kaisoumail.test/api/mailboxes", { method: "OPTIONS", headers: { origin: "http://localhost:5173", "access-control-request-headers": "content-type" } }),
    );
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    const bad = await exports.default.fetch(new Request("http://kaisoumail.test/api/mailboxes", { method: "OPTIONS", headers: { origin: "https://evil.example" } }));
    expect(bad.status).toBe(403);
    expect(bad.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("uses WEB_APP_ORIGIN(S) in production", async () => {
    const prod = { ...env, APP_ENV: "production", WEB_APP_ORIGIN: "https://mail.example.com/", WEB_APP_ORIGINS: "https://ops.example.com, not a url" };
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const preflight = (origin: string) =>
      handleFetch(new Request("https://api.example.com/api/meta", { method: "OPTIONS", headers: { origin } }), prod, ctx).then((r) => r.status);
    expect(await preflight("https://mail.example.com")).toBe(204);
    expect(await preflight("https://ops.example.com")).toBe(204);
    expect(await preflight("http://localhost:3000")).toBe(403);
    expect(loadConfig(prod).allowedOrigins).toEqual(["https://mail.example.com", "https://ops.example.com"]);
  });
});

describe("configuration and error envelopes", () => {
  it("names the invalid variable instead of a stack trace", async () => {
    const bad = { ...env, DEFAULT_MAILBOX_TTL_MINUTES: "ten", EMAIL_ROUTING_MANAGEMENT_ENABLED: "maybe" };
    const res = await handleFetch(new Request("http://x.test/api/meta"), bad, {} as ExecutionContext);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; details: { variables: string[]; code: string } };
    expect(body.error).toBe("Invalid configuration");
    expect(body.details.code).toBe("invalid_configuration");
    expect(body.details.variables.sort()).toEqual(["DEFAULT_MAILBOX_TTL_MINUTES", "EMAIL_ROUTING_MANAGEMENT_ENABLED"]);
  });

  it("answers 400 for malformed JSON and 413 for bodies over 1 MiB", async () => {
    const malformed = await api("POST", "/api/mailboxes", { key: member.key, body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ error: "Invalid request", details: { formErrors: ["Request body must be valid JSON"], fieldErrors: {} } });
    const huge = await api("POST", "/api/mailboxes", { key: member.key, body: JSON.stringify({ pad: "x".repeat(1024 * 1024 + 10) }) });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toBe("Request body too large");
  });

  it("never writes an API key, session or token to a log line", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error", "info", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    const { cookie } = await signIn(member.key);
    await signIn("km_this-is-a-wrong-key-that-should-not-be-logged");
    await api("GET", "/api/auth/session", { headers: { cookie } });
    await api("GET", "/api/domains/catalog", { key: admin.key });
    await api("POST", "/api/domains/bind", { key: admin.key, body: { mailDomain: "log-check.com" } });
    const token = decodeURIComponent(cookie.split("=")[1]!);
    const text = lines.join("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of [member.key, admin.key, token, "km_this-is-a-wrong-key", env.CLOUDFLARE_RUNTIME_API_TOKEN!, env.SESSION_SECRET!]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("bootstrap admin", () => {
  it("is created from BOOTSTRAP_ADMIN_EMAIL + BOOTSTRAP_ADMIN_API_KEY on the first sign-in when there are no users", async () => {
    const { resetBootstrapMemo } = await import("../../src/auth/authenticate");
    const saved = await env.DB.prepare("SELECT COUNT(*) AS n FROM users").first<number>("n");
    expect(saved).toBeGreaterThan(0);
    // Simulate an empty deployment: move existing users aside in a fresh copy of the tables.
    await env.DB.batch([
      env.DB.prepare("CREATE TABLE users_saved AS SELECT * FROM users"),
      env.DB.prepare("CREATE TABLE api_keys_saved AS SELECT * FROM api_keys"),
      env.DB.prepare("DELETE FROM api_keys"),
      env.DB.prepare("DELETE FROM users WHERE id NOT IN (SELECT user_id FROM mailboxes UNION SELECT user_id FROM messages)"),
    ]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM users").first<number>("n")).toBe(0);
    {
      resetBootstrapMemo();
      const key = "km_bootstrap_admin_key_for_tests_0123456789";
      const bootEnv = { ...env, BOOTSTRAP_ADMIN_EMAIL: "Owner@Example.test", BOOTSTRAP_ADMIN_API_KEY: key };
      const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
      const res = await handleFetch(
        new Request("http://kaisoumail.test/api/auth/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiKey: key }) }),
        bootEnv,
        ctx,
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { user: { email: string; role: string; name: string } };
      expect(body.user).toMatchObject({ email: "owner@example.test", role: "admin", name: "Owner" });
      const stored = await env.DB.prepare("SELECT key_hash, prefix FROM api_keys").first<{ key_hash: string; prefix: string }>();
      expect(stored!.key_hash).not.toContain(key);
      expect(stored!.prefix).toBe(key.slice(0, 10));
    }
    await env.DB.batch([
      env.DB.prepare("DELETE FROM api_keys"),
      env.DB.prepare("DELETE FROM users WHERE id NOT IN (SELECT id FROM users_saved)"),
      env.DB.prepare("INSERT OR IGNORE INTO users SELECT * FROM users_saved"),
      env.DB.prepare("INSERT INTO api_keys SELECT * FROM api_keys_saved"),
      env.DB.prepare("DROP TABLE users_saved"),
      env.DB.prepare("DROP TABLE api_keys_saved"),
    ]);
    resetBootstrapMemo();
  });
});
