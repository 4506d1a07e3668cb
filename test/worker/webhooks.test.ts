/**
 * Webhooks (issue 18): the routes, message.received after the commit, Standard Webhooks
 * signatures (verified with the `standardwebhooks` package, not our code), the per-hook outbox
 * (order, retries driven by runDurableObjectAlarm, 410, redirects) and URL safety. Deliveries go
 * to the receiver of test/webhook-receiver.ts at env.WEBHOOK_RECEIVER_URL.
 */
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runHousekeeping } from "../../src/cron";
import worker from "../../src/index";
import { decryptSecret } from "../../src/webhooks/crypto";
import { GIVE_UP_AFTER_MS, retryDelayMs } from "../../src/webhooks/outbox";
import { scrub } from "../../src/lib/log";
import { eventBody, kickStalledOutboxes, MAX_PAYLOAD_BYTES, outboxStub, STALLED_AFTER_MS } from "../../src/webhooks/repo";
import { checkWebhookUrl, isPrivateHost } from "../../src/webhooks/url";
import { activeDomain, api, makeUser, resetCloudflare, type Caller, deliverViaWorker, until } from "./helpers";
import { mockEmail } from "./mail-fixtures";

const root = "hooks-test.com";
let admin: Caller;
let member: Caller;
let other: Caller;
let seq = 0;

