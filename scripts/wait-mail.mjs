#!/usr/bin/env node
// npm run wait-mail -- --mailbox <address> [--has-code] [--after msg_…] [--timeout 60] [--url http://127.0.0.1:8787] [--key km_…]
// Waits for the next message of a mailbox through GET /api/messages/wait and prints its
// verification code (or link; else its id and subject). Exit 0 when a message came, 1 on timeout,
// 2 on bad usage or an error answer. The key comes from --key, KAISOUMAIL_API_KEY or KEY.
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined && !args[i + 1].startsWith("--") ? args[i + 1] : fallback;
};
const mailbox = opt("mailbox");
const key = opt("key", process.env.KAISOUMAIL_API_KEY ?? process.env.KEY);
const base = (opt("url", process.env.KM ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`)).replace(/\/+$/, "");
const total = Number(opt("timeout", "60"));
if (!mailbox || !key || !Number.isFinite(total) || total < 1) {
  console.error("usage: npm run wait-mail -- --mailbox <address> [--has-code] [--after msg_…] [--timeout seconds] [--url URL] [--key km_…] (or KAISOUMAIL_API_KEY)");
  process.exit(2);
}
const deadline = Date.now() + total * 1000;
const auth = { headers: { authorization: `Bearer ${key}` } };
// Only mail newer than what the mailbox holds now counts. The starting point is fixed once, as a
// message id, so that chained waits (one asks for at most 60 s) leave no gap between them; an
// empty mailbox starts before any message ("msg_" + zeros).
let after = opt("after");
if (!after) {
  const list = await fetch(`${base}/api/messages?${new URLSearchParams({ mailbox, limit: "1" })}`, auth);
  const body = await list.json().catch(() => null);
  if (!list.ok) {
    console.error(`${list.status} ${body?.error ?? ""} ${body?.details ? JSON.stringify(body.details) : ""}`.trim());
    process.exit(2);
  }
  after = body.messages?.[0]?.id ?? `msg_${"0".repeat(32)}`;
}
for (;;) {
  const left = Math.ceil((deadline - Date.now()) / 1000);
  if (left < 1) break;
  const q = new URLSearchParams({ mailbox, after, timeout: String(Math.min(60, left)) });
  if (args.includes("--has-code")) q.set("hasCode", "true");
  const res = await fetch(`${base}/api/messages/wait?${q}`, auth);
  if (res.status === 204) continue;
  const body = await res.json().catch(() => null);
  if (res.status !== 200) {
    console.error(`${res.status} ${body?.error ?? ""} ${body?.details ? JSON.stringify(body.details) : ""}`.trim());
    process.exit(2);
  }
  const m = body.message;
  console.log(m.verification?.code ?? m.verification?.link ?? `${m.id} ${m.subject}`);
  process.exit(0);
}
console.error(`no message for ${mailbox} within ${total} s`);
process.exit(1);
