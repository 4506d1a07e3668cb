// Starts and stops the processes the benchmark talks to, all on 127.0.0.1:
//  - the local Cloudflare simulator (sim/main.ts), once per run;
//  - KaisouMail under `wrangler dev`, with the same flags and variables as scripts/start.mjs
//    (plus the benchmark's rate-limit settings), restarted between phases;
//  - the baseline Worker (bench/baseline-worker) under `wrangler dev` with the same flags.
// Every child runs in its own process group, and only those groups are ever signalled.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, createWriteStream, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

export const HOST = "127.0.0.1";
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const bin = (name) => join(ROOT, "node_modules", ".bin", name);
// No telemetry, no update check, no fetch of the `Request.cf` object: the run talks to 127.0.0.1 only.
const childEnv = () => ({
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: process.env.CI ?? "",
});

const live = new Set();
/** Stops every child still running (used on exit and on errors). */
export function killAll() {
  for (const child of live) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  live.clear();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Copies what the Workers and the Node-side figures run (src, ui, migrations, wrangler.toml, the
 * bench Workers and bench/lib) into `<stateDir>/app`, with node_modules linked. Every process of
 * the run works from this snapshot, so an edit to the working tree during a run neither reloads
 * `wrangler dev` mid-measurement nor mixes two versions of the code in one table.
 */
export function snapshot(stateDir) {
  const dir = join(stateDir, "app");
  mkdirSync(join(dir, "bench"), { recursive: true });
  for (const entry of ["src", "ui", "migrations", "wrangler.toml", "package.json", "tsconfig.json", "scripts/build-ui.mjs"]) {
    if (!existsSync(join(ROOT, entry))) continue;
    mkdirSync(dirname(join(dir, entry)), { recursive: true });
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  for (const entry of ["lib", "baseline-worker", "floor-worker", "probe-worker", "cpu-probe"]) cpSync(join(ROOT, "bench", entry), join(dir, "bench", entry), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

async function waitFor(url, label, child, timeoutMs) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`${label} exited (${child.exitCode}) before it was ready; see ${child.logPath}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  throw new Error(`${label} did not start within ${timeoutMs / 1000} s (${url}); see ${child.logPath}`);
}

function launch(command, args, logPath, cwd = ROOT, extraEnv = {}) {
  const log = createWriteStream(logPath, { flags: "a" });
  const child = spawn(command, args, { cwd, env: { ...childEnv(), ...extraEnv }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.logPath = logPath;
  live.add(child);
  child.on("exit", () => live.delete(child));
  return child;
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves when it has exited. */
export async function stop(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
  // workerd children share the group; make sure none outlives the parent.
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

/**
 * A KaisouMail stack on fresh state in `stateDir` (same layout as `scripts/start.mjs --state-dir`):
 * simulator state and local secrets in `<stateDir>/sim`, D1/R2/DO state in `<stateDir>/wrangler`.
 */
export class AppStack {
  constructor(stateDir, { rateLimitPer5Min = 1_000_000, retryBaseSeconds = 5, cwd = ROOT } = {}) {
    this.stateDir = stateDir;
    this.cwd = cwd;
    this.simDir = join(stateDir, "sim");
    this.persistTo = join(stateDir, "wrangler");
    this.logDir = join(stateDir, "logs");
    mkdirSync(this.simDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.logDir, { recursive: true });
    this.local = {
      adminKey: `km_${randomBytes(32).toString("base64url")}`,
      sessionSecret: randomBytes(32).toString("base64url"),
      accountId: "0123456789abcdef0123456789abcdef",
      cloudflareToken: "sim-full-access-token-0000000000000000000000",
    };
    writeFileSync(join(this.simDir, "local.json"), JSON.stringify(this.local, null, 2), { mode: 0o600 });
    this.rateLimitPer5Min = rateLimitPer5Min;
    this.retryBaseSeconds = retryBaseSeconds;
    this.wrangler = null;
    this.sim = null;
    this.starts = 0;
  }

  get adminKey() {
    return this.local.adminKey;
  }

  /** Applies the D1 migrations (asynchronously, so other start-up work can overlap). */
  migrate() {
    return new Promise((resolve, reject) => {
      const child = spawn(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", this.persistTo], { cwd: this.cwd, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (c) => (out += c));
      child.stderr.on("data", (c) => (out += c));
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`D1 migrations failed:\n${out.slice(-4000)}`))));
    });
  }

  /** Runs a SQL file against the local D1 database (the Worker should be stopped). */
  d1File(path) {
    const r = spawnSync(bin("wrangler"), ["d1", "execute", "DB", "--local", "--persist-to", this.persistTo, "--file", path, "--yes"], {
      cwd: this.cwd,
      env: childEnv(),
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`d1 execute ${path} failed:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
    return r.stdout;
  }

  d1Json(sql) {
    const r = spawnSync(bin("wrangler"), ["d1", "execute", "DB", "--local", "--persist-to", this.persistTo, "--command", sql, "--json"], {
      cwd: this.cwd,
      env: childEnv(),
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`d1 execute failed:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
    return JSON.parse(r.stdout)[0].results;
  }

  async startSim() {
    this.simPort = await freePort();
    this.simUrl = `http://${HOST}:${this.simPort}`;
    // The simulator answers at once; its rate limit is raised so the figures measure the Worker.
    this.sim = launch(
      bin("tsx"),
      [join(ROOT, "sim", "main.ts"), "--port", String(this.simPort), "--host", HOST, "--state", join(this.simDir, "state.json"), "--rate-limit", `${this.rateLimitPer5Min}/300`],
      join(this.logDir, "sim.log"),
    );
    await waitFor(`${this.simUrl}/__sim/health`, "simulator", this.sim, 60_000);
  }

  /** Starts (or restarts) `wrangler dev`; resolves once /health answers and the admin exists. `extraVars` are added to the --var list for this start only. */
  async startWorker(extraVars = {}, { config = null } = {}) {
    await this.stopWorker();
    this.port = this.port ?? (await freePort());
    this.url = `http://${HOST}:${this.port}`;
    // As scripts/start.mjs: secrets in a 0600 file wrangler reads, never on the command line.
    const devVars = join(this.simDir, ".dev.vars");
    rmSync(devVars, { force: true });
    const secrets = {
      CLOUDFLARE_RUNTIME_API_TOKEN: this.local.cloudflareToken,
      SESSION_SECRET: this.local.sessionSecret,
      BOOTSTRAP_ADMIN_API_KEY: this.local.adminKey,
    };
    writeFileSync(devVars, Object.entries(secrets).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600, flag: "wx" });
    const vars = {
      APP_ENV: "development",
      EMAIL_ROUTING_MANAGEMENT_ENABLED: "true",
      CLOUDFLARE_API_BASE_URL: `${this.simUrl}/client/v4`,
      CLOUDFLARE_ACCOUNT_ID: this.local.accountId,
      EMAIL_WORKER_NAME: "kaisoumail",
      BOOTSTRAP_ADMIN_EMAIL: "admin@localhost.test",
      BOOTSTRAP_ADMIN_NAME: "Local Admin",
      DOMAIN_RETRY_BASE_SECONDS: String(this.retryBaseSeconds),
      DOMAIN_RETRY_MAX_SECONDS: "60",
      CLOUDFLARE_RATE_LIMIT_PER_5_MIN: String(this.rateLimitPer5Min),
      // The messages phase grows the local D1 past the default 500 MB (a million-message mailbox);
      // the load figures are not about storage pressure, which the capacity phase sets on purpose.
      D1_CAPACITY_BYTES: "100000000000",
      // per-phase extras (the webhooks phase: WEBHOOK_ALLOW_HTTP=true; capacity: D1_CAPACITY_BYTES)
      ...extraVars,
    };
    this.wrangler = launch(
      bin("wrangler"),
      [...(await devFlags(this.port, this.persistTo)), ...(config ? ["--config", config] : []), "--env-file", devVars, ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`])],
      join(this.logDir, `wrangler-${++this.starts}.log`),
      this.cwd,
      { ...privateRegistry(this.stateDir, "app"), CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true" },
    );
    await waitFor(`${this.url}/health`, "wrangler dev (KaisouMail)", this.wrangler, 120_000);
    const res = await fetch(`${this.url}/api/auth/session`, { headers: { authorization: `Bearer ${this.local.adminKey}` } });
    if (!res.ok) throw new Error(`admin bootstrap failed: ${res.status} ${await res.text()}`);
  }

  /** The process group of `wrangler dev` (wrangler and its workerd). */
  get pgid() {
    return this.wrangler.pid;
  }

  async stopWorker() {
    await stop(this.wrangler);
    this.wrangler = null;
  }

  async stop() {
    await this.stopWorker();
    await stop(this.sim);
    this.sim = null;
  }
}

/**
 * Each `wrangler dev` gets its own dev registry: wrangler reloads its Worker whenever the shared
 * registry changes (any other `wrangler dev` on the machine starting or stopping), which answered
 * "Your worker restarted mid-request" in the middle of a measurement.
 */
function privateRegistry(stateDir, name) {
  const dir = join(stateDir, "registry", name);
  mkdirSync(dir, { recursive: true });
  return { WRANGLER_REGISTRY_PATH: dir };
}

/** `wrangler dev` flags shared by KaisouMail and the baseline (only the port and state differ). */
async function devFlags(port, persistTo) {
  return [
    "dev",
    "--ip",
    HOST,
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    persistTo,
    "--log-level",
    process.env.BENCH_WRANGLER_LOG_LEVEL ?? "warn",
    "--show-interactive-dev-session=false",
  ];
}

/**
 * A bench Worker under `wrangler dev` with KaisouMail's flags: by default the baseline
 * (bench/baseline-worker: hello-world `fetch`, no-op `email`); `dir` picks another
 * (bench/floor-worker, bench/probe-worker).
 */
export class BaselineStack {
  constructor(stateDir, dir = "baseline-worker", cwd = ROOT) {
    this.stateDir = stateDir;
    this.dir = dir;
    this.cwd = cwd;
    this.persistTo = join(stateDir, `${dir}-state`);
    this.logDir = join(stateDir, "logs");
    mkdirSync(this.logDir, { recursive: true });
    this.child = null;
    this.starts = 0;
  }

  async start() {
    await this.stop();
    this.port = this.port ?? (await freePort());
    this.url = `http://${HOST}:${this.port}`;
    this.child = launch(
      bin("wrangler"),
      [...(await devFlags(this.port, this.persistTo)), "--config", join(this.cwd, "bench", this.dir, "wrangler.toml")],
      join(this.logDir, `${this.dir}-${++this.starts}.log`),
      this.cwd,
      privateRegistry(this.stateDir, this.dir),
    );
    await waitFor(`${this.url}/`, `wrangler dev (${this.dir})`, this.child, 120_000);
  }

  get pgid() {
    return this.child.pid;
  }

  async stop() {
    await stop(this.child);
    this.child = null;
  }
}

