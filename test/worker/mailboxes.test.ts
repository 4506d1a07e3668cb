import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { runHousekeeping } from "../../src/cron";
import { receiveMessage } from "../../src/mail/inbound";
import { activeDomain, api, cfCalls, makeUser, resetCloudflare, sim, simZone, type Caller } from "./helpers";
import { fixtures, mockEmail } from "./mail-fixtures";

let admin: Caller;
let member: Caller;
let other: Caller;
let seq = 0;
let root: string;
let zoneId: string;
let domainId: string;

beforeEach(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  member = await makeUser("member");
  other = await makeUser("member");
  root = `mbx${++seq}.test-mail.com`.replace(".test-mail", "testmail");
  ({ id: domainId, zoneId } = await activeDomain(admin.key, root));
  await sim.clearRequests();
});

describe("POST /api/mailboxes", () => {
  it("creates a chosen address with subdomain DNS and a literal rule", async () => {
    const res = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "alice", subdomain: "signup", mailDomain: root } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      localPart: "alice",
      subdomain: "signup",
      mailDomain: root,
      rootDomain: root,
      address: `alice@signup.${root}`,
      source: "registered",
      status: "active",
      userId: member.userId,
    });
    expect(res.body.routingRuleId).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(await cfCalls()).toEqual([
      `POST /client/v4/zones/${zoneId}/email/routing/dns`,
      `GET /client/v4/zones/${zoneId}/email/routing/rules`,
      `POST /client/v4/zones/${zoneId}/email/routing/rules`,
    ]);
    const z = (await simZone(root))!;
    expect(z.rules).toHaveLength(1);
    expect(z.rules[0]).toMatchObject({
      name: `Mailbox alice@signup.${root}`,
      matchers: [{ type: "literal", field: "to", value: `alice@signup.${root}` }],
      actions: [{ type: "worker", value: ["kaisoumail"] }],
    });
    // A second mailbox on the same subdomain: one call, the rule. (Unlimited: admins only.)
    await sim.clearRequests();
    const second = await api("POST", "/api/mailboxes", { key: admin.key, body: { localPart: "bob", subdomain: "signup", rootDomain: root, expiresInMinutes: null } });
    expect(second.status).toBe(201);
    expect(second.body.expiresAt).toBeNull();
    expect(await cfCalls()).toEqual([`POST /client/v4/zones/${zoneId}/email/routing/rules`]);
  });

  it("generates readable random addresses on a random active domain", async () => {
    // Earlier tests' domains lost their zones when the simulator was reset: keep only this one active.
    await env.DB.prepare("UPDATE domains SET status = 'disabled' WHERE root_domain <> ?").bind(root).run();
    const res = await api("POST", "/api/mailboxes", { key: member.key, body: {} });
    expect(res.status).toBe(201);
    expect(res.body.address).toMatch(/^[a-z0-9-]+@[a-z0-9.-]+\.[a-z0-9.-]+$/);
    expect(res.body.address.endsWith(`.${res.body.rootDomain}`)).toBe(true);
  });

  it("validates input and changes nothing", async () => {
    for (const body of [
      { localPart: "Alice", subdomain: "x" },
      { localPart: "a", subdomain: "-bad" },
      { expiresInMinutes: 59 },
      { expiresInMinutes: 525601 },
      { mailDomain: "a.com", rootDomain: "b.com" },
      { expiresInMinutes: "60" },
    ]) {
      const res = await api("POST", "/api/mailboxes", { key: member.key, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe("Invalid request");
      expect(res.body.details).toHaveProperty("fieldErrors");
    }
    const unknown = await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: "not-enabled.com" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("Mailbox domain is not enabled");
    expect(await cfCalls()).toEqual([]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM mailboxes WHERE root_domain = ?").bind(root).first("n")).toBe(0);
  });

  it("answers 409 mailbox_exists with the mailbox to its owner only", async () => {
    const body = { localPart: "dup", subdomain: "x", mailDomain: root };
    expect((await api("POST", "/api/mailboxes", { key: member.key, body })).status).toBe(201);
    const mine = await api("POST", "/api/mailboxes", { key: member.key, body });
    expect(mine.status).toBe(409);
    expect(mine.body.details.code).toBe("mailbox_exists");
    expect(mine.body.details.mailbox.address).toBe(`dup@x.${root}`);
    const theirs = await api("POST", "/api/mailboxes", { key: other.key, body });
    expect(theirs.status).toBe(409);
    expect(theirs.body.details.mailbox).toBeUndefined();
  });

  it("rolls back when Cloudflare fails half way: no mailbox without its rule", async () => {
    await sim.fault({ method: "POST", path: "/zones/:id/email/routing/rules", kind: "5xx", count: 1 });
    const res = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "fail", subdomain: "x", mailDomain: root } });
    expect(res.status).toBe(503);
    // DNS for the subdomain was enabled before the rule failed; the mailbox row is gone again.
    expect((await cfCalls())[0]).toBe(`POST /client/v4/zones/${zoneId}/email/routing/dns`);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM mailboxes WHERE address = ?").bind(`fail@x.${root}`).first("n")).toBe(0);
    expect((await simZone(root))!.rules).toHaveLength(0);
    // The address can be created once Cloudflare recovers.
    const again = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "fail", subdomain: "x", mailDomain: root } });
    expect(again.status).toBe(201);
  });

  it("answers routing_rule_limit at 200 rules and names catch-all", async () => {
    for (let i = 0; i < 199; i++) {
      await fetch(`${env.SIM_URL}/client/v4/zones/${zoneId}/email/routing/rules`, {
        method: "POST",
        headers: { authorization: "Bearer sim-full-access-token-0000000000000000000000", "content-type": "application/json" },
        body: JSON.stringify({ name: `r${i}`, matchers: [{ type: "literal", field: "to", value: `r${i}@other.${root}` }], actions: [{ type: "drop" }] }),
      });
    }
    const ok = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "last", subdomain: "x", mailDomain: root } });
    expect(ok.status).toBe(201);
    const full = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "over", subdomain: "x", mailDomain: root } });
    expect(full.status, JSON.stringify(full.body)).toBe(409);
    expect(full.body.details.code).toBe("routing_rule_limit");
    expect(full.body.details.hint).toMatch(/catch-all/);
    // With catch-all on, no per-address rule is needed.
    expect((await api("POST", `/api/domains/${domainId}/catch-all/enable`, { key: admin.key })).status).toBe(200);
    const covered = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "over", subdomain: "x", mailDomain: root } });
    expect(covered.status).toBe(201);
    expect(covered.body.routingRuleId).toBeNull();
  });
});

