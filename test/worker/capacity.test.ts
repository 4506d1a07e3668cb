import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { receiveMessage } from "../../src/mail/inbound";
import { databaseBytes, runStorageMaintenance, takeSnapshot } from "../../src/messages/capacity";
import { applyRetention, EXPIRED_MESSAGES_SQL, OLDEST_INLINE_BODIES_SQL, OLDEST_OF_MAILBOX_SQL, OVER_CAP_MAILBOXES_SQL } from "../../src/messages/store";
import { activeDomain, api, makeUser, resetCloudflare, type Caller } from "./helpers";
import { bytes, fixtures, mockEmail } from "./mail-fixtures";

let admin: Caller;
let member: Caller;
const root = "capacity-test.com";
let boxes = 0;

/** A fresh mailbox of `member` (each test owns its own). */
async function mailbox(): Promise<{ id: string; address: string }> {
  const mb = await api("POST", "/api/mailboxes", { key: admin.key, body: { localPart: `cap${++boxes}`, subdomain: "qa", mailDomain: root, expiresInMinutes: null } });
  expect(mb.status).toBe(201);
  return { id: mb.body.id, address: mb.body.address };
}

function message(to: string, bodyChars: number, tag = crypto.randomUUID()): Uint8Array {
  const line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
  const text = line.repeat(Math.ceil(bodyChars / line.length)).slice(0, bodyChars).replace(/(.{70})/g, "$1\r\n");
  return bytes(
    `From: "Acme" <no-reply@acme.example>\r\nTo: ${to}\r\nSubject: capacity ${tag}\r\nMessage-ID: <${tag}@sender.example>\r\n`,
    `Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`,
  );
}

async function deliver(to: string, raw: Uint8Array, e: Env = env): Promise<string> {
  const result = await receiveMessage(mockEmail(raw, { to }), e);
  if (result.kind !== "stored") throw new Error(`not stored: ${JSON.stringify(result)}`);
  return result.messageId;
}

const one = <T>(sql: string, ...binds: unknown[]) => env.DB.prepare(sql).bind(...binds).first<T>();
const objectsOf = async (mailboxId: string) => {
  const lists = await Promise.all(["raw", "parsed", "att"].map((p) => env.MAIL_BUCKET.list({ prefix: `${p}/${mailboxId}/` })));
  return lists.flatMap((l) => l.objects.map((o) => o.key)).sort();
};

/** The running totals must always equal what the rows and R2 say. */
async function expectTotalsExact() {
  const counters = Object.fromEntries(
    (await env.DB.prepare("SELECT name, value FROM counters WHERE name IN ('messages', 'r2_bytes', 'r2_objects')").all<{ name: string; value: number }>()).results.map((r) => [r.name, r.value]),
  );
  const truth = (await one<{ n: number; b: number; p: number }>("SELECT count(*) AS n, coalesce(sum(stored_bytes), 0) AS b, count(parsed_r2_key) AS p FROM messages"))!;
  const kept = (await one<{ n: number }>("SELECT count(*) AS n FROM message_attachments WHERE r2_key IS NOT NULL"))!.n;
  expect(counters.messages).toBe(truth.n);
  expect(counters.r2_bytes).toBe(truth.b);
  expect(counters.r2_objects).toBe(truth.n + truth.p + kept);
  let r2Bytes = 0;
  let r2Objects = 0;
  for (const prefix of ["raw/", "parsed/", "att/"]) {
    let cursor: string | undefined;
    do {
      const l = await env.MAIL_BUCKET.list({ prefix, cursor });
      for (const o of l.objects) {
        r2Bytes += o.size;
        r2Objects++;
      }
      cursor = l.truncated ? l.cursor : undefined;
    } while (cursor);
  }
  expect(counters.r2_objects).toBe(r2Objects);
  expect(counters.r2_bytes).toBe(r2Bytes);
  const boxes = (await one<{ c: number; b: number }>("SELECT coalesce(sum(message_count), 0) AS c, coalesce(sum(stored_bytes), 0) AS b FROM mailboxes"))!;
  expect(boxes).toEqual({ c: truth.n, b: truth.b });
}

