/**
 * The local stack the browser tests drive: `scripts/start.mjs` (simulator + `wrangler dev`) on free
 * ports with fresh state, in its own process group so stopping it stops everything it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

export interface LocalStack {
  process: ChildProcess;
  stateDir: string;
  base: string;
  simBase: string;
  adminKey: string;
}

/**
 * Starts the stack with state in a new `<tmp>/<prefix>…` directory; `env` is added to the caller's.
 * Resolves once the admin key is printed. A free port can be taken by another process between
 * `freePort()` and the server's bind (other stacks start in parallel test files); start.mjs then
 * exits, and the stack is started again on new ports, up to three times.
 */
export async function startLocalStack(prefix: string, env: Record<string, string>): Promise<LocalStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(prefix, env);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof StackExited)) throw e;
    }
  }
}

class StackExited extends Error {}

async function startOnce(prefix: string, env: Record<string, string>): Promise<LocalStack> {
  const [port, simPort] = [await freePort(), await freePort()];
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const child = spawn(process.execPath, [join(root, "scripts", "start.mjs"), "--port", String(port), "--sim-port", String(simPort), "--state-dir", stateDir], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so stopLocalStack can stop it and everything it started
  });
  let out = "";
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start in 150 s:\n${out.slice(-3000)}`)), 150_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (/Admin API key\s+km_/.test(out)) (clearTimeout(timer), resolve());
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => (clearTimeout(timer), reject(new StackExited(`stack exited (${code}):\n${out.slice(-3000)}`))));
  });
  try {
    await ready;
  } catch (e) {
    // start.mjs may have left its simulator or wrangler behind: they are in its process group.
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      /* all gone */
    }
    throw e;
  }
  const adminKey = JSON.parse(readFileSync(join(stateDir, "sim", "local.json"), "utf8")).adminKey;
  return { process: child, stateDir, base: `http://127.0.0.1:${port}`, simBase: `http://127.0.0.1:${simPort}`, adminKey };
}

/** SIGTERM to the process group, SIGKILL after 5 s. */
export async function stopLocalStack(s: LocalStack | undefined): Promise<void> {
  const stack = s?.process;
  if (!stack?.pid || stack.exitCode !== null) return;
  const exited = new Promise((r) => stack.once("exit", r));
  try {
    process.kill(-stack.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  try {
    process.kill(-stack.pid, "SIGKILL");
  } catch {
    /* stopped */
  }
}