describe("POST /api/mailboxes/ensure", () => {
  it("creates (201), reuses (200), only extends TTL, and revives expired mailboxes", async () => {
    const first = await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: `Keep@Box.${root}`, expiresInMinutes: 120 } });
    expect(first.status).toBe(201);
    expect(first.body.address).toBe(`keep@box.${root}`);
    const shorter = await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: `keep@box.${root}`, expiresInMinutes: 60 } });
    expect(shorter.status).toBe(200);
    expect(shorter.body.expiresAt).toBe(first.body.expiresAt);
    await env.DB.prepare("UPDATE mailboxes SET expires_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), first.body.id).run();
    const got = await api("GET", `/api/mailboxes/${first.body.id}`, { key: member.key });
    expect(got.body.status).toBe("expired");
    const revived = await api("POST", "/api/mailboxes/ensure", {
      key: member.key,
      body: { localPart: "keep", subdomain: "box", mailDomain: root, expiresInMinutes: 1440 },
    });
    expect(revived.status).toBe(200);
    expect(revived.body).toMatchObject({ id: first.body.id, status: "active" });
    expect(Date.parse(revived.body.expiresAt) - Date.now()).toBeGreaterThan(1439 * 60_000);
  });

  it("rejects mixed shapes and unknown roots", async () => {
    const mixed = await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: `a@b.${root}`, localPart: "a" } });
    expect(mixed.status).toBe(400);
    const bad = await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: "a@b.unknown.org" } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: "Invalid mailbox address", details: { activeRootDomains: expect.arrayContaining([root]) } });
  });
});

