// The fault soak: a fresh stack, 20 % injected Cloudflare faults, a concurrent workload, then the
// invariants once the alarms have settled. `runSoak(options)` returns the figures; scripts/soak.mjs
// prints them. Everything talks to 127.0.0.1 only.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, sleep, Stats } from "./client.mjs";
import { checkInvariants } from "./invariants.mjs";
import { buildMessage, rng, sha256 } from "./mail.mjs";
import { snapshotProject, startStack } from "./stack.mjs";

export const FULL = { binds: 50, mailboxes: 500, messages: 1000, faultRate: 0.2, concurrency: 8 };
export const QUICK = { binds: 4, mailboxes: 40, messages: 60, faultRate: 0.2, concurrency: 8 };

/** Share of the faults by kind (5xx, 429 with Retry-After 1–2 s, hangs past the client timeout). */
const FAULT_MIX = { "5xx": 0.5, "429": 0.25, hang: 0.25 };

export async function runSoak(input) {
  const o = {
    ...FULL,
    limitMs: 30_000,
    cfTimeoutMs: 2_000,
    retryBaseSeconds: 1,
    retryMaxSeconds: 8,
    seed: Date.now() % 1e9,
    keep: false,
    log: (line) => process.stderr.write(`${line}\n`),
    ...input,
  };
  o.hangMs ??= o.cfTimeoutMs + 2_000;
  o.settleTimeoutMs ??= o.quick ? 150_000 : 300_000;
  o.deadlineMs ??= o.quick ? 240_000 : 45 * 60_000;
  const rand = rng(o.seed);
  const runId = o.seed.toString(36);
  const t0 = Date.now();
  const deadline = t0 + o.deadlineMs;
  const say = (msg) => o.log(`[soak ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

  const dir = mkdtempSync(join(tmpdir(), "kaisoumail-soak-"));
  const app = snapshotProject(o.root, dir, { keepAssets: o.keepAssets });
  say(`state and logs in ${dir}; starting the stack…`);
  const stack = await startStack({
    app,
    stateDir: join(dir, "state"),
    env: {
      DOMAIN_RETRY_BASE_SECONDS: String(o.retryBaseSeconds),
      DOMAIN_RETRY_MAX_SECONDS: String(o.retryMaxSeconds),
      CLOUDFLARE_API_TIMEOUT_MS: String(o.cfTimeoutMs),
      ...(o.cfRateLimit ? { CLOUDFLARE_RATE_LIMIT_PER_5_MIN: String(o.cfRateLimit) } : {}),
    },
  });
  say(`stack ready: app ${stack.base}, simulator ${stack.simBase}`);

  const stats = new Stats();
  const client = new Client({ base: stack.base, stats, limitMs: o.limitMs });
  const secrets = [
    { label: "Cloudflare token", value: stack.local.cloudflareToken },
    { label: "admin API key", value: stack.local.adminKey },
    { label: "session secret", value: stack.local.sessionSecret },
  ];
  const result = { options: publicOptions(o), startedAt: new Date(t0).toISOString() };
  let failure = null;
  try {
    await soak();
  } catch (e) {
    failure = e;
    say(`aborted: ${e?.stack ?? e}`);
  } finally {
    await stack.stop();
  }
  // The secret scan reads everything the stack printed, including its shutdown. The one line
  // exempt is start.mjs's own ready banner, which shows the admin key to the person who ran it.
  writeFileSync(join(dir, "stack.log"), `${stack.lines.join("\n")}\n`, { mode: 0o600 });
  const banner = stack.lines.findIndex((l) => /^\s*Admin API key\s+km_/.test(l));
  result.logs = scanLogs(
    stack.lines.map((l, i) => (i === banner ? "" : l)),
    secrets,
  );
  result.logs.exempt = banner >= 0 ? ["start.mjs ready banner (Admin API key line)"] : [];
  result.invariants ??= [];
  result.invariants.push({
    name: "logs contain no token, API key or session value",
    ok: result.logs.leaks.length === 0 && result.logs.lines > 0,
    figures: { linesScanned: result.logs.lines, secretsChecked: result.logs.secretsChecked, leaks: result.logs.leaks.length },
    mismatches: result.logs.leaks,
  });
  if (failure) result.invariants.push({ name: "soak ran to completion", ok: false, figures: {}, mismatches: [String(failure?.message ?? failure)] });
  result.operations = stats.summary();
  result.requestsOverLimit = stats.overLimit;
  result.durationSeconds = Math.round((Date.now() - t0) / 100) / 10;
  result.passed = result.invariants.every((i) => i.ok);
  result.stateDir = dir;
  if (result.passed && !o.keep) {
    rmSync(dir, { recursive: true, force: true });
    result.stateDir = null;
  }
  return result;

  // ---------------------------------------------------------------------------------------------

  async function soak() {
    // -- simulator control (the harness: not faulted, not counted as workload) --
    async function sim(method, path, body) {
      for (let i = 0; ; i++) {
        try {
          const res = await fetch(`${stack.simBase}/__sim${path}`, {
            method,
            headers: body === undefined ? {} : { "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          if (!res.ok) throw new Error(`simulator ${method} ${path} → ${res.status} ${text}`);
          return text ? JSON.parse(text) : null;
        } catch (e) {
          if (i >= 3 || String(e).includes("→")) throw e;
          await sleep(500);
        }
      }
    }
    const simLog = { seq: 0, total: 0, statuses: {}, faults: { "5xx": 0, "429": 0, hang: 0 }, postZones: { ok: 0, exists: 0, other: 0 }, deleteZones: { ok: 0 }, byEndpoint: {}, truncated: false };
    async function pollSimLog() {
      const entries = await sim("GET", `/requests?since=${simLog.seq}`);
      for (const e of entries) {
        if (e.seq <= simLog.seq) continue;
        if (e.seq !== simLog.seq + 1) simLog.truncated = true; // the log keeps the last 10,000 only
        simLog.seq = e.seq;
        simLog.total++;
        simLog.statuses[e.status] = (simLog.statuses[e.status] ?? 0) + 1;
        if (e.fault) simLog.faults[e.fault]++;
        const rel = e.path.replace(/^\/client\/v4/, "");
        const endpoint = `${e.method} ${rel.replace(/[0-9a-f]{32}/g, ":id")}`;
        simLog.byEndpoint[endpoint] = (simLog.byEndpoint[endpoint] ?? 0) + 1;
        if (e.method === "POST" && rel === "/zones") {
          if (e.status >= 200 && e.status < 300) simLog.postZones.ok++;
          else if (e.status === 400 || e.status === 409) simLog.postZones.exists++;
          else simLog.postZones.other++;
        }
        if (e.method === "DELETE" && /^\/zones\/[0-9a-f]{32}$/.test(rel) && e.status >= 200 && e.status < 300) simLog.deleteZones.ok++;
      }
    }

    const admin = { key: stack.local.adminKey };
    const origin = stack.base;

    // -- users, keys and sessions (their values must never reach a log) --
    const member = await client.request("setup.user", "POST", "/api/users", {
      auth: admin,
      body: { email: `soak-member-${runId}@localhost.test`, name: "Soak member", role: "member" },
    });
    if (member.status !== 201) throw new Error(`could not create the member: ${member.status} ${member.text}`);
    const memberAuth = { key: member.json.initialKey.apiKey };
    secrets.push({ label: "member API key", value: memberAuth.key });
    // A second admin key with the full scope set (a key without `scopes` gets the default, which has no `admin`).
    const extra = await client.request("setup.api_key", "POST", "/api/api-keys", { auth: admin, body: { name: "soak extra key", scopes: ["*"] } });
    if (extra.status !== 201) throw new Error(`could not create an API key: ${extra.status} ${extra.text}`);
    const admin2 = { key: extra.json.apiKey };
    secrets.push({ label: "extra admin API key", value: admin2.key });
    async function session(key, label) {
      const r = await client.request("setup.session", "POST", "/api/auth/session", { body: { apiKey: key } });
      const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
      if (r.status !== 200 || !cookie.startsWith("kaisoumail_session=")) throw new Error(`no session: ${r.status} ${r.text}`);
      const value = decodeURIComponent(cookie.slice("kaisoumail_session=".length));
      secrets.push({ label: `${label} session`, value });
      return { cookie, origin };
    }
    const adminSession = await session(admin.key, "admin");
    const memberSession = await session(memberAuth.key, "member");
    const adminAuths = [admin, admin2, adminSession];
    const memberAuths = [memberAuth, memberSession];
    const pick = (arr) => arr[Math.floor(rand() * arr.length)];

    // -- the plan --
    const nPending = o.binds >= 3 ? Math.max(1, Math.round(o.binds * 0.1)) : 0;
    const nDelete = o.binds >= 4 ? Math.max(1, Math.round(o.binds * 0.06)) : 0;
    const nCatalog = Math.max(2, Math.round(o.binds / 5));
    const domains = [];
    for (let i = 0; i < o.binds; i++) {
      const plan = i < nPending ? "pending" : i < nPending + nDelete ? (i % 2 === 0 ? "delete-pending" : "delete-active") : "activate";
      domains.push({ name: `soak${runId}-b${String(i).padStart(3, "0")}.com`, kind: "bind", plan, id: null, zoneId: null, zoneIdsSeen: new Set(), status: null, activated: false, deleteRequested: false });
    }
    for (let i = 0; i < nCatalog; i++) {
      domains.push({ name: `soak${runId}-c${String(i).padStart(3, "0")}.net`, kind: "catalog", plan: "activate", id: null, zoneId: null, zoneIdsSeen: new Set(), status: null, activated: true, deleteRequested: false });
    }
    const byName = new Map(domains.map((d) => [d.name, d]));
    // A different rate budget (--cf-rate-limit) applies to the simulator too, like a bigger plan.
    if (o.cfRateLimit) await sim("PUT", "/config", { rateLimit: { limit: o.cfRateLimit, windowSeconds: 300 } });
    // Dashboard-created zones, enabled from the catalog later.
    for (const d of domains.filter((x) => x.kind === "catalog")) await sim("POST", "/zones", { name: d.name, status: "active" });
    const dashboardZones = new Set(domains.filter((x) => x.kind === "catalog").map((d) => d.name));

    // -- faults on every Cloudflare endpoint --
    const faultSpecs = [];
    if (o.faultRate > 0) {
      let left = 1;
      const add = (kind, share, extra) => {
        const p = (o.faultRate * share) / left; // faults are tried in order: keep each kind's overall share
        left -= o.faultRate * share;
        faultSpecs.push({ path: "/*", kind, rate: Math.min(1, p), ...extra });
      };
      add("5xx", FAULT_MIX["5xx"] * 0.6, { status: 503 });
      add("5xx", FAULT_MIX["5xx"] * 0.4, { status: 500 });
      add("429", FAULT_MIX["429"] / 2, { retryAfter: 1 });
      add("429", FAULT_MIX["429"] / 2, { retryAfter: 2 });
      add("hang", FAULT_MIX.hang, { hangMs: o.hangMs });
      for (const f of faultSpecs) await sim("POST", "/faults", f);
    }
    say(`faults on: ${(o.faultRate * 100).toFixed(0)} % of Cloudflare calls (5xx ${FAULT_MIX["5xx"] * 100} %, 429 ${FAULT_MIX["429"] * 100} %, hang ${o.cfTimeoutMs} ms+ ${FAULT_MIX.hang * 100} %)`);

    // -- background: request log, domain follower (activates delegated zones), cron --
    let stopBackground = false;
    const cron = { triggered: 0, ok: 0, failed: [] };
    async function triggerCron() {
      const r = await client.request("cron.scheduled", "GET", "/cdn-cgi/handler/scheduled", { retries: 0 });
      cron.triggered++;
      if (r.status === 200) cron.ok++;
      else cron.failed.push(`${r.status} ${r.text.slice(0, 120)}`);
    }
    async function refreshDomains() {
      const r = await client.request("domain.list", "GET", "/api/domains", { auth: pick(adminAuths) });
      if (r.status !== 200) return null;
      for (const row of r.json.domains) {
        const d = byName.get(row.rootDomain);
        if (!d) continue;
        d.id = row.id;
        d.status = row.status;
        d.row = row;
        if (row.zoneId) {
          d.zoneId = row.zoneId;
          d.zoneIdsSeen.add(row.zoneId);
        }
      }
      return r.json.domains;
    }
    async function activateDelegated() {
      for (const d of domains) {
        if (d.activated || !d.zoneId || d.plan === "pending" || d.plan === "delete-pending" || d.deleteRequested) continue;
        if (d.activateAt === undefined) d.activateAt = Date.now() + Math.floor(rand() * 2_000);
        if (Date.now() < d.activateAt) continue;
        await sim("POST", `/zones/${d.zoneId}/activate`);
        d.activated = true;
      }
    }
    const background = (async () => {
      let lastCron = Date.now();
      while (!stopBackground) {
        try {
          await pollSimLog();
          await refreshDomains();
          await activateDelegated();
          if (Date.now() - lastCron > (o.quick ? 10_000 : 20_000)) {
            lastCron = Date.now();
            await triggerCron();
          }
        } catch (e) {
          say(`background: ${e.message}`);
        }
        for (let i = 0; i < 10 && !stopBackground; i++) await sleep(250);
      }
    })();

    // -- phase A: binds with delegation, catalog enables --
    const domainOps = { bind: { ok: 0, failed: [] }, enable: { ok: 0, failed: [] }, delete: { ok: 0, failed: [] } };
    async function bind(d) {
      const r = await client.request("domain.bind", "POST", "/api/domains/bind", { auth: pick(adminAuths), body: { mailDomain: d.name } });
      if (r.status === 201 || r.status === 200) {
        domainOps.bind.ok++;
        d.id = r.json.id;
        d.status = r.json.status;
        if (r.json.zoneId) {
          d.zoneId = r.json.zoneId;
          d.zoneIdsSeen.add(r.json.zoneId);
          d.activateAt = Date.now() + Math.floor(rand() * 2_000);
        }
      } else domainOps.bind.failed.push(`${d.name}: ${r.status} ${r.text.slice(0, 160)}`);
      if (d.plan === "delete-pending") await deleteDomain(d);
    }
    async function catalogZoneId(name) {
      for (let i = 0; i < 20; i++) {
        const r = await client.request("domain.catalog", "GET", "/api/domains/catalog", { auth: pick(adminAuths) });
        const item = r.status === 200 ? r.json.domains.find((x) => x.rootDomain === name && x.zoneId) : null;
        if (item && r.json.cloudflareSync?.status === "live") return item.zoneId;
        await sleep(500 + rand() * 1_000);
      }
      return null;
    }
    async function enable(d) {
      const zoneId = await catalogZoneId(d.name);
      if (!zoneId) {
        domainOps.enable.failed.push(`${d.name}: not in the catalog`);
        return;
      }
      const r = await client.request("domain.enable", "POST", "/api/domains", { auth: pick(adminAuths), body: { mailDomain: d.name, zoneId } });
      if (r.status === 201 || r.status === 200) {
        domainOps.enable.ok++;
        d.id = r.json.id;
        d.zoneId = r.json.zoneId;
        d.zoneIdsSeen.add(r.json.zoneId);
      } else domainOps.enable.failed.push(`${d.name}: ${r.status} ${r.text.slice(0, 160)}`);
    }
    async function deleteDomain(d) {
      d.deleteRequested = true;
      for (let i = 0; i < 20 && !d.id; i++) {
        await refreshDomains();
        if (!d.id) await sleep(500);
      }
      if (!d.id) {
        domainOps.delete.failed.push(`${d.name}: no id`);
        return;
      }
      const r = await client.request("domain.delete", "POST", `/api/domains/${d.id}/delete`, { auth: pick(adminAuths) });
      // A 404 after a retry: the alarm finished the delete the first attempt started.
      if (r.status === 204 || (r.status === 404 && r.attempts > 1)) {
        domainOps.delete.ok++;
        d.deleted = true;
      } else d.deleteAnswer = `${r.status} ${r.text.slice(0, 160)}`; // the settle phase finishes it
    }
    await lanes(
      o.concurrency,
      domains.map((d) => () => (d.kind === "bind" ? bind(d) : enable(d))),
    );
    say(`phase A: ${domainOps.bind.ok}/${o.binds} binds, ${domainOps.enable.ok}/${nCatalog} catalog enables answered`);

    // Mail needs active domains: wait for delegation + alarms (bounded).
    const mailDomains = () => domains.filter((d) => d.plan === "activate" && d.status === "active");
    // (A bind or enable that failed outright is retried by the settle phase, as a person would.)
    const wanted = () => domains.filter((d) => (d.plan === "activate" || d.plan === "delete-active") && d.id);
    const activeBy = Date.now() + (o.quick ? 60_000 : 120_000);
    while (Date.now() < activeBy) {
      if (wanted().every((d) => d.status === "active")) break;
      await sleep(1_000);
    }
    say(`${mailDomains().length} mail domains active (of ${domains.filter((d) => d.plan === "activate").length} planned)`);
    if (mailDomains().length === 0) throw new Error("no domain became active");

    // -- phase B: mailboxes, catch-all, inbound mail, deletes --
    const mailboxes = []; // {i, id, address, domain, owner, plan, state}
    const messages = []; // {n, to, mailbox, tag, sha, size, status, verified, kind}
    const failures = { create: [], delete: [], message: [], catchAll: [] };
    const catchAllDomains = new Set();
    const catchAllOps = { enable: 0, disable: 0, failed: 0 };
    let messageNo = 0;
    const queue = [];
    const insertSoon = (task) => queue.splice(Math.min(queue.length, Math.floor(rand() * 30)), 0, task);
    const authFor = (owner) => (owner === "member" ? pick(memberAuths) : pick(adminAuths));

    async function createMailbox(i) {
      const pool = mailDomains();
      if (pool.length === 0) return void failures.create.push("no active mail domain");
      const d = pool[i % pool.length];
      const owner = i % 4 === 3 ? "member" : "admin";
      const auth = authFor(owner);
      const sub = ["inbox", "signup", "qa"][i % 3];
      const local = `u${runId}x${i}`;
      const variant = i % 3;
      let r;
      if (variant === 0) r = await client.request("mailbox.create", "POST", "/api/mailboxes", { auth, body: { mailDomain: d.name, localPart: local, subdomain: sub, expiresInMinutes: 1440 } });
      else if (variant === 1) r = await client.request("mailbox.create", "POST", "/api/mailboxes", { auth, body: { mailDomain: d.name, expiresInMinutes: 1440 } });
      else r = await client.request("mailbox.ensure", "POST", "/api/mailboxes/ensure", { auth, body: { address: `${local}@${sub}.${d.name}`, expiresInMinutes: 1440 } });
      let mb = r.status === 201 || r.status === 200 ? r.json : null;
      if (!mb && r.status === 409 && variant !== 1) {
        // A retried create whose first attempt went through: the mailbox exists.
        const found = await client.request("mailbox.resolve", "GET", `/api/mailboxes/resolve?address=${encodeURIComponent(`${local}@${sub}.${d.name}`)}`, { auth });
        if (found.status === 200) mb = found.json;
      }
      const plan = i % 2 === 0 ? "keep" : "delete";
      if (!mb || mb.status !== "active") {
        failures.create.push(`${d.name}: ${r.status} ${r.text.slice(0, 160)}`);
        // Its share of the mail goes to another mailbox.
        for (let k = 0; k < messagesFor(i); k++) insertSoon({ type: "message", target: null });
        return;
      }
      const m = { i, id: mb.id, address: mb.address, domain: d.name, owner, plan, state: "active", pendingMessages: messagesFor(i) };
      mailboxes.push(m);
      if (m.pendingMessages === 0 && plan === "delete") insertSoon({ type: "deleteMailbox", m });
      for (let k = 0; k < m.pendingMessages; k++) insertSoon({ type: "message", target: m });
    }
    function messagesFor(i) {
      return Math.floor(((i + 1) * o.messages) / o.mailboxes) - Math.floor((i * o.messages) / o.mailboxes);
    }

    async function findMessage(m, tag, auth) {
      // Newest first; the tag is in the subject. Pages until found.
      let cursor = null;
      for (let page = 0; page < 20; page++) {
        const q = `/api/messages?mailbox=${encodeURIComponent(m.address)}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
        const r = await client.request("message.list", "GET", q, { auth });
        if (r.status !== 200) return { error: `${r.status} ${r.text.slice(0, 120)}` };
        const hit = r.json.messages.filter((x) => x.subject.startsWith(tag));
        if (hit.length) return { items: hit };
        cursor = r.json.nextCursor;
        if (!cursor) return { items: [] };
      }
      return { items: [] };
    }
    async function verifyMessage(msg, auth) {
      const found = await findMessage(msg.mailbox, msg.tag, auth);
      if (found.error) return { ok: false, why: `list failed: ${found.error}` };
      if (found.items.length === 0) return { ok: false, why: "not found" };
      if (found.items.length > 1) return { ok: false, why: `stored ${found.items.length} times` };
      const raw = await client.request("message.raw", "GET", `/api/messages/${found.items[0].id}/raw`, { auth, binary: true });
      if (raw.status !== 200) return { ok: false, why: `raw ${raw.status}` };
      if (sha256(raw.bytes) !== msg.sha || raw.bytes.length !== msg.size) return { ok: false, why: `raw differs (${raw.bytes.length} bytes, sent ${msg.size})`, id: found.items[0].id };
      return { ok: true, id: found.items[0].id };
    }
    async function deliver(to, raw) {
      // A sending server retries while the handler fails (non-200); the Message-ID dedupes repeats.
      const q = `/cdn-cgi/handler/email?from=${encodeURIComponent("sender@sender.soak.test")}&to=${encodeURIComponent(to)}`;
      return client.request("email.deliver", "POST", q, { rawBody: raw, headers: { "content-type": "message/rfc822" }, retries: 3, email: true, retryOn: (status) => status !== 200 });
    }
    async function sendMessage(task) {
      let m = task.target;
      if (!m || m.state !== "active") {
        const keepers = mailboxes.filter((x) => x.plan === "keep" && x.state === "active");
        if (keepers.length === 0) {
          if ((task.requeued = (task.requeued ?? 0) + 1) > 100) return void failures.message.push("no live mailbox to deliver to");
          await sleep(200);
          return void insertLater(task);
        }
        m = keepers[Math.floor(rand() * keepers.length)];
      }
      const n = messageNo++;
      const built = buildMessage(n, m.address, runId, rand);
      const msg = { n, to: m.address, mailbox: m, tag: built.tag, sha: built.sha, size: built.raw.length, kind: "mailbox", verified: false };
      messages.push(msg);
      const r = await deliver(m.address, built.raw);
      msg.status = r.status;
      if (r.status !== 200) failures.message.push(`${msg.tag} → ${m.address}: ${r.status} ${r.text.slice(0, 120)}`);
      else {
        const v = await verifyMessage(msg, authFor(m.owner));
        msg.verified = v.ok;
        msg.id = v.id;
        if (!v.ok) msg.why = v.why;
      }
      const t = task.target;
      if (t && --t.pendingMessages === 0 && t.plan === "delete" && t.state === "active") insertSoon({ type: "deleteMailbox", m: t });
    }
    function insertLater(task) {
      queue.push(task);
    }
    async function deleteMailbox(task) {
      const m = task.m;
      const r = await client.request("mailbox.delete", "DELETE", `/api/mailboxes/${m.id}`, { auth: authFor(m.owner) });
      if (r.status === 200 && r.json?.status === "destroyed") {
        m.state = "deleted";
        // Mail to a deleted address is refused (unless catch-all covers its domain).
        if (!catchAllDomains.has(m.domain) && rand() < 0.3) insertSoon({ type: "rejectProbe", m });
      } else {
        m.state = "destroying";
        failures.delete.push(`${m.address}: ${r.status} ${r.text.slice(0, 120)}`);
      }
    }
    const probes = { rejected: [], catchAll: [] };
    async function rejectProbe(task) {
      const n = messageNo++;
      const built = buildMessage(n, task.m.address, runId, rand);
      const r = await deliver(task.m.address, built.raw);
      const found = await findMessage(task.m, built.tag, pick(adminAuths));
      probes.rejected.push({ tag: built.tag, to: task.m.address, status: r.status, stored: !found.error && found.items.length > 0 });
    }
    async function catchAllToggle(task) {
      const d = task.d;
      const verb = task.on ? "enable" : "disable";
      const r = await client.request(`domain.catch_all_${verb}`, "POST", `/api/domains/${d.id}/catch-all/${verb}`, { auth: pick(adminAuths) });
      catchAllDomains.add(d.name);
      if (r.status === 200) {
        catchAllOps[verb]++;
        d.catchAllIntent = task.on;
        if (task.on) for (let k = 0; k < 2; k++) insertSoon({ type: "catchAllProbe", d });
      } else {
        catchAllOps.failed++;
        failures.catchAll.push(`${d.name} ${verb}: ${r.status} ${r.text.slice(0, 160)}`);
      }
    }
    async function catchAllProbe(task) {
      // Any address on a catch-all domain: stored if catch-all was on when it arrived.
      const n = messageNo++;
      const to = `any${n}@probe${n % 3}.${task.d.name}`;
      const built = buildMessage(n, to, runId, rand);
      const r = await deliver(to, built.raw);
      probes.catchAll.push({ n, to, tag: built.tag, sha: built.sha, size: built.raw.length, status: r.status, domain: task.d.name });
    }

    // Initial queue: every create, with catch-all toggles and catalog reads spread through it.
    for (let i = 0; i < o.mailboxes; i++) queue.push({ type: "createMailbox", i });
    const caCandidates = mailDomains().filter((d, idx) => idx % 5 === 1 || mailDomains().length < 5).slice(0, Math.max(1, Math.round(mailDomains().length / 5)));
    // Domains that toggle catch-all at some point: mail to a deleted address there may be caught.
    for (const d of caCandidates) catchAllDomains.add(d.name);
    caCandidates.forEach((d, k) => {
      const at = (f) => Math.floor(queue.length * f);
      queue.splice(at(0.25), 0, { type: "catchAll", d, on: true });
      queue.splice(at(0.55), 0, { type: "catchAll", d, on: false });
      if (k % 2 === 0) queue.splice(at(0.8), 0, { type: "catchAll", d, on: true });
    });
    for (let k = 1; k <= 4; k++) queue.splice(Math.floor((queue.length * k) / 5), 0, { type: "catalog" });
    const toDelete = domains.filter((d) => d.plan === "delete-active");
    for (const d of toDelete) queue.splice(Math.floor(queue.length / 2), 0, { type: "deleteDomain", d });

    const handlers = {
      createMailbox: (t) => createMailbox(t.i),
      message: sendMessage,
      deleteMailbox,
      rejectProbe,
      catchAll: catchAllToggle,
      catchAllProbe,
      catalog: () => client.request("domain.catalog", "GET", "/api/domains/catalog", { auth: pick(adminAuths) }),
      deleteDomain: async (t) => {
        for (let i = 0; i < 60 && t.d.status !== "active"; i++) await sleep(500);
        await deleteDomain(t.d);
      },
    };
    let done = 0;
    const progressEvery = Math.max(50, Math.round((o.mailboxes + o.messages) / 10));
    await new Promise((resolve, reject) => {
      let running = 0;
      const pump = () => {
        if (Date.now() > deadline) return reject(new Error("the workload ran past the soak's deadline"));
        while (running < o.concurrency && queue.length) {
          const task = queue.shift();
          running++;
          handlers[task.type](task)
            .catch((e) => say(`task ${task.type} threw: ${e?.stack ?? e}`))
            .finally(() => {
              running--;
              if (++done % progressEvery === 0) say(`workload: ${done} tasks, ${mailboxes.length} mailboxes, ${messages.length} messages`);
              if (running === 0 && queue.length === 0) resolve();
              else pump();
            });
        }
      };
      pump();
      if (queue.length === 0) resolve();
    });
    say(`workload done: ${mailboxes.length} mailboxes created, ${messages.length} messages delivered`);

    // -- phase C: faults off, let the alarms settle --
    const faultsBefore = await sim("GET", "/stats");
    await sim("DELETE", "/faults");
    const faultsOffAt = Date.now();
    say(`faults off (${faultsBefore.faultsInjected.total} injected); waiting for the alarms to settle…`);
    const settle = { rounds: 0, redeletes: 0, domainRedeletes: 0, domainRedos: 0, secondsToSettle: null, unsettled: [] };
    let quiet = 0;
    while (Date.now() - faultsOffAt < o.settleTimeoutMs) {
      settle.rounds++;
      const rows = await refreshDomains();
      await activateDelegated();
      await triggerCron();
      const destroying = await client.request("mailbox.list", "GET", "/api/mailboxes?status=destroying&limit=1000", { auth: admin });
      const unsettled = [];
      if (!rows) unsettled.push("domain list failed");
      for (const m of destroying.json?.mailboxes ?? []) {
        // The client saw 503 with retryAt; a client retries the delete.
        settle.redeletes++;
        const r = await client.request("mailbox.delete", "DELETE", `/api/mailboxes/${m.id}`, { auth: admin });
        const mine = mailboxes.find((x) => x.id === m.id);
        if (r.status === 200 && mine) mine.state = "deleted";
        unsettled.push(`mailbox ${m.address} destroying`);
      }
      for (const d of domains) {
        if (d.plan.startsWith("delete")) {
          const row = rows?.find((x) => x.rootDomain === d.name);
          if (row) {
            unsettled.push(`${d.name} not deleted yet (${row.status})`);
            // A delete whose answer was an error: retried, as a person would.
            if (!row.nextRetryAt && Date.now() - faultsOffAt > 5_000) {
              settle.domainRedeletes++;
              await deleteDomain(d);
            }
          }
          continue;
        }
        const row = d.row;
        if (!row) {
          unsettled.push(`${d.name} has no record`);
          // Its bind or enable failed outright: a person tries again.
          if (Date.now() - (d.lastRedo ?? 0) > 10_000) {
            d.lastRedo = Date.now();
            settle.domainRedos++;
            await (d.kind === "bind" ? bind(d) : enable(d));
          }
          continue;
        }
        if (row.status === "pending" && d.plan === "pending" && row.lastProvisionErrorCode === "zone_pending") continue;
        if (row.status === "active" && !row.nextRetryAt) continue;
        unsettled.push(`${d.name} ${row.status}${row.lastProvisionErrorCode ? ` (${row.lastProvisionErrorCode})` : ""}${row.nextRetryAt ? ` retry at ${row.nextRetryAt}` : ""}`);
      }
      settle.unsettled = unsettled;
      if (unsettled.length === 0) {
        if (++quiet >= 2) break;
      } else quiet = 0;
      await sleep(2_000);
    }
    settle.secondsToSettle = settle.unsettled.length === 0 ? Math.round((Date.now() - faultsOffAt) / 1000) : null;
    say(settle.unsettled.length === 0 ? `settled after ${settle.secondsToSettle} s` : `not settled after ${o.settleTimeoutMs / 1000} s: ${settle.unsettled.slice(0, 5).join("; ")}`);
    stopBackground = true;
    await background;
    await pollSimLog();

    // -- phase D: invariants --
    const final = {
      simState: await sim("GET", "/state"),
      simStats: await sim("GET", "/stats"),
      domains: (await client.request("domain.list", "GET", "/api/domains", { auth: admin })).json?.domains ?? [],
      mailboxes: (await client.request("mailbox.list", "GET", "/api/mailboxes?status=active&status=expired&status=destroying&limit=1000", { auth: admin })).json?.mailboxes ?? [],
    };
    // Every message accepted for a mailbox that still exists must still be readable, unchanged.
    const recheck = [];
    for (const msg of messages) {
      if (msg.mailbox.state !== "active" || msg.status !== 200) continue;
      const v = await verifyMessage(msg, authFor(msg.mailbox.owner));
      recheck.push({ msg, v });
    }
    // Catch-all probes: accepted ones (found through the API) must be byte-identical.
    const catchAllFound = [];
    for (const p of probes.catchAll) {
      const r = await client.request("message.list", "GET", `/api/messages?mailbox=${encodeURIComponent(p.to)}&limit=50`, { auth: admin });
      const hit = r.json?.messages?.filter((x) => x.subject.startsWith(p.tag)) ?? [];
      if (hit.length === 0) continue;
      const raw = await client.request("message.raw", "GET", `/api/messages/${hit[0].id}/raw`, { auth: admin, binary: true });
      catchAllFound.push({ ...p, copies: hit.length, identical: raw.status === 200 && sha256(raw.bytes) === p.sha && raw.bytes.length === p.size });
    }

    Object.assign(
      result,
      checkInvariants({
        o,
        domains,
        dashboardZones,
        mailboxes,
        messages,
        recheck,
        probes,
        catchAllFound,
        final,
        simLog,
        stats,
        cron,
        settle,
        domainOps,
        catchAllOps,
        failures,
        faultsInjected: final.simStats.faultsInjected,
        faultSpecs,
      }),
    );
  }
}

/** Runs the task factories with at most `n` at a time. */
async function lanes(n, tasks) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]();
    }),
  );
}

function publicOptions(o) {
  const { log, root, ...rest } = o;
  return rest;
}

/** Looks for every secret (and its distinctive tail) in every captured line. */
export function scanLogs(lines, secrets) {
  const leaks = [];
  const needles = [];
  for (const s of secrets) {
    if (!s.value || s.value.length < 12) continue;
    needles.push({ label: s.label, needle: s.value });
    // A secret cut or re-encoded would still show its tail (when the tail is distinctive).
    const tail = s.value.replace(/^km_/, "").slice(-20);
    if (tail.length >= 16 && new Set(tail).size >= 8) needles.push({ label: `${s.label} (tail)`, needle: tail });
    const sig = s.value.split(".")[1];
    if (sig && sig.length >= 16) needles.push({ label: `${s.label} (signature)`, needle: sig });
  }
  lines.forEach((line, idx) => {
    for (const { label, needle } of needles) {
      if (line.includes(needle) || line.includes(encodeURIComponent(needle))) leaks.push({ secret: label, line: idx + 1 });
    }
  });
  return { lines: lines.length, secretsChecked: secrets.filter((s) => s.value).length, leaks };
}
