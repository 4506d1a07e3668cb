/**
 * Security, second pass (issue 21): revocable sessions, user administration, enforced key
 * scopes, sign-in CSRF and media types, and an atomic brute-force throttle. Each block is a
 * regression test for a finding of the red-team pass.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { runHousekeeping } from "../../src/cron";
import { updateUser } from "../../src/db/user-admin";
import { getUser } from "../../src/db/users";
import { handleFetch } from "../../src/router";
import { receiveMessage } from "../../src/mail/inbound";
import { activeDomain, api, cfCalls, makeUser, resetCloudflare, sim, simZone, type Caller } from "./helpers";
import { fixtures, mockEmail } from "./mail-fixtures";

const root = "security-test.com";
let admin: Caller;
let ipSeq = 0;
/** A fresh client IP, so each throttle test starts from zero. */
const freshIp = () => `198.51.100.${++ipSeq}`;

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  await activeDomain(admin.key, root);
});

async function signIn(key: string, headers: Record<string, string> = {}) {
  const res = await api("POST", "/api/auth/session", { body: { apiKey: key }, headers });
  return { res, cookie: (res.res.headers.get("set-cookie") ?? "").split(";")[0]! };
}
/** Calls as a browser page on the app's own origin would (cookie + Origin). */
const asPage = (cookie: string) => ({ cookie, origin: "http://kaisoumail.test" });
const keyIdOf = async (key: string) => (await api("GET", "/api/auth/session", { key })).body;

describe("sessions can be taken away", () => {
  it("sign-out revokes the session: a copy of the old cookie no longer works, and cannot mint a key", async () => {
    const member = await makeUser();
    const { cookie } = await signIn(member.key);
    expect((await api("GET", "/api/auth/session", { headers: { cookie } })).status).toBe(200);
    expect((await api("DELETE", "/api/auth/session", { headers: { cookie } })).status).toBe(204);
    expect((await api("GET", "/api/auth/session", { headers: { cookie } })).status).toBe(401);
    const mint = await api("POST", "/api/api-keys", { headers: asPage(cookie), body: { name: "after sign-out" } });
    expect(mint.status).toBe(401);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?").bind(member.userId).first("n")).toBe(1);
    const row = await env.DB.prepare("SELECT revoked_at FROM sessions WHERE user_id = ?").bind(member.userId).first<{ revoked_at: string | null }>();
    expect(row?.revoked_at).not.toBeNull();
  });

  it("revoking the API key a session was made from revokes the session", async () => {
    const member = await makeUser();
    const second = await api("POST", "/api/api-keys", { key: member.key, body: { name: "web", scopes: ["mailboxes:read", "keys"] } });
    const { cookie } = await signIn(second.body.apiKey);
    const other = await signIn(member.key);
    expect((await api("GET", "/api/mailboxes", { headers: { cookie } })).status).toBe(200);
    expect((await api("POST", `/api/api-keys/${second.body.apiKeyRecord.id}/revoke`, { key: member.key })).status).toBe(204);
    expect((await api("GET", "/api/mailboxes", { headers: { cookie } })).status).toBe(401);
    // A session made from another key of the same user is unaffected.
    expect((await api("GET", "/api/mailboxes", { headers: { cookie: other.cookie } })).status).toBe(200);
  });

  it("expires after the idle timeout and after the absolute lifetime", async () => {
    const member = await makeUser();
    const idle = await signIn(member.key);
    const absolute = await signIn(member.key);
    const [a, b] = (await env.DB.prepare("SELECT id FROM sessions WHERE user_id = ? ORDER BY created_at, id").bind(member.userId).all<{ id: string }>()).results;
    expect(a && b).toBeTruthy();
    // Default idle timeout is 24 h: a session last seen 25 h ago is refused.
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE id IN (?, ?)").bind(new Date(Date.now() - 25 * 3600_000).toISOString(), a!.id, b!.id).run();
    expect((await api("GET", "/api/auth/session", { headers: { cookie: idle.cookie } })).status).toBe(401);
    // Active but past its absolute lifetime: refused too.
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id IN (?, ?)")
      .bind(new Date().toISOString(), new Date(Date.now() - 1000).toISOString(), a!.id, b!.id)
      .run();
    expect((await api("GET", "/api/auth/session", { headers: { cookie: absolute.cookie } })).status).toBe(401);
  });

  it("a session touched within the idle window keeps working and records when it was last seen", async () => {
    const member = await makeUser();
    const { cookie } = await signIn(member.key);
    const old = new Date(Date.now() - 3600_000).toISOString();
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE user_id = ?").bind(old, member.userId).run();
    expect((await api("GET", "/api/auth/session", { headers: { cookie } })).status).toBe(200);
    const seen = await env.DB.prepare("SELECT last_seen_at FROM sessions WHERE user_id = ?").bind(member.userId).first<string>("last_seen_at");
    expect(seen! > old).toBe(true);
  });

  it("uses a __Host- cookie with Secure in production, and the old cookie format is refused", async () => {
    const member = await makeUser();
    const prod = { ...env, APP_ENV: "production" };
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const res = await handleFetch(
      new Request("https://kaisoumail.test/api/auth/session", { method: "POST", body: JSON.stringify({ apiKey: member.key }), headers: { "content-type": "application/json" } }),
      prod,
      ctx,
    );
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^__Host-kaisoumail_session=[^;]+; HttpOnly; Path=\/; SameSite=Lax; Max-Age=604800; Secure$/);
    const me = await handleFetch(new Request("https://kaisoumail.test/api/auth/session", { headers: { cookie: setCookie.split(";")[0]! } }), prod, ctx);
    expect(me.status).toBe(200);
    // The same value under the development name is not read in production.
    const dev = setCookie.split(";")[0]!.replace("__Host-kaisoumail_session", "kaisoumail_session");
    expect((await handleFetch(new Request("https://kaisoumail.test/api/auth/session", { headers: { cookie: dev } }), prod, ctx)).status).toBe(401);
  });
});

