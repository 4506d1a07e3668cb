import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/lib/http";
import { receiveMessage } from "../../src/mail/inbound";
import worker from "../../src/index";
import { routeTable, type RouteDef } from "../../src/router";
import { encodeCursor } from "../../src/routes/messages";
import { encryptSecret, generateWebhookSecret } from "../../src/webhooks/crypto";
import { newWebhookId } from "../../src/webhooks/repo";
import { contractViolation } from "./contract";
import { activeDomain, api, makeUser, resetCloudflare, sim, type Caller } from "./helpers";
import { fixtures, mockEmail } from "./mail-fixtures";

/**
 * Property-based fuzzing of every route in the route table (fast-check). Each case is one request
 * with generated path ids, query string, headers, caller and body. Properties:
 *  - never a 500;
 *  - every 4xx/5xx API answer is the JSON envelope `{error: string, details}`;
 *  - a rejected request (status >= 400) changes nothing: the D1 tables (counts and row contents)
 *    and, for domain and mailbox routes, the simulator's zones and routing rules are unchanged;
 *  - nothing in the request pollutes `Object.prototype`.
 * A second block sends a body over 1 MiB to every state-changing route and expects 413.
 *
 * Configuration (vitest-pool-workers does not pass `process.env` into workerd; Vite's
 * `import.meta.env` carries variables prefixed `VITE_`):
 *   VITE_FUZZ_RUNS   total cases across all routes (default 1000, i.e. 33 per route)
 *   VITE_FUZZ_SEED   base seed (default below; route i uses seed + i)
 *   VITE_FUZZ_SHRINK "1" to let fast-check shrink a failure (slower, state may drift while shrinking)
 * `FUZZ_RUNS=10000 node scripts/fuzz.mjs` sets these from FUZZ_RUNS / FUZZ_SEED.
 *
 * Fuzz cases call the Worker's `fetch` export directly (`src/index.ts` default export, the function
 * `exports.default.fetch` ends in). The pool's `exports.default` loopback re-imports the main module
 * per call and gets slower with every call in a file (measured: 100 calls took 1.8 s at first and
 * 140 s after 1,300 calls, then "Maximum call stack size exceeded"), so thousands of cases cannot go
 * through it. Setup and the 413 checks still use `exports.default.fetch`.
 */
const viteEnv = (import.meta as unknown as { env?: Record<string, string | undefined> }).env ?? {};
const intFrom = (v: string | undefined, def: number) => (v !== undefined && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : def);
const TOTAL_RUNS = Math.max(1, intFrom(viteEnv.VITE_FUZZ_RUNS, 1000));
const SEED = intFrom(viteEnv.VITE_FUZZ_SEED, 20_261_125);
const SHRINK = viteEnv.VITE_FUZZ_SHRINK === "1";
const RUNS_PER_ROUTE = Math.max(1, Math.ceil(TOTAL_RUNS / routeTable.length));

const ORIGIN = "http://kaisoumail.test";
const root = "fuzz-main.com";

let admin: Caller;
let member: Caller;
let sessionCookie: string;
/** Domains created by the test itself: their D1 rows are compared in full. */
const stableDomains = new Set<string>();

interface World {
  domainId: string;
  domainRoot: string;
  zoneId: string;
  mailboxId: string;
  address: string;
  messageId: string;
  attachmentId: string;
  keyId: string;
  /** A member the user-admin routes act on (accepted cases may disable or delete it). */
  userId: string;
  /** The member's webhook and one finished delivery of it. */
  webhookId: string;
  deliveryId: string;
}

let victims = 0;
let shared: World;
/**
 * Resources a route's cases point at: a member mailbox with a message, a spare API key and a spare
 * domain. Routes with path ids get fresh ones (their accepted cases may delete them); the others
 * share one set.
 */