describe("resolve, list, get, delete", () => {
  it("members see only their own mailboxes; admins see all", async () => {
    const mine = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "m1", subdomain: "s", mailDomain: root } });
    const theirs = await api("POST", "/api/mailboxes", { key: other.key, body: { localPart: "o1", subdomain: "s", mailDomain: root } });
    const list = await api("GET", "/api/mailboxes", { key: member.key });
    expect(list.body.mailboxes.map((m: { id: string }) => m.id)).toEqual([mine.body.id]);
    const all = await api("GET", "/api/mailboxes", { key: admin.key });
    expect(all.body.mailboxes.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining([mine.body.id, theirs.body.id]));
    expect((await api("GET", `/api/mailboxes/${theirs.body.id}`, { key: member.key })).status).toBe(403);
    expect((await api("DELETE", `/api/mailboxes/${theirs.body.id}`, { key: member.key })).status).toBe(403);
    expect((await api("GET", `/api/mailboxes/resolve?address=o1@s.${root}`, { key: member.key })).status).toBe(404);
    expect((await api("GET", `/api/mailboxes/resolve?address=M1@S.${root}`, { key: member.key })).body.id).toBe(mine.body.id);
    expect((await api("GET", "/api/mailboxes?status=bogus", { key: member.key })).status).toBe(400);
    const filtered = await api("GET", "/api/mailboxes?status=expired&status=destroyed", { key: member.key });
    expect(filtered.body.mailboxes).toEqual([]);
  });

  it("delete removes the rule, the mail and marks it destroyed; the address can be reused", async () => {
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "gone", subdomain: "s", mailDomain: root } });
    await env.MAIL_BUCKET.put(`raw/${mb.body.id}/m.eml`, "x");
    await env.DB.prepare(
      "INSERT INTO messages (id, user_id, mailbox_id, mailbox_address, envelope_to, subject, preview_text, received_at, size_bytes, parse_status, raw_r2_key) VALUES ('msg_1', ?, ?, ?, ?, 's', 'p', ?, 1, 'parsed', ?)",
    )
      .bind(member.userId, mb.body.id, mb.body.address, mb.body.address, new Date().toISOString(), `raw/${mb.body.id}/m.eml`)
      .run();
    await sim.clearRequests();
    const del = await api("DELETE", `/api/mailboxes/${mb.body.id}`, { key: member.key });
    expect(del.status).toBe(200);
    expect(del.body.status).toBe("destroyed");
    expect(await cfCalls()).toEqual([
      `DELETE /client/v4/zones/${zoneId}/email/routing/rules/${mb.body.routingRuleId}`,
      // It was the last mailbox on its subdomain: that subdomain's Email Routing DNS goes too.
      `DELETE /client/v4/zones/${zoneId}/email/routing/dns`,
    ]);
    expect(await env.MAIL_BUCKET.get(`raw/${mb.body.id}/m.eml`)).toBeNull();
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?").bind(mb.body.id).first("n")).toBe(0);
    expect((await simZone(root))!.rules).toHaveLength(0);
    const again = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "gone", subdomain: "s", mailDomain: root } });
    expect(again.status).toBe(201);
  });

  it("a failed delete stays destroying and the cron finishes it", async () => {
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "later", subdomain: "s", mailDomain: root } });
    await sim.fault({ method: "DELETE", path: "/zones/:id/email/routing/rules/:rule", kind: "5xx", count: 1 });
    const del = await api("DELETE", `/api/mailboxes/${mb.body.id}`, { key: member.key });
    expect(del.status).toBe(503);
    expect(del.body.details.mailbox.status).toBe("destroying");
    const later = Date.now() + 6 * 60_000;
    const run = await runHousekeeping(env, later);
    expect(run.destroyed).toBe(1);
    expect((await api("GET", `/api/mailboxes/${mb.body.id}`, { key: member.key })).body.status).toBe("destroyed");
    expect((await simZone(root))!.rules).toHaveLength(0);
  });

  it("the cron expires overdue mailboxes and destroys them after 24 h", async () => {
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "old", subdomain: "s", mailDomain: root } });
    const afterTtl = Date.now() + 2 * 3600_000;
    expect((await runHousekeeping(env, afterTtl)).expired).toBeGreaterThanOrEqual(1);
    expect((await api("GET", `/api/mailboxes/${mb.body.id}`, { key: member.key })).body.status).toBe("expired");
    await runHousekeeping(env, afterTtl + 25 * 3600_000);
    expect((await api("GET", `/api/mailboxes/${mb.body.id}`, { key: member.key })).body.status).toBe("destroyed");
  });

  it("deleting a domain with live mailboxes answers 409", async () => {
    const bound = await api("POST", "/api/domains/bind", { key: admin.key, body: { mailDomain: `b${seq}.org` } });
    await sim.activate(bound.body.zoneId);
    const retried = await api("POST", `/api/domains/${bound.body.id}/retry`, { key: admin.key });
    expect(retried.body.status).toBe("active");
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "x", subdomain: "y", mailDomain: `b${seq}.org` } });
    const blocked = await api("POST", `/api/domains/${bound.body.id}/delete`, { key: admin.key });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error).toBe("Mailbox domain still has non-destroyed mailboxes");
    await api("DELETE", `/api/mailboxes/${mb.body.id}`, { key: member.key });
    const deleted = await api("POST", `/api/domains/${bound.body.id}/delete`, { key: admin.key });
    expect(deleted.status).toBe(204);
    expect(await simZone(`b${seq}.org`)).toBeUndefined();
  });
});

