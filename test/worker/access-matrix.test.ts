import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { RouteScope } from "../../src/auth/scopes";
import { createApiKey } from "../../src/db/users";
import { receiveMessage } from "../../src/mail/inbound";
import { routeTable } from "../../src/router";
import { activeDomain, api, makeUser, resetCloudflare, type Caller } from "./helpers";
import { fixtures, mockEmail } from "./mail-fixtures";

/**
 * Every route in the route table × {anonymous, malformed key, revoked key, key of a disabled user,
 * cookie of a signed-out session, another member, a key without the route's scope, owner member,
 * a key with exactly the route's scope, admin}. A route added later without an entry in `cases`
 * (or without a declared scope) fails this test, so the matrix keeps covering the whole API.
 */
type Who = "anonymous" | "malformed" | "revoked" | "disabled" | "signedOut" | "member" | "other" | "wrongScope" | "rightScope" | "admin";
const WHO: Who[] = ["anonymous", "malformed", "revoked", "disabled", "signedOut", "other", "wrongScope", "member", "rightScope", "admin"];
const UNAUTHENTICATED: Who[] = ["anonymous", "malformed", "revoked", "disabled", "signedOut"];

interface World {
  member: Caller;
  other: Caller;
  admin: Caller;
  revokedKey: string;
  disabledKey: string;
  signedOutCookie: string;
  /** A member the user-admin routes act on (never `member`, whose state is compared). */
  victimId: string;
  domainId: string;
  mailboxId: string;
  messageId: string;
  attachmentId: string;
  keyId: string;
  address: string;
  webhookId: string;
  deliveryId: string;
}

interface Case {
  /** Builds the path (ids of resources owned by `member`) and body. */
  request: (w: World) => { path: string; body?: unknown; headers?: Record<string, string> };
  /** For user routes: does the route act on one resource that belongs to `member`? */
  owned?: boolean;
}

const root = "matrix-test.com";
let seq = 0;

