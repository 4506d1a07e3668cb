/**
 * `npm start` (scripts/start.mjs) keeps its secrets off every command line: the session secret, the
 * admin API key and the Cloudflare token reach `wrangler dev` through a 0600 `.dev.vars` in the
 * private (0700) state directory, and the app still starts in development and answers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import type { Env } from "../../src/env";
import { freePort } from "../browser/stack";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");


/** Every process this user can see, with its command line (arguments joined by spaces) and process group. */
function processes(): Array<{ pid: number; pgrp: number; args: string }> {
  const out: Array<{ pid: number; pgrp: number; args: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")".
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      out.push({ pid: Number(entry), pgrp, args });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

const mode = (path: string) => statSync(path).mode & 0o777;

let stack: ChildProcess;
let stateDir: string;
let base: string;
let simBase: string;
let output = "";
const secrets = {
  adminKey: `km_${randomBytes(32).toString("base64url")}`,
  sessionSecret: randomBytes(32).toString("base64url"),
  cloudflareToken: `start-test-${randomBytes(24).toString("hex")}`,
};

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "kaisou-start-"));
  // Known, unguessable values (start.mjs keeps an existing local.json), so the scan below means something.
  mkdirSync(join(stateDir, "sim"), { recursive: true, mode: 0o755 });
  writeFileSync(join(stateDir, "sim", "local.json"), JSON.stringify({ ...secrets, accountId: "0123456789abcdef0123456789abcdef" }), { mode: 0o600 });
  const [port, simPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  simBase = `http://127.0.0.1:${simPort}`;
  stack = spawn(process.execPath, [join(root, "scripts", "start.mjs"), "--port", String(port), "--sim-port", String(simPort), "--state-dir", stateDir], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: the scan knows which processes are the stack's, and afterAll stops them all
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not get ready in 50 s:\n${output.slice(-3000)}`)), 50_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      if (/Admin API key\s+km_/.test(output)) (clearTimeout(timer), resolve());
    };
    stack.stdout!.on("data", onData);
    stack.stderr!.on("data", onData);
    stack.once("exit", (code) => (clearTimeout(timer), reject(new Error(`npm start exited (${code}):\n${output.slice(-3000)}`))));
  });
}, 60_000);

afterAll(async () => {
  if (stack?.pid) {
    const exited = new Promise((resolve) => (stack.exitCode === null ? stack.once("exit", resolve) : resolve(null)));
    try {
      process.kill(-stack.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    try {
      process.kill(-stack.pid, "SIGKILL"); // workerd and anything else left in the group
    } catch {
      /* gone */
    }
  }
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("npm start (scripts/start.mjs)", () => {
  it("puts no secret on any command line: not the stack's processes, not any other", () => {
    const all = processes();
    const group = all.filter((p) => p.pgrp === stack.pid);
    // The scan sees the stack: start.mjs, the simulator, wrangler dev and its workerd.
    expect(group.some((p) => /scripts\/start\.mjs/.test(p.args))).toBe(true);
    expect(group.some((p) => /sim\/main\.ts/.test(p.args))).toBe(true);
    expect(group.some((p) => /wrangler.* dev /.test(p.args))).toBe(true);
    expect(group.some((p) => /workerd/.test(p.args))).toBe(true);
    for (const p of all) {
      for (const [name, value] of Object.entries(secrets)) expect(p.args.includes(value), `${name} on the command line of ${p.pid}: ${p.args.slice(0, 200)}`).toBe(false);
    }
  });

  it("hands the secrets to wrangler in a 0600 .dev.vars inside 0700 state directories", () => {
    const devVars = join(stateDir, "sim", ".dev.vars");
    expect(mode(devVars)).toBe(0o600);
    const text = readFileSync(devVars, "utf8");
    expect(text).toContain(`SESSION_SECRET=${secrets.sessionSecret}\n`);
    expect(text).toContain(`BOOTSTRAP_ADMIN_API_KEY=${secrets.adminKey}\n`);
    expect(text).toContain(`CLOUDFLARE_RUNTIME_API_TOKEN=${secrets.cloudflareToken}\n`);
    // The sim/ directory was made 0755 above, as an older start.mjs left it: tightened.
    expect(mode(join(stateDir, "sim"))).toBe(0o700);
    expect(mode(join(stateDir, "wrangler"))).toBe(0o700);
    expect(mode(join(stateDir, "sim", "local.json"))).toBe(0o600);
    // Never printed either (the banner shows the admin key to the person who ran it, nothing else).
    expect(output).not.toContain(secrets.sessionSecret);
    expect(output).not.toContain(secrets.cloudflareToken);
  });

  it("runs the app in development with the secrets from the file", async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    // The admin key from .dev.vars signs in; the session secret from it signs the cookie, without Secure (development).
    const domains = await fetch(`${base}/api/domains`, { headers: { authorization: `Bearer ${secrets.adminKey}` } });
    expect(domains.status).toBe(200);
    const session = await fetch(`${base}/api/auth/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ apiKey: secrets.adminKey }),
    });
    expect(session.status).toBe(200);
    const cookie = session.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).not.toMatch(/;\s*Secure/i);
  });
});