describe("GET /api/mailboxes pages", () => {
  /** 25 rows for `member`, written straight to D1; some share a creation time (the id breaks the tie). */
  async function seed25(): Promise<string[]> {
    const base = Date.now() - 3600_000;
    const rows = Array.from({ length: 25 }, (_, i) => ({
      id: `mbx_${crypto.randomUUID().replaceAll("-", "")}`,
      created: new Date(base + Math.floor(i / 3) * 1000).toISOString(),
      i,
    }));
    await env.DB.batch(
      rows.map((r) =>
        env.DB.prepare(
          `INSERT INTO mailboxes (id, user_id, domain_id, local_part, subdomain, root_domain, address, source, status, created_at, expires_at)
           VALUES (?, ?, ?, ?, 'page', ?, ?, 'registered', 'active', ?, ?)`,
        ).bind(r.id, member.userId, domainId, `p${r.i}`, root, `p${r.i}@page.${root}`, r.created, new Date(Date.now() + 3600_000).toISOString()),
      ),
    );
    // Newest first, id descending within one creation time.
    return rows.sort((a, b) => (a.created === b.created ? (a.id < b.id ? 1 : -1) : a.created < b.created ? 1 : -1)).map((r) => r.id);
  }

  it("pages 25 mailboxes by 10 with an opaque cursor: no gaps, no duplicates, null at the end", async () => {
    const expected = await seed25();
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { mailboxes: Array<{ id: string }>; nextCursor: string | null } } = await api(
        "GET",
        `/api/mailboxes?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        { key: member.key },
      );
      expect(res.status).toBe(200);
      sizes.push(res.body.mailboxes.length);
      seen.push(...res.body.mailboxes.map((m) => m.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([10, 10, 5]);
    expect(seen).toEqual(expected);
    // A caller who passes nothing gets the first page (up to 100) in the same order.
    const plain = await api("GET", "/api/mailboxes", { key: member.key });
    expect(plain.body.mailboxes.map((m: { id: string }) => m.id)).toEqual(expected);
    expect(plain.body.nextCursor).toBeNull();
    // The cursor combines with the status filter.
    const first = await api("GET", "/api/mailboxes?status=active&limit=20", { key: member.key });
    const rest = await api("GET", `/api/mailboxes?status=active&limit=20&cursor=${encodeURIComponent(first.body.nextCursor)}`, { key: member.key });
    expect([...first.body.mailboxes, ...rest.body.mailboxes].map((m: { id: string }) => m.id)).toEqual(expected);
    expect(rest.body.nextCursor).toBeNull();
  });

  it("refuses a bad cursor or limit with 400 {error, details}", async () => {
    const forged = btoa(`${new Date().toISOString()}|msg_${"0".repeat(32)}`).replace(/=+$/, "");
    for (const q of ["cursor=%%%", "cursor=bm90LWEtY3Vyc29y", `cursor=${forged}`, "limit=0", "limit=1001", "limit=ten"]) {
      const res = await api("GET", `/api/mailboxes?${q}`, { key: member.key });
      expect(res.status, q).toBe(400);
      expect(res.body.error).toBe("Invalid request");
      expect(res.body.details.fieldErrors, q).toHaveProperty(q.split("=")[0]!);
    }
  });
});

describe("addresses are ASCII before they are case-folded", () => {
  it("refuses the Kelvin sign (U+212A) wherever an address enters instead of folding it into k", async () => {
    const keep = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "keep", subdomain: "box", mailDomain: root } });
    expect(keep.status).toBe(201);
    const kelvin = `\u212Aeep@box.${root}`;
    expect(kelvin.toLowerCase()).toBe(`keep@box.${root}`); // what folding first would have done

    const ensured = await api("POST", "/api/mailboxes/ensure", { key: member.key, body: { address: kelvin, expiresInMinutes: 1440 } });
    expect(ensured.status).toBe(400);
    expect(ensured.body).toMatchObject({ error: "Invalid request", details: { fieldErrors: { address: [expect.stringMatching(/ASCII/)] } } });
    const resolved = await api("GET", `/api/mailboxes/resolve?address=${encodeURIComponent(kelvin)}`, { key: member.key });
    expect(resolved.status).toBe(400);
    expect(resolved.body.details.fieldErrors.address).toBeDefined();
    const created = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "\u212Aeep", subdomain: "box", mailDomain: root } });
    expect(created.status).toBe(400);
    // A domain with a k in it: "\u212A…" must not pick it.
    const kRoot = `kelvin${seq}.org`;
    await activeDomain(admin.key, kRoot);
    const onK = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "x", subdomain: "y", mailDomain: `\u212A${kRoot.slice(1)}` } });
    expect(onK.status).toBe(400);
    expect(onK.body.details.fieldErrors.mailDomain).toBeDefined();
    // Nothing changed: one mailbox, its expiry as created.
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM mailboxes WHERE user_id = ?").bind(member.userId).first("n")).toBe(1);
    expect((await api("GET", `/api/mailboxes/${keep.body.id}`, { key: member.key })).body.expiresAt).toBe(keep.body.expiresAt);

    // Inbound: mail to the look-alike is refused, not put in keep@'s inbox.
    const msg = mockEmail(fixtures.plain(kelvin), { to: kelvin });
    expect((await receiveMessage(msg, env)).kind).toBe("rejected");
    expect(msg.rejected).toBe("Mailbox unavailable");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?").bind(keep.body.id).first("n")).toBe(0);
  });
});

describe("concurrency and domain rules", () => {
  it("two simultaneous creates of one address give one 201, one 409 and one rule", async () => {
    const body = { localPart: "twin", subdomain: "race", mailDomain: root };
    const [a, b] = await Promise.all([
      api("POST", "/api/mailboxes", { key: member.key, body }),
      api("POST", "/api/mailboxes", { key: member.key, body }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const rules = (await simZone(root))!.rules.filter((r) => r.matchers[0]?.value === `twin@race.${root}`);
    expect(rules).toHaveLength(1);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM mailboxes WHERE address = ?").bind(`twin@race.${root}`).first("n")).toBe(1);
  });

  it("a hundred concurrent random creates give a hundred mailboxes and exactly a hundred rules", async () => {
    await env.DB.prepare("UPDATE domains SET status = 'disabled' WHERE root_domain <> ?").bind(root).run();
    // An admin: a member's creates per minute are limited (mailbox-limits.test.ts).
    const results = await Promise.all(Array.from({ length: 100 }, () => api("POST", "/api/mailboxes", { key: admin.key, body: { mailDomain: root } })));
    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const addresses = new Set(results.map((r) => r.body.address));
    expect(addresses.size).toBe(100);
    const rules = (await simZone(root))!.rules;
    expect(rules).toHaveLength(100);
    expect(new Set(rules.map((r) => r.matchers[0]?.value))).toEqual(addresses);
    expect(new Set(results.map((r) => r.body.routingRuleId))).toEqual(new Set(rules.map((r) => r.id)));
  });

  it("a disabled domain answers 400 Mailbox domain is not enabled", async () => {
    await api("POST", `/api/domains/${domainId}/disable`, { key: admin.key });
    const res = await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "Mailbox domain is not enabled", details: { rootDomain: root } });
  });

  it("disabling a catch-all domain gives registered mailboxes without a rule their rule back", async () => {
    expect((await api("POST", `/api/domains/${domainId}/catch-all/enable`, { key: admin.key })).status).toBe(200);
    const covered = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "covered", subdomain: "ca", mailDomain: root } });
    expect(covered.body.routingRuleId).toBeNull();
    expect((await simZone(root))!.rules).toHaveLength(0);
    const disabled = await api("POST", `/api/domains/${domainId}/disable`, { key: admin.key });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ status: "disabled", catchAllEnabled: false });
    const after = await api("GET", `/api/mailboxes/${covered.body.id}`, { key: member.key });
    expect(after.body.routingRuleId).toMatch(/^[0-9a-f]{32}$/);
    const z = (await simZone(root))!;
    expect(z.rules.map((r) => r.matchers[0]?.value)).toEqual([`covered@ca.${root}`]);
    expect(z.catch_all).toMatchObject({ enabled: false, actions: [{ type: "drop" }] });
  });
});