const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  member = await makeUser("member");
  await activeDomain(admin.key, root);
});

describe("retention", () => {
  it("deletes messages older than MESSAGE_RETENTION_DAYS with every R2 object, even in unlimited mailboxes; a second run changes nothing", async () => {
    const mb = await mailbox();
    const small = await deliver(mb.address, message(mb.address, 500));
    const large = await deliver(mb.address, message(mb.address, 40_000)); // its parsed body is an R2 object
    const fresh = await deliver(mb.address, message(mb.address, 500));
    await env.DB.prepare("UPDATE messages SET received_at = ? WHERE id IN (?, ?)").bind(daysAgo(31), small, large).run();
    expect(await one("SELECT parsed_r2_key FROM messages WHERE id = ?", large)).toMatchObject({ parsed_r2_key: expect.stringContaining("parsed/") });
    expect(await objectsOf(mb.id)).toHaveLength(4);

    const first = await runStorageMaintenance(env);
    expect(first.expired).toBeGreaterThanOrEqual(2);
    expect((await env.DB.prepare("SELECT id FROM messages WHERE mailbox_id = ?").bind(mb.id).all()).results).toEqual([{ id: fresh }]);
    for (const t of ["message_bodies", "message_recipients", "message_attachments"]) {
      expect(await one<number>(`SELECT count(*) AS n FROM ${t} WHERE message_id IN (?, ?)`, small, large)).toEqual({ n: 0 });
    }
    expect(await objectsOf(mb.id)).toEqual([`raw/${mb.id}/${fresh}.eml`]);
    expect(await one("SELECT message_count FROM mailboxes WHERE id = ?", mb.id)).toEqual({ message_count: 1 });
    await expectTotalsExact();

    const before = await env.DB.prepare("SELECT count(*) AS n FROM messages").first();
    const second = await runStorageMaintenance(env);
    expect(second).toMatchObject({ expired: 0, overCap: 0 });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM messages").first()).toEqual(before);
    await expectTotalsExact();

    // 0 turns it off.
    const off = { ...env, MESSAGE_RETENTION_DAYS: "0" } as Env;
    const old = await deliver(mb.address, message(mb.address, 200));
    await env.DB.prepare("UPDATE messages SET received_at = ? WHERE id = ?").bind(daysAgo(400), old).run();
    expect((await runStorageMaintenance(off)).expired).toBe(0);
    expect(await one("SELECT id FROM messages WHERE id = ?", old)).toEqual({ id: old });
    await runStorageMaintenance(env);
    expect(await one("SELECT id FROM messages WHERE id = ?", old)).toBeNull();
  });

  it("a mailbox over MAX_MESSAGES_PER_MAILBOX keeps exactly its newest N", async () => {
    const mb = await mailbox();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await deliver(mb.address, message(mb.address, i === 2 ? 30_000 : 300)));
    // Distinct, known times: ids[6] newest.
    for (let i = 0; i < ids.length; i++) await env.DB.prepare("UPDATE messages SET received_at = ? WHERE id = ?").bind(new Date(Date.now() - (10 - i) * 60_000).toISOString(), ids[i]).run();
    const capped = { ...env, MAX_MESSAGES_PER_MAILBOX: "3" } as Env;
    const run = await runStorageMaintenance(capped);
    expect(run.overCap).toBe(4);
    const left = (await env.DB.prepare("SELECT id FROM messages WHERE mailbox_id = ? ORDER BY received_at").bind(mb.id).all<{ id: string }>()).results.map((r) => r.id);
    expect(left).toEqual(ids.slice(4));
    expect(await objectsOf(mb.id)).toEqual(ids.slice(4).map((id) => `raw/${mb.id}/${id}.eml`).sort());
    expect(await one("SELECT message_count FROM mailboxes WHERE id = ?", mb.id)).toEqual({ message_count: 3 });
    expect((await runStorageMaintenance(capped)).overCap).toBe(0);
    await expectTotalsExact();
  });

  it("works in bounded batches", async () => {
    const mb = await mailbox();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await deliver(mb.address, message(mb.address, 300)));
    await env.DB.prepare(`UPDATE messages SET received_at = ? WHERE mailbox_id = ?`).bind(daysAgo(90), mb.id).run();
    const policy = { retentionDays: 30, maxPerMailbox: 1000 };
    expect(await applyRetention(env, policy, Date.now(), 2)).toEqual({ expired: 2, overCap: 0 });
    expect(await one("SELECT count(*) AS n FROM messages WHERE mailbox_id = ?", mb.id)).toEqual({ n: 3 });
    expect(await applyRetention(env, policy, Date.now(), 2)).toEqual({ expired: 2, overCap: 0 });
    expect(await applyRetention(env, policy, Date.now(), 2)).toEqual({ expired: 1, overCap: 0 });
    expect(await applyRetention(env, policy, Date.now(), 2)).toEqual({ expired: 0, overCap: 0 });
    // The cap pass shares the budget.
    const mb2 = await mailbox();
    for (let i = 0; i < 6; i++) await deliver(mb2.address, message(mb2.address, 300));
    expect(await applyRetention(env, { retentionDays: null, maxPerMailbox: 1 }, Date.now(), 3)).toEqual({ expired: 0, overCap: 3 });
    await expectTotalsExact();
  });

  it("every retention and pressure query is index-driven (no table scan, no sort)", async () => {
    const plans: Array<[string, unknown[], string]> = [
      [EXPIRED_MESSAGES_SQL, [daysAgo(30), 10], "messages_received"],
      [OVER_CAP_MAILBOXES_SQL, [1000, 20], "mailboxes_message_count"],
      [OLDEST_OF_MAILBOX_SQL, ["mbx_x", 10], "messages_mailbox_received"],
      // The table's own b-tree in rowid (insertion) order, stopped by the LIMIT: moved bodies are
      // deleted, so the walk never passes dead rows.
      [OLDEST_INLINE_BODIES_SQL, [10], "SCAN b\nSEARCH m USING INDEX sqlite_autoindex_messages_1 (id=?)"],
    ];
    for (const [sql, binds, index] of plans) {
      const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...binds).all<{ detail: string }>();
      const text = plan.results.map((r) => r.detail).join("\n");
      if (index) expect(text, sql).toContain(index);
      expect(text, sql).not.toContain("TEMP B-TREE");
      if (sql !== OLDEST_INLINE_BODIES_SQL) expect(text, sql).not.toMatch(/SCAN (messages|mailboxes|m|b)\b(?! USING)/);
    }
  });
});

