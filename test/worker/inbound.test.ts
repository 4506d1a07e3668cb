import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { INLINE_BODY_MAX_CHARS, receiveMessage } from "../../src/mail/inbound";
import { handleFetch } from "../../src/router";
import { KEEP_ATTACHMENTS_FROM_BYTES } from "../../src/routes/messages";
import { activeDomain, api, makeUser, resetCloudflare, type Caller, envWithFailingBatch } from "./helpers";
import { fixtures, mockEmail } from "./mail-fixtures";

let admin: Caller;
let member: Caller;
let other: Caller;
const root = "inbound-test.com";
let domainId: string;
let mailboxId: string;
let address: string;

async function deliver(raw: Uint8Array, to = address) {
  const msg = mockEmail(raw, { to });
  const result = await receiveMessage(msg, env);
  return { msg, result };
}

async function rawOf(messageId: string): Promise<Uint8Array> {
  const row = await env.DB.prepare("SELECT raw_r2_key FROM messages WHERE id = ?").bind(messageId).first<{ raw_r2_key: string }>();
  const obj = await env.MAIL_BUCKET.get(row!.raw_r2_key);
  return new Uint8Array(await obj!.arrayBuffer());
}

/** R2 objects (raw and parsed) of the test mailbox whose key continues with `rest`. */
async function r2Objects(rest = ""): Promise<number> {
  const [raw, parsed] = await Promise.all(["raw", "parsed"].map((kind) => env.MAIL_BUCKET.list({ prefix: `${kind}/${mailboxId}/${rest}` })));
  return raw!.objects.length + parsed!.objects.length;
}

async function detail(id: string, key = member.key) {
  return (await api("GET", `/api/messages/${id}`, { key })).body.message;
}

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  member = await makeUser("member");
  other = await makeUser("member");
  ({ id: domainId } = await activeDomain(admin.key, root));
  const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "inbox", subdomain: "qa", mailDomain: root, expiresInMinutes: 1440 } });
  mailboxId = mb.body.id;
  address = mb.body.address;
});