describe("admins manage users", () => {
  it("disabling a user ends every key and session at once; re-enabling restores keys but not sessions", async () => {
    const member = await makeUser();
    const { cookie } = await signIn(member.key);
    const off = await api("PATCH", `/api/users/${member.userId}`, { key: admin.key, body: { disabled: true } });
    expect(off.status).toBe(200);
    expect(off.body.user).toMatchObject({ id: member.userId, disabled: true });
    expect((await api("GET", "/api/mailboxes", { key: member.key })).status).toBe(401);
    expect((await api("GET", "/api/mailboxes", { headers: { cookie } })).status).toBe(401);
    expect((await signIn(member.key)).res.status).toBe(401);
    const on = await api("PATCH", `/api/users/${member.userId}`, { key: admin.key, body: { disabled: false } });
    expect(on.body.user.disabled).toBe(false);
    expect((await api("GET", "/api/mailboxes", { key: member.key })).status).toBe(200);
    expect((await api("GET", "/api/mailboxes", { headers: { cookie } })).status).toBe(401);
  });

  it("changes a role, and the new role applies to the next request", async () => {
    const member = await makeUser();
    expect((await api("GET", "/api/users", { key: member.key })).status).toBe(403);
    expect((await api("PATCH", `/api/users/${member.userId}`, { key: admin.key, body: { role: "admin" } })).body.user.role).toBe("admin");
    expect((await api("GET", "/api/users", { key: member.key })).status).toBe(200);
    expect((await api("PATCH", `/api/users/${member.userId}`, { key: admin.key, body: { role: "member" } })).body.user.role).toBe("member");
    expect((await api("GET", "/api/users", { key: member.key })).status).toBe(403);
  });

  it("refuses bad input and unknown users without changing anything", async () => {
    const member = await makeUser();
    for (const body of [{}, { role: "owner" }, { disabled: "yes" }, { role: "admin", extra: 1 }]) {
      const res = await api("PATCH", `/api/users/${member.userId}`, { key: admin.key, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe("Invalid request");
    }
    expect((await api("PATCH", `/api/users/usr_${"0".repeat(32)}`, { key: admin.key, body: { disabled: true } })).status).toBe(404);
    expect((await api("DELETE", "/api/users/not-an-id", { key: admin.key })).status).toBe(404);
    const row = await env.DB.prepare("SELECT role, disabled_at FROM users WHERE id = ?").bind(member.userId).first();
    expect(row).toEqual({ role: "member", disabled_at: null });
  });

  it("never leaves the deployment without an enabled admin, even when two admins demote each other at once", async () => {
    // Make every other admin a member so that exactly two remain.
    const a1 = await makeUser("admin");
    const a2 = await makeUser("admin");
    const others = (await env.DB.prepare("SELECT id FROM users WHERE role = 'admin' AND id NOT IN (?, ?) AND deleted_at IS NULL").bind(a1.userId, a2.userId).all<{ id: string }>()).results;
    await env.DB.prepare(`UPDATE users SET role = 'member' WHERE id IN (${others.map(() => "?").join(",")})`).bind(...others.map((o) => o.id)).run();
    try {
      const [r1, r2] = await Promise.all([
        api("PATCH", `/api/users/${a2.userId}`, { key: a1.key, body: { role: "member" } }),
        api("PATCH", `/api/users/${a1.userId}`, { key: a2.key, body: { role: "member" } }),
      ]);
      // One wins; the other is refused, by the guard in the UPDATE or, if the winner's change
      // landed first, because its caller is no longer an admin.
      expect([r1.status, r2.status].filter((s) => s === 200)).toHaveLength(1);
      const loser = r1.status === 200 ? r2 : r1;
      expect([403, 409]).toContain(loser.status);
      const left = r1.status === 200 ? a1 : a2;
      const demoted = r1.status === 200 ? a2 : a1;
      // The guard itself, with both changes past authentication: exactly one of two simultaneous
      // demotions of the last two admins succeeds.
      await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(demoted.userId).run();
      const [u1, u2] = [(await getUser(env.DB, a1.userId))!, (await getUser(env.DB, a2.userId))!];
      const raced = await Promise.allSettled([updateUser(env.DB, u1, { role: "member" }), updateUser(env.DB, u2, { disabled: true })]);
      expect(raced.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = raced.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ status: 409, message: "Cannot demote, disable or delete the last admin", details: { code: "last_admin" } });
      // Put `left` back as the one enabled admin.
      await env.DB.prepare("UPDATE users SET role = 'admin', disabled_at = NULL WHERE id = ?").bind(left.userId).run();
      await env.DB.prepare("UPDATE users SET role = 'member', disabled_at = NULL WHERE id = ?").bind(demoted.userId).run();
      for (const body of [{ role: "member" }, { disabled: true }]) {
        expect((await api("PATCH", `/api/users/${left.userId}`, { key: left.key, body })).status).toBe(409);
      }
      expect((await api("DELETE", `/api/users/${left.userId}`, { key: left.key })).status).toBe(409);
      expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL AND deleted_at IS NULL").first("n")).toBe(1);
    } finally {
      await env.DB.prepare(`UPDATE users SET role = 'admin' WHERE id IN (${[...others.map(() => "?"), "?", "?"].join(",")})`)
        .bind(...others.map((o) => o.id), a1.userId, a2.userId)
        .run();
    }
  });

  it("lists another user's keys for an admin, who can revoke one", async () => {
    const member = await makeUser();
    await api("POST", "/api/api-keys", { key: member.key, body: { name: "ci" } });
    const keys = await api("GET", `/api/users/${member.userId}/api-keys`, { key: admin.key });
    expect(keys.status).toBe(200);
    expect(keys.body.apiKeys.map((k: { name: string }) => k.name).sort()).toEqual(["ci", "test"]);
    expect(JSON.stringify(keys.body)).not.toContain("key_hash");
    const ci = keys.body.apiKeys.find((k: { name: string }) => k.name === "ci");
    expect((await api("POST", `/api/api-keys/${ci.id}/revoke`, { key: admin.key })).status).toBe(204);
    const after = await api("GET", `/api/users/${member.userId}/api-keys`, { key: admin.key });
    expect(after.body.apiKeys.find((k: { name: string }) => k.name === "ci").revokedAt).not.toBeNull();
  });

  it("deleting a user destroys their mailboxes, rules and messages through the normal path, and revokes keys", async () => {
    const member = await makeUser();
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } });
    expect(mb.status).toBe(201);
    const stored = await receiveMessage(mockEmail(fixtures.plain(mb.body.address), { to: mb.body.address }), env);
    expect(stored.kind).toBe("stored");
    const ruleId = (await env.DB.prepare("SELECT routing_rule_id FROM mailboxes WHERE id = ?").bind(mb.body.id).first<string>("routing_rule_id"))!;
    expect((await simZone(root))!.rules.some((r) => r.id === ruleId)).toBe(true);

    const del = await api("DELETE", `/api/users/${member.userId}`, { key: admin.key });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ deleted: true, userId: member.userId, mailboxes: { destroyed: 1, pending: 0 } });
    expect((await simZone(root))!.rules.some((r) => r.id === ruleId)).toBe(false);
    expect(await env.DB.prepare("SELECT status FROM mailboxes WHERE id = ?").bind(mb.body.id).first("status")).toBe("destroyed");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE user_id = ?").bind(member.userId).first("n")).toBe(0);
    expect((await env.MAIL_BUCKET.list({ prefix: `raw/${mb.body.id}/` })).objects).toHaveLength(0);
    expect((await api("GET", "/api/mailboxes", { key: member.key })).status).toBe(401);
    expect((await api("GET", "/api/users", { key: admin.key })).body.users.some((u: { id: string }) => u.id === member.userId)).toBe(false);
    // The address of a deleted user can be given to a new user.
    const email = (await env.DB.prepare("SELECT email FROM users WHERE id = ?").bind(member.userId).first<string>("email"))!;
    expect(email).toBe(`deleted-${member.userId}@users.invalid`);
    expect((await api("DELETE", `/api/users/${member.userId}`, { key: admin.key })).status).toBe(404);
  });

  it("a mailbox whose rule removal fails is not orphaned: it stays destroying and the cron finishes it", async () => {
    const member = await makeUser();
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } });
    await sim.fault({ method: "DELETE", path: "/zones/:id/email/routing/rules/:rule", kind: "5xx", count: 10 });
    try {
      const del = await api("DELETE", `/api/users/${member.userId}`, { key: admin.key });
      expect(del.status).toBe(200);
      expect(del.body.mailboxes).toEqual({ destroyed: 0, pending: 1 });
      const row = await env.DB.prepare("SELECT status, routing_rule_id FROM mailboxes WHERE id = ?").bind(mb.body.id).first<{ status: string; routing_rule_id: string }>();
      expect(row!.status).toBe("destroying");
      expect(row!.routing_rule_id).not.toBeNull();
    } finally {
      await sim.clearFaults();
    }
    await runHousekeeping(env, Date.now() + 3600_000);
    expect(await env.DB.prepare("SELECT status FROM mailboxes WHERE id = ?").bind(mb.body.id).first("status")).toBe("destroyed");
    expect((await cfCalls()).filter((c) => c.startsWith("DELETE /client/v4/zones/") && c.includes("/email/routing/rules/")).length).toBeGreaterThan(0);
  });
});

