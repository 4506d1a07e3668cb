/**
 * Waiting for mail (issue 17): the long-poll wait endpoint and the event stream, against the
 * Worker's real `email()` handler (which pokes the owner's MailHub after the D1 commit).
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { hubStub } from "../../src/push/hub";
import { activeDomain, api, deliverViaWorker, envWithFailingBatch, makeUser, resetCloudflare, type Caller, until } from "./helpers";

const root = "push-test.com";
let admin: Caller;
let member: Caller;
let other: Caller;
let seq = 0;

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  member = await makeUser("member");
  other = await makeUser("member");
  await activeDomain(admin.key, root);
});

async function newMailbox(owner = member): Promise<{ id: string; address: string }> {
  const res = await api("POST", "/api/mailboxes", { key: owner.key, body: { mailDomain: root } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function mail(to: string, body: string, subject = "Hello"): Uint8Array {
  return new TextEncoder().encode(
    `From: Acme <no-reply@acme.example>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <push-${++seq}-${crypto.randomUUID()}@acme.example>\r\n` +
      `Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
  );
}

/** Through the Worker's own email() export, with its waitUntil work (the hub poke) awaited. */
const deliver = (to: string, body: string, e: typeof env = env) => deliverViaWorker(mail(to, body), to, e);

async function lastMessageId(mailboxId: string): Promise<string> {
  return (await env.DB.prepare("SELECT id FROM messages WHERE mailbox_id = ? ORDER BY seq DESC LIMIT 1").bind(mailboxId).first<string>("id"))!;
}

const wait = (query: string, key = member.key) => api("GET", `/api/messages/wait?${query}`, { key });

const stats = (owner: Caller) => hubStub(env, owner.userId).stats();

/**
 * A client that went away is noticed on the next write to its stream (an event, or the keep-alive
 * comment every 25 s): send one now and expect the hub to hold no stream afterwards.
 */
async function expectStreamsGone(owner: Caller): Promise<void> {
  await eventually(async () => {
    await hubStub(env, owner.userId).keepAlive();
    return (await stats(owner)).streams === 0;
  });
}