describe("capacity", () => {
  it("GET /api/admin/capacity reports D1 size, R2 totals, largest mailboxes and growth; admins only", async () => {
    const mb = await mailbox();
    await deliver(mb.address, message(mb.address, 2000));
    // A snapshot a day ago with less in it: growth and a days-until-full estimate.
    const yesterday = Date.now() - 86_400_000 + 60_000;
    await takeSnapshot(env, yesterday);
    await env.DB.prepare("UPDATE storage_snapshots SET d1_bytes = d1_bytes - 100000, r2_bytes = r2_bytes - 5000, messages = messages - 3 WHERE hour = ?")
      .bind(new Date(yesterday).toISOString().slice(0, 13))
      .run();
    const res = await api("GET", "/api/admin/capacity", { key: admin.key });
    expect(res.status).toBe(200);
    const c = res.body;
    const size = await databaseBytes(env);
    expect(size).toBeGreaterThan(0);
    expect(c.d1.capacityBytes).toBe(500_000_000);
    expect(c.d1.bytes).toBeGreaterThan(0);
    expect(c.stage).toBe("normal");
    expect(c.r2.objects).toBeGreaterThan(0);
    expect(c.messages).toBe((await one<{ n: number }>("SELECT count(*) AS n FROM messages"))!.n);
    expect(c.largestMailboxes.length).toBeGreaterThan(0);
    expect(c.largestMailboxes.length).toBeLessThanOrEqual(10);
    const sizes = c.largestMailboxes.map((m: { storedBytes: number }) => m.storedBytes);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(c.growth.last24h).toMatchObject({ r2Bytes: 5000, messages: 3 });
    expect(c.growth.last24h.d1Bytes).toBeGreaterThanOrEqual(100_000);
    expect(c.daysUntilFull).toBeGreaterThan(0);
    expect(c.retention).toEqual({ messageRetentionDays: 30, maxMessagesPerMailbox: 1000 });
    expect((await api("GET", "/api/admin/capacity", { key: member.key })).status).toBe(403);
    await env.DB.prepare("DELETE FROM storage_snapshots").run();
    expect((await api("GET", "/api/admin/capacity", { key: admin.key })).body).toMatchObject({ growth: { last24h: null, last7d: null }, daysUntilFull: null });
  });
});

