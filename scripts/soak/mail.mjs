// Inbound messages for the soak: real-shaped RFC 822 (plain, 8-bit UTF-8, multipart with HTML and
// a binary attachment, long lines, LF-only line ends), each with a unique Message-ID and a tag
// in the subject so it can be found again. Deterministic from a seeded random source.
import { createHash } from "node:crypto";
import { rng } from "../../bench/lib/mail.mjs";

export { rng };

const WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split(" ");
const UTF8 = ["é", "ü", "ß", "€", "日本語", "测试", "Привет", "🙂", "ña"];

function words(rand, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
  return out.join(" ");
}

function base64Lines(buf) {
  return buf.toString("base64").replace(/.{1,76}/g, "$&\r\n");
}

export const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

/**
 * Builds message number `n` for `to`. Returns {raw: Buffer, tag, messageId, sha}.
 * `runId` keeps Message-IDs unique across runs.
 */
export function buildMessage(n, to, runId, rand) {
  const tag = `soak-${runId}-${String(n).padStart(5, "0")}`;
  const messageId = `<${tag}.${Math.floor(rand() * 1e9).toString(36)}@sender.soak.test>`;
  const kind = n % 6;
  const eol = kind === 5 ? "\n" : "\r\n"; // one in six uses bare LF, as some senders do
  const code = String(100000 + Math.floor(rand() * 899999));
  const from = `Sender ${n} <sender${n % 17}@sender.soak.test>`;
  const headers = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${tag} your code ${kind === 1 ? "=?UTF-8?B?" + Buffer.from("確認コード").toString("base64") + "?=" : "is here"}`,
    `Message-ID: ${messageId}`,
    `Date: ${new Date(Date.UTC(2026, 10, 25, 12, 0, n % 60)).toUTCString().replace("GMT", "+0000")}`,
    "MIME-Version: 1.0",
  ];
  let body;
  if (kind === 0 || kind === 5) {
    headers.push("Content-Type: text/plain; charset=us-ascii", "Content-Transfer-Encoding: 7bit");
    body = [`Hello,`, ``, `Your verification code is ${code}.`, words(rand, 20 + Math.floor(rand() * 60)), ``, `-- ${tag}`].join(eol) + eol;
  } else if (kind === 1) {
    headers.push("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit");
    const u = UTF8.map((s) => (rand() < 0.5 ? s : "")).join(" ");
    body = [`Bonjour ${u}`, ``, `Votre code: ${code} ${u}`, `${"x".repeat(990)}`, `trailing spaces   `, ``].join(eol);
  } else if (kind === 2 || kind === 3) {
    const boundary = `=_b${n}_${Math.floor(rand() * 1e9).toString(36)}`;
    headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
    const alt = `=_a${n}_${Math.floor(rand() * 1e9).toString(36)}`;
    const attachment = Buffer.alloc(kind === 3 ? 20_000 + Math.floor(rand() * 180_000) : 600);
    for (let i = 0; i < attachment.length; i++) attachment[i] = Math.floor(rand() * 256);
    body = [
      `This is a multi-part message in MIME format.`,
      `--${boundary}`,
      `Content-Type: multipart/alternative; boundary="${alt}"`,
      ``,
      `--${alt}`,
      `Content-Type: text/plain; charset=utf-8`,
      `Content-Transfer-Encoding: quoted-printable`,
      ``,
      `Code: ${code} =E2=82=AC ${words(rand, 12)}`,
      `--${alt}`,
      `Content-Type: text/html; charset=utf-8`,
      ``,
      `<html><body><p>Your code is <b>${code}</b></p><img src="https://tracker.invalid/p.gif"><script>alert(1)</script></body></html>`,
      `--${alt}--`,
      `--${boundary}`,
      `Content-Type: application/octet-stream; name="blob-${n}.bin"`,
      `Content-Disposition: attachment; filename="blob-${n}.bin"`,
      `Content-Transfer-Encoding: base64`,
      ``,
      base64Lines(attachment) + `--${boundary}--`,
      ``,
    ].join("\r\n");
  } else {
    headers.push("Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: 8bit");
    const latin1 = Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0xfc, 0x62, 0x65, 0x72]); // "Café über" in latin-1
    const raw = Buffer.concat([
      Buffer.from(headers.join(eol) + eol + eol + `Code ${code} `),
      latin1,
      Buffer.from(eol + words(rand, 200) + eol),
    ]);
    return { raw, tag, messageId, sha: sha256(raw) };
  }
  const raw = Buffer.from(headers.join(eol) + eol + eol + body, "utf8");
  return { raw, tag, messageId, sha: sha256(raw) };
}
