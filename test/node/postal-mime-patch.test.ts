// postal-mime is patched (patches/postal-mime+4.0.0.patch, applied by `patch-package` on install)
// so its decoders join decoded chunks into one buffer instead of building a Blob of one part per
// line, which cost ~90 ms of CPU for a 1 MiB 8-bit text part in Node. These tests prove the patch
// is applied to both builds and that it changes no byte of what the parser returns.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, test } from "vitest";
import PostalMime from "postal-mime";
import { rng } from "../../bench/lib/mail.mjs";
// @ts-expect-error: internal module of the package, no type declarations exported for it
import { concatChunks } from "../../node_modules/postal-mime/dist/esm/decode-strings.js";

const dist = new URL("../../node_modules/postal-mime/dist/", import.meta.url);

describe("postal-mime patch", () => {
  test("every decoder of both builds joins chunks without a Blob", () => {
    for (const flavour of ["esm", "cjs"]) {
      for (const file of ["base64-decoder.js", "pass-through-decoder.js", "qp-decoder.js"]) {
        const source = readFileSync(new URL(`${flavour}/${file}`, dist), "utf8");
        expect(source, `${flavour}/${file}`).not.toContain("new Blob(");
        expect(source, `${flavour}/${file}`).toContain("concatChunks");
      }
    }
    const cjs = createRequire(import.meta.url)("postal-mime/package.json") as { version: string };
    expect(cjs.version).toBe("4.0.0"); // a new version needs the patch re-made (npx patch-package postal-mime)
  });

  test("concatChunks returns the bytes a Blob of the same parts holds", async () => {
    const rand = rng(42);
    const pieces = ["\n", "é", "日本語", "plain", "\r\n", "😀"];
    for (let round = 0; round < 200; round++) {
      const chunks: Array<Uint8Array | ArrayBuffer | string> = [];
      const n = Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) {
        const kind = rand();
        if (kind < 0.4) {
          const bytes = new Uint8Array(Math.floor(rand() * 300));
          for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
          // a view into a larger buffer, as the parser's line slices are
          const wide = new Uint8Array(bytes.length + 16);
          wide.set(bytes, 8);
          chunks.push(wide.subarray(8, 8 + bytes.length));
        } else if (kind < 0.6) {
          const bytes = new Uint8Array(Math.floor(rand() * 100));
          for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
          chunks.push(bytes.buffer);
        } else {
          chunks.push(pieces[Math.floor(rand() * pieces.length)]!);
        }
      }
      const expected = new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
      const actual = new Uint8Array(await concatChunks(chunks));
      expect(actual).toEqual(expected);
    }
  });

  test("8-bit, quoted-printable and base64 parts decode to the exact content", async () => {
    const rand = rng(7);
    const binary = new Uint8Array(200_000);
    for (let i = 0; i < binary.length; i++) binary[i] = Math.floor(rand() * 256);
    const b64 = Buffer.from(binary).toString("base64").replace(/.{76}/g, "$&\r\n");
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} — grüße ${"x".repeat(i % 70)}`);
    const raw = [
      "From: a@example.com",
      "To: b@example.com",
      "Subject: patch check",
      "Message-ID: <patch@example.com>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      ...lines,
      "--b1",
      "Content-Type: text/html; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "<p>caf=C3=A9 =E6=97=A5=E6=9C=AC long soft=",
      "break</p>",
      "--b1",
      'Content-Type: application/octet-stream; name="blob.bin"',
      "Content-Transfer-Encoding: base64",
      'Content-Disposition: attachment; filename="blob.bin"',
      "",
      b64,
      "--b1--",
      "",
    ].join("\r\n");
    const email = await PostalMime.parse(new TextEncoder().encode(raw).buffer as ArrayBuffer);
    // (in multipart/mixed postal-mime joins the parts: the HTML part's text follows in `text`, the
    // text part's markup comes first in `html`)
    expect(email.text!.startsWith(`${lines.join("\n")}\n`)).toBe(true);
    expect(email.html!.endsWith("<p>café 日本 long softbreak</p>\n")).toBe(true);
    expect(email.attachments).toHaveLength(1);
    const content = new Uint8Array(email.attachments[0]!.content as ArrayBuffer);
    // postal-mime keeps the line break before the closing boundary in binary parts (1 byte more)
    expect(content.subarray(0, binary.length)).toEqual(binary);
  });
});