interface Received {
  name: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  at: number;
}
const receiver = {
  async call(method: string, path: string, body?: unknown) {
    const res = await fetch(`${env.WEBHOOK_RECEIVER_URL}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  },
  set: (name: string, behaviour: Record<string, unknown>) => receiver.call("PUT", `/__ctl/hooks/${name}`, behaviour),
  log: async (name?: string): Promise<Received[]> => ((await receiver.call("GET", "/__ctl/log")) as Received[]).filter((e) => !name || e.name === name),
};
const hookUrl = (name: string) => `${env.WEBHOOK_RECEIVER_URL}/hook/${name}`;

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  member = await makeUser("member");
  other = await makeUser("member");
  await activeDomain(admin.key, root);
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function newMailbox(owner = member): Promise<{ id: string; address: string }> {
  const res = await api("POST", "/api/mailboxes", { key: owner.key, body: { mailDomain: root } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function mail(to: string, body: string, subject = "Hello", from = "Acme <no-reply@acme.example>"): Uint8Array {
  return new TextEncoder().encode(
    `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <hook-${++seq}-${crypto.randomUUID()}@acme.example>\r\n` +
      `Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
  );
}

/** Through the Worker's own email() export, its waitUntil work (hub poke, webhook queueing) awaited. */
const deliver = (to: string, body: string, subject?: string, from?: string) => deliverViaWorker(mail(to, body, subject, from), to);

async function createHook(owner: Caller, body: Record<string, unknown>): Promise<{ id: string; secret: string; webhook: any }> {
  const res = await api("POST", "/api/webhooks", { key: owner.key, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.webhook.id, secret: res.body.secret, webhook: res.body.webhook };
}

/** Runs the hook's outbox alarm (if one is set) until `done` holds. */
async function drive<T>(webhookId: string, done: () => Promise<T | false | undefined | null>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    await runDurableObjectAlarm(outboxStub(env, webhookId));
    const v = await done();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}


/** D1 whose batches that write messages fail (the lookup, a read batch, still answers). */
function envWithFailingInsert(): typeof env {
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch")
        return async (stmts: D1PreparedStatement[]) => {
          if (stmts.length > 2) throw new Error("D1 unavailable");
          return target.batch(stmts);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, DB: db } as typeof env;
}

const deliveries = async (hookId: string, key = member.key) => {
  const res = await api("GET", `/api/webhooks/${hookId}/deliveries`, { key });
  expect(res.status).toBe(200);
  return res.body.deliveries as any[];
};

describe("webhook endpoints", () => {
  it("creates a hook with a secret shown once, stored encrypted, never returned again", async () => {
    const logs: string[] = [];
    for (const m of ["log", "warn", "error", "info", "debug"] as const) vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void logs.push(a.map(String).join(" ")));
    const { id, secret, webhook } = await createHook(member, { url: hookUrl("crud"), description: "CI" });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice(6)).length).toBe(32);
    expect(webhook).toMatchObject({ id, userId: member.userId, scope: "user", url: hookUrl("crud"), description: "CI", mailbox: null, filter: {}, enabled: true, disabledReason: null });
    const stored = await env.DB.prepare("SELECT secret_enc FROM webhooks WHERE id = ?").bind(id).first<string>("secret_enc");
    expect(stored).not.toContain(secret.slice(6));
    expect(stored).toMatch(/^v1:/);
    expect(await decryptSecret(env.SESSION_SECRET!, id, stored!)).toBe(secret);
    await expect(decryptSecret(env.SESSION_SECRET!, `whk_${"0".repeat(32)}`, stored!)).rejects.toThrow(); // bound to its row
    const one = await api("GET", `/api/webhooks/${id}`, { key: member.key });
    const list = await api("GET", "/api/webhooks", { key: member.key });
    const patched = await api("PATCH", `/api/webhooks/${id}`, { key: member.key, body: { description: "changed", filter: { hasCode: true } } });
    expect(patched.status).toBe(200);
    expect(patched.body.webhook).toMatchObject({ description: "changed", filter: { hasCode: true } });
    const test = await api("POST", `/api/webhooks/${id}/test`, { key: member.key });
    expect(test.status).toBe(202);
    await drive(id, async () => (await receiver.log("crud")).length === 1);
    const history = await deliveries(id);
    for (const text of [one, list, patched, test].map((r) => JSON.stringify(r.body)).concat(JSON.stringify(history), logs.join("\n"))) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(6));
    }
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).toContain(id);
    // Rotation: a new secret, shown once; deliveries are signed with it from now on.
    const rotated = await api("POST", `/api/webhooks/${id}/rotate-secret`, { key: member.key });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);
    await api("POST", `/api/webhooks/${id}/test`, { key: member.key });
    const [, second] = await drive(id, async () => {
      const l = await receiver.log("crud");
      return l.length === 2 && l;
    });
    const headers = { "webhook-id": second!.headers["webhook-id"]!, "webhook-timestamp": second!.headers["webhook-timestamp"]!, "webhook-signature": second!.headers["webhook-signature"]! };
    expect(() => new StandardWebhook(secret).verify(second!.body, headers)).toThrow();
    expect(new StandardWebhook(rotated.body.secret).verify(second!.body, headers)).toMatchObject({ type: "webhook.test" });
    expect((await api("DELETE", `/api/webhooks/${id}`, { key: member.key })).status).toBe(204);
    expect((await api("GET", `/api/webhooks/${id}`, { key: member.key })).status).toBe(404);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ?").bind(id).first<number>("n")).toBe(0);
  });

  it("a mailbox must be the member's (400 unknown, 403 another's); deployment hooks are for admins", async () => {
    const mine = await newMailbox(member);
    const theirs = await newMailbox(other);
    expect((await api("POST", "/api/webhooks", { key: member.key, body: { url: hookUrl("x"), mailbox: `nobody@${root}` } })).status).toBe(400);
    const forbidden = await api("POST", "/api/webhooks", { key: member.key, body: { url: hookUrl("x"), mailbox: theirs.address } });
    expect(forbidden.status).toBe(403);
    const ok = await createHook(member, { url: hookUrl("x"), mailbox: mine.address });
    expect(ok.webhook.mailbox).toBe(mine.address);
    const dep = await api("POST", "/api/webhooks", { key: member.key, body: { url: hookUrl("x"), scope: "deployment" } });
    expect(dep.status).toBe(403);
    expect(dep.body.details.code).toBe("deployment_webhook_admin_only");
    const adminHook = await createHook(admin, { url: hookUrl("x"), scope: "deployment" });
    expect(adminHook.webhook.scope).toBe("deployment");
    for (const bad of [{}, { url: "" }, { url: "not a url" }, { url: "ftp://example.com/x" }, { url: hookUrl("x"), filter: { hasCode: "yes" } }, { url: hookUrl("x"), extra: 1 }]) {
      const res = await api("POST", "/api/webhooks", { key: member.key, body: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    await api("DELETE", `/api/webhooks/${ok.id}`, { key: member.key });
    await api("DELETE", `/api/webhooks/${adminHook.id}`, { key: admin.key });
  });

  it("limits: WEBHOOKS_PER_USER and WEBHOOKS_PER_DEPLOYMENT answer 409 with details.code", async () => {
    const limited = { ...env, WEBHOOKS_PER_USER: "2", WEBHOOKS_PER_DEPLOYMENT: "1000" };
    const who = await makeUser("member");
    const post = async (e: typeof env) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request("http://kaisoumail.test/api/webhooks", { method: "POST", headers: { authorization: `Bearer ${who.key}`, "content-type": "application/json" }, body: JSON.stringify({ url: hookUrl("limit") }) }),
        e,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return { status: res.status, body: (await res.json()) as any };
    };
    expect((await post(limited)).status).toBe(201);
    expect((await post(limited)).status).toBe(201);
    const third = await post(limited);
    expect(third.status).toBe(409);
    expect(third.body.details).toMatchObject({ code: "webhook_limit_reached", limit: 2 });
    const deployment = await post({ ...env, WEBHOOKS_PER_DEPLOYMENT: "1" });
    expect(deployment.status).toBe(409);
    expect(deployment.body.details.code).toBe("deployment_webhook_limit_reached");
  });

  it("another member cannot see, change or trigger your hooks or deliveries", async () => {
    const { id } = await createHook(member, { url: hookUrl("private") });
    const t = await api("POST", `/api/webhooks/${id}/test`, { key: member.key });
    const deliveryId = t.body.delivery.id;
    await drive(id, async () => (await deliveries(id))[0]?.status === "succeeded");
    const before = (await receiver.log("private")).length;
    for (const [method, path, body] of [
      ["GET", `/api/webhooks/${id}`],
      ["PATCH", `/api/webhooks/${id}`, { enabled: false }],
      ["DELETE", `/api/webhooks/${id}`],
      ["POST", `/api/webhooks/${id}/rotate-secret`],
      ["POST", `/api/webhooks/${id}/test`],
      ["GET", `/api/webhooks/${id}/deliveries`],
      ["POST", `/api/webhooks/${id}/deliveries/${deliveryId}/retry`],
    ] as const) {
      const res = await api(method, path, { key: other.key, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(deliveryId);
    }
    const list = await api("GET", "/api/webhooks", { key: other.key });
    expect(JSON.stringify(list.body)).not.toContain(id);
    expect((await api("GET", `/api/webhooks/${id}`, { key: member.key })).body.webhook.enabled).toBe(true);
    await runDurableObjectAlarm(outboxStub(env, id));
    expect((await receiver.log("private")).length).toBe(before);
    // An admin may manage it (as with mailboxes).
    expect((await api("GET", `/api/webhooks/${id}`, { key: admin.key })).status).toBe(200);
  });
});

describe("message.received", () => {
  it("is signed to the Standard Webhooks spec (verified with the standardwebhooks package) and carries the summary, never MIME", async () => {
    const mb = await newMailbox();
    const { id, secret } = await createHook(member, { url: hookUrl("signed") });
    await deliver(mb.address, "Your verification code is 482913", "Your code");
    const [got] = await drive(id, async () => {
      const l = await receiver.log("signed");
      return l.length >= 1 && l;
    });
    const wh = new StandardWebhook(secret);
    const payload = wh.verify(got!.body, { "webhook-id": got!.headers["webhook-id"]!, "webhook-timestamp": got!.headers["webhook-timestamp"]!, "webhook-signature": got!.headers["webhook-signature"]! }) as any;
    expect(got!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(got!.headers["content-type"]).toBe("application/json");
    expect(payload.type).toBe("message.received");
    expect(payload.id).toBe(got!.headers["webhook-id"]);
    expect(payload.data).toMatchObject({ mailboxAddress: mb.address, subject: "Your code", verification: { code: "482913" } });
    expect(payload.links.detail).toMatch(new RegExp(`/api/messages/${payload.data.id}$`));
    expect(payload.links.raw).toMatch(new RegExp(`/api/messages/${payload.data.id}/raw$`));
    expect(got!.body).not.toContain("Message-ID:");
    // A tampered body fails verification.
    expect(() => wh.verify(got!.body.replace("482913", "000000"), got!.headers as any)).toThrow();
    const [d] = await deliveries(id);
    expect(d).toMatchObject({ id: payload.id, eventType: "message.received", status: "succeeded", attemptCount: 1, nextAttemptAt: null });
    expect(d.attempts[0]).toMatchObject({ statusCode: 200, error: null });
    expect(d.attempts[0].durationMs).toBeGreaterThanOrEqual(0);
    await api("DELETE", `/api/webhooks/${id}`, { key: member.key });
  });

  it("after the queue empties, the next event goes out on its own alarm at once (no leftover 60 s safety-net alarm)", async () => {
    const mb = await newMailbox();
    const { id } = await createHook(member, { url: hookUrl("back-to-back") });
    await deliver(mb.address, "first");
    // Sent by the outbox's own alarm (kick() sets it for now); the test drives nothing.
    await until(async () => (await receiver.log("back-to-back")).length >= 1, 10_000);
    await until(async () => (await deliveries(id))[0]?.status === "succeeded", 5_000);
    // Found by the bench: the safety-net alarm set before the last send stayed set, so kick()
    // scheduled nothing and the next event waited for it.
    await until(async () => (await runInDurableObject(outboxStub(env, id), (_o, state) => state.storage.getAlarm())) === null, 3_000);
    await deliver(mb.address, "second");
    // The outbox's own alarm (set for now by kick(), not driven by the test) sends it.
    await until(async () => (await receiver.log("back-to-back")).length >= 2, 10_000);
    await api("DELETE", `/api/webhooks/${id}`, { key: member.key });
  });

  it("filters: hasCode, fromContains, subjectContains and mailbox; other members' hooks never fire", async () => {
    const a = await newMailbox();
    const b = await newMailbox();
    const hooks = {
      all: await createHook(member, { url: hookUrl("f-all") }),
      code: await createHook(member, { url: hookUrl("f-code"), filter: { hasCode: true } }),
      noCode: await createHook(member, { url: hookUrl("f-nocode"), filter: { hasCode: false } }),
      from: await createHook(member, { url: hookUrl("f-from"), filter: { fromContains: "GITHUB" } }),
      subject: await createHook(member, { url: hookUrl("f-subject"), filter: { subjectContains: "invoice" } }),
      onlyB: await createHook(member, { url: hookUrl("f-onlyb"), mailbox: b.address }),
      stranger: await createHook(other, { url: hookUrl("f-other") }),
    };
    await deliver(a.address, "Your verification code is 551204", "Sign in", "GitHub <noreply@github.com>");
    await deliver(a.address, "Thanks for your order.", "Your Invoice 12", "Shop <shop@example.org>");
    await deliver(b.address, "Hello there, nothing to see.", "Hi", "Friend <friend@example.net>");
    const subjects = async (name: string, hookId: string, expected: number) => {
      await drive(hookId, async () => (await deliveries(hookId, hookId === hooks.stranger.id ? other.key : member.key)).every((d) => d.status !== "pending"));
      const l = await receiver.log(name);
      expect(l.length, name).toBe(expected);
      return l.map((e) => JSON.parse(e.body).data.subject).sort();
    };
    expect(await subjects("f-all", hooks.all.id, 3)).toEqual(["Hi", "Sign in", "Your Invoice 12"]);
    expect(await subjects("f-code", hooks.code.id, 1)).toEqual(["Sign in"]);
    expect(await subjects("f-nocode", hooks.noCode.id, 2)).toEqual(["Hi", "Your Invoice 12"]);
    expect(await subjects("f-from", hooks.from.id, 1)).toEqual(["Sign in"]);
    expect(await subjects("f-subject", hooks.subject.id, 1)).toEqual(["Your Invoice 12"]);
    expect(await subjects("f-onlyb", hooks.onlyB.id, 1)).toEqual(["Hi"]);
    expect(await subjects("f-other", hooks.stranger.id, 0)).toEqual([]);
    for (const h of Object.values(hooks)) await api("DELETE", `/api/webhooks/${h.id}`, { key: h === hooks.stranger ? other.key : member.key });
  });

  it("an admin's hook bound to a member's mailbox fires for that mailbox", async () => {
    const mb = await newMailbox(other);
    const hook = await createHook(admin, { url: hookUrl("admin-bound"), mailbox: mb.address });
    await deliver(mb.address, "watched by an admin");
    await drive(hook.id, async () => (await receiver.log("admin-bound")).length === 1);
    await api("DELETE", `/api/webhooks/${hook.id}`, { key: admin.key });
  });

  it("a deployment-wide hook fires for every member's mailboxes", async () => {
    const mb = await newMailbox(other);
    const hook = await createHook(admin, { url: hookUrl("deploy"), scope: "deployment" });
    await deliver(mb.address, "hello");
    await drive(hook.id, async () => (await receiver.log("deploy")).length === 1);
    expect(JSON.parse((await receiver.log("deploy"))[0]!.body).data.mailboxAddress).toBe(mb.address);
    await api("DELETE", `/api/webhooks/${hook.id}`, { key: admin.key });
  });

  it("email() does not wait on a slow receiver", async () => {
    const mb = await newMailbox();
    const hook = await createHook(member, { url: hookUrl("slow") });
    await receiver.set("slow", { mode: "hang", hangMs: 5000 });
    const started = Date.now();
    await deliver(mb.address, "slow one");
    expect(Date.now() - started).toBeLessThan(2000);
    // The outbox (on its own alarm) is sending, and the receiver holding the request, while
    // email() is long done. (Not driven by runDurableObjectAlarm here: that would wait for the send.)
    await until(async () => (await receiver.log("slow")).length === 1);
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: "pending", attemptCount: 0 });
    // The receiver answers after 5 s (under the 10 s timeout): the delivery then succeeds.
    await until(async () => (await deliveries(hook.id))[0]?.status === "succeeded", 9000);
    expect(Date.now() - started).toBeGreaterThan(4500);
  });
});

describe("mailbox.created", () => {
  it("fires after the create and ensure routes create a mailbox (not when ensure finds an existing one)", async () => {
    const who = await makeUser("member");
    const hook = await createHook(who, { url: hookUrl("mbx-created") });
    const created = await api("POST", "/api/mailboxes", { key: who.key, body: { mailDomain: root } });
    expect(created.status).toBe(201);
    const address = `ensured${++seq}@qa.${root}`;
    const ensured = await api("POST", "/api/mailboxes/ensure", { key: who.key, body: { address } });
    expect(ensured.status, JSON.stringify(ensured.body)).toBe(201);
    expect((await api("POST", "/api/mailboxes/ensure", { key: who.key, body: { address } })).status).toBe(200);
    await drive(hook.id, async () => {
      const d = await deliveries(hook.id, who.key);
      return d.length === 2 && d.every((x) => x.status === "succeeded");
    });
    const events = (await receiver.log("mbx-created")).map((e) => JSON.parse(e.body));
    expect(events.map((e) => e.type)).toEqual(["mailbox.created", "mailbox.created"]);
    expect(events.map((e) => e.data.address).sort()).toEqual([created.body.address, address].sort());
    expect(events[0].data).toMatchObject({ userId: who.userId, status: "active" });
  });
});

describe("mailbox.expired", () => {
  it("fires when the cron marks a mailbox expired", async () => {
    const who = await makeUser("member");
    const mb = await newMailbox(who);
    const hook = await createHook(who, { url: hookUrl("mbx-expired") });
    await env.DB.prepare("UPDATE mailboxes SET expires_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), mb.id).run();
    const summary = await runHousekeeping(env);
    expect(summary.expired).toBeGreaterThanOrEqual(1);
    await drive(hook.id, async () => (await receiver.log("mbx-expired")).some((e) => JSON.parse(e.body).type === "mailbox.expired"));
    const event = (await receiver.log("mbx-expired")).map((e) => JSON.parse(e.body)).find((e) => e.type === "mailbox.expired");
    expect(event.data).toMatchObject({ id: mb.id, userId: who.userId, address: mb.address });
  });
});

describe("domain.status_changed", () => {
  it("goes to deployment-wide hooks only, with the previous status", async () => {
    const deployment = await createHook(admin, { url: hookUrl("dom-deploy"), scope: "deployment" });
    const own = await createHook(admin, { url: hookUrl("dom-own") });
    const { id } = await activeDomain(admin.key, "status-hook.com");
    expect((await api("POST", `/api/domains/${id}/disable`, { key: admin.key })).status).toBe(200);
    const changes = async () =>
      (await receiver.log("dom-deploy")).map((e) => JSON.parse(e.body)).filter((e) => e.type === "domain.status_changed" && e.data.id === id);
    await drive(deployment.id, async () => (await changes()).some((e) => e.data.status === "disabled"));
    const seen = (await changes()).map((e) => [e.data.previousStatus, e.data.status]);
    expect(seen.at(-1)).toEqual(["active", "disabled"]);
    expect((await changes())[0]!.data.rootDomain).toBe("status-hook.com");
    await runDurableObjectAlarm(outboxStub(env, own.id));
    expect((await receiver.log("dom-own")).filter((e) => JSON.parse(e.body).type === "domain.status_changed")).toEqual([]);
    await api("DELETE", `/api/webhooks/${deployment.id}`, { key: admin.key });
    await api("DELETE", `/api/webhooks/${own.id}`, { key: admin.key });
  });
});

describe("delivery: retries, 410, redirects", () => {
  it("a receiver that fails 3 times then succeeds gets the same webhook-id 4 times; the attempts are recorded", async () => {
    const mb = await newMailbox();
    const hook = await createHook(member, { url: hookUrl("flaky") });
    await receiver.set("flaky", { mode: "fail", failTimes: 3, status: 503 });
    await deliver(mb.address, "retry me");
    // First attempt (the alarm set by the poke), then one forced alarm per scheduled retry.
    const d = await drive(hook.id, async () => {
      const [x] = await deliveries(hook.id);
      return x?.status === "succeeded" && x;
    });
    const got = await receiver.log("flaky");
    expect(got.map((e) => e.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(got.map((e) => e.headers["webhook-id"])).size).toBe(1);
    expect(got[0]!.headers["webhook-id"]).toBe(d.id);
    for (const e of got) new StandardWebhook(hook.secret).verify(e.body, e.headers as any); // each attempt is signed afresh
    expect(d.attemptCount).toBe(4);
    expect(d.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([503, 503, 503, 200]);
    expect(d.attempts[0].error).toBe("HTTP 503");
    expect(d.deliveredAt).not.toBeNull();
    await api("DELETE", `/api/webhooks/${hook.id}`, { key: member.key });
  });

  it("a failing delivery shows its next retry; backoff is 5 s, 30 s, 2 min, 10 min, 1 h, then hourly (±10 %)", async () => {
    const mb = await newMailbox();
    const hook = await createHook(member, { url: hookUrl("down") });
    await receiver.set("down", { mode: "fail", status: 500 });
    await deliver(mb.address, "down");
    await until(async () => (await deliveries(hook.id))[0]?.attemptCount === 1); // the outbox's own alarm
    const [d] = await deliveries(hook.id);
    expect(d.status).toBe("pending");
    const wait = Date.parse(d.nextAttemptAt) - Date.parse(d.attempts[0].at);
    expect(wait).toBeGreaterThan(4000);
    expect(wait).toBeLessThan(7000);
    expect([1, 2, 3, 4, 5, 6, 30].map((n) => retryDelayMs(n, 0.5))).toEqual([5000, 30_000, 120_000, 600_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(retryDelayMs(1, 0)).toBe(4500);
    expect(retryDelayMs(1, 1)).toBe(5500);
    // 24 h after the first attempt, the next failure ends it and disables the hook with a reason.
    await env.DB.prepare("UPDATE webhook_deliveries SET window_started_at = ? WHERE id = ?").bind(new Date(Date.now() - GIVE_UP_AFTER_MS - 1000).toISOString(), d.id).run();
    await drive(hook.id, async () => (await deliveries(hook.id))[0]?.status === "failed");
    const after = await api("GET", `/api/webhooks/${hook.id}`, { key: member.key });
    expect(after.body.webhook.enabled).toBe(false);
    expect(after.body.webhook.disabledReason).toMatch(/24 hours/);
    // Re-enable, fix the endpoint, retry by hand: the same webhook-id is sent again.
    await receiver.set("down", { mode: "ok" });
    expect((await api("PATCH", `/api/webhooks/${hook.id}`, { key: member.key, body: { enabled: true } })).body.webhook.disabledReason).toBeNull();
    const retry = await api("POST", `/api/webhooks/${hook.id}/deliveries/${d.id}/retry`, { key: member.key });
    expect(retry.status).toBe(202);
    expect(retry.body.delivery).toMatchObject({ id: d.id, status: "pending" });
    await drive(hook.id, async () => (await deliveries(hook.id))[0]?.status === "succeeded");
    const log = await receiver.log("down");
    expect(log.at(-1)!.status).toBe(200);
    expect(log.at(-1)!.headers["webhook-id"]).toBe(d.id);
    expect((await api("POST", `/api/webhooks/${hook.id}/deliveries/${d.id}/retry`, { key: member.key })).status).toBe(202);
    await api("DELETE", `/api/webhooks/${hook.id}`, { key: member.key });
  });

  it("410 Gone disables the hook with a reason the owner sees; a disabled hook sends nothing", async () => {
    const mb = await newMailbox();
    const hook = await createHook(member, { url: hookUrl("gone") });
    await receiver.set("gone", { mode: "gone" });
    await deliver(mb.address, "gone");
    await drive(hook.id, async () => (await deliveries(hook.id))[0]?.status === "failed");
    const w = (await api("GET", `/api/webhooks/${hook.id}`, { key: member.key })).body.webhook;
    expect(w.enabled).toBe(false);
    expect(w.disabledReason).toMatch(/410/);
    await deliver(mb.address, "after disable");
    await runDurableObjectAlarm(outboxStub(env, hook.id));
    expect((await receiver.log("gone")).length).toBe(1);
    expect((await api("POST", `/api/webhooks/${hook.id}/test`, { key: member.key })).status).toBe(409);
  });

  it("a redirect is not followed: it counts as a failed attempt", async () => {
    const mb = await newMailbox();
    const hook = await createHook(member, { url: hookUrl("moved") });
    await receiver.set("moved", { mode: "redirect" });
    await deliver(mb.address, "moved");
    const d = await drive(hook.id, async () => {
      const [x] = await deliveries(hook.id);
      return x && x.attemptCount >= 1 && x;
    });
    expect(d.status).toBe("pending");
    expect(d.attempts[0]).toMatchObject({ statusCode: 302, error: "Redirect not followed (302)" });
    expect(await receiver.log("moved-redirected")).toEqual([]);
    await api("DELETE", `/api/webhooks/${hook.id}`, { key: member.key });
  });

  it("keeps order per endpoint: later events wait behind a failing one", async () => {
    const mb = await newMailbox();
    const hook = await createHook(member, { url: hookUrl("ordered") });
    await receiver.set("ordered", { mode: "fail", failTimes: 1 });
    await deliver(mb.address, "first", "first");
    await until(async () => (await receiver.log("ordered")).length === 1); // the outbox's own alarm; the retry is 5 s away
    await until(async () => (await deliveries(hook.id))[0]?.attemptCount === 1);
    await deliver(mb.address, "second", "second");
    await drive(hook.id, async () => (await deliveries(hook.id)).every((d) => d.status === "succeeded"));
    expect((await receiver.log("ordered")).map((e) => JSON.parse(e.body).data.subject)).toEqual(["first", "first", "second"]);
    await api("DELETE", `/api/webhooks/${hook.id}`, { key: member.key });
  });
});

describe("at-least-once, payload size, owners", () => {
  it("a delivery whose result was never recorded (a crash after sending) is sent again with the same webhook-id", async () => {
    const mb = await newMailbox();
    const hook = await createHook(member, { url: hookUrl("again") });
    await deliver(mb.address, "once");
    await drive(hook.id, async () => (await deliveries(hook.id))[0]?.status === "succeeded");
    const [d] = await deliveries(hook.id);
    // As if the outbox died between the receiver's 200 and the D1 write: the row is still pending
    // and the alarm set before the send is what runs next.
    await env.DB.prepare("UPDATE webhook_deliveries SET status = 'pending', delivered_at = NULL, attempt_count = 0, attempts_json = '[]' WHERE id = ?").bind(d.id).run();
    await outboxStub(env, hook.id).kick(hook.id);
    await drive(hook.id, async () => (await deliveries(hook.id))[0]?.status === "succeeded");
    const ids = (await receiver.log("again")).map((e) => e.headers["webhook-id"]);
    expect(ids).toEqual([d.id, d.id]);
    await api("DELETE", `/api/webhooks/${hook.id}`, { key: member.key });
  });

  it("the event is queued in the message's own D1 batch: a kick lost after the commit is made up by the cron, a failed commit queues nothing", async () => {
    const mb = await newMailbox();
    const hook = await createHook(member, { url: hookUrl("lost-kick") });
    // The isolate dies as soon as email() has answered: nothing it left to waitUntil reaches D1 or
    // an outbox any more.
    let dead = false;
    const gone = () => {
      throw new Error("isolate gone");
    };
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (dead) gone();
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const dying = { ...env, DB: db, WEBHOOK_OUTBOX: { idFromName: gone, get: gone } } as unknown as typeof env;
    const ctx = { waitUntil: (p: Promise<unknown>) => void p.catch(() => {}), passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    await worker.email(mockEmail(mail(mb.address, "kick me"), { to: mb.address }) as unknown as ForwardableEmailMessage, dying, ctx);
    dead = true;
    await new Promise((r) => setTimeout(r, 100));
    const [queued] = await deliveries(hook.id);
    expect(queued).toMatchObject({ eventType: "message.received", status: "pending", attemptCount: 0 });
    const msg = await env.DB.prepare("SELECT id FROM messages WHERE mailbox_id = ?").bind(mb.id).first<{ id: string }>();
    expect(JSON.parse((await env.DB.prepare("SELECT payload FROM webhook_deliveries WHERE id = ?").bind(queued.id).first<string>("payload"))!).data.id).toBe(msg!.id);
    // Not yet stalled: the cron leaves it to the outbox.
    expect(await kickStalledOutboxes(env)).not.toContain(hook.id);
    // A minute later the cron's backstop pokes the outbox, which sends it.
    expect(await kickStalledOutboxes(env, Date.now() + STALLED_AFTER_MS + 1000)).toContain(hook.id);
    await drive(hook.id, async () => (await deliveries(hook.id))[0]?.status === "succeeded");
    expect((await receiver.log("lost-kick")).map((e) => e.headers["webhook-id"])).toEqual([queued.id]);
    // A commit that fails (D1 down for the message's batch) stores nothing and queues nothing.
    await expect(deliverViaWorker(mail(mb.address, "never stored"), mb.address, envWithFailingInsert())).rejects.toThrow(/D1 unavailable/);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM messages WHERE mailbox_id = ?").bind(mb.id).first<number>("n")).toBe(1);
    expect(await deliveries(hook.id)).toHaveLength(1);
    await api("DELETE", `/api/webhooks/${hook.id}`, { key: member.key });
  });

  it("bodies stay under 256 KiB; webhook secrets are redacted from log lines", () => {
    const big = eventBody("evt_x", { type: "message.received", data: { subject: "s".repeat(300_000), previewText: "p".repeat(300_000) } }, new Date().toISOString());
    expect(new TextEncoder().encode(big).byteLength).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(JSON.parse(big).data.truncated).toBe(true);
    const secret = "whsec_" + btoa("k".repeat(32));
    expect(JSON.stringify(scrub({ note: `leaked ${secret}` }))).not.toContain(secret.slice(6));
  });

  it("a disabled member's hooks stay silent", async () => {
    const who = await makeUser("member");
    const mb = await newMailbox(who);
    const hook = await createHook(who, { url: hookUrl("disabled-owner") });
    expect((await api("PATCH", `/api/users/${who.userId}`, { key: admin.key, body: { disabled: true } })).status).toBe(200);
    await deliver(mb.address, "to a disabled owner");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM messages WHERE mailbox_id = ?").bind(mb.id).first<number>("n")).toBe(1); // stored, not announced
    await runDurableObjectAlarm(outboxStub(env, hook.id));
    expect(await env.DB.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ?").bind(hook.id).first<number>("n")).toBe(0);
    expect(await receiver.log("disabled-owner")).toEqual([]);
  });
});

describe("URL safety", () => {
  const production = { allowHttp: false };
  it("production allows only https:// to public hosts", () => {
    for (const url of ["https://hooks.example.com/x", "https://8.8.8.8/x", "https://[2606:4700::1111]/x", "https://example.com:8443/x"]) {
      expect(checkWebhookUrl(url, production), url).toMatchObject({ ok: true });
    }
    for (const url of [
      "http://hooks.example.com/x",
      "https://localhost/x",
      "https://api.localhost/x",
      "https://127.0.0.1/x",
      "https://127.1/x",
      "https://2130706433/x",
      "https://0x7f000001/x",
      "https://10.1.2.3/x",
      "https://172.16.0.1/x",
      "https://172.31.255.255/x",
      "https://192.168.1.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/x",
      "https://0.0.0.0/x",
      "https://[::1]/x",
      "https://[::]/x",
      "https://[fe80::1]/x",
      "https://[fc00::1]/x",
      "https://[fd12:3456::1]/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://[::ffff:10.0.0.1]/x",
      "https://user:pass@example.com/x",
      "javascript:alert(1)",
      "file:///etc/passwd",
    ]) {
      expect(checkWebhookUrl(url, production), url).toMatchObject({ ok: false });
    }
    expect(isPrivateHost("172.32.0.1")).toBe(false);
    expect(checkWebhookUrl("http://127.0.0.1:8080/x", { allowHttp: true })).toMatchObject({ ok: true });
  });

  it("the route refuses a private-range URL when WEBHOOK_ALLOW_HTTP is off", async () => {
    const strict = { ...env, WEBHOOK_ALLOW_HTTP: "false" };
    for (const url of ["https://10.0.0.5/hook", "https://[fd00::5]/hook", hookUrl("x"), "https://localhost/hook"]) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request("http://kaisoumail.test/api/webhooks", { method: "POST", headers: { authorization: `Bearer ${member.key}`, "content-type": "application/json" }, body: JSON.stringify({ url }) }),
        strict,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      const body = (await res.json()) as any;
      expect(res.status, url).toBe(400);
      expect(body.details.code).toBe("webhook_url_not_allowed");
    }
  });
});