/** Runs a script of ours to its end: exit code and output. */
function runScript(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "scripts", script), ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (b) => (out += b));
    child.stderr!.on("data", (b) => (err += b));
    child.once("exit", (code) => resolve({ code, out, err }));
  });
}

describe("waiting for mail over real HTTP (wrangler dev)", () => {
  let address = "";
  const auth = () => ({ authorization: `Bearer ${secrets.adminKey}`, "content-type": "application/json" });

  beforeAll(async () => {
    // This stack runs with an unguessable Cloudflare token (see above): let the simulator know it.
    const token = await fetch(`${simBase}/__sim/tokens/${encodeURIComponent(secrets.cloudflareToken)}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        permissions: ["zone:read", "zone:edit", "zone_settings:read", "zone_settings:edit", "email_routing_rules:read", "email_routing_rules:edit"],
        accounts: ["0123456789abcdef0123456789abcdef"],
      }),
    });
    expect(token.status, await token.clone().text()).toBeLessThan(300);
    const zone = (await (await fetch(`${simBase}/__sim/zones`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "wait-mail.dev", accountId: "0123456789abcdef0123456789abcdef", status: "active" }) })).json()) as { id: string };
    const enabled = await fetch(`${base}/api/domains`, { method: "POST", headers: auth(), body: JSON.stringify({ mailDomain: "wait-mail.dev", zoneId: zone.id }) });
    expect(enabled.status, await enabled.clone().text()).toBe(201);
    const mb = await fetch(`${base}/api/mailboxes`, { method: "POST", headers: auth(), body: JSON.stringify({ mailDomain: "wait-mail.dev" }) });
    expect(mb.status).toBe(201);
    address = ((await mb.json()) as { address: string }).address;
  }, 30_000);

  it("npm run wait-mail prints the code of the next message and exits 0; exits 1 on timeout", async () => {
    const waiting = runScript("wait-mail.mjs", ["--mailbox", address, "--has-code", "--timeout", "40", "--url", base], { KAISOUMAIL_API_KEY: secrets.adminKey });
    await new Promise((r) => setTimeout(r, 1500));
    const sent = await runScript("send-mail.mjs", ["--to", address, "--text", "Your sign-in code is 918273.", "--url", base]);
    expect(sent.code, sent.err).toBe(0);
    const result = await waiting;
    expect(result.code, result.err).toBe(0);
    expect(result.out.trim()).toBe("918273");
    const timeout = await runScript("wait-mail.mjs", ["--mailbox", address, "--timeout", "1", "--url", base], { KAISOUMAIL_API_KEY: secrets.adminKey });
    expect(timeout.code).toBe(1);
    expect(timeout.err).toContain("no message");
  }, 60_000);

  it("the event stream delivers a message through wrangler dev's HTTP server", async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/api/messages/stream?mailbox=${encodeURIComponent(address)}`, { headers: { authorization: `Bearer ${secrets.adminKey}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const sent = runScript("send-mail.mjs", ["--to", address, "--text", "Streamed code 604112.", "--url", base]);
    let text = "";
    const until = Date.now() + 20_000;
    while (!text.includes("event: message") && Date.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect((await sent).code).toBe(0);
    expect(text).toMatch(/id: msg_[0-9a-f]{32}\nevent: message\ndata: \{.*"code":"604112"/);
  }, 30_000);
});

describe("MCP over real HTTP (wrangler dev), with the official client", () => {
  it("lists tools, creates a mailbox and gets the code of a delivered mail from wait_for_message", async () => {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
    const client = new Client({ name: "start-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${secrets.adminKey}` } } }));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("wait_for_message");
    const created = await client.callTool({ name: "create_mailbox", arguments: { domain: "wait-mail.dev" } });
    const address = (created.structuredContent as { mailbox: { address: string } }).mailbox.address;
    const waiting = client.callTool({ name: "wait_for_message", arguments: { mailbox: address, hasCode: true, timeoutSeconds: 30 } });
    await new Promise((r) => setTimeout(r, 500));
    const sent = await runScript("send-mail.mjs", ["--to", address, "--text", "Agent code 771350.", "--url", base]);
    expect(sent.code, sent.err).toBe(0);
    expect(((await waiting).structuredContent as { code: string }).code).toBe("771350");
    await client.close();
  }, 60_000);
});

describe("deploy defaults", () => {
  it("wrangler.toml and an unset APP_ENV both mean production", () => {
    expect(readFileSync(join(root, "wrangler.toml"), "utf8")).toMatch(/^APP_ENV = "production"$/m);
    expect(loadConfig({} as Env).production).toBe(true);
    expect(loadConfig({ APP_ENV: "" } as Env).production).toBe(true);
    expect(loadConfig({ APP_ENV: "development" } as Env).production).toBe(false);
  });
});
