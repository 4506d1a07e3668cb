#!/usr/bin/env node
// npm start: local KaisouMail with no Cloudflare account.
//  1. applies the D1 migrations locally,
//  2. starts the local Cloudflare simulator (state in .sim/, survives restarts),
//  3. starts the Worker with `wrangler dev`, wired to the simulator,
//  4. creates the local admin (bootstrap) and prints the URLs and the admin API key.
// Options: --port 8787 --sim-port 8788 --fresh (wipe local state first) --state-dir DIR (where the
// simulator, D1/R2/DO state and local secrets live; default .sim and .wrangler/state).
// Env: PORT, SIM_PORT. Tests and benchmarks start isolated stacks with their own --state-dir.
// Secrets (session secret, admin API key, Cloudflare token) never go on a command line, where `ps`
// shows them to every user: wrangler reads them from <sim state>/.dev.vars (mode 0600), and the
// state directories are private (0700).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const port = Number(opt("port", process.env.PORT ?? "8787"));
const simPort = Number(opt("sim-port", process.env.SIM_PORT ?? "8788"));
const host = "127.0.0.1";
const customState = opt("state-dir", null);
const stateDir = customState ? join(customState, "sim") : join(root, ".sim");
const persistTo = customState ? join(customState, "wrangler") : join(root, ".wrangler", "state");

if (args.includes("--fresh")) {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(persistTo, { recursive: true, force: true });
}
// Private state: owner only (created so, and tightened if an older run left them open). A
// --state-dir that already exists keeps its mode; its sim/ and wrangler/ are private either way.
if (customState) mkdirSync(customState, { recursive: true, mode: 0o700 });
for (const dir of [...(customState ? [] : [join(root, ".wrangler")]), stateDir, persistTo]) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

// Local secrets are generated once and kept in .sim/local.json, so restarts keep the same admin key.
const localPath = join(stateDir, "local.json");
const local = existsSync(localPath)
  ? JSON.parse(readFileSync(localPath, "utf8"))
  : {
      adminKey: `km_${randomBytes(32).toString("base64url")}`,
      sessionSecret: randomBytes(32).toString("base64url"),
      accountId: "0123456789abcdef0123456789abcdef",
      cloudflareToken: "sim-full-access-token-0000000000000000000000",
    };
writeFileSync(localPath, JSON.stringify(local, null, 2), { mode: 0o600 });

const children = [];
function stopAll(code = 0) {
  for (const c of children) if (!c.killed) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

const bin = (name) => join(root, "node_modules", ".bin", name);
// No network beyond 127.0.0.1: no metrics, no Request.cf lookup at workers.cloudflare.com.
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: process.env.CI ?? "" };

console.log("• applying local D1 migrations…");
const migrate = spawnSync(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], {
  cwd: root,
  env,
  encoding: "utf8",
});
if (migrate.status !== 0) {
  console.error(migrate.stdout, migrate.stderr);
  process.exit(1);
}

async function waitFor(url, label, timeoutMs = 60_000) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      // 2xx only: another server that took the port meanwhile answers its own 404, which must not
      // read as "up" (a browser test once talked to another stack's simulator that way).
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${label} did not start within ${timeoutMs / 1000} s (${url})`);
}

console.log("• starting the Cloudflare simulator…");
const sim = spawn(bin("tsx"), [join(root, "sim", "main.ts"), "--port", String(simPort), "--host", host, "--state", join(stateDir, "state.json")], {
  cwd: root,
  env,
  stdio: ["ignore", "pipe", "inherit"],
});
children.push(sim);
// The simulator prints only its listening line; KAISOUMAIL_SIM_STDOUT=1 forwards it (the soak captures every log).
sim.stdout.on("data", (d) => {
  if (process.env.KAISOUMAIL_SIM_STDOUT === "1") process.stdout.write(d);
});
sim.on("exit", (code) => {
  console.error(`simulator exited (${code})`);
  stopAll(1);
});
await waitFor(`http://${host}:${simPort}/__sim/health`, "simulator");