describe("storage pressure", () => {
  it("normal → R2-only bodies → refused (temporary); every accepted message reads back byte-identical", async () => {
    const mb = await mailbox();
    const at = async (ratio: number) => ({ ...env, D1_CAPACITY_BYTES: String(Math.ceil((await databaseBytes(env))! / ratio)) }) as Env;
    const stored: Array<{ id: string; raw: Uint8Array; text: string }> = [];
    const keep = async (e: Env, chars: number) => {
      const raw = message(mb.address, chars);
      const id = await deliver(mb.address, raw, e);
      stored.push({ id, raw, text: (await api("GET", `/api/messages/${id}`, { key: admin.key })).body.message.text });
      return id;
    };
    // 1. Normal: a small body is inline.
    const normal = await keep(await at(0.5), 1000);
    expect(await one("SELECT parsed_r2_key FROM messages WHERE id = ?", normal)).toEqual({ parsed_r2_key: null });
    expect(await one("SELECT count(*) AS n FROM message_bodies WHERE message_id = ?", normal)).toEqual({ n: 1 });
    // 2. Above 80 %: the same small body goes to R2 only.
    const pressed = await keep(await at(0.85), 1000);
    expect(await one("SELECT parsed_r2_key FROM messages WHERE id = ?", pressed)).toEqual({ parsed_r2_key: `parsed/${mb.id}/${pressed}.json` });
    expect(await one("SELECT count(*) AS n FROM message_bodies WHERE message_id = ?", pressed)).toEqual({ n: 0 });
    const doctor = await api("GET", "/api/admin/setup", { key: admin.key });
    expect(doctor.status).toBe(200);
    // 3. At the limit: refused with a throw (the sender retries), nothing written, not rejected.
    const full = await at(1);
    const objectsBefore = await objectsOf(mb.id);
    const rowsBefore = await one("SELECT count(*) AS n FROM messages WHERE mailbox_id = ?", mb.id);
    const msg = mockEmail(message(mb.address, 1000), { to: mb.address });
    await expect(receiveMessage(msg, full)).rejects.toThrow(/Storage full/);
    expect(msg.rejected).toBeNull();
    expect(await objectsOf(mb.id)).toEqual(objectsBefore);
    expect(await one("SELECT count(*) AS n FROM messages WHERE mailbox_id = ?", mb.id)).toEqual(rowsBefore);
    // The admin sees it: a failing doctor check and stage "full".
    const fullSettings = { D1_CAPACITY_BYTES: full.D1_CAPACITY_BYTES! };
    const { handleFetch } = await import("../../src/router");
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const get = async (path: string) =>
      (await handleFetch(new Request(`http://kaisoumail.test${path}`, { headers: { authorization: `Bearer ${admin.key}` } }), { ...env, ...fullSettings } as Env, ctx)).json() as Promise<any>;
    const report = await get("/api/admin/setup");
    expect(report.ok).toBe(false);
    expect(report.checks.find((c: { id: string }) => c.id === "storage_capacity")).toMatchObject({ status: "failing", detail: expect.stringContaining("refused") });
    expect(report.warnings.map((w: { id: string }) => w.id)).toContain("storage_pressure");
    expect((await get("/api/admin/capacity")).stage).toBe("full");

    // The cron moves inline bodies to R2 while under pressure (bounded), and nothing changes for readers.
    const moved = await runStorageMaintenance(await at(0.9));
    expect(moved.moved).toBeGreaterThan(0);
    expect(await one("SELECT count(*) AS n FROM message_bodies WHERE message_id = ?", normal)).toEqual({ n: 0 });
    expect(await one("SELECT parsed_r2_key FROM messages WHERE id = ?", normal)).toEqual({ parsed_r2_key: `parsed/${mb.id}/${normal}.json` });

    for (const s of stored) {
      const raw = await api("GET", `/api/messages/${s.id}/raw`, { key: admin.key });
      expect(raw.status).toBe(200);
      expect(new Uint8Array(await (await env.MAIL_BUCKET.get(`raw/${mb.id}/${s.id}.eml`))!.arrayBuffer())).toEqual(s.raw);
      expect(new TextEncoder().encode(typeof raw.body === "string" ? raw.body : "")).toEqual(s.raw);
      const detail = await api("GET", `/api/messages/${s.id}`, { key: admin.key });
      expect(detail.body.message.text).toBe(s.text);
      expect(detail.body.message.text).toContain("Lorem ipsum");
    }
    await expectTotalsExact();
  });

  it("deleting a message by the API keeps the totals exact", async () => {
    const mb = await mailbox();
    const a = await deliver(mb.address, message(mb.address, 40_000));
    await deliver(mb.address, fixtures.plain(mb.address));
    expect((await api("DELETE", `/api/messages/${a}`, { key: admin.key })).status).toBe(204);
    expect((await api("DELETE", `/api/mailboxes/${mb.id}`, { key: admin.key })).status).toBeLessThan(300);
    await expectTotalsExact();
  });
});