describe("key scopes are enforced", () => {
  async function scopedKey(owner: Caller, scopes: string[]) {
    const res = await api("POST", "/api/api-keys", { key: owner.key, body: { name: scopes.join(","), scopes } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.apiKey as string;
  }

  it("a messages:read key cannot create mailboxes, mint keys or delete messages", async () => {
    const member = await makeUser();
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } });
    const stored = (await receiveMessage(mockEmail(fixtures.plain(mb.body.address), { to: mb.body.address }), env)) as { messageId: string };
    const reader = await scopedKey(member, ["messages:read"]);
    expect((await api("GET", `/api/messages/${stored.messageId}`, { key: reader })).status).toBe(200);
    const create = await api("POST", "/api/mailboxes", { key: reader, body: { mailDomain: root } });
    expect(create.status).toBe(403);
    expect(create.body).toMatchObject({ error: "API key scope does not allow this", details: { code: "insufficient_scope", requiredScope: "mailboxes:write" } });
    expect((await api("POST", "/api/api-keys", { key: reader, body: { name: "escalate", scopes: ["*"] } })).status).toBe(403);
    expect((await api("DELETE", `/api/messages/${stored.messageId}`, { key: reader })).status).toBe(403);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE id = ?").bind(stored.messageId).first("n")).toBe(1);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM mailboxes WHERE user_id = ?").bind(member.userId).first("n")).toBe(1);
  });

  it("unknown scopes are refused with 400, and the admin scope is only for admins", async () => {
    const member = await makeUser();
    const unknown = await api("POST", "/api/api-keys", { key: member.key, body: { name: "x", scopes: ["nothing"] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toMatchObject({ code: "unknown_scope", fieldErrors: { scopes: ["Unknown scope: nothing"] } });
    const adminScope = await api("POST", "/api/api-keys", { key: member.key, body: { name: "x", scopes: ["admin"] } });
    expect(adminScope.status).toBe(400);
    expect(adminScope.body.details.code).toBe("admin_scope_for_member");
    expect((await api("POST", "/api/api-keys", { key: admin.key, body: { name: "ops", scopes: ["admin"] } })).status).toBe(201);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?").bind(member.userId).first("n")).toBe(1);
  });

  it("a key never creates a key with more power than itself", async () => {
    const member = await makeUser();
    const keys = await scopedKey(member, ["keys", "mailboxes:read"]);
    // Within its own power: fine (mailboxes:read is held; keys is held).
    expect((await api("POST", "/api/api-keys", { key: keys, body: { name: "sub", scopes: ["mailboxes:read"] } })).status).toBe(201);
    for (const scopes of [["*"], ["mailboxes:write"], ["messages:read"], undefined]) {
      const res = await api("POST", "/api/api-keys", { key: keys, body: { name: "more", ...(scopes ? { scopes } : {}) } });
      expect(res.status, JSON.stringify(scopes)).toBe(403);
      expect(res.body.details.code).toBe("scope_escalation");
    }
    // mailboxes:write includes mailboxes:read.
    const writer = await scopedKey(member, ["mailboxes:write"]);
    expect((await api("GET", "/api/mailboxes", { key: writer })).status).toBe(200);
  });

  it("a session has exactly the scopes of the key it was signed in with", async () => {
    const member = await makeUser();
    const reader = await scopedKey(member, ["messages:read"]);
    const { res, cookie } = await signIn(reader);
    expect(res.body.scopes).toEqual(["messages:read"]);
    expect((await api("GET", "/api/messages", { headers: { cookie } })).status).toBe(200);
    expect((await api("POST", "/api/mailboxes", { headers: asPage(cookie), body: { mailDomain: root } })).status).toBe(403);
    expect((await api("POST", "/api/api-keys", { headers: asPage(cookie), body: { name: "x", scopes: ["*"] } })).status).toBe(403);
    expect((await keyIdOf(reader)).scopes).toEqual(["messages:read"]);
  });
});

describe("sign-in and JSON bodies", () => {
  it("refuses sign-in from a foreign Origin (login CSRF), but not from scripts or the app's own page", async () => {
    const member = await makeUser();
    const foreign = await signIn(member.key, { origin: "https://evil.example" });
    expect(foreign.res.status).toBe(403);
    expect(foreign.res.body.details.code).toBe("origin_not_allowed");
    expect(foreign.res.res.headers.get("set-cookie")).toBeNull();
    expect((await signIn(member.key, { origin: "http://kaisoumail.test" })).res.status).toBe(200);
    expect((await signIn(member.key)).res.status).toBe(200);
  });

  it("answers 415 to a JSON route whose body is not declared as JSON (text/plain sign-in included)", async () => {
    const member = await makeUser();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const signin = await api("POST", "/api/auth/session", { body: JSON.stringify({ apiKey: member.key }), headers: { "content-type": type } });
      expect(signin.status, type).toBe(415);
      expect(signin.body).toMatchObject({ error: "Unsupported media type", details: { code: "unsupported_media_type" } });
      const create = await api("POST", "/api/mailboxes", { key: member.key, body: JSON.stringify({ mailDomain: root }), headers: { "content-type": type } });
      expect(create.status, type).toBe(415);
    }
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM mailboxes WHERE user_id = ?").bind(member.userId).first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(member.userId).first("n")).toBe(0);
    // application/json with a charset and +json types are JSON.
    const ok = await api("POST", "/api/mailboxes", { key: member.key, body: JSON.stringify({ mailDomain: root }), headers: { "content-type": "application/json; charset=utf-8" } });
    expect(ok.status).toBe(201);
  });
});