const cases: Record<string, Case> = {
  "GET /health": { request: () => ({ path: "/health" }) },
  "GET /api/meta": { request: () => ({ path: "/api/meta" }) },
  "GET /api/openapi.json": { request: () => ({ path: "/api/openapi.json" }) },
  "GET /api/docs": { request: () => ({ path: "/api/docs" }) },
  "GET /api/auth/session": { request: () => ({ path: "/api/auth/session" }) },
  "POST /api/auth/session": { request: (w) => ({ path: "/api/auth/session", body: { apiKey: w.member.key } }) },
  "DELETE /api/auth/session": { request: () => ({ path: "/api/auth/session" }) },
  "GET /api/api-keys": { request: () => ({ path: "/api/api-keys" }) },
  "POST /api/api-keys": { request: () => ({ path: "/api/api-keys", body: { name: "matrix", scopes: ["keys"] } }) },
  "POST /api/api-keys/:id/revoke": { request: (w) => ({ path: `/api/api-keys/${w.keyId}/revoke` }), owned: true },
  "GET /api/users": { request: () => ({ path: "/api/users" }) },
  "PATCH /api/users/:id": { request: (w) => ({ path: `/api/users/${w.victimId}`, body: { disabled: true } }) },
  "DELETE /api/users/:id": { request: (w) => ({ path: `/api/users/${w.victimId}` }) },
  "GET /api/users/:id/api-keys": { request: (w) => ({ path: `/api/users/${w.victimId}/api-keys` }) },
  "POST /api/users/:id/api-keys": { request: (w) => ({ path: `/api/users/${w.victimId}/api-keys`, body: { name: "issued", scopes: ["messages:read"] } }) },
  "POST /api/users": { request: () => ({ path: "/api/users", body: { email: `new${++seq}@matrix.test`, name: "New" } }) },
  "GET /api/domains": { request: () => ({ path: "/api/domains" }) },
  "GET /api/domains/catalog": { request: () => ({ path: "/api/domains/catalog" }) },
  "POST /api/domains/bind": { request: () => ({ path: "/api/domains/bind", body: { mailDomain: `bind${++seq}.org` } }) },
  "POST /api/domains": { request: () => ({ path: "/api/domains", body: { mailDomain: root, zoneId: "0".repeat(32) } }) },
  "POST /api/domains/:id/retry": { request: (w) => ({ path: `/api/domains/${w.domainId}/retry` }) },
  "POST /api/domains/:id/disable": { request: () => ({ path: `/api/domains/dom_${"0".repeat(32)}/disable` }) },
  "POST /api/domains/:id/delete": { request: (w) => ({ path: `/api/domains/${w.domainId}/delete` }) },
  "POST /api/domains/:id/catch-all/enable": { request: () => ({ path: `/api/domains/dom_${"0".repeat(32)}/catch-all/enable` }) },
  "POST /api/domains/:id/catch-all/disable": { request: () => ({ path: `/api/domains/dom_${"0".repeat(32)}/catch-all/disable` }) },
  "GET /api/mailboxes": { request: (w) => ({ path: `/api/mailboxes?owner=${w.member.userId}` }) },
  "POST /api/mailboxes": { request: () => ({ path: "/api/mailboxes", body: { mailDomain: root } }) },
  "POST /api/mailboxes/ensure": { request: (w) => ({ path: "/api/mailboxes/ensure", body: { address: w.address } }), owned: true },
  "GET /api/mailboxes/resolve": { request: (w) => ({ path: `/api/mailboxes/resolve?address=${w.address}` }), owned: true },
  "GET /api/mailboxes/:id": { request: (w) => ({ path: `/api/mailboxes/${w.mailboxId}` }), owned: true },
  "DELETE /api/mailboxes/:id": { request: (w) => ({ path: `/api/mailboxes/${w.mailboxId}` }), owned: true },
  "GET /api/messages": { request: (w) => ({ path: `/api/messages?owner=${w.member.userId}&unread=true&q=a` }) },
  "GET /api/messages/wait": { request: (w) => ({ path: `/api/messages/wait?mailbox=${w.address}&timeout=1` }), owned: true },
  "GET /api/messages/stream": { request: (w) => ({ path: `/api/messages/stream?mailbox=${w.address}` }), owned: true },
  "GET /api/messages/:id": { request: (w) => ({ path: `/api/messages/${w.messageId}` }), owned: true },
  "GET /api/messages/:id/raw": { request: (w) => ({ path: `/api/messages/${w.messageId}/raw` }), owned: true },
  "GET /api/messages/:id/attachments/:attachmentId": {
    request: (w) => ({ path: `/api/messages/${w.messageId}/attachments/${w.attachmentId}` }),
    owned: true,
  },
  "GET /api/admin/setup": { request: () => ({ path: "/api/admin/setup" }) },
  "GET /api/admin/capacity": { request: () => ({ path: "/api/admin/capacity" }) },
  "POST /mcp": {
    request: () => ({ path: "/mcp", body: { jsonrpc: "2.0", id: 1, method: "tools/list" }, headers: { accept: "application/json, text/event-stream" } }),
  },
  "DELETE /api/messages/:id": { request: (w) => ({ path: `/api/messages/${w.messageId}` }), owned: true },
  "PATCH /api/messages/:id": { request: (w) => ({ path: `/api/messages/${w.messageId}`, body: { seen: true } }), owned: true },
  "GET /api/webhooks": { request: () => ({ path: "/api/webhooks" }) },
  "POST /api/webhooks": { request: () => ({ path: "/api/webhooks", body: { url: `${env.WEBHOOK_RECEIVER_URL}/hook/matrix` } }) },
  "GET /api/webhooks/:id": { request: (w) => ({ path: `/api/webhooks/${w.webhookId}` }), owned: true },
  "PATCH /api/webhooks/:id": { request: (w) => ({ path: `/api/webhooks/${w.webhookId}`, body: { description: "matrix" } }), owned: true },
  "DELETE /api/webhooks/:id": { request: (w) => ({ path: `/api/webhooks/${w.webhookId}` }), owned: true },
  "POST /api/webhooks/:id/rotate-secret": { request: (w) => ({ path: `/api/webhooks/${w.webhookId}/rotate-secret` }), owned: true },
  "POST /api/webhooks/:id/test": { request: (w) => ({ path: `/api/webhooks/${w.webhookId}/test` }), owned: true },
  "GET /api/webhooks/:id/deliveries": { request: (w) => ({ path: `/api/webhooks/${w.webhookId}/deliveries` }), owned: true },
  "POST /api/webhooks/:id/deliveries/:deliveryId/retry": {
    request: (w) => ({ path: `/api/webhooks/${w.webhookId}/deliveries/${w.deliveryId}/retry` }),
    owned: true,
  },
};

