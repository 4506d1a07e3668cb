// Starts an isolated KaisouMail stack (simulator + wrangler dev) for the soak and captures every
// line it prints.
//
// The stack runs from a snapshot of the project copied into the soak's temporary directory
// (node_modules is linked): `wrangler dev` rebuilds and restarts the Worker whenever a file under
// src/ or ui/ changes, so a soak running from the working tree would be restarted by any edit made
// while it runs and would test half-written code. The snapshot's wrangler.toml drops the [assets]
// block: with assets, wrangler dev fronts the Worker with an RPC proxy that cannot forward a
// scheduled event ("DataCloneError: Could not serialize object of type ScheduledController"), so
// /cdn-cgi/handler/scheduled would never reach the cron. The API routes run Worker-first either
// way, so nothing the soak exercises changes.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Copies what `scripts/start.mjs` needs into `dir/app` and returns that directory. */
export function snapshotProject(root, dir, { keepAssets = false } = {}) {
  const app = join(dir, "app");
  mkdirSync(join(app, "scripts"), { recursive: true });
  for (const entry of ["src", "sim", "migrations"]) cpSync(join(root, entry), join(app, entry), { recursive: true });
  for (const file of ["package.json", "tsconfig.json"]) if (existsSync(join(root, file))) cpSync(join(root, file), join(app, file));
  cpSync(join(root, "scripts", "start.mjs"), join(app, "scripts", "start.mjs"));
  let toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  if (keepAssets) {
    cpSync(join(root, "ui"), join(app, "ui"), { recursive: true });
    cpSync(join(root, "scripts", "build-ui.mjs"), join(app, "scripts", "build-ui.mjs"));
  } else toml = toml.replace(/^\[assets\]\n(?:(?!\[)[^\n]*\n)*/m, "").replace(/^\[build\]\n(?:(?!\[)[^\n]*\n)*/m, "");
  writeFileSync(join(app, "wrangler.toml"), toml);
  symlinkSync(join(root, "node_modules"), join(app, "node_modules"), "dir");
  return app;
}

/**
 * Starts `node <app>/scripts/start.mjs` in its own process group and resolves once it printed the
 * admin key. `lines` receives every output line (stdout and stderr) for the secret scan.
 */
export async function startStack({ app, stateDir, env, readyTimeoutMs = 180_000, onLine = () => {} }) {
  // Fresh secrets for this run (start.mjs keeps an existing local.json). The Cloudflare token is
  // random too, instead of the simulator's well-known default, so the log scan looks for a value
  // nothing else could print; it is registered with the simulator once it is up.
  mkdirSync(join(stateDir, "sim"), { recursive: true });
  writeFileSync(
    join(stateDir, "sim", "local.json"),
    JSON.stringify({
      adminKey: `km_${randomBytes(32).toString("base64url")}`,
      sessionSecret: randomBytes(32).toString("base64url"),
      accountId: "0123456789abcdef0123456789abcdef",
      cloudflareToken: `soak-${randomBytes(24).toString("hex")}`,
    }),
    { mode: 0o600 },
  );
  const port = await freePort();
  let simPort = await freePort();
  while (simPort === port) simPort = await freePort();
  const lines = [];
  const child = spawn(process.execPath, [join(app, "scripts", "start.mjs"), "--port", String(port), "--sim-port", String(simPort), "--state-dir", stateDir], {
    cwd: app,
    env: {
      ...process.env,
      // No traffic outside 127.0.0.1: no Request.cf download, no update check, no metrics.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_HIDE_BANNER: "true",
      WRANGLER_SEND_METRICS: "false",
      // "log" shows the Worker's own console lines, which the secret scan must see.
      WRANGLER_LOG_LEVEL: "log",
      KAISOUMAIL_SIM_STDOUT: "1",
      FORCE_COLOR: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const capture = (stream, name) => {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop();
      for (const line of parts) {
        lines.push(line);
        onLine(line, name);
      }
    });
    stream.on("end", () => {
      if (partial) lines.push(partial);
    });
  };
  capture(child.stdout, "stdout");
  capture(child.stderr, "stderr");
  // The stack runs in its own process group: if the soak is interrupted, take the group down too.
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  };
  const onSignal = () => {
    killGroup("SIGTERM");
    setTimeout(() => {
      killGroup("SIGKILL");
      process.exit(130);
    }, 3_000);
  };
  const onExit = () => killGroup("SIGKILL");
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", onExit);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const started = Date.now();
  while (!lines.some((l) => l.includes("Admin API key"))) {
    if (exited) throw new Error(`the stack exited before it was ready (${JSON.stringify(exited)}):\n${lines.slice(-40).join("\n")}`);
    if (Date.now() - started > readyTimeoutMs) {
      stop();
      throw new Error(`the stack was not ready within ${readyTimeoutMs / 1000} s:\n${lines.slice(-40).join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const local = JSON.parse(readFileSync(join(stateDir, "sim", "local.json"), "utf8"));
  const registered = await fetch(`http://127.0.0.1:${simPort}/__sim/tokens/${encodeURIComponent(local.cloudflareToken)}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  if (!registered.ok) {
    stop();
    throw new Error(`could not register the Cloudflare token with the simulator: ${registered.status}`);
  }

  function stop() {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    process.removeListener("exit", onExit);
    if (exited) return exitPromise;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
    const hard = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, 8_000);
    return exitPromise.then(async (r) => {
      // start.mjs exits half a second after signalling its children; give them time, then make sure.
      await new Promise((res) => setTimeout(res, 1_500));
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        /* the whole group is gone */
      }
      clearTimeout(hard);
      return r;
    });
  }

  return {
    base: `http://127.0.0.1:${port}`,
    simBase: `http://127.0.0.1:${simPort}`,
    port,
    simPort,
    local,
    lines,
    pid: child.pid,
    get exited() {
      return exited;
    },
    stop,
  };
}