describe("email handler", () => {
  it("stores the exact raw bytes, the parsed body and the verification code", async () => {
    const raw = fixtures.plain(address.toUpperCase());
    const { msg, result } = await deliver(raw, address.toUpperCase());
    expect(msg.rejected).toBeNull();
    expect(result.kind).toBe("stored");
    const id = (result as { messageId: string }).messageId;
    expect(await rawOf(id)).toEqual(raw);
    const m = await detail(id);
    expect(m).toMatchObject({
      mailboxId,
      mailboxAddress: address,
      subject: "Your verification code",
      fromName: "Acme Accounts",
      fromAddress: "no-reply@acme.example",
      parseStatus: "parsed",
      verification: { code: "482913", link: null, source: "text", method: "rules" },
      envelopeTo: address,
      dateHeader: "2026-11-25T10:00:00.000Z",
    });
    expect(m.text).toContain("482913");
    expect(m.previewText).toBe("Your verification code is 482913. It expires in 10 minutes.");
    expect(m.recipients.to).toEqual([{ name: null, address: address.toUpperCase().toLowerCase() }]);
  });

  it("stores the verification link and confidence; a link-only message has verification with code null", async () => {
    const url = "https://accounts.acme.example/verify-email?token=Zq8xLmN3pR5tV7wY9aB1cD3e&amp;uid=58291";
    const html =
      `<p>Welcome to Acme! Please confirm your email address to finish signing up.</p>` +
      `<p><a href="${url}" style="padding:12px 24px;background:#4f46e5;color:#fff">Confirm email address</a></p>` +
      `<p><a href="https://acme.example/help">Help</a> · <a href="https://acme.example/unsubscribe?u=1">Unsubscribe</a></p>`;
    const raw = new TextEncoder().encode(
      `From: Acme <no-reply@acme.example>\r\nTo: ${address}\r\nSubject: Confirm your email\r\nMessage-ID: <link-only-${crypto.randomUUID()}@acme.example>\r\n` +
        `Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`,
    );
    const { result } = await deliver(raw);
    const id = (result as { messageId: string }).messageId;
    const link = "https://accounts.acme.example/verify-email?token=Zq8xLmN3pR5tV7wY9aB1cD3e&uid=58291";
    const row = await env.DB.prepare("SELECT verification_code, verification_link, verification_confidence FROM messages WHERE id = ?").bind(id).first();
    expect(row).toMatchObject({ verification_code: null, verification_link: link });
    expect(row!.verification_confidence).toBeGreaterThanOrEqual(0.5);
    const m = await detail(id);
    expect(m.verification).toMatchObject({ code: null, link, source: "html", method: "rules" });
    expect(m.verification.confidence).toBe(Math.round(m.verification.confidence * 100) / 100);
    const list = await api("GET", `/api/messages?mailboxId=${mailboxId}`, { key: member.key });
    expect(list.body.messages.find((x: { id: string }) => x.id === id).verification).toEqual(m.verification);
  });

  it("parses multipart/alternative with quoted-printable and base64 parts", async () => {
    const { result } = await deliver(fixtures.alternative(address));
    const m = await detail((result as { messageId: string }).messageId);
    expect(m.text).toContain("Your confirmation code is 7Q4K9Z — thanks.");
    expect(m.html).toContain("<b>7Q4K9Z</b>");
    expect(m.hasHtml).toBe(true);
    expect(m.verification?.code).toBe("7Q4K9Z");
  });

  it("lists inline images and attachments, and serves decoded attachment bytes with a safe name", async () => {
    const { result } = await deliver(fixtures.withAttachments(address));
    const m = await detail((result as { messageId: string }).messageId);
    expect(m.attachmentCount).toBe(2);
    expect(m.attachments.map((a: { contentType: string; disposition: string }) => [a.contentType, a.disposition])).toEqual([
      ["image/png", "inline"],
      ["application/pdf", "attachment"],
    ]);
    expect(m.recipients.cc.map((r: { address: string }) => r.address)).toEqual(["bob@acme.example", "carol@acme.example"]);
    expect(m.recipients.replyTo).toEqual([{ name: null, address: "billing@acme.example" }]);
    const pdf = m.attachments[1];
    const res = await api("GET", pdf.downloadPath, { key: member.key });
    expect(res.status).toBe(200);
    expect(res.body).toBe("%PDF-1.4 fake invoice body");
    const disposition = res.res.headers.get("content-disposition")!;
    expect(disposition).toMatch(/^attachment; filename="/);
    expect(disposition).not.toContain("/");
    expect(res.res.headers.get("x-content-type-options")).toBe("nosniff");
    const png = await exports.default.fetch(new Request(`http://kaisoumail.test${m.attachments[0].downloadPath}`, { headers: { authorization: `Bearer ${member.key}` } }));
    expect(new Uint8Array(await png.arrayBuffer())).toEqual(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]));
    expect((await api("GET", pdf.downloadPath, { key: other.key })).status).toBe(403);
  });

  it.each([
    ["GBK", fixtures.gbk, "你好", "你好"],
    ["Big5", fixtures.big5, "你好", "你好"],
    ["ISO-2022-JP", fixtures.iso2022jp, "こんにちは", "こんにちは"],
    ["ISO-8859-1", fixtures.latin1, "Café", "Un café, merci."],
  ])("decodes %s subjects and bodies", async (_name, make, subject, body) => {
    const { result } = await deliver(make(address));
    const m = await detail((result as { messageId: string }).messageId);
    expect(m.subject).toBe(subject);
    expect(m.text.trim()).toBe(body);
  });

  it("stores messages with 8-bit headers, broken boundaries and no Message-ID", async () => {
    for (const raw of [fixtures.eightBitHeaders(address), fixtures.brokenBoundary(address), fixtures.noMessageId(address)]) {
      const { result, msg } = await deliver(raw);
      expect(msg.rejected).toBeNull();
      expect(result.kind).toBe("stored");
      const id = (result as { messageId: string }).messageId;
      expect(await rawOf(id)).toEqual(raw);
      const m = await detail(id);
      expect(["parsed", "failed"]).toContain(m.parseStatus);
    }
    const broken = await api("GET", `/api/messages?mailboxId=${mailboxId}&limit=200`, { key: member.key });
    expect(broken.body.messages.some((m: { subject: string }) => m.subject === "Grüße aus München")).toBe(true);
    expect(broken.body.messages.some((m: { previewText: string }) => m.previewText.includes("the body survives"))).toBe(true);
  });

  describe("re-deliveries and repeated Message-IDs", () => {
    const countById = (id: string) => env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE message_id_header = ?").bind(id).first<number>("n");
    const codeMail = (id: string, code: string, extra = "") =>
      new TextEncoder().encode(
        `${extra}From: Acme <no-reply@acme.example>\r\nTo: ${address}\r\nSubject: Sign-in code\r\nMessage-ID: ${id}\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\n\r\nYour sign-in code is ${code}.\r\n`,
      );
    const deliverFrom = (raw: Uint8Array, from: string) => {
      const msg = mockEmail(raw, { to: address, from });
      return receiveMessage(msg, env);
    };

    it("stores a true re-delivery once: the same bytes, and the same message retried through another hop", async () => {
      const raw = fixtures.plain(address, "<same-id@acme.example>");
      const first = await deliver(raw);
      const second = await deliver(raw);
      expect(first.result.kind).toBe("stored");
      expect(second.result).toMatchObject({ kind: "duplicate", messageId: (first.result as { messageId: string }).messageId });
      // A retry through Cloudflare gains fresh trace headers; it is still the same delivery.
      const hop = "Received: from mx.acme.example by mx.cloudflare.net; Thu, 03 Dec 2026 10:05:00 +0000\r\nARC-Seal: i=1; a=rsa-sha256; t=1764756300; cv=none\r\n";
      const retried = await deliver(new Uint8Array([...new TextEncoder().encode(hop), ...raw]));
      expect(retried.result).toMatchObject({ kind: "duplicate", messageId: (first.result as { messageId: string }).messageId });
      expect(await countById("<same-id@acme.example>")).toBe(1);
    });

    it("an outsider who sends first with the real message's Message-ID (or it upper-cased) does not make the real one vanish", async () => {
      const id = "<otp-77@acme.example>";
      const spoof = await deliverFrom(codeMail(id, "000000"), "attacker@evil.example");
      const spoofUpper = await deliverFrom(codeMail(id.toUpperCase(), "111111"), "attacker@evil.example");
      const real = await deliverFrom(codeMail(id, "582013"), "no-reply@acme.example");
      expect([spoof.kind, spoofUpper.kind, real.kind]).toEqual(["stored", "stored", "stored"]);
      const m = await detail((real as { messageId: string }).messageId);
      expect(m.verification.code).toBe("582013");
      // Even the same envelope sender with a different body is a different message.
      const sameSender = await deliverFrom(codeMail(id, "999999"), "no-reply@acme.example");
      expect(sameSender.kind).toBe("stored");
      expect(await countById(id)).toBe(3);
    });

    it("stores distinct messages that share one static Message-ID", async () => {
      const id = "<newsletter@bulk.example>";
      const results = await Promise.all(["Monday", "Tuesday", "Wednesday"].map((day) => deliverFrom(codeMail(id, `${day} 4821`), "bulk@bulk.example")));
      expect(results.map((r) => r.kind)).toEqual(["stored", "stored", "stored"]);
      expect(new Set(results.map((r) => (r as { messageId: string }).messageId)).size).toBe(3);
      expect(await countById(id)).toBe(3);
      // Each is listed for its owner.
      const list = await api("GET", `/api/messages?mailboxId=${mailboxId}&limit=200`, { key: member.key });
      expect(list.body.messages.filter((m: { messageId?: string; previewText: string }) => /Monday|Tuesday|Wednesday/.test(m.previewText)).length).toBe(3);
    });
  });

  it("rejects unknown, expired and destroyed mailboxes and oversized messages", async () => {
    const unknown = await deliver(fixtures.plain(`nobody@qa.${root}`), `nobody@qa.${root}`);
    expect(unknown.msg.rejected).toBe("Mailbox unavailable");
    const bare = await deliver(fixtures.plain(`x@${root}`), `x@${root}`);
    expect(bare.msg.rejected).toBe("Mailbox unavailable");
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "old", subdomain: "qa", mailDomain: root } });
    await env.DB.prepare("UPDATE mailboxes SET expires_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), mb.body.id).run();
    const expired = await deliver(fixtures.plain(mb.body.address), mb.body.address);
    expect(expired.msg.rejected).toBe("Mailbox unavailable");
    expect((await api("GET", `/api/mailboxes/${mb.body.id}`, { key: member.key })).body.status).toBe("expired");
    const big = mockEmail(fixtures.plain(address), { to: address, rawSize: 26 * 1024 * 1024 });
    await receiveMessage(big, env);
    expect(big.rejected).toMatch(/too large/i);
  });

  it("throws when R2 fails, so the sender retries, and leaves nothing behind", async () => {
    const failing = {
      ...env,
      MAIL_BUCKET: {
        put: async () => {
          throw new Error("R2 unavailable");
        },
        delete: async () => {},
      },
    } as unknown as typeof env;
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages").first<number>("n");
    await expect(receiveMessage(mockEmail(fixtures.plain(address), { to: address }), failing)).rejects.toThrow("R2 unavailable");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM messages").first<number>("n")).toBe(before);
  });

  it("keeps a small parsed body in D1 (one R2 object) and a large one in R2; deleting removes both", async () => {
    const bodyRows = (id: string) => env.DB.prepare("SELECT COUNT(*) AS n FROM message_bodies WHERE message_id = ?").bind(id).first<number>("n");

    const small = (await deliver(fixtures.plain(address, "<small-body@acme.example>"))).result as { messageId: string };
    const smallRow = await env.DB.prepare("SELECT parsed_r2_key FROM messages WHERE id = ?").bind(small.messageId).first<{ parsed_r2_key: string | null }>();
    expect(smallRow!.parsed_r2_key).toBeNull();
    expect(await bodyRows(small.messageId)).toBe(1);
    expect(await r2Objects(small.messageId)).toBe(1);
    expect((await detail(small.messageId)).text).toContain("482913");

    const html = `<p>Your code is <b>615204</b>.</p>${"<p>padding paragraph for a long newsletter-style body</p>".repeat(800)}`;
    expect(html.length).toBeGreaterThan(INLINE_BODY_MAX_CHARS);
    const large = (await deliver(fixtures.html(address, html))).result as { messageId: string };
    const largeRow = await env.DB.prepare("SELECT parsed_r2_key FROM messages WHERE id = ?").bind(large.messageId).first<{ parsed_r2_key: string | null }>();
    expect(largeRow!.parsed_r2_key).toBe(`parsed/${mailboxId}/${large.messageId}.json`);
    expect(await bodyRows(large.messageId)).toBe(0);
    expect(await r2Objects(large.messageId)).toBe(2);
    const m = await detail(large.messageId);
    expect(m.html).toBe(`${html}\n`);
    expect(m.verification?.code).toBe("615204");

    for (const id of [small.messageId, large.messageId]) {
      expect((await api("DELETE", `/api/messages/${id}`, { key: member.key })).status).toBe(204);
      expect(await bodyRows(id)).toBe(0);
      expect(await r2Objects(id)).toBe(0);
    }
  });

  it("throws when D1 fails after the R2 writes, and removes what it wrote", async () => {
    const failing = envWithFailingBatch();
    const html = `<p>code 777123</p>${"<p>long body</p>".repeat(2000)}`;
    for (const raw of [fixtures.plain(address, "<d1-fail-small@acme.example>"), fixtures.html(address, html)]) {
      const before = await r2Objects();
      await expect(receiveMessage(mockEmail(raw, { to: address }), failing)).rejects.toThrow("D1 unavailable");
      expect(await r2Objects()).toBe(before);
    }
  });

  it("stores a 20 MiB attachment byte for byte", async () => {
    const raw = fixtures.bigAttachment(address, 20 * 1024 * 1024);
    const { result, msg } = await deliver(raw);
    expect(msg.rejected).toBeNull();
    expect(result.kind).toBe("stored");
    const id = (result as { messageId: string }).messageId;
    const stored = await rawOf(id);
    expect(stored.byteLength).toBe(raw.byteLength);
    // Compare digests: a structural diff of two 20 MiB arrays would exhaust the test isolate.
    const digest = async (u8: Uint8Array) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", u8))].join(",");
    expect(await digest(stored)).toBe(await digest(raw));
    const m = await detail(id);
    expect(m.attachments[0].filename).toBe("big.bin");
    // postal-mime keeps the line break before the closing boundary in a binary part (+1 byte).
    expect(m.attachments[0].sizeBytes - 20 * 1024 * 1024).toBeGreaterThanOrEqual(0);
    expect(m.attachments[0].sizeBytes - 20 * 1024 * 1024).toBeLessThanOrEqual(2);
  });

  it("goes through the Worker's own email() export", async () => {
    const raw = fixtures.plain(address);
    const msg = mockEmail(raw, { to: address });
    // JSRPC to the default export; function props (setReject) arrive as stubs.
    await (exports.default as unknown as { email(m: unknown): Promise<void> }).email(msg);
    expect(msg.rejected).toBeNull();
  });
});