describe("API-key lookups cached per isolate, with a bounded staleness", () => {
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  const get = (e: typeof env, key: string) => handleFetch(new Request("http://kaisoumail.test/api/auth/session", { headers: { authorization: `Bearer ${key}` } }), e, ctx);

  it("a key revoked by another isolate (straight in D1) is refused within AUTH_CACHE_SECONDS; one revoked here, at once", async () => {
    const short = { ...env, AUTH_CACHE_SECONDS: "1" };
    const member = await makeUser();
    expect((await get(short, member.key)).status).toBe(200); // now cached in this isolate
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE user_id = ?").bind(new Date().toISOString(), member.userId).run();
    // Within the bound the cached lookup may still answer …
    expect([200, 401]).toContain((await get(short, member.key)).status);
    // … and after it, never.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await get(short, member.key)).status).toBe(401);

    // Through this isolate's own API the change applies at once, cache or not.
    const other = await makeUser();
    expect((await get(env, other.key)).status).toBe(200);
    const keyId = (await api("GET", "/api/api-keys", { key: other.key })).body.apiKeys[0].id;
    await api("POST", `/api/api-keys/${keyId}/revoke`, { key: other.key });
    expect((await get(env, other.key)).status).toBe(401);
    const third = await makeUser();
    expect((await get(env, third.key)).status).toBe(200);
    await api("PATCH", `/api/users/${third.userId}`, { key: admin.key, body: { disabled: true } });
    expect((await get(env, third.key)).status).toBe(401);
  });

  it("AUTH_CACHE_SECONDS=0 turns the cache off; values above 30 are refused", async () => {
    const off = { ...env, AUTH_CACHE_SECONDS: "0" };
    const member = await makeUser();
    // With 0 no entry is written, so a key revoked straight in D1 is refused on the next request.
    const fresh = await makeUser();
    expect((await get(off, fresh.key)).status).toBe(200);
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE user_id = ?").bind(new Date().toISOString(), fresh.userId).run();
    expect((await get(off, fresh.key)).status).toBe(401);
    const bad = await get({ ...env, AUTH_CACHE_SECONDS: "60" }, member.key);
    expect(bad.status).toBe(500);
    expect(((await bad.json()) as { details: { variables: string[] } }).details.variables).toEqual(["AUTH_CACHE_SECONDS"]);
  });
});