async function world(def: RouteDef | null): Promise<World> {
  if (def && !def.path.includes(":") && shared) return shared;
  let domainId = [...stableDomains][0]!;
  let domainRoot = root;
  let zoneId = "";
  if (!def || def.path.startsWith("/api/domains")) {
    domainRoot = `fuzz-victim-${++victims}.com`;
    ({ id: domainId, zoneId } = await activeDomain(admin.key, domainRoot));
    stableDomains.add(domainId);
  }
  const mb = await api("POST", "/api/mailboxes", { key: member.key, body: { mailDomain: root } });
  expect(mb.status, JSON.stringify(mb.body)).toBe(201);
  // Setup, not a case: keep the shared member's creations-per-minute count (MEMBER_MAILBOX_CREATES_PER_MINUTE)
  // from refusing later setups or plausible create cases, however many routes there are.
  await env.DB.prepare("UPDATE mailboxes SET created_at = ? WHERE id = ?").bind(new Date(Date.now() - 120_000).toISOString(), mb.body.id).run();
  const delivered = await receiveMessage(mockEmail(fixtures.withAttachments(mb.body.address), { to: mb.body.address }), env);
  const messageId = (delivered as { messageId: string }).messageId;
  const att = await env.DB.prepare("SELECT id FROM message_attachments WHERE message_id = ? ORDER BY position LIMIT 1").bind(messageId).first<string>("id");
  const key = await api("POST", "/api/api-keys", { key: member.key, body: { name: "spare" } });
  const victim = await makeUser("member");
  // Inserted directly (setup, not a case): the member's WEBHOOKS_PER_USER limit stays for the cases.
  const webhookId = newWebhookId();
  const deliveryId = `evt_${crypto.randomUUID().replaceAll("-", "")}`;
  const now = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare("INSERT INTO webhooks (id, user_id, scope, url, secret_enc, created_at, updated_at) VALUES (?, ?, 'user', ?, ?, ?, ?)").bind(
      webhookId,
      member.userId,
      `${env.WEBHOOK_RECEIVER_URL}/hook/fuzz`,
      await encryptSecret(env.SESSION_SECRET!, webhookId, generateWebhookSecret()),
      now,
      now,
    ),
    env.DB.prepare("INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, status, window_started_at, created_at) VALUES (?, ?, 'webhook.test', '{}', 'succeeded', ?, ?)").bind(
      deliveryId,
      webhookId,
      now,
      now,
    ),
  ]);
  return {
    domainId,
    domainRoot,
    zoneId,
    mailboxId: mb.body.id,
    address: mb.body.address,
    messageId,
    attachmentId: att!,
    keyId: key.body.apiKeyRecord.id,
    userId: victim.userId,
    webhookId,
    deliveryId,
  };
}

// ---- generators -----------------------------------------------------------------------------

const NASTY_STRINGS = [
  "",
  " ",
  "null",
  "undefined",
  "NaN",
  "-1",
  "0",
  "1e309",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "prototype",
  "' OR '1'='1",
  "1; DROP TABLE messages; --",
  '"; DELETE FROM users; --',
  "../../etc/passwd",
  "..\\..\\windows",
  "%00",
  "\u0000",
  "\ud800",
  "\udfff",
  "😀",
  "\u202e",
  "\ufeff",
  "<script>alert(1)</script>",
  "${7*7}",
  "{{7*7}}",
  "a".repeat(5000),
  "é".repeat(300),
  "ADMIN",
  "admin",
  "*",
];
const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.nat({ max: 300_000 }).map((n) => "x".repeat(n)) },
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, 59, 60, 61, 525_600, 525_601, 2 ** 53, -(2 ** 53), 1e308, 0.5, Number.MAX_SAFE_INTEGER + 2),
);
const KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "role", "isAdmin", "userId", "user_id", "id", "status", ""];

/** JSON text (not a value), so `__proto__` keys and duplicate keys really reach the server. */
const jsonText = (extraKeys: readonly string[]): fc.Arbitrary<string> =>
  fc.letrec<{ v: string; arr: string; obj: string }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      hostileString.map((s) => JSON.stringify(s)),
      hostileNumber.map((n) => JSON.stringify(n)),
      fc.constantFrom("true", "false", "null"),
      tie("arr"),
      tie("obj"),
    ),
    arr: fc.array(tie("v"), { maxLength: 5 }).map((xs) => `[${xs.join(",")}]`),
    obj: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS, ...extraKeys), fc.string({ maxLength: 10 })), tie("v")), { maxLength: 6 })
      .map((es) => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
  })).v;