let admin: Caller;
let domainId: string;

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  ({ id: domainId } = await activeDomain(admin.key, root));
});

/** Fresh resources owned by a fresh member, so destructive calls never affect another case. */
async function world(): Promise<World> {
  const member = await makeUser("member");
  const other = await makeUser("member");
  const revoked = await makeUser("member");
  await api("POST", `/api/api-keys/${(await api("GET", "/api/api-keys", { key: revoked.key })).body.apiKeys[0].id}/revoke`, { key: revoked.key });
  const disabled = await makeUser("member");
  expect((await api("PATCH", `/api/users/${disabled.userId}`, { key: admin.key, body: { disabled: true } })).status).toBe(200);
  const signedOut = await makeUser("member");
  const signIn = await api("POST", "/api/auth/session", { body: { apiKey: signedOut.key } });
  const signedOutCookie = signIn.res.headers.get("set-cookie")!.split(";")[0]!;
  expect((await api("DELETE", "/api/auth/session", { headers: { cookie: signedOutCookie } })).status).toBe(204);
  const victim = await makeUser("member");
  const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } });
  const delivered = await receiveMessage(mockEmail(fixtures.withAttachments(mb.body.address), { to: mb.body.address }), env);
  const messageId = (delivered as { messageId: string }).messageId;
  const att = await env.DB.prepare("SELECT id FROM message_attachments WHERE message_id = ? ORDER BY position LIMIT 1").bind(messageId).first<{ id: string }>();
  const key = await api("POST", "/api/api-keys", { key: member.key, body: { name: "second" } });
  const hook = await api("POST", "/api/webhooks", { key: member.key, body: { url: `${env.WEBHOOK_RECEIVER_URL}/hook/matrix` } });
  const deliveryId = `evt_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.prepare(
    "INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, status, window_started_at, created_at) VALUES (?, ?, 'webhook.test', '{}', 'failed', ?, ?)",
  )
    .bind(deliveryId, hook.body.webhook.id, new Date().toISOString(), new Date().toISOString())
    .run();
  return {
    member,
    other,
    admin,
    revokedKey: revoked.key,
    disabledKey: disabled.key,
    signedOutCookie,
    victimId: victim.userId,
    domainId,
    mailboxId: mb.body.id,
    messageId,
    attachmentId: att!.id,
    keyId: key.body.apiKeyRecord.id,
    address: mb.body.address,
    webhookId: hook.body.webhook.id,
    deliveryId,
  };
}

/** A scope that does not cover `scope` (nothing implies `webhooks` or `keys`). */
const otherScope = (scope: RouteScope) => (scope === "webhooks" ? "keys" : "webhooks");

async function credentialsFor(who: Who, w: World, scope: RouteScope, access: string): Promise<{ key: string | null; headers?: Record<string, string> }> {
  switch (who) {
    case "anonymous":
      return { key: null };
    case "malformed":
      return { key: "not a valid key" };
    case "revoked":
      return { key: w.revokedKey };
    case "disabled":
      return { key: w.disabledKey };
    case "signedOut":
      return { key: null, headers: { cookie: w.signedOutCookie, origin: "http://kaisoumail.test" } };
    case "wrongScope":
      return { key: (await createApiKey(env.DB, w.member.userId, "wrong-scope", [otherScope(scope)])).apiKey };
    case "rightScope": {
      // Admin routes: an admin's key holding just that scope; others: the member's.
      const owner = access === "admin" ? w.admin : w.member;
      return { key: (await createApiKey(env.DB, owner.userId, "right-scope", scope === "any" ? ["webhooks"] : [scope])).apiKey };
    }
    default:
      return { key: w[who].key };
  }
}

/** Everything `member` owns, as stored: must be identical after another member's call. */
async function memberState(w: World): Promise<string> {
  const rows = await env.DB.batch([
    env.DB.prepare("SELECT * FROM mailboxes WHERE user_id = ? ORDER BY id").bind(w.member.userId),
    env.DB.prepare("SELECT * FROM messages WHERE user_id = ? ORDER BY id").bind(w.member.userId),
    env.DB.prepare("SELECT id, name, revoked_at FROM api_keys WHERE user_id = ? ORDER BY id").bind(w.member.userId),
    env.DB.prepare("SELECT id, url, description, filter_json, enabled, disabled_reason, secret_enc, updated_at FROM webhooks WHERE user_id = ? ORDER BY id").bind(w.member.userId),
  ]);
  return JSON.stringify(rows.map((r) => r.results));
}

describe("access matrix", () => {
  it("has a case for every route in the route table", () => {
    const keys = routeTable.map((r) => `${r.method} ${r.path}`);
    expect(keys.filter((k) => !cases[k])).toEqual([]);
    for (const r of routeTable) expect(["public", "user", "admin"]).toContain(r.access);
  });

  it("every route declares the scope it needs (admin routes the admin scope, public routes none)", () => {
    const scopes = ["any", "mailboxes:read", "mailboxes:write", "messages:read", "messages:write", "webhooks", "keys", "admin"];
    for (const r of routeTable) {
      const name = `${r.method} ${r.path}`;
      expect(scopes, name).toContain(r.scope);
      if (r.access === "admin") expect(r.scope, name).toBe("admin");
      if (r.access === "public") expect(r.scope, name).toBe("any");
      if (r.access === "user") expect(r.scope, name).not.toBe("admin");
    }
  });

  for (const def of routeTable) {
    const name = `${def.method} ${def.path}`;
    it(`${name} (${def.access})`, async () => {
      const c = cases[name];
      expect(c, `no matrix case for ${name}`).toBeDefined();
      const w = await world();
      for (const who of WHO) {
        const { path, body, headers } = c!.request(w);
        const creds = await credentialsFor(who, w, def.scope, def.access);
        const before = await memberState(w);
        const res = await api(def.method, path, { ...creds, body, headers: { ...headers, ...creds.headers } });
        const label = `${who} → ${name} = ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        expect(res.status, label).not.toBe(500);
        const bodyText = JSON.stringify(res.body ?? "");
        if (def.access !== "public" && UNAUTHENTICATED.includes(who)) {
          expect(res.status, label).toBe(401);
          expect(res.body, label).toEqual({ error: "Authentication required", details: null });
          expect(await memberState(w), label).toBe(before);
          continue;
        }
        if (def.access === "admin" && (who === "member" || who === "other" || who === "wrongScope")) {
          expect(res.status, label).toBe(403);
          expect(res.body, label).toEqual({ error: "Admin access required", details: null });
          expect(await memberState(w), label).toBe(before);
          continue;
        }
        if (who === "other" && def.access === "user") {
          // Nothing of the member's is visible to or changed by another member.
          if (c!.owned) expect([403, 404, 409], label).toContain(res.status);
          for (const id of [w.mailboxId, w.messageId, w.keyId, w.address, w.webhookId, w.deliveryId]) expect(bodyText, label).not.toContain(id);
          expect(await memberState(w), label).toBe(before);
          continue;
        }
        if (who === "wrongScope" && def.scope !== "any") {
          expect(res.status, label).toBe(403);
          expect(res.body.details, label).toMatchObject({ code: "insufficient_scope", requiredScope: def.scope });
          expect(await memberState(w), label).toBe(before);
          continue;
        }
        expect([401, 403], label).not.toContain(res.status);
      }
    });
  }

  it("API keys, session tokens and hashes never appear in responses (except the key at creation)", async () => {
    const w = await world();
    const hashes = (await env.DB.prepare("SELECT key_hash FROM api_keys").all<{ key_hash: string }>()).results.map((r) => r.key_hash);
    const session = await api("POST", "/api/auth/session", { body: { apiKey: w.member.key } });
    const cookie = session.res.headers.get("set-cookie")!.split(";")[0]!;
    const token = decodeURIComponent(cookie.split("=")[1]!);
    for (const path of ["/api/auth/session", "/api/api-keys", "/api/mailboxes", "/api/messages"]) {
      const res = await api("GET", path, { key: w.member.key });
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(w.member.key);
      expect(text).not.toContain(token);
      for (const h of hashes) expect(text).not.toContain(h);
    }
    const users = await api("GET", "/api/users", { key: admin.key });
    for (const h of hashes) expect(JSON.stringify(users.body)).not.toContain(h);
    expect(JSON.stringify(session.body)).not.toContain(token);
  });
});
