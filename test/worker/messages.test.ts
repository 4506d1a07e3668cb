import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { activeDomain, api, deliverViaWorker, makeUser, resetCloudflare, type Caller } from "./helpers";
import { bytes } from "./mail-fixtures";

/**
 * Issue 15 (server part): unread state (PATCH /api/messages/{id} {seen}), the list's `unread`, `q`
 * and `owner` filters, the mailbox list's `owner` filter and admin-only `owner` field, the admin's
 * POST /api/users/{id}/api-keys, and the raw download named after subject and date.
 */
const root = "messages-ui-test.com";
let admin: Caller;
let member: Caller;
let other: Caller;
let mine: { id: string; address: string };
let theirs: { id: string; address: string };

const mail = (to: string, subject: string, from = `"Acme Accounts" <no-reply@acme.example>`, body = "Hello there.") =>
  bytes(
    `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${crypto.randomUUID()}@sender.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
  );

async function deliver(to: string, subject: string, from?: string, body?: string): Promise<string> {
  await deliverViaWorker(mail(to, subject, from, body), to);
  const row = await env.DB.prepare("SELECT id FROM messages WHERE mailbox_address = ? AND subject = ? ORDER BY received_at DESC LIMIT 1").bind(to, subject).first<{ id: string }>();
  if (!row) throw new Error(`not delivered: ${subject}`);
  return row.id;
}

const ids = (r: { body: { messages: Array<{ id: string }> } }) => r.body.messages.map((m) => m.id).sort();

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  await activeDomain(admin.key, root);
  member = await makeUser("member");
  other = await makeUser("member");
  mine = (await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } })).body;
  theirs = (await api("POST", "/api/mailboxes", { key: other.key, body: { mailDomain: root } })).body;
});

describe("unread state", () => {
  it("a new message is unread; GET does not change it; PATCH marks it seen and unread again", async () => {
    const id = await deliver(mine.address, "Unread state 1");
    const list = await api("GET", `/api/messages?mailboxId=${mine.id}`, { key: member.key });
    expect(list.body.messages.find((m: { id: string }) => m.id === id).seen).toBe(false);
    const got = await api("GET", `/api/messages/${id}`, { key: member.key });
    expect(got.status).toBe(200);
    expect(got.body.message.seen).toBe(false);
    expect((await env.DB.prepare("SELECT seen_at FROM messages WHERE id = ?").bind(id).first())!.seen_at).toBeNull();

    const seen = await api("PATCH", `/api/messages/${id}`, { key: member.key, body: { seen: true } });
    expect(seen.status).toBe(200);
    expect(seen.body.message).toMatchObject({ id, seen: true, subject: "Unread state 1" });
    const first = (await env.DB.prepare("SELECT seen_at FROM messages WHERE id = ?").bind(id).first<{ seen_at: string }>())!.seen_at;
    expect(Date.parse(first)).toBeGreaterThan(Date.now() - 60_000);
    // Seen again keeps the first time.
    await new Promise((r) => setTimeout(r, 5));
    expect((await api("PATCH", `/api/messages/${id}`, { key: member.key, body: { seen: true } })).status).toBe(200);
    expect((await env.DB.prepare("SELECT seen_at FROM messages WHERE id = ?").bind(id).first<{ seen_at: string }>())!.seen_at).toBe(first);
    expect((await api("GET", `/api/messages/${id}`, { key: member.key })).body.message.seen).toBe(true);

    const unseen = await api("PATCH", `/api/messages/${id}`, { key: member.key, body: { seen: false } });
    expect(unseen.status).toBe(200);
    expect(unseen.body.message.seen).toBe(false);
    expect((await env.DB.prepare("SELECT seen_at FROM messages WHERE id = ?").bind(id).first())!.seen_at).toBeNull();
  });

  it("PATCH refuses bad bodies with 400 and others' messages like GET does", async () => {
    const id = await deliver(mine.address, "Unread state 2");
    for (const body of [{}, { seen: "yes" }, { seen: true, extra: 1 }, { seen: null }, "not json"]) {
      const res = await api("PATCH", `/api/messages/${id}`, { key: member.key, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe("Invalid request");
      expect(res.body.details).toBeTruthy();
    }
    const get = await api("GET", `/api/messages/${id}`, { key: other.key });
    const patch = await api("PATCH", `/api/messages/${id}`, { key: other.key, body: { seen: true } });
    expect(patch.status).toBe(get.status);
    expect(patch.body).toEqual(get.body);
    expect((await env.DB.prepare("SELECT seen_at FROM messages WHERE id = ?").bind(id).first())!.seen_at).toBeNull();
    for (const bad of [`msg_${"0".repeat(32)}`, "nope"]) {
      const a = await api("PATCH", `/api/messages/${bad}`, { key: member.key, body: { seen: true } });
      expect(a.status).toBe(404);
      expect(a.body).toEqual((await api("GET", `/api/messages/${bad}`, { key: member.key })).body);
    }
    // An admin may mark anyone's message.
    expect((await api("PATCH", `/api/messages/${id}`, { key: admin.key, body: { seen: true } })).body.message.seen).toBe(true);
    // A key without messages:write may not.
    const readOnly = (await api("POST", "/api/api-keys", { key: member.key, body: { name: "ro", scopes: ["messages:read"] } })).body.apiKey;
    expect((await api("PATCH", `/api/messages/${id}`, { key: readOnly, body: { seen: false } })).status).toBe(403);
  });

  it("unread=true|false filters the list", async () => {
    const box = (await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } })).body;
    const a = await deliver(box.address, "Filter A");
    const b = await deliver(box.address, "Filter B");
    await api("PATCH", `/api/messages/${a}`, { key: member.key, body: { seen: true } });
    expect(ids(await api("GET", `/api/messages?mailboxId=${box.id}&unread=true`, { key: member.key }))).toEqual([b]);
    expect(ids(await api("GET", `/api/messages?mailboxId=${box.id}&unread=false`, { key: member.key }))).toEqual([a]);
    expect(ids(await api("GET", `/api/messages?mailboxId=${box.id}`, { key: member.key }))).toEqual([a, b].sort());
    const bad = await api("GET", `/api/messages?unread=yes`, { key: member.key });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fieldErrors.unread).toBeTruthy();
  });
});

describe("search (q)", () => {
  let box: { id: string; address: string };
  let byCode: string;
  let bySubject: string;
  let bySenderName: string;
  let bySenderAddress: string;
  beforeAll(async () => {
    box = (await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } })).body;
    byCode = await deliver(box.address, "Your sign-in code", `"Shop" <shop@store.example>`, "Your verification code is 583920.");
    bySubject = await deliver(box.address, "Quarterly INVOICE ready", `"Billing" <billing@corp.example>`);
    bySenderName = await deliver(box.address, "Hello", `"Zebra Newsletter" <news@letters.example>`);
    bySenderAddress = await deliver(box.address, "Greetings", `"Someone" <unique-sender@far.example>`);
    // Someone else's message matching every needle stays invisible to the member.
    await deliver(theirs.address, "invoice zebra 583920", `"Zebra" <unique-sender@far.example>`);
  });
  const search = (q: string, key = member.key, extra = "") => api("GET", `/api/messages?q=${encodeURIComponent(q)}${extra}`, { key });

  it("matches subject, sender address and name, and the code, case-insensitively, within the caller's rows", async () => {
    expect(ids(await search("invoice"))).toEqual([bySubject]);
    expect(ids(await search("zebra NEWS"))).toEqual([bySenderName]);
    expect(ids(await search("UNIQUE-SENDER@FAR"))).toEqual([bySenderAddress]);
    expect(ids(await search("583920"))).toEqual([byCode]);
    expect(ids(await search("no such thing anywhere"))).toEqual([]);
    // With other filters: ANDed.
    expect(ids(await search("invoice", member.key, `&mailboxId=${box.id}&unread=true`))).toEqual([bySubject]);
    expect(ids(await search("invoice", member.key, `&unread=false`))).toEqual([]);
    // An admin finds both.
    expect((await search("583920", admin.key)).body.messages.length).toBeGreaterThanOrEqual(2);
    // Blank is no filter; `%` and `_` are literal.
    expect((await search("   ", member.key, `&mailboxId=${box.id}`)).body.messages).toHaveLength(4);
    expect(ids(await search("%"))).toEqual([]);
    expect(ids(await search("_"))).toEqual([]);
  });

  it("refuses a query longer than 200 characters with 400", async () => {
    expect((await search("x".repeat(200))).status).toBe(200);
    const res = await search("x".repeat(201));
    expect(res.status).toBe(400);
    expect(res.body.details.fieldErrors.q).toBeTruthy();
  });
});

describe("owner filters (admins)", () => {
  it("GET /api/messages?owner= narrows an admin's view; a member's foreign owner finds nothing", async () => {
    const m1 = await deliver(mine.address, "Owner filter mine");
    const t1 = await deliver(theirs.address, "Owner filter theirs");
    const adminMine = await api("GET", `/api/messages?owner=${member.userId}&limit=200`, { key: admin.key });
    expect(adminMine.status).toBe(200);
    expect(adminMine.body.messages.map((m: { id: string }) => m.id)).toContain(m1);
    expect(adminMine.body.messages.map((m: { id: string }) => m.id)).not.toContain(t1);
    expect(adminMine.body.messages.every((m: { mailboxId: string }) => m.mailboxId !== theirs.id)).toBe(true);
    const foreign = await api("GET", `/api/messages?owner=${other.userId}`, { key: member.key });
    expect(foreign.status).toBe(200);
    expect(foreign.body.messages).toEqual([]);
    const own = await api("GET", `/api/messages?owner=${member.userId}&limit=200`, { key: member.key });
    expect(own.body.messages.map((m: { id: string }) => m.id)).toContain(m1);
    const bad = await api("GET", `/api/messages?owner=bob`, { key: admin.key });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fieldErrors.owner).toBeTruthy();
  });

  it("GET /api/mailboxes?owner= and the admin-only owner field", async () => {
    const adminList = await api("GET", `/api/mailboxes?owner=${other.userId}`, { key: admin.key });
    expect(adminList.status).toBe(200);
    expect(adminList.body.mailboxes.map((b: { id: string }) => b.id)).toEqual([theirs.id]);
    const email = (await env.DB.prepare("SELECT email FROM users WHERE id = ?").bind(other.userId).first<{ email: string }>())!.email;
    expect(adminList.body.mailboxes[0].owner).toEqual({ id: other.userId, email });
    const all = await api("GET", "/api/mailboxes", { key: admin.key });
    expect(all.body.mailboxes.every((b: { owner?: { id: string } }) => b.owner?.id)).toBe(true);
    expect((await api("GET", `/api/mailboxes/${theirs.id}`, { key: admin.key })).body.owner).toEqual({ id: other.userId, email });
    // A member never sees the field, and a foreign owner finds nothing.
    const memberList = await api("GET", "/api/mailboxes", { key: member.key });
    expect(memberList.body.mailboxes.length).toBeGreaterThan(0);
    expect(memberList.body.mailboxes.every((b: object) => !("owner" in b))).toBe(true);
    expect("owner" in (await api("GET", `/api/mailboxes/${mine.id}`, { key: member.key })).body).toBe(false);
    expect((await api("GET", `/api/mailboxes?owner=${other.userId}`, { key: member.key })).body.mailboxes).toEqual([]);
    expect((await api("GET", `/api/mailboxes?owner=x`, { key: admin.key })).status).toBe(400);
  });
});

describe("POST /api/users/:id/api-keys", () => {
  it("issues a key for the user, shown once, that works as that user", async () => {
    const target = await makeUser("member");
    const res = await api("POST", `/api/users/${target.userId}/api-keys`, { key: admin.key, body: { name: "issued by admin", scopes: ["messages:read", "mailboxes:write"] } });
    expect(res.status).toBe(201);
    expect(res.body.apiKey).toMatch(/^\S{16,}$/);
    expect(res.body.apiKeyRecord).toMatchObject({ name: "issued by admin", scopes: ["messages:read", "mailboxes:write"], revokedAt: null });
    const row = await env.DB.prepare("SELECT user_id, name FROM api_keys WHERE id = ?").bind(res.body.apiKeyRecord.id).first();
    expect(row).toEqual({ user_id: target.userId, name: "issued by admin" });
    const session = await api("GET", "/api/auth/session", { key: res.body.apiKey });
    expect(session.body.user.id).toBe(target.userId);
    // Listed, never with the secret again.
    const listed = await api("GET", `/api/users/${target.userId}/api-keys`, { key: admin.key });
    expect(listed.body.apiKeys.map((k: { id: string }) => k.id)).toContain(res.body.apiKeyRecord.id);
    expect(JSON.stringify(listed.body)).not.toContain(res.body.apiKey);
    // The admin scope alone may issue it (it already creates users with a `*` key).
    const adminOnly = (await api("POST", "/api/api-keys", { key: admin.key, body: { name: "admin only", scopes: ["admin"] } })).body.apiKey;
    const issued = await api("POST", `/api/users/${target.userId}/api-keys`, { key: adminOnly, body: { name: "by admin scope", scopes: ["*"] } });
    expect(issued.status).toBe(201);
    expect(issued.body.apiKeyRecord.scopes).toEqual(["*"]);
    // …but not for itself: an admin-only key cannot mint its own admin a `*` key.
    const self = await api("POST", `/api/users/${admin.userId}/api-keys`, { key: adminOnly, body: { name: "escalate", scopes: ["*"] } });
    expect(self.status).toBe(403);
    expect((await api("POST", `/api/users/${admin.userId}/api-keys`, { key: adminOnly, body: { name: "same", scopes: ["admin"] } })).status).toBe(201);
    // Default scopes like POST /api/api-keys.
    const dflt = await api("POST", `/api/users/${target.userId}/api-keys`, { key: admin.key, body: { name: "default" } });
    expect(dflt.body.apiKeyRecord.scopes).toEqual((await api("POST", "/api/api-keys", { key: target.key, body: { name: "own" } })).body.apiKeyRecord.scopes);
  });

  it("refuses bad input, unknown users, admin scope for a member and members", async () => {
    const target = await makeUser("member");
    for (const body of [{}, { name: "" }, { name: "x", scopes: ["nothing"] }, { name: "x", scopes: [] }]) {
      const res = await api("POST", `/api/users/${target.userId}/api-keys`, { key: admin.key, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.details).toBeTruthy();
    }
    const adminScope = await api("POST", `/api/users/${target.userId}/api-keys`, { key: admin.key, body: { name: "x", scopes: ["admin"] } });
    expect(adminScope.status).toBe(400);
    expect(adminScope.body.details.code).toBe("admin_scope_for_member");
    expect((await api("POST", `/api/users/usr_${"0".repeat(32)}/api-keys`, { key: admin.key, body: { name: "x" } })).status).toBe(404);
    expect((await api("POST", `/api/users/${target.userId}/api-keys`, { key: member.key, body: { name: "x" } })).status).toBe(403);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM api_keys WHERE user_id = ?").bind(target.userId).first<{ n: number }>();
    expect(count!.n).toBe(1);
  });
});

describe("raw download name", () => {
  it("is the subject and the received date, not the id", async () => {
    const id = await deliver(mine.address, "Your code: 123/456");
    const res = await exports.default.fetch(new Request(`http://kaisoumail.test/api/messages/${id}/raw`, { headers: { authorization: `Bearer ${member.key}` } }));
    expect(res.status).toBe(200);
    const cd = res.headers.get("content-disposition")!;
    const receivedAt = (await env.DB.prepare("SELECT received_at FROM messages WHERE id = ?").bind(id).first<{ received_at: string }>())!.received_at;
    const date = receivedAt.slice(0, 16).replace("T", " ").replace(":", "-");
    expect(cd).toContain(`filename="Your code: 123_456 ${date}.eml"`);
    expect(cd).not.toContain(id);
    await res.arrayBuffer();
  });
});