/** Plausible values for each known body field, so some cases pass validation and reach the handler. */
function plausible(w: World): Record<string, fc.Arbitrary<unknown>> {
  const domain = fc.constantFrom(root, w.domainRoot, "fuzz-new.org", "example.co.uk", `sub.${root}`, "EXAMPLE.COM.", "xn--bcher-kva.example", "a..b", "localhost", "-x-.com");
  return {
    apiKey: fc.constantFrom(member.key, `km_${"A".repeat(43)}`, "x".repeat(16), "x".repeat(513)),
    name: fc.constantFrom("fuzz", "  ", "n".repeat(64), "n".repeat(65)),
    scopes: fc.constantFrom(["messages:read"], [], ["*"], ["admin"], ["nothing"], ["keys", "keys"], Array.from({ length: 17 }, () => "s"), [""]),
    disabled: fc.constantFrom(true, false, "true", null, 1),
    email: fc.oneof(fc.nat().map((n) => `fuzz${n}@example.test`), fc.constantFrom("not-an-email", `${"e".repeat(250)}@x.io`, "ADMIN@EXAMPLE.TEST")),
    role: fc.constantFrom("admin", "member", "owner", "ADMIN"),
    mailDomain: domain,
    rootDomain: domain,
    zoneId: fc.constantFrom(w.zoneId || "0".repeat(32), "f".repeat(32), "not a zone", "Z".repeat(129)),
    localPart: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.constantFrom("-bad", "UPPER", "a".repeat(33))),
    subdomain: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8})?$/), fc.constantFrom("a..b", "x".repeat(200))),
    expiresInMinutes: fc.constantFrom(null, 60, 59, 525_600, 525_601, 61.5, "60", -1),
    address: fc.constantFrom(w.address, `fuzz@qa.${root}`, "nobody@nowhere.example", "@", "a@b@c", `UPPER@QA.${root.toUpperCase()}`, "x".repeat(400)),
    url: fc.constantFrom(
      `${env.WEBHOOK_RECEIVER_URL}/hook/fuzz`,
      "https://hooks.example.com/x",
      "http://169.254.169.254/latest",
      "https://[::1]/x",
      "javascript:alert(1)",
      "not a url",
      `https://${"h".repeat(2000)}.example`,
      "",
    ),
    description: fc.constantFrom("fuzz", "", "d".repeat(501)),
    mailbox: fc.constantFrom(w.address, "nobody@nowhere.example", "x", null),
    filter: fc.constantFrom({}, { hasCode: true }, { hasCode: "yes" }, { fromContains: "" }, { subjectContains: "s".repeat(201) }, { other: 1 }, null, []),
    enabled: fc.constantFrom(true, false, "true", null),
    scope: fc.constantFrom("user", "deployment", "global", ""),
    seen: fc.constantFrom(true, false, "true", null, 1),
  };
}
const BODY_FIELDS = ["apiKey", "name", "scopes", "disabled", "email", "role", "mailDomain", "rootDomain", "zoneId", "localPart", "subdomain", "expiresInMinutes", "address", "url", "description", "mailbox", "filter", "enabled", "scope", "seen"];

function bodyArb(w: World): fc.Arbitrary<string | undefined> {
  const known = plausible(w);
  const field = fc.constantFrom(...BODY_FIELDS).chain((k) =>
    fc.oneof({ weight: 3, arbitrary: known[k]!.map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: jsonText(BODY_FIELDS) }).map((v) => [k, v] as const),
  );
  const shaped = fc
    .array(fc.oneof({ weight: 5, arbitrary: field }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...KEYS), jsonText(BODY_FIELDS)) }), { maxLength: 6 })
    .map((es) => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: shaped },
    { weight: 3, arbitrary: jsonText(BODY_FIELDS) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "",
        "{",
        '{"name":',
        "null",
        "[]",
        '"string"',
        "1e999999",
        "\ufeff{}",
        '{"__proto__":{"role":"admin","isAdmin":true},"name":"pp"}',
        '{"constructor":{"prototype":{"polluted":1}},"name":"pp"}',
        '{"name":"a","name":"b","name":{"x":1}}',
        "[".repeat(50_000) + "]".repeat(50_000),
        '{"a":'.repeat(20_000) + "1" + "}".repeat(20_000),
        "name=fuzz&email=x",
        "\u0000\u0001\u0002",
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(`{"name":"${"y".repeat(MAX_BODY_BYTES - 20)}"}`) },
  );
}

