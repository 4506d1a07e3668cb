#!/usr/bin/env node
// npm run soak: the fault soak. Starts a fresh local stack (simulator + wrangler dev, isolated
// state, 127.0.0.1 only), injects faults into 20 % of the Cloudflare calls (5xx, 429 with
// Retry-After 1–2 s, hangs past the client timeout), runs a concurrent workload (binds with
// delegation, catalog enables, mailbox creates and deletes, catch-all on/off, inbound mail), stops
// the faults, waits for the alarms to settle and checks the invariants. Prints the figures, writes
// them to bench/soak-results.json and exits non-zero when an invariant fails.
//
//   npm run soak                     50 binds, 500 mailboxes, 1,000 messages, 20 % faults
//   npm run soak -- --quick          4 binds, 40 mailboxes, 60 messages (what npm test runs)
//   npm run soak -- --binds 20 --mailboxes 200 --messages 300 --fault-rate 0.3 --concurrency 8
// Other options: --seed N, --limit-ms 30000 (per request), --cf-timeout-ms 2000 (the Worker's
// Cloudflare timeout; hangs last 2 s longer), --cf-rate-limit N (Cloudflare's rate limit per
// 5 minutes for the Worker's gate and the simulator, default 1,200: the full soak takes about
// 11 minutes because the gate keeps Cloudflare traffic at ~3 calls/s), --out FILE (default bench/soak-results.json, none for
// --quick), --keep (keep the state directory and logs), --json (print the results as JSON),
// --fuzz [--fuzz-cases 10000] (after the soak, also runs the request fuzzing, scripts/fuzz.mjs,
// with that many cases and the soak's seed; its result is one more invariant).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FULL, QUICK, runSoak } from "./soak/run.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const has = (name) => args.includes(`--${name}`);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name, fallback) => {
  const v = opt(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} needs a number`);
    process.exit(2);
  }
  return n;
};

const quick = has("quick");
const base = quick ? QUICK : FULL;
const options = {
  root,
  quick,
  binds: num("binds", base.binds),
  mailboxes: num("mailboxes", base.mailboxes),
  messages: num("messages", base.messages),
  faultRate: num("fault-rate", base.faultRate),
  concurrency: num("concurrency", base.concurrency),
  limitMs: num("limit-ms", 30_000),
  cfTimeoutMs: num("cf-timeout-ms", 2_000),
  seed: num("seed", Date.now() % 1e9),
  keep: has("keep"),
  fuzz: has("fuzz"),
  fuzzCases: num("fuzz-cases", 10_000),
  ...(opt("cf-rate-limit") ? { cfRateLimit: num("cf-rate-limit", 1200) } : {}),
};
if (options.faultRate > 1 || options.concurrency < 1 || options.mailboxes < 1 || options.binds < 1) {
  console.error("--fault-rate must be 0..1; --concurrency, --binds and --mailboxes at least 1");
  process.exit(2);
}
const out = opt("out") ?? (quick ? null : join(root, "bench", "soak-results.json"));

let result;
try {
  result = await runSoak(options);
} catch (e) {
  console.error(`soak could not run: ${e?.stack ?? e}`);
  process.exit(1);
}
if (options.fuzz) {
  result.fuzz = await runFuzz(options.fuzzCases, options.seed);
  result.invariants.push({
    name: "request fuzzing passed",
    ok: result.fuzz.exitCode === 0,
    figures: { cases: result.fuzz.cases, seed: result.fuzz.seed, seconds: result.fuzz.seconds },
    mismatches: result.fuzz.exitCode === 0 ? [] : [`scripts/fuzz.mjs exited ${result.fuzz.exitCode}`, ...result.fuzz.tail],
  });
  result.passed = result.invariants.every((i) => i.ok);
}

if (has("json")) console.log(JSON.stringify(result, null, 2));
else printReport(result);
if (out) {
  mkdirSync(dirname(resolve(out)), { recursive: true });
  writeFileSync(resolve(out), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nfigures written to ${out}`);
}
if (!result.passed) console.log(`\nstate and logs kept in ${result.stateDir}`);
process.exit(result.passed ? 0 : 1);

