// Floor Worker for bench/run.mjs (see wrangler.toml).
let ready = null;
const setup = (env) =>
  (ready ??= env.DB.batch([
    env.DB.prepare("CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, mailbox TEXT NOT NULL, size INTEGER NOT NULL, received_at TEXT NOT NULL)"),
    env.DB.prepare("CREATE TABLE IF NOT EXISTS kv (id TEXT PRIMARY KEY, v TEXT)"),
    env.DB.prepare("INSERT OR IGNORE INTO kv (id, v) VALUES ('meta', '{}')"),
    // The recipient table of the lookup floor: one address, found by its unique index.
    env.DB.prepare("CREATE TABLE IF NOT EXISTS mailboxes (id TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE)"),
    env.DB.prepare("INSERT OR IGNORE INTO mailboxes (id, address) VALUES ('mbx_floor', 'lookup@floor.example')"),
  ]));

// The page floor: PAGE_ROWS summaries of one mailbox, shaped like KaisouMail's list rows (the same
// columns and the same index), filled once with one set-based INSERT.
const PAGE_ROWS = 100_000;
const BASE_MS = Date.UTC(2026, 0, 1);
let pages = null;
const setupPages = (env) =>
  (pages ??= (async () => {
    await env.DB.prepare(
      `CREATE TABLE IF NOT EXISTS pages (id TEXT PRIMARY KEY, mailbox_id TEXT NOT NULL, mailbox_address TEXT NOT NULL, from_name TEXT, from_address TEXT,
        subject TEXT NOT NULL, preview_text TEXT NOT NULL, received_at TEXT NOT NULL, size_bytes INTEGER NOT NULL, attachment_count INTEGER NOT NULL,
        has_html INTEGER NOT NULL, verification_code TEXT, parse_status TEXT NOT NULL)`,
    ).run();
    await env.DB.prepare("CREATE INDEX IF NOT EXISTS pages_address_received ON pages (mailbox_address, received_at DESC, id DESC)").run();
    const have = await env.DB.prepare("SELECT count(*) AS n FROM pages").first("n");
    if (have >= PAGE_ROWS) return;
    await env.DB.prepare(
      `INSERT OR IGNORE INTO pages
       WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ${PAGE_ROWS - 1})
       SELECT 'msg_' || printf('%012x', ${BASE_MS} + n * 1000) || printf('%020x', n), 'mbx_floor', 'ava@desk.floor.example',
         'Example Service ' || (n % 50), 'no-reply@sender' || (n % 50) || '.example',
         'Your verification code is ' || printf('%06d', (n * 7919) % 1000000),
         'Your verification code is ' || printf('%06d', (n * 7919) % 1000000) || '. It expires in 10 minutes. If you did not ask for it, you can ignore this message and nobody will get in.',
         strftime('%Y-%m-%dT%H:%M:%fZ', (${BASE_MS} + n * 1000) / 1000.0, 'unixepoch'), 5120, 0, 1, printf('%06d', (n * 7919) % 1000000), 'parsed'
       FROM seq`,
    ).run();
  })().catch((e) => {
    pages = null;
    throw e;
  }));

// The meta floor's body: a cached ~700-byte JSON text, like GET /api/meta's.
const META_TEXT = JSON.stringify({
  domains: ["bench-mail.example", "bench-1.example"],
  flags: { a: true, b: false, c: true },
  defaultMailboxTtlMinutes: 1440,
  minMailboxTtlMinutes: 60,
  maxMailboxTtlMinutes: 525600,
  memberMaxMailboxTtlMinutes: null,
  addressRules: {
    format: "localPart@subdomain.rootDomain",
    localPartPattern: "^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$",
    subdomainPattern: "^(?=.{1,190}$)[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)*$",
    examples: ["ava-lin@desk.hub.bench-mail.example", "hello@ops.alpha.bench-mail.example"],
  },
});

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/api/meta-shape") {
      // The least any API answer of KaisouMail's carries: its JSON, no-store, nosniff and a request id.
      return new Response(META_TEXT, {
        headers: { ...JSON_TYPE, "cache-control": "no-store", "x-content-type-options": "nosniff", "x-request-id": `req_${crypto.randomUUID().replaceAll("-", "")}` },
      });
    }
    await setup(env);
    if (url.pathname === "/api/d1") {
      const n = Math.max(1, Math.min(10, Number(url.searchParams.get("n") ?? "1") || 1));
      let row = null;
      for (let i = 0; i < n; i++) row = await env.DB.prepare("SELECT v FROM kv WHERE id = ?").bind("meta").first();
      return new Response(JSON.stringify({ ok: true, row }), { headers: JSON_TYPE });
    }
    if (url.pathname === "/api/page") {
      // One D1 read of a page of 50 (51 rows, to know whether there is a next page) 90 % of the way
      // down a mailbox of PAGE_ROWS, sent as JSON: what any message list must read and send.
      await setupPages(env);
      const n = PAGE_ROWS - 1 - Math.floor(PAGE_ROWS * 0.9);
      const at = new Date(BASE_MS + n * 1000).toISOString();
      const { results } = await env.DB.prepare(
        "SELECT * FROM pages WHERE mailbox_address = ?1 AND (received_at, id) < (?2, ?3) ORDER BY received_at DESC, id DESC LIMIT 51",
      )
        .bind("ava@desk.floor.example", at, "msg_~")
        .all();
      return new Response(JSON.stringify({ messages: results.slice(0, 50), nextCursor: results.length > 50 ? results[49].id : null }), { headers: JSON_TYPE });
    }
    return new Response('{"ok":true}', { headers: JSON_TYPE });
  },
  // The least a mail store must do: keep the raw bytes (R2) and record the message (D1).
  // Mail to lookup@floor.example first finds its mailbox (one D1 read), as any store that refuses
  // mail for unknown recipients before writing anything must.
  async email(message, env) {
    await setup(env);
    let mailbox = message.to;
    if (message.to === "lookup@floor.example") {
      const row = await env.DB.prepare("SELECT id FROM mailboxes WHERE address = ?").bind(message.to).first();
      if (!row) {
        message.setReject("Mailbox unavailable");
        return;
      }
      mailbox = row.id;
    }
    const raw = new Uint8Array(await new Response(message.raw).arrayBuffer());
    const id = crypto.randomUUID();
    await env.BUCKET.put(`raw/${id}.eml`, raw);
    await env.DB.prepare("INSERT INTO messages (id, mailbox, size, received_at) VALUES (?, ?, ?, ?)").bind(id, mailbox, raw.byteLength, new Date().toISOString()).run();
  },
};
