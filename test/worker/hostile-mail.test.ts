import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiveMessage, type InboundMessage } from "../../src/mail/inbound";
import { MAX_ATTACHMENT_ROWS } from "../../src/mail/parse";
import worker from "../../src/index";
import { contentDisposition } from "../../src/routes/messages";
import { activeDomain, api, makeUser, resetCloudflare, type Caller } from "./helpers";
import { hostileCorpus } from "./hostile-corpus";

/**
 * Every message of the hostile corpus goes through the email handler to an active mailbox. For
 * each: the handler does not throw and stores the message, R2 holds the exact raw bytes, D1 holds
 * a row whose parse state says what happened, and the detail, list, raw and attachment routes
 * answer without a server error, with safe download names.
 */
const root = "hostile-corpus.com";
const address = `inbox@hostile.${root}`;
const corpus = hostileCorpus(address);

let member: Caller;
let mailboxId: string;
const copyAddress = `copy@hostile.${root}`;
const timings: Array<{ name: string; bytes: number; status: string; error: string | null; ms: number; attachments: number }> = [];

/** What the runtime hands the email handler: the raw stream plus its parsed Message-ID header. */
function inbound(raw: Uint8Array, to: string): InboundMessage & { rejected: string | null } {
  const headerBlock = new TextDecoder("latin1").decode(raw.subarray(0, Math.min(raw.byteLength, 64 * 1024))).split(/\r?\n\r?\n/)[0] ?? "";
  const headers = new Headers();
  const id = /^message-id:[ \t]*([^\r\n]*)$/im.exec(headerBlock)?.[1]?.trim();
  // A header value with NUL/CR/LF cannot be represented in `Headers`; the runtime would drop it.
  if (id && !/[\u0000\r\n]/.test(id)) headers.set("message-id", id);
  let offset = 0;
  const msg = {
    from: "hostile@corpus.example",
    to,
    headers,
    rawSize: raw.byteLength,
    rejected: null as string | null,
    raw: new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= raw.byteLength) return controller.close();
        controller.enqueue(raw.slice(offset, offset + 65536));
        offset += 65536;
      },
    }),
    setReject(reason: string) {
      msg.rejected = reason;
    },
  };
  return msg;
}

async function sha256(data: Uint8Array | ArrayBuffer): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * GET through the Worker's own fetch export. (Not `exports.default.fetch`: the pool's loopback gets
 * slower with every call in a file, and this file makes ~800 calls.)
 */
async function get(path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`http://kaisoumail.test${path}`, { headers: { authorization: `Bearer ${member.key}` } });
  const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A JSON error envelope for any non-2xx (never a bare 500). */
async function expectOk(res: Response, label: string): Promise<void> {
  if (res.status !== 200) expect.fail(`${label}: ${res.status} ${(await res.text()).slice(0, 300)}`);
}

/** `attachment; filename="<ascii without / \ quotes or controls>"; filename*=UTF-8''<percent-encoded>`. */
const SAFE_DISPOSITION = /^attachment; filename="[^"\\/\u0000-\u001f\u007f-\uffff]*"; filename\*=UTF-8''[A-Za-z0-9%\-_.!~*'()]*$/;

beforeAll(async () => {
  await resetCloudflare();
  const admin = await makeUser("admin");
  member = await makeUser("member");
  await activeDomain(admin.key, root);
  const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "inbox", subdomain: "hostile", mailDomain: root, expiresInMinutes: 1440 } });
  expect(mb.status, JSON.stringify(mb.body)).toBe(201);
  expect(mb.body.address).toBe(address);
  mailboxId = mb.body.id;
  const copy = await api("POST", "/api/mailboxes", { key: member.key, body: { localPart: "copy", subdomain: "hostile", mailDomain: root, expiresInMinutes: 1440 } });
  expect(copy.status, JSON.stringify(copy.body)).toBe(201);
});

afterAll(() => {
  const slow = [...timings].sort((a, b) => b.ms - a.ms).slice(0, 8);
  console.log(
    `hostile corpus: ${timings.length}/${corpus.length} messages, ${timings.filter((t) => t.status === "failed").length} parse failures; slowest:\n` +
      slow.map((t) => `  ${t.name.padEnd(40)} ${String(t.bytes).padStart(9)} B  ${t.status.padEnd(6)}  ${t.ms} ms  ${t.attachments} attachments`).join("\n") +
      `\nparse failures (stored raw, parse_status "failed"):\n` +
      timings.filter((t) => t.status === "failed").map((t) => `  ${t.name}: ${t.error}`).join("\n"),
  );
});