const QUERY_KEYS = ["status", "scope", "address", "mailbox", "mailboxId", "mailboxStatus", "after", "since", "limit", "cursor", "timeout", "hasCode", "unread", "q", "owner", "__proto__", "constructor", "toString", ""];
function queryArb(w: World): fc.Arbitrary<string> {
  const value = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        "active",
        "expired",
        "destroyed",
        "destroying",
        "creating",
        "workspace",
        "default",
        w.address,
        w.mailboxId,
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00+09:00",
        "1",
        "60",
        "61",
        "true",
        "false",
        w.messageId,
        w.userId,
        "usr_" + "0".repeat(32),
        "200",
        "201",
        "1.5",
        "1e3",
        "Infinity",
        encodeCursor("2026-01-01T00:00:00.000Z", `msg_${"0".repeat(32)}`),
        encodeCursor("not a date", "msg_x"),
      ),
    },
    { weight: 3, arbitrary: hostileString },
    { weight: 2, arbitrary: fc.constantFrom("%", "%zz", "%E0%A4%A", "%00", "%FF%FE", "%C0%AF", "+", "&&", "==", "%25%", "a".repeat(8000)) },
  );
  const pair = fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...QUERY_KEYS) }, { weight: 1, arbitrary: hostileString }), value, fc.boolean());
  return fc.array(pair, { maxLength: 8 }).map((pairs) =>
    pairs.length === 0 ? "" : `?${pairs.map(([k, v, encode]) => (encode ? `${safeEncode(k)}=${safeEncode(v)}` : `${k}=${v}`)).join("&")}`,
  );
}

function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // lone surrogate: let the URL parser deal with it
  }
}

const SEGMENTS = [
  "",
  ".",
  "..",
  "%2e%2e",
  "..%2f..%2fusers",
  "%2F",
  "%00",
  "%",
  "%zz",
  "%E0%A4%A",
  "%FF",
  "' OR '1'='1",
  "1;DROP TABLE messages",
  "null",
  "__proto__",
  "constructor",
  "😀",
  "\u202e",
  "\ud800",
  "a".repeat(5000),
  "*",
];
function segmentArb(real: string): fc.Arbitrary<string> {
  const raw = fc.oneof(
    { weight: 4, arbitrary: fc.constant(real) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom("key", "dom", "mbx", "msg", "att", "usr", "whk", "evt", "MSG", ""), fc.stringMatching(/^[0-9a-f]{30,38}$/))
        .map(([p, h]) => (p ? `${p}_${h}` : h)),
    },
    { weight: 1, arbitrary: fc.constantFrom(real.toUpperCase(), `${real}'`, `${real} `, `${real}/../../users`, `${real}%00`, `${real}.json`, real.slice(0, -1)) },
    { weight: 3, arbitrary: fc.constantFrom(...SEGMENTS) },
    { weight: 2, arbitrary: hostileString.map((s) => s.slice(0, 300)) },
  );
  return fc.tuple(raw, fc.boolean()).map(([s, encode]) => (encode ? safeEncode(s) : s));
}