describe("non-ASCII look-alikes are refused before case folding", () => {
  it("a message filter or a new user's e-mail with the Kelvin sign (\u212A) is a 400, not a match for k", async () => {
    const member = await makeUser();
    const filter = await api("GET", `/api/messages?mailbox=${encodeURIComponent(`\u212Aate@qa.${root}`)}`, { key: member.key });
    expect(filter.status).toBe(400);
    expect(filter.body.error).toBe("Invalid request");
    const user = await api("POST", "/api/users", { key: admin.key, body: { email: "\u212Aate@example.test", name: "Kate" } });
    expect(user.status).toBe(400);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email = 'kate@example.test'").first("n")).toBe(0);
  });
});

describe("brute-force throttle", () => {
  it("40 parallel bad sign-ins from one client get 5 tries, then a block far longer than 2 s", async () => {
    const ip = freshIp();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api("POST", "/api/auth/session", { body: { apiKey: `km_wrong-key-${i}-000000000000` }, headers: { "cf-connecting-ip": ip } })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(35);
    const blocked = results.find((r) => r.status === 429)!;
    expect(blocked.body.details.code).toBe("auth_throttled");
    // Even a valid key is refused while the block lasts; the block is long, not 2 s.
    const member = await makeUser();
    const again = await signIn(member.key, { "cf-connecting-ip": ip });
    expect(again.res.status).toBe(429);
    expect(Number(again.res.res.headers.get("retry-after"))).toBeGreaterThan(60);
    // Another client is not affected.
    expect((await signIn(member.key, { "cf-connecting-ip": freshIp() })).res.status).toBe(200);
  });

  it("throttles failed Bearer keys by IP too; a good key from that IP is held off, other IPs are not", async () => {
    const ip = freshIp();
    const member = await makeUser();
    for (let i = 0; i < 6; i++) {
      const res = await api("GET", "/api/mailboxes", { key: `km_guess-${i}-00000000000000000000`, headers: { "cf-connecting-ip": ip } });
      expect(res.status).toBe(401);
    }
    const held = await api("GET", "/api/mailboxes", { key: member.key, headers: { "cf-connecting-ip": ip } });
    expect(held.status).toBe(429);
    expect(held.res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await api("GET", "/api/mailboxes", { key: member.key, headers: { "cf-connecting-ip": freshIp() } })).status).toBe(200);
  });

  it("a successful sign-in clears the client's count", async () => {
    const ip = freshIp();
    const member = await makeUser();
    for (let i = 0; i < 4; i++) await api("POST", "/api/auth/session", { body: { apiKey: `km_wrong-${i}-0000000000000000` }, headers: { "cf-connecting-ip": ip } });
    expect((await signIn(member.key, { "cf-connecting-ip": ip })).res.status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const res = await api("POST", "/api/auth/session", { body: { apiKey: `km_wrong-b${i}-000000000000000` }, headers: { "cf-connecting-ip": ip } });
      expect(res.status).toBe(401);
    }
  });
});