describe("kept attachments", () => {
  it("a part kept in R2 by a download is counted, re-keeping it counts nothing, and retention removes it with the message", async () => {
    const mb = await mailbox();
    const id = await deliver(mb.address, fixtures.bigAttachment(mb.address, 1536 * 1024));
    const att = (await api("GET", `/api/messages/${id}`, { key: admin.key })).body.message.attachments[0];
    for (let i = 0; i < 2; i++) {
      const res = await exports.default.fetch(new Request(`http://kaisoumail.test${att.downloadPath}`, { headers: { authorization: `Bearer ${admin.key}` } }));
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      if (i === 0) await env.MAIL_BUCKET.delete(`att/${mb.id}/${id}/0`); // the next download keeps it again, same key
    }
    expect(await objectsOf(mb.id)).toContain(`att/${mb.id}/${id}/0`);
    await expectTotalsExact();
    await env.DB.prepare("UPDATE messages SET received_at = ? WHERE id = ?").bind(daysAgo(45), id).run();
    await runStorageMaintenance(env);
    expect(await objectsOf(mb.id)).toEqual([]);
    await expectTotalsExact();
  });
});

describe("bytes per message (DESIGN.md figures)", () => {
  it("measures D1 bytes per message from size_after deltas", async () => {
    const N = 200;
    const measure = async (chars: number, e: () => Promise<Env>) => {
      const mb = await mailbox();
      const before = (await databaseBytes(env))!;
      for (let i = 0; i < N; i++) await deliver(mb.address, message(mb.address, chars), await e());
      const after = (await databaseBytes(env))!;
      const r2 = (await one<{ b: number }>("SELECT stored_bytes AS b FROM mailboxes WHERE id = ?", mb.id))!.b;
      return { d1PerMessage: Math.round((after - before) / N), r2PerMessage: Math.round(r2 / N) };
    };
    // Just above 80 % before each delivery: the pressure stage, whatever the database grows to.
    const r2Only = async () => ({ ...env, D1_CAPACITY_BYTES: String(Math.ceil((await databaseBytes(env))! / 0.85)) }) as Env;
    const normal = async () => env;
    const figures = {
      "5 KiB, inline body": await measure(5 * 1024, normal),
      "5 KiB, body in R2 (pressure stage)": await measure(5 * 1024, r2Only),
      "100 KiB (body always in R2)": await measure(100 * 1024, normal),
    };
    console.log("bytes per message", JSON.stringify(figures, null, 2));
    for (const f of Object.values(figures)) expect(f.d1PerMessage).toBeGreaterThan(0);
  }, 120_000);
});