/** Reads server-sent events from a stream response. */
class EventReader {
  private buf = "";
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  constructor(readonly res: Response) {
    this.reader = res.body!.getReader();
  }
  /** The next `event: message` (skipping comments and `retry:`), or fails after `ms`. */
  async next(ms = 5000): Promise<{ id: string; data: { id: string; previewText: string; mailboxId: string; verification: unknown } }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.buf.indexOf("\n\n");
      if (end >= 0) {
        const block = this.buf.slice(0, end);
        this.buf = this.buf.slice(end + 2);
        const fields = Object.fromEntries(block.split("\n").filter((l) => l && !l.startsWith(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
        if (fields.event === "message") return { id: fields.id!, data: JSON.parse(fields.data!) };
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no event in time");
      // A read that outlives a timeout is kept for the next call (one pending read at a time).
      this.pending ??= this.reader.read();
      const chunk = await Promise.race([this.pending, new Promise<null>((r) => setTimeout(() => r(null), left))]);
      if (chunk === null) throw new Error("no event in time");
      this.pending = null;
      if (chunk.done) throw new Error("stream ended");
      this.buf += this.decoder.decode(chunk.value, { stream: true });
    }
  }
  /** True when no message event arrives within `ms`. */
  async quiet(ms = 300): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch (e) {
      if (String(e).includes("no event in time")) return true;
      throw e;
    }
  }
  async close(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

async function openStream(query = "", headers: Record<string, string> = {}, key = member.key): Promise<EventReader> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://kaisoumail.test/api/messages/stream${query}`, { headers: { authorization: `Bearer ${key}`, ...headers } }), env, ctx);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return new EventReader(res);
}

const eventually = (check: () => Promise<boolean>, ms = 3000) => until(check, ms, 20);

describe("GET /api/messages/wait", () => {
  it("returns the message as soon as it is stored", async () => {
    const mb = await newMailbox();
    const pending = wait(`mailbox=${mb.address}&timeout=20`);
    await eventually(async () => (await stats(member)).waiters > 0);
    await deliver(mb.address, "Your code is 482913");
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.message).toMatchObject({ mailboxId: mb.id, mailboxAddress: mb.address, verification: { code: "482913" } });
    expect(res.body.message.id).toBe(await lastMessageId(mb.id));
  });

  it("answers 204 when the timeout ends, and leaves no waiter behind", async () => {
    const mb = await newMailbox();
    const res = await wait(`mailbox=${mb.address}&timeout=1`);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect((await stats(member)).waiters).toBe(0);
  });

  it("without `after`, mail stored before the request does not count; with `after`, anything newer does", async () => {
    const mb = await newMailbox();
    await deliver(mb.address, "first");
    const first = await lastMessageId(mb.id);
    await deliver(mb.address, "second");
    const second = await lastMessageId(mb.id);
    expect((await wait(`mailbox=${mb.address}&timeout=1`)).status).toBe(204);
    const res = await wait(`mailbox=${mb.address}&after=${first}&timeout=5`);
    expect(res.status).toBe(200);
    expect(res.body.message.id).toBe(second);
    expect((await wait(`mailbox=${mb.address}&after=${second}&timeout=1`)).status).toBe(204);
  });

  it("hasCode=true skips mail without a verification code", async () => {
    const mb = await newMailbox();
    const pending = wait(`mailbox=${mb.address}&hasCode=true&timeout=20`);
    await eventually(async () => (await stats(member)).waiters > 0);
    await deliver(mb.address, "Welcome aboard, nothing to enter here.");
    await deliver(mb.address, "Your verification code is 731904.");
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.message.verification.code).toBe("731904");
  });

  it("hasCode=true is satisfied by a link-only verification mail (verification.link, code null)", async () => {
    const mb = await newMailbox();
    const pending = wait(`mailbox=${mb.address}&hasCode=true&timeout=20`);
    await eventually(async () => (await stats(member)).waiters > 0);
    await deliver(mb.address, "Welcome aboard, nothing to enter here.");
    const link = "https://acme.example/verify-email?token=Zq8xLmN3pR5tV7wY9aB1cD3e";
    await deliver(mb.address, `Thanks for signing up. Confirm your email address:\r\n${link}\r\n`);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.message.verification).toMatchObject({ code: null, link, source: "text", method: "rules" });
  });

  it("refuses bad input with a 400 and stores nothing", async () => {
    const mb = await newMailbox();
    const bad = [
      `mailbox=nobody@qa.${root}`,
      "mailbox=not-an-address",
      "",
      `mailbox=${mb.address}&timeout=0`,
      `mailbox=${mb.address}&timeout=61`,
      `mailbox=${mb.address}&timeout=abc`,
      `mailbox=${mb.address}&timeout=1.5`,
      `mailbox=${mb.address}&after=msg_123`,
      `mailbox=${mb.address}&after=${"x".repeat(40)}`,
      `mailbox=${mb.address}&hasCode=yes`,
    ];
    for (const q of bad) {
      const res = await wait(q);
      expect(res.status, q).toBe(400);
      expect(res.body.error, q).toBe("Invalid request");
    }
    expect(await stats(member)).toEqual({ streams: 0, waiters: 0 });
  });

  it("another member's mailbox is a 403; an admin may wait on it", async () => {
    const mb = await newMailbox();
    expect((await wait(`mailbox=${mb.address}&timeout=1`, other.key)).status).toBe(403);
    const pending = wait(`mailbox=${mb.address}&timeout=20`, admin.key);
    await eventually(async () => (await stats(member)).waiters > 0);
    await deliver(mb.address, "for the admin");
    expect((await pending).body.message.previewText).toContain("for the admin");
  });
});