// Secrets go to a file wrangler reads (--env-file): created afresh with mode 0600, never on argv.
// It lives in the private state directory, not the project root, so a `.dev.vars` of your own is
// never overwritten and stacks with their own --state-dir never share one.
const secrets = {
  CLOUDFLARE_RUNTIME_API_TOKEN: local.cloudflareToken,
  SESSION_SECRET: local.sessionSecret,
  BOOTSTRAP_ADMIN_API_KEY: local.adminKey,
};
for (const [k, v] of Object.entries(secrets)) {
  if (!/^[\w.~+/=-]+$/.test(v)) throw new Error(`${k} in ${localPath} has characters .dev.vars cannot hold unquoted`);
}
const devVarsPath = join(stateDir, ".dev.vars");
rmSync(devVarsPath, { force: true });
writeFileSync(devVarsPath, Object.entries(secrets).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600, flag: "wx" });

// Plain settings (nothing secret) stay on the command line.
const vars = {
  // wrangler.toml says production; locally there is no HTTPS, and the page runs on localhost.
  APP_ENV: "development",
  EMAIL_ROUTING_MANAGEMENT_ENABLED: "true",
  CLOUDFLARE_API_BASE_URL: `http://${host}:${simPort}/client/v4`,
  CLOUDFLARE_ACCOUNT_ID: local.accountId,
  EMAIL_WORKER_NAME: "kaisoumail",
  BOOTSTRAP_ADMIN_EMAIL: "admin@localhost.test",
  BOOTSTRAP_ADMIN_NAME: "Local Admin",
  // Locally a person is watching: re-check a pending zone after 5 s, at most every minute.
  DOMAIN_RETRY_BASE_SECONDS: process.env.DOMAIN_RETRY_BASE_SECONDS ?? "5",
  DOMAIN_RETRY_MAX_SECONDS: process.env.DOMAIN_RETRY_MAX_SECONDS ?? "60",
  // Passed through only when set (the soak uses a short Cloudflare timeout and its own rate budget).
  ...(process.env.CLOUDFLARE_API_TIMEOUT_MS ? { CLOUDFLARE_API_TIMEOUT_MS: process.env.CLOUDFLARE_API_TIMEOUT_MS } : {}),
  ...(process.env.CLOUDFLARE_RATE_LIMIT_PER_5_MIN ? { CLOUDFLARE_RATE_LIMIT_PER_5_MIN: process.env.CLOUDFLARE_RATE_LIMIT_PER_5_MIN } : {}),
};
console.log("• starting the Worker (wrangler dev)…");
const wrangler = spawn(
  bin("wrangler"),
  [
    "dev",
    "--ip",
    host,
    "--port",
    String(port),
    "--persist-to",
    persistTo,
    "--log-level",
    process.env.WRANGLER_LOG_LEVEL ?? "warn",
    "--show-interactive-dev-session=false",
    "--env-file",
    devVarsPath,
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ],
  // An inherited CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV=false would make wrangler skip the file.
  // A dev registry of its own (KaisouMail binds no other local Worker): wrangler reloads its Worker
  // whenever the shared registry changes, that is, whenever any other `wrangler dev` on the machine
  // starts or stops, and requests during that reload fail (stacks of parallel test files).
  {
    cwd: root,
    env: { ...env, CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true", WRANGLER_REGISTRY_PATH: process.env.WRANGLER_REGISTRY_PATH ?? join(stateDir, "registry") },
    stdio: ["ignore", "inherit", "inherit"],
  },
);
children.push(wrangler);
wrangler.on("exit", (code) => {
  console.error(`wrangler exited (${code})`);
  stopAll(1);
});
await waitFor(`http://${host}:${port}/health`, "wrangler dev", 120_000);

// Creates the bootstrap admin (first authenticated request) and proves the key works.
const session = await fetch(`http://${host}:${port}/api/auth/session`, { headers: { authorization: `Bearer ${local.adminKey}` } });
if (!session.ok) {
  console.error(`admin bootstrap failed: ${session.status} ${(await session.text()).slice(0, 300)}`);
  // 404: not our Worker on this port; 5xx: it cannot work. (401/403: the key was revoked or its
  // user disabled in this local state; the stack itself is fine.)
  if (session.status === 404 || session.status >= 500) {
    stopAll(1);
    await new Promise(() => {}); // exits from stopAll
  }
}

console.log(`
KaisouMail is running.
  Web page       http://${host}:${port}/
  API            http://${host}:${port}/api/meta
  Simulator      http://${host}:${simPort}/__sim/state   (Cloudflare API at http://${host}:${simPort}/client/v4)
  Admin API key  ${local.adminKey}

Sign in on the web page with the key above, or: curl -H "Authorization: Bearer <key>" http://${host}:${port}/api/domains
Press Ctrl+C to stop.`);
