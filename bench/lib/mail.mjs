// Deterministic test messages of an exact size, shaped like real verification mail: a
// multipart/mixed message with a text/plain + text/html alternative (the code is in both) and,
// from 4 KiB up, a base64 PDF-like attachment. Of the bytes after the headers, about 25 % are the
// text part, 35 % the HTML part and 40 % the attachment, so every size exercises the MIME parser,
// the HTML → text conversion and the code extraction, not just base64 decoding.

const WORDS =
  "account security sign in request device browser location confirm continue expires minutes please ignore this message if you did not ask team support help center privacy terms unsubscribe preferences newsletter update weekly digest order shipped delivered invoice receipt".split(
    " ",
  );

/** Deterministic pseudo-random generator (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function prose(rand, bytes) {
  let out = "";
  let line = "";
  while (out.length + line.length < bytes) {
    line += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
    if (line.length > 70) {
      out += `${line.trimEnd()}\r\n`;
      line = "";
    }
  }
  return (out + line).slice(0, Math.max(0, bytes));
}

function htmlBody(rand, bytes, code) {
  const head = `<!doctype html><html><head><meta charset="utf-8"><style>p{margin:0 0 12px}td{padding:4px}</style></head><body>\r\n<table role="presentation" width="100%"><tr><td><h1>Confirm your sign-in</h1>\r\n<p>Your verification code is <b>${code}</b>. It expires in 10 minutes.</p></td></tr>\r\n`;
  const tail = `</table><p style="color:#888">You received this because you signed up. <a href="https://example.com/unsubscribe">Unsubscribe</a></p></body></html>\r\n`;
  let mid = "";
  const budget = Math.max(0, bytes - head.length - tail.length);
  while (mid.length < budget) {
    mid += `<tr><td><p>${prose(rand, 60 + Math.floor(rand() * 200)).replace(/\r\n/g, " ")}</p></td></tr>\r\n`;
  }
  return head + mid.slice(0, budget) + tail;
}

function base64Lines(rand, bytes) {
  // `bytes` of base64 text in 76-column lines (CRLF), from random binary data.
  const raw = Buffer.alloc(Math.ceil((bytes * 3) / 4) + 3);
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(rand() * 256);
  const b64 = raw.toString("base64");
  const lines = [];
  let used = 0;
  for (let i = 0; used < bytes; i += 76) {
    const line = b64.slice(i, i + 76);
    lines.push(line);
    used += line.length + 2;
  }
  let text = lines.join("\r\n");
  // Trim to a multiple of 4 base64 characters so the part stays valid.
  const cut = Math.max(4, bytes);
  text = text.slice(0, cut);
  const chars = text.replace(/\r\n/g, "").length;
  return text.slice(0, text.length - (chars % 4));
}

/**
 * A message of exactly `size` bytes (when size ≥ 2 KiB).
 * @param {{size:number, to:string, from?:string, messageId?:string, seed?:number, code?:string}} o
 */
export function makeMessage({ size, to, from = "no-reply@sender.example", messageId, seed = 1, code = "482913" }) {
  const rand = rng(seed);
  const id = messageId ?? `<bench-${seed}-${size}@sender.example>`;
  const outer = `mixed-${seed.toString(16)}-outer`;
  const alt = `alt-${seed.toString(16)}-inner`;
  const headers =
    `From: Example Service <${from}>\r\n` +
    `To: <${to}>\r\n` +
    `Subject: Your verification code\r\n` +
    `Message-ID: ${id}\r\n` +
    `Date: Tue, 25 Nov 2026 10:00:00 +0000\r\n` +
    `MIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="${outer}"\r\n\r\n`;
  const textHead = `--${outer}\r\nContent-Type: multipart/alternative; boundary="${alt}"\r\n\r\n--${alt}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`;
  const htmlHead = `\r\n--${alt}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`;
  const altEnd = `\r\n--${alt}--\r\n`;
  const attHead = `--${outer}\r\nContent-Type: application/pdf; name="statement.pdf"\r\nContent-Disposition: attachment; filename="statement.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
  const end = `\r\n--${outer}--\r\n`;
  const fixed = headers.length + textHead.length + htmlHead.length + altEnd.length + end.length;
  const budget = Math.max(0, size - fixed);
  const withAttachment = size >= 4096;
  const attBudget = withAttachment ? Math.floor(budget * 0.4) - attHead.length : 0;
  const textBudget = Math.floor((budget - (withAttachment ? attBudget + attHead.length : 0)) * 0.42);
  const textIntro = `Your verification code is ${code}.\r\nIt expires in 10 minutes.\r\n\r\n`;
  let text = textIntro + prose(rand, Math.max(0, textBudget - textIntro.length));
  let htmlBudget = budget - (withAttachment ? attBudget + attHead.length : 0) - text.length;
  const html = htmlBody(rand, htmlBudget, code);
  const att = withAttachment ? attHead + base64Lines(rand, attBudget) : "";
  let msg = headers + textHead + text + htmlHead + html + altEnd + att + end;
  // Pad (or trim) the text part so the total is exactly `size` bytes (everything is ASCII).
  const diff = size - msg.length;
  if (diff !== 0 && text.length + diff > textIntro.length) {
    text = diff > 0 ? text + prose(rand, diff + 80).replace(/\r\n/g, "  ").slice(0, diff) : text.slice(0, text.length + diff);
    msg = headers + textHead + text + htmlHead + html + altEnd + att + end;
  }
  return Buffer.from(msg, "latin1");
}

/** Sizes of the inbound and CPU figures (binary units: the local email trigger allows ≤ 1 MiB). */
export const KiB = 1024;
export const MiB = 1024 * 1024;
export const sizeLabel = (n) => (n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`);