/** Printable ASCII: what an HTTP header can carry without the runtime re-encoding it. */
const headerString = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
/** Mostly absent: a garbage header on every case would turn nearly every request into a 401. */
const sometimes = <T>(arb: fc.Arbitrary<T>, weight = 1) => fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight, arbitrary: arb });
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "APPLICATION/JSON",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "",
  ";;;",
];
const headersArb = fc.record({
  authorization: sometimes(
    fc.oneof(
      fc.constantFrom("Bearer", "Bearer ", "Bearer a b", "Basic YWRtaW46YWRtaW4=", `Bearer ${"k".repeat(600)}`, "bearer km_short", "Token abc", "Bearer km_' OR 1=1 --"),
      headerString(80),
    ),
  ),
  cookie: sometimes(
    fc.oneof(
      fc.constantFrom("kaisoumail_session=", "kaisoumail_session=%", "kaisoumail_session=a.b.c", "kaisoumail_session=eyJzdWIiOiJ1c3IifQ.c2ln", `kaisoumail_session=${"c".repeat(8000)}`, "=;;=;", "kaisoumail_session=%E0%A4%A"),
      headerString(80),
    ),
  ),
  origin: sometimes(
    fc.oneof(
      fc.constantFrom(ORIGIN, "https://evil.example", "null", "http://localhost:5173", `https://${"a".repeat(10_000)}.example`, "javascript:alert(1)", "http://[::1", "file://"),
      headerString(80),
    ),
    2,
  ),
  contentType: sometimes(fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerString(80)), 2),
  extra: fc.array(
    fc.tuple(fc.constantFrom("x-request-id", "cf-connecting-ip", "x-real-ip", "cf-ray", "accept", "x-forwarded-for", "access-control-request-headers"), headerString(60)),
    { maxLength: 2 },
  ),
});

type Who = "admin" | "member" | "anonymous" | "session";

interface Case {
  who: Who;
  path: string;
  query: string;
  headers: { authorization?: string; cookie?: string; origin?: string; contentType?: string; extra?: Array<[string, string]> };
  body: string | undefined;
}

function realIdFor(def: RouteDef, param: string, w: World): string {
  if (param === "attachmentId") return w.attachmentId;
  if (param === "deliveryId") return w.deliveryId;
  if (def.path.startsWith("/api/webhooks")) return w.webhookId;
  if (def.path.startsWith("/api/api-keys")) return w.keyId;
  if (def.path.startsWith("/api/users")) return w.userId;
  if (def.path.startsWith("/api/domains")) return w.domainId;
  if (def.path.startsWith("/api/mailboxes")) return w.mailboxId;
  return w.messageId;
}

function caseArb(def: RouteDef, w: World): fc.Arbitrary<Case> {
  const params = [...def.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
  const path = fc.tuple(...params.map((p) => segmentArb(realIdFor(def, p, w)))).map((segs) => {
    let i = 0;
    return def.path.replace(/:([A-Za-z]+)/g, () => segs[i++]!);
  });
  const body = def.method === "GET" ? fc.constant(undefined) : bodyArb(w);
  return fc
    .record({
      who: fc.oneof(
        { weight: 3, arbitrary: fc.constant<Who>("admin") },
        { weight: 3, arbitrary: fc.constant<Who>("member") },
        { weight: 2, arbitrary: fc.constant<Who>("session") },
        { weight: 1, arbitrary: fc.constant<Who>("anonymous") },
      ),
      path: params.length ? path : fc.constant(def.path),
      query: queryArb(w),
      headers: headersArb,
      body,
    })
    .map((c) =>
      Object.assign(c, {
        // Keep fast-check's failure report readable (bodies can be 1 MiB).
        [fc.toStringMethod]: () => describeCase(def, c),
      }),
    );
}

const short = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);
function describeCase(def: RouteDef, c: Case): string {
  return JSON.stringify({
    route: `${def.method} ${def.path}`,
    who: c.who,
    url: short(c.path + c.query, 300),
    headers: Object.fromEntries(Object.entries(c.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, short(JSON.stringify(v), 120)]]))),
    body: c.body === undefined ? undefined : short(c.body, 300),
  });
}