/** The fuzzing work's long run (fast-check over every route, inside workerd). */
function runFuzz(cases, seed) {
  const started = Date.now();
  console.error(`[soak] request fuzzing: ${cases} cases (scripts/fuzz.mjs)…`);
  return new Promise((resolvePromise) => {
    const lines = [];
    const child = spawn(process.execPath, [join(root, "scripts", "fuzz.mjs")], {
      cwd: root,
      env: { ...process.env, FUZZ_RUNS: String(cases), FUZZ_SEED: String(seed) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (d) => lines.push(...String(d).split("\n").filter(Boolean));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (e) => lines.push(String(e)));
    child.on("close", (code) =>
      resolvePromise({ cases, seed, exitCode: code ?? 1, seconds: Math.round((Date.now() - started) / 1000), tail: lines.slice(-15) }),
    );
  });
}

function printReport(r) {
  const o = r.options;
  const line = (s = "") => console.log(s);
  line();
  line(`KaisouMail fault soak — ${r.passed ? "PASSED" : "FAILED"} in ${r.durationSeconds} s`);
  line(
    `  workload: ${o.binds} binds, ${o.mailboxes} mailboxes, ${o.messages} messages, ${Math.round(o.faultRate * 100)} % faults, concurrency ${o.concurrency}, ` +
      `request limit ${o.limitMs / 1000} s, Cloudflare timeout ${o.cfTimeoutMs} ms, seed ${o.seed}`,
  );
  if (r.workload) {
    const w = r.workload;
    line();
    line("Operations");
    table(
      ["what", "figures"],
      [
        ["domains", `${w.domains.bindsAnswered}/${w.domains.binds} binds answered, ${w.domains.catalogEnables} catalog enables, ${w.domains.deletes} deletes, ${w.domains.keptPending} kept pending`],
        ["mailboxes", `${w.mailboxes.created} created (${w.mailboxes.createFailures} creates failed), ${w.mailboxes.deleted} deleted (${w.mailboxes.deleteAnswersNot200} deletes answered non-200 first)`],
        ["catch-all", `${w.catchAll.enable} enables, ${w.catchAll.disable} disables, ${w.catchAll.failed} failed`],
        ["inbound mail", `${w.messages.delivered} to mailboxes, ${w.messages.catchAllProbes} catch-all probes, ${w.messages.deletedAddressProbes} to deleted addresses`],
        ["cron", `${w.cron.ok}/${w.cron.triggered} scheduled runs ok`],
      ],
    );
  }
  if (r.operations?.length) {
    line();
    line("API requests (per operation; attempts include client retries of 429/503)");
    table(
      ["operation", "calls", "attempts", "ok", "failed", "p50 ms", "p95 ms", "max ms", "statuses"],
      r.operations.map((s) => [s.op, s.calls, s.attempts, s.ok, s.failed, s.p50Ms, s.p95Ms, s.maxMs, Object.entries(s.statuses).map(([k, v]) => `${k}:${v}`).join(" ")]),
    );
  }
  if (r.cloudflare) {
    const c = r.cloudflare;
    line();
    line(
      `Cloudflare (simulator): ${c.calls} calls; faults injected ${c.faultsInjected.total} (5xx ${c.faultsInjected["5xx"]}, 429 ${c.faultsInjected["429"]}, hang ${c.faultsInjected.hang}); ` +
        `rate-limited by the simulator itself ${c.rateLimitedBySimulator}`,
    );
  }
  line();
  line("Invariants");
  table(
    ["", "invariant", "figures"],
    r.invariants.map((i) => [i.ok ? "ok" : "FAIL", i.name, Object.entries(i.figures).map(([k, v]) => `${k} ${v}`).join(", ")]),
  );
  for (const i of r.invariants.filter((x) => !x.ok)) {
    line();
    line(`✗ ${i.name}:`);
    for (const m of i.mismatches) line(`    ${typeof m === "string" ? m : JSON.stringify(m)}`);
  }
}

function table(head, rows) {
  const cells = [head, ...rows].map((r) => r.map((c) => String(c)));
  const widths = head.map((_, i) => Math.min(i === head.length - 1 ? 200 : 60, Math.max(...cells.map((r) => r[i].length))));
  const fmt = (r) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  console.log(fmt(cells[0]));
  console.log("  " + widths.map((w) => "─".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(fmt(r));
}
