/** Real-shaped RFC 822 messages for inbound tests, built as bytes (charsets other than UTF-8 included). */
const enc = new TextEncoder();

export function bytes(...parts: Array<string | number[] | Uint8Array>): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

export function b64(data: Uint8Array | string): string {
  const u8 = typeof data === "string" ? enc.encode(data) : data;
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s).replace(/(.{76})/g, "$1\r\n");
}

const head = (to: string, subject: string, extra = "", messageId: string | null = `<${crypto.randomUUID()}@sender.example>`) =>
  `From: "Acme Accounts" <no-reply@acme.example>\r\nTo: ${to}\r\n` +
  `Subject: ${subject}\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n` +
  (messageId ? `Message-ID: ${messageId}\r\n` : "") +
  `MIME-Version: 1.0\r\n${extra}`;

export const fixtures = {
  plain: (to: string, messageId?: string) =>
    bytes(head(to, "Your verification code", "Content-Type: text/plain; charset=utf-8\r\n", messageId ?? undefined), "\r\nYour verification code is 482913. It expires in 10 minutes.\r\n"),

  alternative: (to: string) =>
    bytes(
      head(to, "Welcome to Acme", 'Content-Type: multipart/alternative; boundary="alt-1"\r\n'),
      "\r\n--alt-1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
      "Hello! Your confirmation code is 7Q4K9Z =E2=80=94 thanks.\r\n",
      "--alt-1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
      b64("<p>Hello! Your confirmation code is <b>7Q4K9Z</b> — thanks.</p>"),
      "\r\n--alt-1--\r\n",
    ),

  withAttachments: (to: string) =>
    bytes(
      head(to, "Invoice attached", 'Cc: "Bob" <bob@acme.example>, carol@acme.example\r\nReply-To: billing@acme.example\r\nContent-Type: multipart/mixed; boundary="mix"\r\n'),
      '\r\n--mix\r\nContent-Type: multipart/related; boundary="rel"\r\n\r\n',
      "--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <img src=\"cid:logo@acme\"> the invoice.</p>\r\n",
      "--rel\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <logo@acme>\r\nContent-Disposition: inline; filename=\"logo.png\"\r\n\r\n",
      b64(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4])),
      "\r\n--rel--\r\n",
      '--mix\r\nContent-Type: application/pdf; name="../../etc/invoice \\"2026\\".pdf"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="../../etc/invoice \\"2026\\".pdf"\r\n\r\n',
      b64("%PDF-1.4 fake invoice body"),
      "\r\n--mix--\r\n",
    ),

  gbk: (to: string) =>
    bytes(
      head(to, "=?GBK?B?xOO6ww==?=", "Content-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: 8bit\r\n"),
      "\r\n",
      [0xc4, 0xe3, 0xba, 0xc3], // 你好
      "\r\n",
    ),
  big5: (to: string) =>
    bytes(head(to, "=?Big5?B?p0Gmbg==?=", "Content-Type: text/plain; charset=Big5\r\n"), "\r\n", [0xa7, 0x41, 0xa6, 0x6e], "\r\n"),
  iso2022jp: (to: string) =>
    bytes(
      head(to, "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n"),
      "\r\n",
      [0x1b, 0x24, 0x42, 0x24, 0x33, 0x24, 0x73, 0x24, 0x4b, 0x24, 0x41, 0x24, 0x4f, 0x1b, 0x28, 0x42], // こんにちは
      "\r\n",
    ),
  latin1: (to: string) =>
    bytes(head(to, "=?ISO-8859-1?Q?Caf=E9?=", "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n"), "\r\nUn caf=E9, merci.\r\n"),
  eightBitHeaders: (to: string) =>
    bytes("From: Jürgen <j@example.de>\r\nTo: ", to, "\r\nSubject: Grüße aus München\r\nMessage-ID: <8bit@example.de>\r\n\r\nHallo\r\n"),
  brokenBoundary: (to: string) =>
    bytes(
      head(to, "Broken", 'Content-Type: multipart/mixed; boundary="never-closed"\r\n'),
      "\r\n--never-closed\r\nContent-Type: text/plain\r\n\r\nthe body survives\r\n--wrong-boundary--\r\n",
    ),
  noMessageId: (to: string) => bytes(head(to, "No id", "Content-Type: text/plain\r\n", null), "\r\nno message id here\r\n"),
  html: (to: string, html: string) => bytes(head(to, "HTML only", "Content-Type: text/html; charset=utf-8\r\n"), "\r\n", html, "\r\n"),
  /** A binary (unencoded) attachment, so 20 MiB of payload fits Email Routing's 25 MiB limit. */
  bigAttachment: (to: string, size: number) => {
    const payload = new Uint8Array(size);
    // Printable bytes without CR/LF, so no line of the part can look like a boundary.
    for (let i = 0; i < size; i++) payload[i] = 0x41 + ((i * 31) % 26);
    return bytes(
      head(to, "Big file", 'Content-Type: multipart/mixed; boundary="big-boundary-7"\r\n'),
      "\r\n--big-boundary-7\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n",
      '--big-boundary-7\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-Disposition: attachment; filename="big.bin"\r\n\r\n',
      payload,
      "\r\n--big-boundary-7--\r\n",
    );
  },
};

export interface MockEmail {
  from: string;
  to: string;
  headers: Headers;
  raw: ReadableStream<Uint8Array>;
  rawSize: number;
  rejected: string | null;
  setReject(reason: string): void;
  forward(): Promise<never>;
  reply(): Promise<never>;
}

/** A ForwardableEmailMessage stand-in, streaming the bytes in chunks like the runtime does. */
export function mockEmail(raw: Uint8Array, opts: { from?: string; to: string; rawSize?: number }): MockEmail {
  const headerText = new TextDecoder("latin1").decode(raw.subarray(0, Math.min(raw.length, 64 * 1024)));
  const headers = new Headers();
  const mid = /^message-id:\s*(.+)$/im.exec(headerText.split(/\r?\n\r?\n/)[0] ?? "");
  if (mid) headers.set("message-id", mid[1]!.trim());
  let offset = 0;
  const msg: MockEmail = {
    from: opts.from ?? "no-reply@acme.example",
    to: opts.to,
    headers,
    rawSize: opts.rawSize ?? raw.byteLength,
    raw: new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= raw.byteLength) return controller.close();
        controller.enqueue(raw.slice(offset, offset + 65536));
        offset += 65536;
      },
    }),
    rejected: null,
    setReject(reason: string) {
      msg.rejected = reason;
    },
    forward: () => Promise.reject(new Error("not supported")),
    reply: () => Promise.reject(new Error("not supported")),
  };
  return msg;
}