function buildRequest(def: RouteDef, c: Case): Request | null {
  const headers = new Headers();
  try {
    if (c.who === "admin") headers.set("authorization", `Bearer ${admin.key}`);
    if (c.who === "member") headers.set("authorization", `Bearer ${member.key}`);
    if (c.who === "session") {
      headers.set("cookie", sessionCookie);
      headers.set("origin", ORIGIN);
    }
    if (c.headers.authorization !== undefined) headers.set("authorization", c.headers.authorization);
    if (c.headers.cookie !== undefined) headers.set("cookie", c.headers.cookie);
    if (c.headers.origin !== undefined) headers.set("origin", c.headers.origin);
    if (c.body !== undefined) headers.set("content-type", c.headers.contentType ?? "application/json");
    for (const [k, v] of c.headers.extra ?? []) headers.set(k, v);
  } catch {
    return null; // not representable as HTTP headers at all
  }
  let url: string;
  try {
    const u = new URL(`${ORIGIN}${c.path}${c.query}`);
    // A valid wait holds the request for its whole timeout (30 s by default): keep accepted cases
    // at 1 s, and leave invalid timeouts as generated so their refusal is still fuzzed.
    if (def.path === "/api/messages/wait") {
      const t = u.searchParams.get("timeout");
      if (t === null || /^\s*\d+\s*$/.test(t)) u.searchParams.set("timeout", t !== null && (Number(t) < 1 || Number(t) > 60) ? t : "1");
    }
    url = u.toString();
  } catch {
    return null;
  }
  return new Request(url, { method: def.method, headers, body: c.body });
}

/** The Worker's own fetch handler with a fresh execution context. */
async function callWorker(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

// ---- state snapshots ----------------------------------------------------------------------

async function d1State(): Promise<Record<string, string>> {
  const [users, keys, domains, mailboxes, messages, recipients, attachments, failures, sessions, webhooks] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare("SELECT id, email, name, role, disabled_at, deleted_at, created_at, updated_at FROM users ORDER BY id"),
    // last_used_at is touched by authentication itself, before a route accepts or rejects.
    env.DB.prepare("SELECT id, user_id, name, prefix, key_hash, scopes, created_at, revoked_at FROM api_keys ORDER BY id"),
    env.DB.prepare("SELECT * FROM domains ORDER BY id"),
    env.DB.prepare("SELECT * FROM mailboxes ORDER BY id"),
    env.DB.prepare("SELECT * FROM messages ORDER BY id"),
    env.DB.prepare("SELECT * FROM message_recipients ORDER BY id"),
    env.DB.prepare("SELECT * FROM message_attachments ORDER BY id"),
    env.DB.prepare("SELECT * FROM auth_failures ORDER BY client_key"),
    // last_seen_at is touched by authentication itself (at most once a minute).
    env.DB.prepare("SELECT id, user_id, api_key_id, created_at, expires_at, revoked_at FROM sessions ORDER BY id"),
    // Webhook rows (deliveries are sent, and updated, by the outboxes' own alarms: not compared).
    env.DB.prepare("SELECT * FROM webhooks ORDER BY id"),
  ]);
  const rows = (r: D1Result<Record<string, unknown>>) => `${r.results.length}:${JSON.stringify(r.results)}`;
  return {
    users: rows(users!),
    api_keys: rows(keys!),
    // Domains bound by accepted fuzz cases have retry alarms that update their rows on their own:
    // those are compared by id only, the test's own domains in full.
    domains: `${domains!.results.length}:${JSON.stringify(domains!.results.map((d) => (stableDomains.has(String(d.id)) ? d : d.id)))}`,
    mailboxes: rows(mailboxes!),
    messages: rows(messages!),
    message_recipients: rows(recipients!),
    message_attachments: rows(attachments!),
    auth_failures: rows(failures!),
    sessions: rows(sessions!),
    webhooks: rows(webhooks!),
  };
}

async function simState(): Promise<string> {
  // The simulator is a plain HTTP server: a reused keep-alive connection can drop under load.
  let state: Awaited<ReturnType<typeof sim.state>> | undefined;
  for (let attempt = 1; !state; attempt++) {
    try {
      state = await sim.state();
    } catch (e) {
      if (attempt >= 3 || !/network connection lost/i.test(String(e))) throw e;
    }
  }
  return JSON.stringify(state.zones.map((z) => [z.zone.id, z.zone.name, z.rules.length, z.catch_all.enabled]).sort());
}

// ---- the properties -------------------------------------------------------------------------