describe("regressions found by the corpus", () => {
  it("download names cut inside a surrogate pair or holding lone surrogates do not throw (was a 500)", () => {
    for (const name of ["a" + "😀".repeat(200) + ".png", "c".repeat(179) + "😀.txt", "x\ud83d", "\udc00y", "😀".repeat(90)]) {
      const header = contentDisposition(name);
      expect(header).toMatch(SAFE_DISPOSITION);
      expect(decodeURIComponent(header.split("''")[1]!)).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    }
  });

  it("download names lose bidi overrides and C1 controls", () => {
    const header = contentDisposition("invoice\u202Efdp.exe\u0085\u2066");
    expect(decodeURIComponent(header.split("''")[1]!)).toBe("invoice_fdp.exe__");
  });

  it(`stores at most ${MAX_ATTACHMENT_ROWS} attachment rows per message; the rest stay in the raw message`, async () => {
    const m = corpus.find((x) => x.name === "multipart-5000-attachments")!;
    // Delivered to a second mailbox: the corpus run below delivers the same Message-ID to the first.
    const result = await receiveMessage(inbound(m.raw, copyAddress), env);
    expect(result.kind).toBe("stored");
    const id = (result as { messageId: string }).messageId;
    const row = await env.DB.prepare("SELECT attachment_count FROM messages WHERE id = ?").bind(id).first<number>("attachment_count");
    expect(row).toBe(MAX_ATTACHMENT_ROWS);
    const last = await env.DB.prepare("SELECT id FROM message_attachments WHERE message_id = ? ORDER BY position DESC LIMIT 1").bind(id).first<string>("id");
    const res = await get(`/api/messages/${id}/attachments/${last}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});

describe("hostile mail corpus", () => {
  it("has at least 100 distinct messages", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(100);
    expect(new Set(corpus.map((m) => m.name)).size).toBe(corpus.length);
  });

  for (const m of corpus) {
    it(`${m.name} — ${m.note}`, async () => {
      const msg = inbound(m.raw, address);
      const started = Date.now();
      const result = await receiveMessage(msg, env);
      const ms = Date.now() - started;
      expect(msg.rejected).toBeNull();
      expect(result.kind, JSON.stringify(result)).toBe("stored");
      const id = (result as { messageId: string }).messageId;

      const row = await env.DB.prepare("SELECT * FROM messages WHERE id = ?").bind(id).first<Record<string, unknown>>();
      expect(row).not.toBeNull();
      expect(["parsed", "failed"]).toContain(row!.parse_status);
      if (row!.parse_status === "failed") expect(String(row!.parse_error ?? "")).not.toBe("");
      expect(row!.size_bytes).toBe(m.raw.byteLength);
      expect(row!.mailbox_id).toBe(mailboxId);
      expect(Number(row!.attachment_count)).toBeLessThanOrEqual(MAX_ATTACHMENT_ROWS);
      timings.push({ name: m.name, bytes: m.raw.byteLength, status: String(row!.parse_status), error: (row!.parse_error as string | null) ?? null, ms, attachments: Number(row!.attachment_count) });

      const digest = await sha256(m.raw);
      const stored = await env.MAIL_BUCKET.get(String(row!.raw_r2_key));
      expect(stored).not.toBeNull();
      expect(stored!.size).toBe(m.raw.byteLength);
      expect(await sha256(await stored!.arrayBuffer())).toBe(digest);

      // The three reads are independent: issue them together to keep the file fast.
      const [detail, list, raw] = await Promise.all([get(`/api/messages/${id}`), get(`/api/messages?mailboxId=${mailboxId}&limit=5`), get(`/api/messages/${id}/raw`)]);
      await expectOk(detail, "detail");
      const message = ((await detail.json()) as { message: Record<string, any> }).message;
      expect(message.id).toBe(id);
      expect(message.parseStatus).toBe(row!.parse_status);
      expect(typeof message.subject).toBe("string");
      expect(message.attachments).toHaveLength(Number(row!.attachment_count));

      await expectOk(list, "list");
      expect(((await list.json()) as { messages: Array<{ id: string }> }).messages.map((x) => x.id)).toContain(id);

      await expectOk(raw, "raw");
      expect(raw.headers.get("content-type")).toBe("message/rfc822");
      expect(raw.headers.get("content-disposition")).toMatch(SAFE_DISPOSITION);
      expect(await sha256(await raw.arrayBuffer())).toBe(digest);

      const atts = message.attachments as Array<{ filename: string | null; downloadPath: string }>;
      const sample = [...new Set([0, 1, 2, atts.length - 1])].filter((i) => i >= 0 && i < atts.length);
      const downloads = await Promise.all(sample.map((i) => get(atts[i]!.downloadPath)));
      for (const [k, res] of downloads.entries()) {
        const a = atts[sample[k]!]!;
        await expectOk(res, `attachment ${sample[k]} (${JSON.stringify(a.filename)?.slice(0, 80)})`);
        expect(res.headers.get("content-disposition") ?? "", JSON.stringify(a.filename)?.slice(0, 200)).toMatch(SAFE_DISPOSITION);
        expect(res.headers.get("x-content-type-options")).toBe("nosniff");
        await res.arrayBuffer();
      }
    });
  }
});