describe("attachment downloads", () => {
  const digest = async (u8: Uint8Array) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", u8))].join(",");
  const download = async (path: string, key = member.key) => {
    const res = await exports.default.fetch(new Request(`http://kaisoumail.test${path}`, { headers: { authorization: `Bearer ${key}` } }));
    return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
  };
  /** Every R2 object whose key belongs to this message (raw, parsed body, kept attachment parts). */
  const objectsOf = async (mbx: string, id: string) => {
    const lists = await Promise.all([`raw/${mbx}/${id}`, `parsed/${mbx}/${id}`, `att/${mbx}/${id}/`].map((prefix) => env.MAIL_BUCKET.list({ prefix })));
    return lists.flatMap((l) => l.objects.map((o) => o.key));
  };
  const bigMessage = async (to = address) => {
    const raw = fixtures.bigAttachment(to, 1536 * 1024);
    expect(raw.byteLength).toBeGreaterThanOrEqual(KEEP_ATTACHMENTS_FROM_BYTES);
    const { result } = await deliver(raw, to);
    const id = (result as { messageId: string }).messageId;
    return { id, attachment: (await detail(id)).attachments[0] as { id: string; sizeBytes: number; downloadPath: string } };
  };

  it("keeps a large message's attachment in R2 on the first download and serves it from there, byte for byte, with the same headers", async () => {
    const { id, attachment } = await bigMessage();
    const first = await download(attachment.downloadPath);
    expect(first.res.status).toBe(200);
    expect(first.bytes.byteLength).toBe(attachment.sizeBytes);
    expect(String.fromCharCode(...first.bytes.subarray(0, 4))).toBe("AFKP");
    expect(await objectsOf(mailboxId, id)).toContain(`att/${mailboxId}/${id}/0`);

    // The raw message is now garbage: a download that re-parsed it would find no attachment.
    const { raw_r2_key } = (await env.DB.prepare("SELECT raw_r2_key FROM messages WHERE id = ?").bind(id).first<{ raw_r2_key: string }>())!;
    await env.MAIL_BUCKET.put(raw_r2_key, "garbage, not a MIME message");
    const second = await download(attachment.downloadPath);
    expect(second.res.status).toBe(200);
    expect(second.bytes.byteLength).toBe(first.bytes.byteLength);
    expect(await digest(second.bytes)).toBe(await digest(first.bytes));
    for (const res of [first.res, second.res]) {
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(res.headers.get("content-length")).toBe(String(attachment.sizeBytes));
      expect(res.headers.get("content-disposition")).toBe(`attachment; filename="big.bin"; filename*=UTF-8''big.bin`);
      expect(res.headers.get("content-security-policy")).toBe("sandbox; default-src 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    expect((await download(attachment.downloadPath, other.key)).res.status).toBe(403);

    expect((await api("DELETE", `/api/messages/${id}`, { key: member.key })).status).toBe(204);
    expect(await objectsOf(mailboxId, id)).toEqual([]);
  });

  it("a small message's attachment is re-parsed on each download and costs no R2 object", async () => {
    const { result } = await deliver(fixtures.withAttachments(address));
    const id = (result as { messageId: string }).messageId;
    const pdf = (await detail(id)).attachments[1];
    for (let i = 0; i < 2; i++) expect(new TextDecoder().decode((await download(pdf.downloadPath)).bytes)).toBe("%PDF-1.4 fake invoice body");
    expect((await env.MAIL_BUCKET.list({ prefix: `att/${mailboxId}/${id}/` })).objects).toEqual([]);
  });

  it("destroying the mailbox removes kept attachment parts with the rest of its mail", async () => {
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "purged", subdomain: "qa", mailDomain: root } });
    expect(mb.status).toBe(201);
    const { id, attachment } = await bigMessage(mb.body.address);
    expect((await download(attachment.downloadPath)).res.status).toBe(200);
    expect(await objectsOf(mb.body.id, id)).toHaveLength(2);
    const destroyed = await api("DELETE", `/api/mailboxes/${mb.body.id}`, { key: member.key });
    expect(destroyed.status).toBe(200);
    expect(destroyed.body.status).toBe("destroyed");
    expect(await objectsOf(mb.body.id, id)).toEqual([]);
    expect((await env.MAIL_BUCKET.list({ prefix: `att/${mb.body.id}/` })).objects).toEqual([]);
  });

  it("a message deleted while its attachment is being kept leaves nothing in R2", async () => {
    const { id, attachment } = await bigMessage();
    // The delete runs to completion between the parse and the attachment's R2 write.
    const racing = {
      ...env,
      MAIL_BUCKET: new Proxy(env.MAIL_BUCKET, {
        get(target, prop) {
          if (prop === "put") {
            return async (...args: Parameters<R2Bucket["put"]>) => {
              expect((await api("DELETE", `/api/messages/${id}`, { key: member.key })).status).toBe(204);
              return target.put(...args);
            };
          }
          const value = Reflect.get(target, prop);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    } as typeof env;
    const res = await handleFetch(
      new Request(`http://kaisoumail.test${attachment.downloadPath}`, { headers: { authorization: `Bearer ${member.key}` } }),
      racing,
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(attachment.sizeBytes);
    expect(await objectsOf(mailboxId, id)).toEqual([]);
  });
});

describe("catch-all delivery", () => {
  it("materialises a catch_all mailbox with the catch-all TTL, owned by the admin who enabled it", async () => {
    expect((await api("POST", `/api/domains/${domainId}/catch-all/enable`, { key: admin.key })).status).toBe(200);
    const to = `random-signup@any.${root}`;
    const { msg, result } = await deliver(fixtures.plain(to), to);
    expect(msg.rejected).toBeNull();
    expect(result.kind).toBe("stored");
    const row = await env.DB.prepare("SELECT * FROM mailboxes WHERE address = ?").bind(to).first<Record<string, unknown>>();
    expect(row).toMatchObject({ source: "catch_all", status: "active", user_id: admin.userId, routing_rule_id: null });
    // CATCH_ALL_MAILBOX_TTL_MINUTES is unset in tests: DEFAULT_MAILBOX_TTL_MINUTES (60).
    expect(Date.parse(row!.expires_at as string) - Date.parse(row!.created_at as string)).toBe(60 * 60_000);
    // Ensure promotes it to a registered mailbox with its own rule once catch-all is off.
    expect((await api("POST", `/api/domains/${domainId}/catch-all/disable`, { key: admin.key })).status).toBe(200);
    const promoted = await api("POST", "/api/mailboxes/ensure", { key: admin.key, body: { address: to } });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ source: "registered", status: "active" });
    expect(promoted.body.routingRuleId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("GET /api/messages", () => {
  it("pages newest first with a stable cursor: no duplicates, no gaps while new mail arrives", async () => {
    const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "pager", subdomain: "qa", mailDomain: root } });
    for (let i = 0; i < 25; i++) await deliver(fixtures.noMessageId(mb.body.address), mb.body.address);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { messages: Array<{ id: string }>; nextCursor: string | null } } = await api(
        "GET",
        `/api/messages?mailboxId=${mb.body.id}&limit=10${cursor ? `&cursor=${cursor}` : ""}`,
        { key: member.key },
      );
      seen.push(...res.body.messages.map((m) => m.id));
      cursor = res.body.nextCursor;
      if (pages++ === 0) for (let i = 0; i < 3; i++) await deliver(fixtures.noMessageId(mb.body.address), mb.body.address);
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect([...seen].sort().reverse()).toEqual(seen);
    const newer = await api("GET", `/api/messages?mailboxId=${mb.body.id}&limit=200`, { key: member.key });
    expect(newer.body.messages).toHaveLength(28);
  });

  it("filters by mailbox, status and time, and hides other members' mail", async () => {
    const all = await api("GET", "/api/messages?limit=200", { key: member.key });
    expect(all.body.messages.length).toBeGreaterThan(0);
    expect((await api("GET", "/api/messages?limit=200", { key: other.key })).body.messages).toEqual([]);
    const byAddress = await api("GET", `/api/messages?mailbox=${encodeURIComponent(address)}&limit=5`, { key: member.key });
    expect(byAddress.body.messages.every((m: { mailboxAddress: string }) => m.mailboxAddress === address)).toBe(true);
    const newest = all.body.messages[0].receivedAt;
    expect((await api("GET", `/api/messages?after=${encodeURIComponent(newest)}`, { key: member.key })).body.messages).toEqual([]);
    expect((await api("GET", "/api/messages?mailboxStatus=expired", { key: member.key })).body.messages).toEqual([]);
    for (const bad of ["after=yesterday", "limit=0", "limit=201", "cursor=%%%", "mailboxId=nope", "mailboxStatus=weird"]) {
      const res = await api("GET", `/api/messages?${bad}`, { key: member.key });
      expect(res.status, bad).toBe(400);
      expect(res.body.error).toBe("Invalid request");
    }
  });

  it("caps mailbox and mailboxId filters together (D1 binds at most 100 values): 400 naming the limit, never 500", async () => {
    const addresses = Array.from({ length: 50 }, (_, i) => `filter${i}@qa.${root}`);
    const ids = Array.from({ length: 50 }, (_, i) => `mbx_${i.toString(16).padStart(32, "0")}`);
    const query = (parts: string[]) => `/api/messages?${parts.join("&")}`;
    const byAddress = addresses.map((a) => `mailbox=${encodeURIComponent(a)}`);
    const byId = ids.map((id) => `mailboxId=${id}`);
    for (const key of [member.key, admin.key]) {
      const both = await api("GET", query([...byAddress, ...byId, "mailboxStatus=active", `after=${encodeURIComponent("2020-01-01T00:00:00Z")}`]), { key });
      expect(both.status).toBe(400);
      expect(both.body.error).toBe("Invalid request");
      expect(both.body.details.formErrors.join(" ")).toMatch(/at most 50 mailbox and mailboxId filters/i);
      const split = await api("GET", query([...byAddress.slice(0, 26), ...byId.slice(0, 25)]), { key });
      expect(split.status).toBe(400);
    }
    // Fifty of one kind (or both kinds within fifty) still work, with every other filter on top.
    const mine = [address, ...addresses.slice(1)].map((a) => `mailbox=${encodeURIComponent(a)}`);
    const cursorPage = await api("GET", query([...mine, "limit=1"]), { key: member.key });
    expect(cursorPage.status).toBe(200);
    expect(cursorPage.body.messages).toHaveLength(1);
    const extras = ["mailboxStatus=active", "mailboxStatus=expired", "mailboxStatus=destroyed", "after=2020-01-01T00:00:00Z", "since=2020-01-01T00:00:00Z", `cursor=${cursorPage.body.nextCursor}`];
    for (const key of [member.key, admin.key]) {
      const fifty = await api("GET", query([...mine, ...extras]), { key });
      expect(fifty.status).toBe(200);
      expect(fifty.body.messages.length).toBeGreaterThan(0);
      expect(fifty.body.messages.every((m: { mailboxAddress: string }) => m.mailboxAddress === address)).toBe(true);
      expect((await api("GET", query([...byId, ...extras]), { key })).status).toBe(200);
      expect((await api("GET", query([`mailboxId=${mailboxId}`, ...mine.slice(0, 49), ...extras]), { key })).status).toBe(200);
    }
    // A status named again and again is one filter, not one bound value per repetition.
    const repeated = await api("GET", query(Array.from({ length: 120 }, () => "mailboxStatus=active")), { key: member.key });
    expect(repeated.status).toBe(200);
    expect(repeated.body.messages.length).toBeGreaterThan(0);
  });

  it("downloads the exact raw message and deletes a message", async () => {
    const raw = fixtures.alternative(address);
    const { result } = await deliver(raw);
    const id = (result as { messageId: string }).messageId;
    const res = await exports.default.fetch(new Request(`http://kaisoumail.test/api/messages/${id}/raw`, { headers: { authorization: `Bearer ${member.key}` } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("message/rfc822");
    // Named after the subject and the date (issue 15), not the internal id.
    expect(res.headers.get("content-disposition")).toMatch(/filename="Welcome to Acme \d{4}-\d\d-\d\d \d\d-\d\d\.eml"/);
    // Downloaded, never rendered on our origin: the same sandbox as attachment downloads.
    expect(res.headers.get("content-security-policy")).toBe("sandbox; default-src 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(raw);
    expect((await api("GET", `/api/messages/${id}/raw`, { key: other.key })).status).toBe(403);
    expect((await api("DELETE", `/api/messages/${id}`, { key: other.key })).status).toBe(403);
    expect((await api("DELETE", `/api/messages/${id}`, { key: member.key })).status).toBe(204);
    expect((await api("GET", `/api/messages/${id}`, { key: member.key })).status).toBe(404);
  });

  it("uses the (mailbox, received_at, id) index for a mailbox page", async () => {
    const plan = await env.DB.prepare(
      "EXPLAIN QUERY PLAN SELECT m.id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.mailbox_id = ?1 AND (m.received_at, m.id) < (?2, ?3) ORDER BY m.received_at DESC, m.id DESC LIMIT 51",
    )
      .bind(mailboxId, new Date().toISOString(), "msg_ffffffffffffffffffffffffffffffff")
      .all<{ detail: string }>();
    const text = plan.results.map((r) => r.detail).join("\n");
    expect(text).toContain("messages_mailbox_received");
    expect(text).not.toContain("TEMP B-TREE");
  });
});

describe("PARSE_INLINE_MAX_BYTES (mail too large for the Free plan's CPU budget in email())", () => {
  const small = { ...env, PARSE_INLINE_MAX_BYTES: "200" } as typeof env;
  const counter = async (name: string) => (await env.DB.prepare("SELECT value FROM counters WHERE name = ?").bind(name).first<number>("value")) ?? 0;

  it("stores larger mail with its headers only, and the first read parses it once: body, code, attachments, byte totals", async () => {
    const raw = fixtures.withAttachments(address);
    const msg = mockEmail(raw, { to: address });
    const result = await receiveMessage(msg, small);
    expect(result.kind).toBe("stored");
    const id = (result as { messageId: string }).messageId;
    // Listed at once with what the headers say; no body, code or attachments yet.
    const listed = (await api("GET", `/api/messages?mailbox=${encodeURIComponent(address)}&limit=1`, { key: member.key })).body.messages[0];
    expect(listed).toMatchObject({ id, parseStatus: "deferred", attachmentCount: 0, verification: null, fromAddress: "no-reply@acme.example" });
    expect(listed.subject).toBe("Invoice attached");
    const row = await env.DB.prepare("SELECT parsed_r2_key, (SELECT count(*) FROM message_bodies WHERE message_id = messages.id) AS bodies FROM messages WHERE id = ?").bind(id).first<{ parsed_r2_key: string | null; bodies: number }>();
    expect(row).toEqual({ parsed_r2_key: null, bodies: 0 });
    const [bytesBefore, objectsBefore] = [await counter("r2_bytes"), await counter("r2_objects")];

    // Two readers at once: both answer the full message; the totals move once.
    const [a, b] = await Promise.all([detail(id), detail(id)]);
    for (const m of [a, b]) {
      expect(m.parseStatus).toBe("parsed");
      expect(m.attachmentCount).toBe(2);
      expect(m.attachments).toHaveLength(2);
      expect(m.html).toContain("the invoice");
    }
    const after = await env.DB.prepare("SELECT parse_status, parsed_r2_key, stored_bytes, size_bytes FROM messages WHERE id = ?").bind(id).first<{ parse_status: string; parsed_r2_key: string; stored_bytes: number; size_bytes: number }>();
    expect(after!.parse_status).toBe("parsed");
    const parsedObject = await env.MAIL_BUCKET.get(after!.parsed_r2_key);
    const parsedBytes = (await parsedObject!.arrayBuffer()).byteLength;
    expect(after!.stored_bytes).toBe(after!.size_bytes + parsedBytes);
    expect(await counter("r2_bytes")).toBe(bytesBefore + parsedBytes);
    expect(await counter("r2_objects")).toBe(objectsBefore + 1);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM message_attachments WHERE message_id = ?").bind(id).first<number>("n")).toBe(2);
    // The attachment downloads as for any message.
    const pdf = (await api("GET", a.attachments[1].downloadPath, { key: member.key }));
    expect(pdf.status).toBe(200);
    expect(pdf.body).toBe("%PDF-1.4 fake invoice body");
  });

  it("finds the verification code on the first read; mail at or under the limit is parsed in email() as before", async () => {
    const big = await receiveMessage(mockEmail(fixtures.plain(address), { to: address }), small);
    const id = (big as { messageId: string }).messageId;
    expect((await api("GET", `/api/messages?mailbox=${encodeURIComponent(address)}&limit=1`, { key: member.key })).body.messages[0].verification).toBeNull();
    expect((await detail(id)).verification).toMatchObject({ code: "482913" });
    expect((await api("GET", `/api/messages?mailbox=${encodeURIComponent(address)}&limit=1`, { key: member.key })).body.messages[0].verification).toMatchObject({ code: "482913" });
    const raw = fixtures.plain(address);
    const roomy = { ...env, PARSE_INLINE_MAX_BYTES: String(raw.byteLength) } as typeof env;
    const inline = await receiveMessage(mockEmail(raw, { to: address }), roomy);
    const listed = (await api("GET", `/api/messages?mailbox=${encodeURIComponent(address)}&limit=1`, { key: member.key })).body.messages[0];
    expect(listed).toMatchObject({ id: (inline as { messageId: string }).messageId, parseStatus: "parsed", verification: { code: "482913" } });
  });
});