/** The state after the previous case of the current route (reset when a route starts). */
const last: { d1: Record<string, string> | null; sim: string | null } = { d1: null, sim: null };
const stats = { cases: 0, skipped: 0, rejected: 0, checkMs: 0, byStatus: new Map<number, number>(), byRoute: new Map<string, Map<number, number>>(), startedAt: 0 };
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort().join(",");

async function check(def: RouteDef, c: Case): Promise<void> {
  const request = buildRequest(def, c);
  if (!request) {
    stats.skipped++;
    return;
  }
  const touchesCloudflare = def.path.startsWith("/api/domains") || def.path.startsWith("/api/mailboxes");
  // Nothing runs between two cases of a route (no waitUntil work, no cron), so the state after
  // one case is the state before the next: one snapshot per case instead of two.
  const before = last.d1 ?? (await d1State());
  const simBefore = touchesCloudflare ? (last.sim ?? (await simState())) : "";
  last.d1 = last.sim = null;
  const res = await callWorker(request);
  // An accepted event stream never ends: check its headers, then hang up.
  const streaming = res.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
  const text = streaming ? (await res.body?.cancel(), "") : await res.text();
  // The answer must be one the OpenAPI document describes (status listed, body valid).
  expect(contractViolation(def.method, request.url, res.status, res.headers.get("content-type"), streaming ? null : text), `case: ${describeCase(def, c)}`).toBeNull();
  stats.cases++;
  stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
  const perRoute = stats.byRoute.get(`${def.method} ${def.path}`) ?? new Map<number, number>();
  perRoute.set(res.status, (perRoute.get(res.status) ?? 0) + 1);
  stats.byRoute.set(`${def.method} ${def.path}`, perRoute);
  const label = `${res.status} ${short(text, 300)}\n  case: ${describeCase(def, c)}`;

  expect(res.status, label).not.toBe(500);
  expect(res.status < 500 || res.status === 502 || res.status === 503, label).toBe(true);
  const pathname = new URL(request.url).pathname;
  const isApi = pathname === "/api" || pathname.startsWith("/api/");
  if (res.status >= 400 && isApi) {
    expect(res.headers.get("content-type"), label).toMatch(/^application\/json/);
    let body: unknown;
    expect(() => (body = JSON.parse(text)), label).not.toThrow();
    expect(typeof (body as { error?: unknown }).error, label).toBe("string");
    expect(body as object, label).toHaveProperty("details");
  }
  const after = await d1State();
  const simAfter = touchesCloudflare ? await simState() : null;
  last.d1 = { ...after };
  last.sim = simAfter;
  if (res.status >= 400) {
    stats.rejected++;
    // Counting failed keys (sign-in attempts, and Bearer failures from a known IP on any /api
    // route, public ones included) is the throttle's job: any rejected request may record one.
    after.auth_failures = before.auth_failures!;
    for (const table of Object.keys(before)) expect(after[table], `${table} changed on a rejected request: ${label}`).toBe(before[table]);
    if (touchesCloudflare) expect(simAfter, `Cloudflare state changed on a rejected request: ${label}`).toBe(simBefore);
  }
  expect(Object.getOwnPropertyNames(Object.prototype).sort().join(","), label).toBe(prototypeNames);
  expect(({} as Record<string, unknown>).role, label).toBeUndefined();
  if (def.method === "DELETE" && def.path === "/api/auth/session" && res.status === 204) {
    // Sign-out revokes the shared session: sign in again for the cases that follow.
    await refreshSession();
    last.d1 = null;
  }
}

async function refreshSession(): Promise<void> {
  const session = await api("POST", "/api/auth/session", { body: { apiKey: member.key } });
  expect(session.status).toBe(200);
  sessionCookie = session.res.headers.get("set-cookie")!.split(";")[0]!;
}

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  member = await makeUser("member");
  const main = await activeDomain(admin.key, root);
  stableDomains.add(main.id);
  await refreshSession();
  shared = await world(null);
  stats.startedAt = Date.now();
  console.log(
    `fuzz: seed=${SEED} runs=${RUNS_PER_ROUTE}/route × ${routeTable.length} routes = ${RUNS_PER_ROUTE * routeTable.length} cases` +
      ` (VITE_FUZZ_RUNS=${TOTAL_RUNS}${SHRINK ? ", shrinking on" : ""})`,
  );
});

