/**
 * Security review, issue 21: what one member (or one stream of mail) may take from a domain.
 * Per-member mailbox limits and TTL cap, subdomain Email Routing DNS removed with the last mailbox
 * on it, and catch-all mailboxes with a TTL and a per-domain cap.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { runHousekeeping } from "../../src/cron";
import type { Env } from "../../src/env";
import { receiveMessage } from "../../src/mail/inbound";
import { handleFetch } from "../../src/router";
import { activeDomain, api, cfCalls, makeUser, resetCloudflare, sim, simZone, type Caller } from "./helpers";
import { fixtures, mockEmail } from "./mail-fixtures";

let admin: Caller;
let member: Caller;
let seq = 0;
let root: string;
let zoneId: string;
let domainId: string;

beforeEach(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  member = await makeUser("member");
  root = `limits${++seq}.com`;
  ({ id: domainId, zoneId } = await activeDomain(admin.key, root));
  await sim.clearRequests();
});

const execCtx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** The Worker with some settings overridden, called like `api` (one env object: config parsed once). */
function withSettings(vars: Partial<Record<keyof Env, string>>) {
  const configured = { ...env, ...vars } as Env;
  return {
    env: configured,
    async api(method: string, path: string, opts: { key?: string; body?: unknown } = {}) {
      const headers: Record<string, string> = {};
      if (opts.key) headers.authorization = `Bearer ${opts.key}`;
      if (opts.body !== undefined) headers["content-type"] = "application/json";
      const res = await handleFetch(
        new Request(`http://kaisoumail.test${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }),
        configured,
        execCtx,
      );
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, res };
    },
  };
}

const count = (sql: string, ...binds: unknown[]) => env.DB.prepare(sql).bind(...binds).first<number>("n");
const liveOf = (userId: string) =>
  count("SELECT COUNT(*) AS n FROM mailboxes WHERE user_id = ? AND status IN ('creating', 'active') AND (expires_at IS NULL OR expires_at > ?)", userId, new Date().toISOString());

/** Mailbox rows written straight to D1 (no Cloudflare), created `agoMs` ago. */
async function seedMailboxes(userId: string, n: number, agoMs: number, subdomain = "seed") {
  const created = new Date(Date.now() - agoMs).toISOString();
  const expires = new Date(Date.now() + 3600_000).toISOString();
  await env.DB.batch(
    Array.from({ length: n }, (_, i) =>
      env.DB.prepare(
        `INSERT INTO mailboxes (id, user_id, domain_id, local_part, subdomain, root_domain, address, source, status, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'registered', 'active', ?, ?)`,
      ).bind(`mbx_${crypto.randomUUID().replaceAll("-", "")}`, userId, domainId, `seed${i}`, subdomain, root, `seed${i}@${subdomain}.${root}`, created, expires),
    ),
  );
}

function expect429(res: { status: number; body: any; res: Response }, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body).toMatchObject({ error: expect.any(String), details: { code, hint: expect.any(String), limit: expect.any(Number) } });
  const retryAfter = Number(res.res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  expect(res.body.details.retryAfterSeconds).toBe(retryAfter);
  return retryAfter;
}

describe("per-member mailbox limits", () => {
  it("40 parallel creates by one member stop at MEMBER_MAILBOX_CREATES_PER_MINUTE (default 30): 429 mailbox_rate_limited with Retry-After", async () => {
    const results = await Promise.all(Array.from({ length: 40 }, () => api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(30);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(10);
    for (const r of refused) expect(expect429(r, "mailbox_rate_limited")).toBeLessThanOrEqual(60);
    expect(refused[0]!.body.details.limit).toBe(30);
    // Nothing beyond the limit was made, in D1 or in Cloudflare.
    expect(await count("SELECT COUNT(*) AS n FROM mailboxes WHERE user_id = ?", member.userId)).toBe(30);
    expect((await simZone(root))!.rules).toHaveLength(30);
    expect((await cfCalls()).filter((c) => c.startsWith("POST") && c.endsWith("/email/routing/rules"))).toHaveLength(30);
    // Deleting does not give the minute back (create/delete cycles are what the limit is for) …
    expect((await api("DELETE", `/api/mailboxes/${results.find((r) => r.status === 201)!.body.id}`, { key: member.key })).status).toBe(200);
    expect429(await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } }), "mailbox_rate_limited");
    // … ensure of a new address is a create too; another member and admins are not affected.
    expect429(await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: `fresh@x.${root}` } }), "mailbox_rate_limited");
    const other = await makeUser("member");
    expect((await api("POST", "/api/mailboxes", { key: other.key, body: { mailDomain: root } })).status).toBe(201);
    expect((await api("POST", "/api/mailboxes", { key: admin.key, body: { mailDomain: root } })).status).toBe(201);
  });

  it("40 parallel creates never pass MEMBER_MAX_ACTIVE_MAILBOXES; ensure counts; admins are exempt", async () => {
    const app = withSettings({ MEMBER_MAX_ACTIVE_MAILBOXES: "5", MEMBER_MAILBOX_CREATES_PER_MINUTE: "1000" });
    const results = await Promise.all(Array.from({ length: 40 }, () => app.api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } })));
    const made = results.filter((r) => r.status === 201);
    expect(made).toHaveLength(5);
    for (const r of results.filter((r) => r.status !== 201)) expect429(r, "mailbox_quota_exceeded");
    expect(await liveOf(member.userId)).toBe(5);
    expect((await simZone(root))!.rules).toHaveLength(5);
    // Ensure: creating a sixth is refused, an existing one is still answered.
    expect429(await app.api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: `sixth@x.${root}` } }), "mailbox_quota_exceeded");
    expect((await app.api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: made[0]!.body.address } })).status).toBe(200);
    // Deleting one frees a slot.
    expect((await app.api("DELETE", `/api/mailboxes/${made[0]!.body.id}`, { key: member.key })).status).toBe(200);
    expect((await app.api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } })).status).toBe(201);
    expect(await liveOf(member.userId)).toBe(5);
    // Admins are not counted against it.
    const adminMade = await Promise.all(Array.from({ length: 8 }, () => app.api("POST", "/api/mailboxes", { key: admin.key, body: { mailDomain: root } })));
    expect(adminMade.map((r) => r.status)).toEqual(Array(8).fill(201));
  });

  it("the default limit is 100 live mailboxes; expired ones still count (they hold their rule) until deleted", async () => {
    await seedMailboxes(member.userId, 100, 10 * 60_000);
    const full = await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } });
    expect429(full, "mailbox_quota_exceeded");
    expect(full.body.details).toMatchObject({ limit: 100, live: 100 });
    // The soonest expiry (1 h away) plus the 24 h grace is when a slot frees up by itself.
    expect(Number(full.res.headers.get("retry-after"))).toBeGreaterThan(25 * 3600 - 100);
    expect(await count("SELECT COUNT(*) AS n FROM mailboxes WHERE user_id = ?", member.userId)).toBe(100);
    expect(await cfCalls()).toEqual([]);

    // Expired (overdue or marked) mailboxes keep their routing rule for the grace period: they count.
    const past = new Date(Date.now() - 1000).toISOString();
    await env.DB.prepare("UPDATE mailboxes SET expires_at = ? WHERE user_id = ? AND local_part = 'seed0'").bind(past, member.userId).run();
    await env.DB.prepare("UPDATE mailboxes SET status = 'expired', expires_at = ? WHERE user_id = ? AND local_part = 'seed1'").bind(past, member.userId).run();
    expect429(await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } }), "mailbox_quota_exceeded");
    // Reviving an expired one changes no count, so it is allowed.
    const revive = await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: `seed1@seed.${root}`, expiresInMinutes: 120 } });
    expect(revive.status).toBe(200);
    expect(revive.body.status).toBe("active");
    // Deleting one frees a slot at once.
    const victim = (await env.DB.prepare("SELECT id FROM mailboxes WHERE user_id = ? AND local_part = 'seed0'").bind(member.userId).first<string>("id"))!;
    expect((await api("DELETE", `/api/mailboxes/${victim}`, { key: member.key })).status).toBe(200);
    expect((await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } })).status).toBe(201);
  });
});

describe("MEMBER_MAX_TTL_MINUTES", () => {
  it("members may not ask for unlimited or longer than 7 days (400 mailbox_ttl_too_long, nothing changes); admins may", async () => {
    for (const expiresInMinutes of [null, 10_081, 525_600]) {
      const res = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "long", subdomain: "ttl", mailDomain: root, expiresInMinutes } });
      expect(res.status, String(expiresInMinutes)).toBe(400);
      expect(res.body).toMatchObject({ error: expect.stringMatching(/never expire|longer than members may choose/), details: { code: "mailbox_ttl_too_long", maxExpiresInMinutes: 10_080, hint: expect.any(String) } });
      const ensured = await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: `long@ttl.${root}`, expiresInMinutes } });
      expect(ensured.status).toBe(400);
      expect(ensured.body.details.code).toBe("mailbox_ttl_too_long");
    }
    expect(await count("SELECT COUNT(*) AS n FROM mailboxes WHERE user_id = ?", member.userId)).toBe(0);
    expect(await cfCalls()).toEqual([]);

    const week = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "week", subdomain: "ttl", mailDomain: root, expiresInMinutes: 10_080 } });
    expect(week.status).toBe(201);
    // Ensure cannot extend past the cap either: the expiry stays as it was.
    const extend = await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: week.body.address, expiresInMinutes: null } });
    expect(extend.status).toBe(400);
    expect((await api("GET", `/api/mailboxes/${week.body.id}`, { key: member.key })).body.expiresAt).toBe(week.body.expiresAt);

    const forever = await api("POST", "/api/mailboxes", { key: admin.key, body: { localPart: "forever", subdomain: "ttl", mailDomain: root, expiresInMinutes: null } });
    expect(forever.status).toBe(201);
    expect(forever.body.expiresAt).toBeNull();
    expect((await api("POST", "/api/mailboxes/ensure", { key: admin.key, body: { address: week.body.address, expiresInMinutes: null } })).body.expiresAt).toBeNull();
    // The web page learns the cap from /api/meta (it offers members no longer preset).
    expect((await api("GET", "/api/meta")).body.memberMaxMailboxTtlMinutes).toBe(10_080);
  });

  it("0 lifts the cap (unlimited allowed); an omitted TTL is the default shortened to the cap; bad values name the variable", async () => {
    const open = withSettings({ MEMBER_MAX_TTL_MINUTES: "0" });
    const res = await open.api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root, expiresInMinutes: null } });
    expect(res.status).toBe(201);
    expect(res.body.expiresAt).toBeNull();
    expect((await open.api("GET", "/api/meta")).body.memberMaxMailboxTtlMinutes).toBeNull();

    const capped = withSettings({ MEMBER_MAX_TTL_MINUTES: "120", DEFAULT_MAILBOX_TTL_MINUTES: "1440" });
    const short = await capped.api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } });
    expect(short.status).toBe(201);
    expect(Math.round((Date.parse(short.body.expiresAt) - Date.parse(short.body.createdAt)) / 60_000)).toBe(120);
    const adminDefault = await capped.api("POST", "/api/mailboxes", { key: admin.key, body: { mailDomain: root } });
    expect(Math.round((Date.parse(adminDefault.body.expiresAt) - Date.parse(adminDefault.body.createdAt)) / 60_000)).toBe(1440);

    const bad = await withSettings({ MEMBER_MAX_TTL_MINUTES: "30" }).api("GET", "/api/mailboxes", { key: member.key });
    expect(bad.status).toBe(500);
    expect(bad.body).toMatchObject({ error: "Invalid configuration", details: { variables: ["MEMBER_MAX_TTL_MINUTES"] } });
  });
});

describe("subdomain Email Routing DNS", () => {
  const dnsDelete = () => `DELETE /client/v4/zones/${zoneId}/email/routing/dns`;
  const dnsNames = async () => Object.keys((await simZone(root))!.dns);

  it("is removed once, with the last live mailbox on the subdomain, and enabled again by the next create", async () => {
    const a = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "a", subdomain: "fresh", mailDomain: root } });
    const b = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "b", subdomain: "fresh", mailDomain: root } });
    expect(await dnsNames()).toContain(`fresh.${root}`);
    await sim.clearRequests();
    expect((await api("DELETE", `/api/mailboxes/${a.body.id}`, { key: member.key })).status).toBe(200);
    expect(await cfCalls()).toEqual([`DELETE /client/v4/zones/${zoneId}/email/routing/rules/${a.body.routingRuleId}`]);
    expect(await dnsNames()).toContain(`fresh.${root}`);

    await sim.clearRequests();
    const del = await api("DELETE", `/api/mailboxes/${b.body.id}`, { key: member.key });
    expect(del.status).toBe(200);
    expect(del.body.status).toBe("destroyed");
    expect(await cfCalls()).toEqual([`DELETE /client/v4/zones/${zoneId}/email/routing/rules/${b.body.routingRuleId}`, dnsDelete()]);
    const names = await dnsNames();
    expect(names).not.toContain(`fresh.${root}`);
    expect(names).toContain(root); // the apex is the domain's, not the subdomain's

    // The memo was forgotten: a new mailbox there enables its DNS again.
    await sim.clearRequests();
    expect((await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "c", subdomain: "fresh", mailDomain: root } })).status).toBe(201);
    expect((await cfCalls())[0]).toBe(`POST /client/v4/zones/${zoneId}/email/routing/dns`);
    expect(await dnsNames()).toContain(`fresh.${root}`);
  });

  it("is kept while catch-all is on", async () => {
    expect((await api("POST", `/api/domains/${domainId}/catch-all/enable`, { key: admin.key })).status).toBe(200);
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "only", subdomain: "covered", mailDomain: root } });
    expect(mb.status).toBe(201);
    await sim.clearRequests();
    expect((await api("DELETE", `/api/mailboxes/${mb.body.id}`, { key: member.key })).status).toBe(200);
    expect(await cfCalls()).toEqual([]);
    expect(await dnsNames()).toContain(`covered.${root}`);
  });

  it("a failed removal does not fail the destroy; the next last-mailbox destroy there tries again", async () => {
    const first = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "one", subdomain: "flaky", mailDomain: root } });
    await sim.fault({ method: "DELETE", path: "/zones/:id/email/routing/dns", kind: "5xx", count: 1 });
    const del = await api("DELETE", `/api/mailboxes/${first.body.id}`, { key: member.key });
    expect(del.status).toBe(200);
    expect(del.body.status).toBe("destroyed");
    expect(await dnsNames()).toContain(`flaky.${root}`);

    const second = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "two", subdomain: "flaky", mailDomain: root } });
    expect(second.status).toBe(201);
    await sim.clearRequests();
    expect((await api("DELETE", `/api/mailboxes/${second.body.id}`, { key: member.key })).status).toBe(200);
    expect((await cfCalls()).filter((c) => c === dnsDelete())).toHaveLength(1);
    expect(await dnsNames()).not.toContain(`flaky.${root}`);
  });

  it("a create on the same subdomain at the same moment as the last delete never ends without its DNS", async () => {
    for (let round = 0; round < 4; round++) {
      const sub = `race${round}`;
      const old = await api("POST", "/api/mailboxes", { key: admin.key, body: { localPart: "old", subdomain: sub, mailDomain: root } });
      const [del, created] = await Promise.all([
        api("DELETE", `/api/mailboxes/${old.body.id}`, { key: admin.key }),
        api("POST", "/api/mailboxes", { key: admin.key, body: { localPart: "new", subdomain: sub, mailDomain: root } }),
      ]);
      expect(del.status).toBe(200);
      expect(created.status).toBe(201);
      expect(await dnsNames(), sub).toContain(`${sub}.${root}`);
    }
  });
});

describe("catch-all mailboxes", () => {
  const deliver = async (to: string, app = env as Env) => {
    const msg = mockEmail(fixtures.plain(to), { to });
    return { msg, result: await receiveMessage(msg, app) };
  };

  it("get CATCH_ALL_MAILBOX_TTL_MINUTES, and the cron expires and destroys them (mail and rows gone, no rule to delete)", async () => {
    expect((await api("POST", `/api/domains/${domainId}/catch-all/enable`, { key: admin.key })).status).toBe(200);
    const app = withSettings({ CATCH_ALL_MAILBOX_TTL_MINUTES: "120" });
    const to = `anything@random.${root}`;
    const { result } = await deliver(to, app.env);
    expect(result.kind).toBe("stored");
    const row = (await env.DB.prepare("SELECT * FROM mailboxes WHERE address = ?").bind(to).first<{ id: string; created_at: string; expires_at: string | null }>())!;
    expect(row.expires_at).not.toBeNull();
    expect(Date.parse(row.expires_at!) - Date.parse(row.created_at)).toBe(120 * 60_000);
    expect((await env.MAIL_BUCKET.list({ prefix: `raw/${row.id}/` })).objects).toHaveLength(1);

    // Only this mailbox is due in this test: earlier tests' mailboxes are not the cron's business here.
    await env.DB.prepare("UPDATE mailboxes SET status = 'destroyed' WHERE id <> ? AND status <> 'destroyed'").bind(row.id).run();
    await sim.clearRequests();
    const afterTtl = Date.now() + 121 * 60_000;
    expect((await runHousekeeping(env, afterTtl)).expired).toBe(1);
    expect(await env.DB.prepare("SELECT status FROM mailboxes WHERE id = ?").bind(row.id).first("status")).toBe("expired");
    expect((await deliver(to)).msg.rejected).toBe("Mailbox unavailable");
    const run = await runHousekeeping(env, afterTtl + 25 * 3600_000);
    expect(run).toMatchObject({ destroyed: 1, failed: 0 });
    expect(await env.DB.prepare("SELECT status FROM mailboxes WHERE id = ?").bind(row.id).first("status")).toBe("destroyed");
    expect(await count("SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?", row.id)).toBe(0);
    expect((await env.MAIL_BUCKET.list({ prefix: `raw/${row.id}/` })).objects).toHaveLength(0);
    // No literal rule to delete, and catch-all keeps the subdomain's DNS: Cloudflare is not called.
    expect(await cfCalls()).toEqual([]);
  });

  it("stop at CATCH_ALL_MAX_MAILBOXES live per domain: new addresses are refused, the setup doctor warns the admin", async () => {
    expect((await api("POST", `/api/domains/${domainId}/catch-all/enable`, { key: admin.key })).status).toBe(200);
    const app = withSettings({ CATCH_ALL_MAX_MAILBOXES: "3" });
    // Eight new addresses at once: exactly three mailboxes.
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => deliver(`new${i}@spray.${root}`, app.env)));
    expect(results.filter((r) => r.result.kind === "stored")).toHaveLength(3);
    const refused = results.filter((r) => r.result.kind === "rejected");
    expect(refused).toHaveLength(5);
    for (const r of refused) expect(r.msg.rejected).toMatch(/catch-all mailbox limit of .* is reached/);
    expect(await count("SELECT COUNT(*) AS n FROM mailboxes WHERE domain_id = ? AND source = 'catch_all'", domainId)).toBe(3);
    expect(await count("SELECT COUNT(*) AS n FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.domain_id = ?", domainId)).toBe(3);
    // Addresses that already have a mailbox still receive.
    const known = results.find((r) => r.result.kind === "stored")!.msg.to;
    expect((await deliver(known, app.env)).result.kind).toBe("stored");

    const doctor = await app.api("GET", "/api/admin/setup", { key: admin.key });
    expect(doctor.status).toBe(200);
    expect(doctor.body.warnings.filter((w: { rootDomain: string }) => w.rootDomain === root)).toEqual([
      expect.objectContaining({ id: "catch_all_limit_reached", rootDomain: root, detail: expect.stringContaining("3 live catch-all mailboxes (limit 3)"), fix: expect.stringContaining("CATCH_ALL_MAX_MAILBOXES") }),
    ]);
    // Under the default cap (500) there is nothing to warn about.
    const plain = await api("GET", "/api/admin/setup", { key: admin.key });
    expect(plain.body.warnings.filter((w: { rootDomain: string }) => w.rootDomain === root)).toEqual([]);
  });
});
