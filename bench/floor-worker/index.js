// Floor Worker for bench/run.mjs (see wrangler.toml).
let ready = null;
const setup = (env) =>
  (ready ??= env.DB.batch([
    env.DB.prepare("CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, mailbox TEXT NOT NULL, size INTEGER NOT NULL, received_at TEXT NOT NULL)"),
    env.DB.prepare("CREATE TABLE IF NOT EXISTS kv (id TEXT PRIMARY KEY, v TEXT)"),
    env.DB.prepare("INSERT OR IGNORE INTO kv (id, v) VALUES ('meta', '{}')"),
  ]));

export default {
  async fetch(request, env) {
    await setup(env);
    const url = new URL(request.url);
    if (url.pathname === "/api/d1") {
      const n = Math.max(1, Math.min(10, Number(url.searchParams.get("n") ?? "1") || 1));
      let row = null;
      for (let i = 0; i < n; i++) row = await env.DB.prepare("SELECT v FROM kv WHERE id = ?").bind("meta").first();
      return new Response(JSON.stringify({ ok: true, row }), { headers: { "content-type": "application/json; charset=utf-8" } });
    }
    return new Response('{"ok":true}', { headers: { "content-type": "application/json; charset=utf-8" } });
  },
  // The least a mail store must do: keep the raw bytes (R2) and record the message (D1).
  async email(message, env) {
    await setup(env);
    const raw = new Uint8Array(await new Response(message.raw).arrayBuffer());
    const id = crypto.randomUUID();
    await env.BUCKET.put(`raw/${id}.eml`, raw);
    await env.DB.prepare("INSERT INTO messages (id, mailbox, size, received_at) VALUES (?, ?, ?, ?)").bind(id, message.to, raw.byteLength, new Date().toISOString()).run();
  },
};