afterAll(() => {
  const hist = (m: Map<number, number>) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(" ");
  console.log(`fuzz: statuses per route\n${[...stats.byRoute.entries()].map(([r, m]) => `  ${r.padEnd(50)} ${hist(m)}`).join("\n")}`);
  const statuses = [...stats.byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(" ");
  console.log(
    `fuzz: seed=${SEED} ${stats.cases} requests (${stats.rejected} rejected, ${stats.skipped} not representable) in ${((Date.now() - stats.startedAt) / 1000).toFixed(1)} s` +
      ` (${(stats.checkMs / Math.max(1, stats.cases)).toFixed(0)} ms per case incl. snapshots); statuses ${statuses}`,
  );
});

describe(`fuzz every route (seed ${SEED}, ${RUNS_PER_ROUTE} cases per route)`, () => {
  routeTable.forEach((def, index) => {
    it(
      `${def.method} ${def.path}`,
      async () => {
        const w = await world(def);
        last.d1 = last.sim = null;
        await fc.assert(
          fc.asyncProperty(caseArb(def, w), async (c) => {
            const t = Date.now();
            try {
              await check(def, c);
            } finally {
              stats.checkMs += Date.now() - t;
            }
          }),
          { seed: SEED + index, numRuns: RUNS_PER_ROUTE, endOnFailure: !SHRINK },
        );
      },
      30_000 + RUNS_PER_ROUTE * 1_500,
    );
  });
});

describe("request bodies over 1 MiB answer 413", () => {
  const writes = routeTable.filter((r) => r.method !== "GET");
  const oversized = () => `{"name":"${"z".repeat(MAX_BODY_BYTES)}"}`;

  for (const def of writes) {
    it(`${def.method} ${def.path}`, async () => {
      // Every case here is refused before it reaches a handler, so the shared resources suffice.
      const w = shared;
      const path = def.path.replace(/:([A-Za-z]+)/g, (_m, p: string) => realIdFor(def, p, w));
      for (const who of ["admin", "anonymous"] as const) {
        for (const mode of ["content-length", "stream"] as const) {
          const before = await d1State();
          const text = oversized();
          const bytes = new TextEncoder().encode(text);
          const body =
            mode === "content-length"
              ? bytes
              : new ReadableStream<Uint8Array>({
                  start(controller) {
                    for (let i = 0; i < bytes.byteLength; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
                    controller.close();
                  },
                });
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (who === "admin") headers.authorization = `Bearer ${admin.key}`;
          const res = await exports.default.fetch(new Request(`${ORIGIN}${path}`, { method: def.method, headers, body }));
          const label = `${who} ${mode} ${def.method} ${path}`;
          expect(res.status, label).toBe(413);
          expect(await res.json(), label).toEqual({ error: "Request body too large", details: { limitBytes: MAX_BODY_BYTES } });
          expect(await d1State(), label).toEqual(before);
        }
      }
    });
  }

  it("a streamed body (no Content-Length) under the limit still reaches the handler", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ name: "streamed" }));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 5));
        controller.enqueue(bytes.slice(5));
        controller.close();
      },
    });
    const res = await exports.default.fetch(
      new Request(`${ORIGIN}/api/api-keys`, { method: "POST", headers: { authorization: `Bearer ${member.key}`, "content-type": "application/json" }, body }),
    );
    expect(res.status).toBe(201);
    expect(((await res.json()) as { apiKeyRecord: { name: string } }).apiKeyRecord.name).toBe("streamed");
  });

  it("a body of exactly 1 MiB is read and validated, not refused as too large", async () => {
    const text = `{"name":"${"z".repeat(MAX_BODY_BYTES - 11)}"}`;
    expect(new TextEncoder().encode(text).byteLength).toBe(MAX_BODY_BYTES);
    const res = await api("POST", "/api/api-keys", { key: member.key, body: text });
    expect(res.status).toBe(400);
    expect(res.body.details.fieldErrors.name).toBeDefined();
  });
});
