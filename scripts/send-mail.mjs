#!/usr/bin/env node
// npm run send-mail -- --to <address> [--from ..] [--subject ..] [--text ..] [--html ..] [--file message.eml] [--url http://127.0.0.1:8787]
// Delivers one message to the running app through wrangler's local email trigger
// (POST /cdn-cgi/handler/email), exactly as Email Routing would hand it to the Worker.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const to = opt("to");
if (!to) {
  console.error("usage: npm run send-mail -- --to <address> [--from a@b] [--subject s] [--text t] [--html h] [--file x.eml] [--url http://127.0.0.1:8787]");
  process.exit(2);
}
const from = opt("from", "sender@example.net");
const base = opt("url", `http://127.0.0.1:${process.env.PORT ?? 8787}`);
let raw;
const file = opt("file");
if (file) {
  raw = readFileSync(file);
} else {
  const subject = opt("subject", "Your verification code");
  const text = opt("text", "Your verification code is 123456. It expires in 10 minutes.");
  const html = opt("html");
  const headers = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomUUID()}@kaisoumail.local>`,
    "MIME-Version: 1.0",
  ];
  if (html) {
    const b = `b-${randomUUID()}`;
    raw = Buffer.from(
      [...headers, `Content-Type: multipart/alternative; boundary="${b}"`, "", `--${b}`, "Content-Type: text/plain; charset=utf-8", "", text, `--${b}`, "Content-Type: text/html; charset=utf-8", "", html, `--${b}--`, ""].join("\r\n"),
    );
  } else {
    raw = Buffer.from([...headers, "Content-Type: text/plain; charset=utf-8", "", text, ""].join("\r\n"));
  }
}
const url = `${base}/cdn-cgi/handler/email?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
const res = await fetch(url, { method: "POST", body: raw });
const body = await res.text();
console.log(`${res.status} ${body.trim()}`);
process.exit(res.ok ? 0 : 1);