describe("GET /api/messages/stream", () => {
  it("sends each stored message once, in order; a reconnect with Last-Event-ID replays exactly what it missed, then goes live", async () => {
    const mb = await newMailbox();
    const s1 = await openStream(`?mailbox=${mb.address}`);
    await eventually(async () => (await stats(member)).streams > 0);
    for (const n of [1, 2, 3]) await deliver(mb.address, `message ${n}`);
    const got = [await s1.next(), await s1.next(), await s1.next()];
    expect(got.map((e) => e.data.previewText)).toEqual(["message 1", "message 2", "message 3"]);
    for (const e of got) expect(e.id).toBe(e.data.id);
    await s1.close();
    await expectStreamsGone(member);

    for (const n of [4, 5]) await deliver(mb.address, `message ${n}`);
    const s2 = await openStream(`?mailbox=${mb.address}`, { "last-event-id": got[2]!.id });
    expect((await s2.next()).data.previewText).toBe("message 4");
    expect((await s2.next()).data.previewText).toBe("message 5");
    expect(await s2.quiet()).toBe(true);
    await deliver(mb.address, "message 6");
    expect((await s2.next()).data.previewText).toBe("message 6");
    expect(await s2.quiet()).toBe(true);
    await s2.close();
  });

  it("without a mailbox streams every mailbox the caller owns, and nothing of anyone else's", async () => {
    const a = await newMailbox();
    const b = await newMailbox();
    const foreign = await newMailbox(other);
    const s = await openStream();
    await eventually(async () => (await stats(member)).streams > 0);
    await deliver(a.address, "to a");
    await deliver(foreign.address, "to someone else");
    await deliver(b.address, "to b");
    expect((await s.next()).data.mailboxId).toBe(a.id);
    expect((await s.next()).data.mailboxId).toBe(b.id);
    expect(await s.quiet()).toBe(true);
    await s.close();
    await expectStreamsGone(member);
  });

  it("another member's mailbox is a 403 and gives no events; a malformed Last-Event-ID is a 400", async () => {
    const mb = await newMailbox();
    const res = await api("GET", `/api/messages/stream?mailbox=${mb.address}`, { key: other.key });
    expect(res.status).toBe(403);
    expect((await stats(member)).streams).toBe(0);
    const bad = await api("GET", `/api/messages/stream?mailbox=${mb.address}`, { key: member.key, headers: { "last-event-id": "42" } });
    expect(bad.status).toBe(400);
  });

  it("a D1 failure in email() sends no event; the next stored message is the next event", async () => {
    const mb = await newMailbox();
    const s = await openStream(`?mailbox=${mb.address}`);
    await eventually(async () => (await stats(member)).streams > 0);
    await expect(deliver(mb.address, "never stored", envWithFailingBatch())).rejects.toThrow("D1 unavailable");
    await deliver(mb.address, "stored");
    const e = await s.next();
    expect(e.data.previewText).toBe("stored");
    expect(await s.quiet()).toBe(true);
    await s.close();
    await expectStreamsGone(member);
  });

  it("fans out: five streams on one mailbox each get ten concurrent deliveries exactly once, in the same order", async () => {
    const mb = await newMailbox();
    const streams = await Promise.all(Array.from({ length: 5 }, () => openStream(`?mailbox=${mb.address}`)));
    await eventually(async () => (await stats(member)).streams >= 5);
    await Promise.all(Array.from({ length: 10 }, (_, i) => deliver(mb.address, `burst ${i}`)));
    const orders: string[][] = [];
    for (const s of streams) {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await s.next()).id);
      expect(await s.quiet()).toBe(true);
      expect(new Set(ids).size).toBe(10);
      orders.push(ids);
    }
    for (const o of orders) expect(o).toEqual(orders[0]);
    // The order is the commit order.
    const committed = (await env.DB.prepare("SELECT id FROM messages WHERE mailbox_id = ? ORDER BY seq").bind(mb.id).all<{ id: string }>()).results.map((r) => r.id);
    expect(orders[0]).toEqual(committed);
    await Promise.all(streams.map((s) => s.close()));
    await expectStreamsGone(member);
  });
});
