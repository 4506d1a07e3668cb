#!/usr/bin/env node
// npm run deploy: puts KaisouMail on a real Cloudflare account.
//   1. checks its inputs and refuses to start, naming every missing or malformed value;
//   2. applies the D1 migrations remotely        (wrangler d1 migrations apply DB --remote);
//   3. deploys the Worker with its static assets, passing CLOUDFLARE_ACCOUNT_ID and the other
//      plain settings into the Worker's runtime  (wrangler deploy --var NAME:VALUE ...);
//   4. uploads the Worker secrets present in the environment (wrangler secret put NAME, value on
//      stdin, never printed);
//   5. prints the deployed URL and smoke-checks GET <url>/api/meta.
//
// Usage:
//   node scripts/deploy.mjs                  deploy (what `npm run deploy` runs)
//   node scripts/deploy.mjs --dry-run        print the plan and bundle with `wrangler deploy --dry-run`
//                                            (no credentials needed) [--outdir DIR]
//   node scripts/deploy.mjs --smoke-only --url https://kaisoumail.example.workers.dev
//                                            [--smoke-timeout SECONDS, default 90: retries until then]
//   node scripts/deploy.mjs --skip-smoke     deploy without the smoke check (the GitHub workflow
//                                            runs it as a step of its own)
//
// Inputs (environment):
//   CLOUDFLARE_DEPLOY_API_TOKEN  deploy token (split profile); falls back to CLOUDFLARE_API_TOKEN
//   CLOUDFLARE_ACCOUNT_ID        required; also becomes the Worker's runtime var
//   KAISOUMAIL_D1_DATABASE_ID    the D1 database id, unless wrangler.toml already has a real one
//   Worker secrets, uploaded when set: CLOUDFLARE_RUNTIME_API_TOKEN, SESSION_SECRET,
//     BOOTSTRAP_ADMIN_API_KEY; KAISOUMAIL_SHARED_TOKEN_AS_RUNTIME=true also stores the deploy token
//     as the Worker's CLOUDFLARE_API_TOKEN (shared quickstart profile).
//   Plain runtime vars: EMAIL_ROUTING_MANAGEMENT_ENABLED (default true), EMAIL_WORKER_NAME (default:
//     the Worker's name), APP_ENV (default production), WEB_APP_ORIGIN, WEB_APP_ORIGINS,
//     DEFAULT_MAILBOX_TTL_MINUTES, BOOTSTRAP_ADMIN_EMAIL, BOOTSTRAP_ADMIN_NAME,
//     DOMAIN_RETRY_BASE_SECONDS, DOMAIN_RETRY_MAX_SECONDS, MEMBER_MAX_ACTIVE_MAILBOXES,
//     MEMBER_MAILBOX_CREATES_PER_MINUTE, MEMBER_MAX_TTL_MINUTES, CATCH_ALL_MAILBOX_TTL_MINUTES,
//     CATCH_ALL_MAX_MAILBOXES, SESSION_IDLE_MINUTES, SESSION_MAX_AGE_HOURS.
//   KAISOUMAIL_URL               the URL to smoke-check when it is not the workers.dev one.
// The pure parts (planDeploy, formatPlan, checkMeta, ...) are exported for test/node/deploy.test.ts.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect, parseArgs } from "node:util";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const PLACEHOLDER_D1_ID = "00000000-0000-0000-0000-000000000000";
/** The config written next to wrangler.toml when KAISOUMAIL_D1_DATABASE_ID overrides its database
 *  id (it must sit in the same folder: wrangler resolves main, assets and migrations from it). One
 *  per process, removed when the run ends. */
export const GENERATED_CONFIG_PREFIX = ".kaisoumail-deploy.";
export const GENERATED_CONFIG = `${GENERATED_CONFIG_PREFIX}${process.pid}.wrangler.toml`;
/** Where the fixes point; the sections of README's "Deploy to Cloudflare". */
export const DOCS = "README.md";
const doc = (anchor) => `${DOCS}#${anchor}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACCOUNT_ID = /^[0-9a-f]{32}$/i;

/** A secret value that prints as *** whichever way it is printed (String, JSON, util.inspect). */
export class Secret {
  #value;
  /** @param {string} name @param {string} value */
  constructor(name, value) {
    this.name = name;
    this.#value = value;
  }
  reveal() {
    return this.#value;
  }
  toString() {
    return "***";
  }
  toJSON() {
    return "***";
  }
  [inspect.custom]() {
    return `Secret(${this.name})`;
  }
}

/** Reads a value from the environment; blank counts as unset (GitHub passes unset secrets as ""). */
function read(env, name) {
  const v = env[name];
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

const isBool = (v) => ["true", "false", "1", "0"].includes(v.toLowerCase());
const isTrue = (v) => v !== undefined && ["true", "1"].includes(v.toLowerCase());
const intIn = (min, max) => (v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
const isOrigin = (v) => {
  try {
    const u = new URL(v.trim());
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
};

/**
 * Plain runtime settings passed with `wrangler deploy --var NAME:VALUE` (they replace wrangler.toml
 * [vars] of the same name; anything set only in the dashboard is dropped by wrangler deploy).
 * The checks mirror src/config.ts, so a value the Worker would reject with "Invalid configuration"
 * stops the deploy instead.
 */
const VARS = [
  { name: "EMAIL_ROUTING_MANAGEMENT_ENABLED", fallback: () => "true", check: isBool, expect: '"true" or "false"' },
  { name: "CLOUDFLARE_ACCOUNT_ID" },
  { name: "EMAIL_WORKER_NAME", fallback: (p) => p.workerName },
  { name: "APP_ENV", fallback: () => "production" },
  { name: "WEB_APP_ORIGIN", check: isOrigin, expect: "an http(s) origin such as https://mail.example.com" },
  { name: "WEB_APP_ORIGINS", check: (v) => v.split(",").every(isOrigin), expect: "comma-separated http(s) origins" },
  { name: "DEFAULT_MAILBOX_TTL_MINUTES", check: intIn(60, 525_600), expect: "an integer from 60 to 525600" },
  { name: "BOOTSTRAP_ADMIN_EMAIL", check: (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), expect: "an email address" },
  { name: "BOOTSTRAP_ADMIN_NAME" },
  { name: "DOMAIN_RETRY_BASE_SECONDS", check: intIn(1, 86_400), expect: "an integer from 1 to 86400" },
  { name: "DOMAIN_RETRY_MAX_SECONDS", check: intIn(1, 604_800), expect: "an integer from 1 to 604800" },
  { name: "MEMBER_MAX_ACTIVE_MAILBOXES", check: intIn(1, 1_000_000), expect: "an integer from 1 to 1000000" },
  { name: "MEMBER_MAILBOX_CREATES_PER_MINUTE", check: intIn(1, 10_000), expect: "an integer from 1 to 10000" },
  { name: "MEMBER_MAX_TTL_MINUTES", check: (v) => v.trim() === "0" || intIn(60, 525_600)(v), expect: "0 (no cap) or an integer from 60 to 525600" },
  { name: "CATCH_ALL_MAILBOX_TTL_MINUTES", check: intIn(60, 525_600), expect: "an integer from 60 to 525600" },
  { name: "CATCH_ALL_MAX_MAILBOXES", check: intIn(1, 1_000_000), expect: "an integer from 1 to 1000000" },
  { name: "SESSION_IDLE_MINUTES", check: intIn(5, 43_200), expect: "an integer from 5 to 43200" },
  { name: "AUTH_CACHE_SECONDS", check: intIn(0, 30), expect: "an integer from 0 to 30" },
  { name: "SESSION_MAX_AGE_HOURS", check: intIn(1, 2160), expect: "an integer from 1 to 2160" },
  { name: "MESSAGE_RETENTION_DAYS", check: intIn(0, 36_500), expect: "0 (off) or an integer up to 36500" },
  { name: "MAX_MESSAGES_PER_MAILBOX", check: intIn(1, 10_000_000), expect: "an integer from 1 to 10000000" },
  { name: "D1_CAPACITY_BYTES", check: intIn(1, Number.MAX_SAFE_INTEGER), expect: "a positive integer (bytes)" },
];

/** Worker secrets uploaded when present in the environment. */
const SECRETS = [
  { name: "CLOUDFLARE_RUNTIME_API_TOKEN", minLength: 1 },
  { name: "SESSION_SECRET", minLength: 16 },
  { name: "BOOTSTRAP_ADMIN_API_KEY", minLength: 16 },
];

/** Everything the script reads that must never reach a log or wrangler's own environment. */
const SECRET_ENV = ["CLOUDFLARE_DEPLOY_API_TOKEN", "CLOUDFLARE_API_TOKEN", ...SECRETS.map((s) => s.name)];

/**
 * The `name` of the Worker and the database_id of the D1 binding DB, read from wrangler.toml text
 * (a line scan of the few keys needed here, not a general TOML parser).
 * @param {string} toml
 */
export function readWranglerToml(toml) {
  const lines = toml.split(/\r?\n/);
  let section = "";
  let workerName;
  /** @type {{start: number, end: number, binding?: string, idLine?: number, id?: string}[]} */
  const d1 = [];
  lines.forEach((line, i) => {
    const header = line.match(/^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/);
    if (header) {
      section = header[1];
      if (section === "d1_databases" && line.trim().startsWith("[[")) d1.push({ start: i, end: lines.length });
      else if (d1.length && d1[d1.length - 1].end === lines.length) d1[d1.length - 1].end = i;
      return;
    }
    const kv = line.match(/^\s*([A-Za-z0-9_]+)\s*=\s*"([^"]*)"/);
    if (!kv) return;
    if (section === "" && kv[1] === "name") workerName = kv[2];
    const block = d1[d1.length - 1];
    if (section === "d1_databases" && block && block.end === lines.length) {
      if (kv[1] === "binding") block.binding = kv[2];
      if (kv[1] === "database_id") {
        block.id = kv[2];
        block.idLine = i;
      }
    }
  });
  const db = d1.find((b) => b.binding === "DB");
  return {
    workerName,
    d1Binding: db ? { databaseId: db.id, line: db.idLine, start: db.start, end: db.end } : null,
    /** wrangler.toml with the DB binding's database_id replaced (or added). */
    withDatabaseId(id) {
      if (!db) throw new Error("wrangler.toml has no [[d1_databases]] block with binding = \"DB\"");
      const out = [...lines];
      if (db.idLine !== undefined) out[db.idLine] = out[db.idLine].replace(/"[^"]*"/, `"${id}"`);
      else out.splice(db.start + 1, 0, `database_id = "${id}"`);
      return out.join("\n");
    },
  };
}

/**
 * Checks the inputs and builds the deploy plan. Pure: no file system, no network.
 * @param {Record<string, string | undefined>} env
 * @param {{ wranglerToml: string, configPath?: string }} options wrangler.toml text
 */
export function planDeploy(env, { wranglerToml, configPath = GENERATED_CONFIG }) {
  /** @type {{ name: string, message: string }[]} */
  const problems = [];
  /** @type {string[]} */
  const warnings = [];
  const problem = (name, message) => problems.push({ name, message });

  // 1. Deploy token: split CLOUDFLARE_DEPLOY_API_TOKEN wins over the shared CLOUDFLARE_API_TOKEN.
  const tokenSource = read(env, "CLOUDFLARE_DEPLOY_API_TOKEN")
    ? "CLOUDFLARE_DEPLOY_API_TOKEN"
    : read(env, "CLOUDFLARE_API_TOKEN")
      ? "CLOUDFLARE_API_TOKEN"
      : null;
  const token = tokenSource ? new Secret(tokenSource, /** @type {string} */ (read(env, tokenSource))) : null;
  if (!token) {
    problem(
      "CLOUDFLARE_DEPLOY_API_TOKEN",
      "CLOUDFLARE_DEPLOY_API_TOKEN (or the shared CLOUDFLARE_API_TOKEN) is not set: wrangler needs a deploy token " +
        "with Account: D1: Edit, Account: Workers Scripts: Edit, Account: Workers R2 Storage: Edit and " +
        `Zone: Workers Routes: Edit. See ${doc("token-permissions")}.`,
    );
  } else if (tokenSource === "CLOUDFLARE_DEPLOY_API_TOKEN" && read(env, "CLOUDFLARE_API_TOKEN")) {
    warnings.push("Both CLOUDFLARE_DEPLOY_API_TOKEN and CLOUDFLARE_API_TOKEN are set: the split CLOUDFLARE_DEPLOY_API_TOKEN wins.");
  }

  // 2. Account id: wrangler picks the account with it, and the Worker runtime needs it to create zones.
  const accountId = read(env, "CLOUDFLARE_ACCOUNT_ID");
  if (!accountId) {
    problem(
      "CLOUDFLARE_ACCOUNT_ID",
      "CLOUDFLARE_ACCOUNT_ID is not set: wrangler needs it to pick the account, and the Worker runtime needs it " +
        "for direct zone creation (cloudflareDomainBindingEnabled). Copy the Account ID from the Cloudflare " +
        `dashboard (Workers & Pages, right-hand column). See ${doc("cloudflare-account-id")}.`,
    );
  } else if (!ACCOUNT_ID.test(accountId)) {
    // The value is not echoed: a token pasted into the wrong field would otherwise end up in a log.
    problem(
      "CLOUDFLARE_ACCOUNT_ID",
      `CLOUDFLARE_ACCOUNT_ID must be the 32-character hexadecimal account id (the value given has ${accountId.length} characters). ` +
        `See ${doc("cloudflare-account-id")}.`,
    );
  }

  // 3. D1 database id: KAISOUMAIL_D1_DATABASE_ID, or a real database_id already in wrangler.toml.
  const toml = readWranglerToml(wranglerToml);
  const workerName = toml.workerName ?? "kaisoumail";
  const envD1 = read(env, "KAISOUMAIL_D1_DATABASE_ID");
  const tomlD1 = toml.d1Binding?.databaseId;
  /** @type {{ id: string | undefined, source: string | null, config: string | null }} */
  const d1 = { id: undefined, source: null, config: null };
  const createHint = "Create the database with `npx wrangler d1 create kaisoumail` and put the database id it prints in KAISOUMAIL_D1_DATABASE_ID (or in wrangler.toml)";
  if (!toml.d1Binding) {
    problem("KAISOUMAIL_D1_DATABASE_ID", 'wrangler.toml has no [[d1_databases]] block with binding = "DB".');
  } else if (envD1) {
    if (!UUID.test(envD1) || envD1 === PLACEHOLDER_D1_ID) {
      problem(
        "KAISOUMAIL_D1_DATABASE_ID",
        `KAISOUMAIL_D1_DATABASE_ID must be a real D1 database id (a UUID; \`npx wrangler d1 list\` shows it). ${createHint}. See ${doc("first-deploy")}.`,
      );
    } else {
      d1.id = envD1;
      d1.source = "KAISOUMAIL_D1_DATABASE_ID";
      if (envD1 !== tomlD1) d1.config = toml.withDatabaseId(envD1);
    }
  } else if (!tomlD1 || tomlD1 === PLACEHOLDER_D1_ID) {
    problem(
      "KAISOUMAIL_D1_DATABASE_ID",
      `KAISOUMAIL_D1_DATABASE_ID is not set and wrangler.toml still has the placeholder database_id ${PLACEHOLDER_D1_ID}. ${createHint}. See ${doc("first-deploy")}.`,
    );
  } else {
    d1.id = tomlD1;
    d1.source = "wrangler.toml";
  }

  // 4. Plain runtime vars.
  /** @type {[string, string][]} */
  const vars = [];
  for (const spec of VARS) {
    const value = read(env, spec.name) ?? spec.fallback?.({ workerName });
    if (value === undefined) continue;
    if (spec.check && !spec.check(value)) {
      problem(spec.name, `${spec.name} must be ${spec.expect} (got ${JSON.stringify(value)}). See ${doc("runtime-configuration")}.`);
      continue;
    }
    if (spec.name === "CLOUDFLARE_ACCOUNT_ID" && !ACCOUNT_ID.test(value)) continue;
    vars.push([spec.name, value]);
  }
  const varValue = (name) => vars.find(([n]) => n === name)?.[1];
  const management = varValue("EMAIL_ROUTING_MANAGEMENT_ENABLED");
  if (management !== undefined && !isTrue(management)) {
    warnings.push(
      "EMAIL_ROUTING_MANAGEMENT_ENABLED is false: /domains will not manage Cloudflare domains and the smoke check " +
        "(cloudflareDomainLifecycleEnabled) will fail.",
    );
  }
  const emailWorker = varValue("EMAIL_WORKER_NAME");
  if (emailWorker && emailWorker !== workerName) {
    warnings.push(`EMAIL_WORKER_NAME is "${emailWorker}" but this Worker is "${workerName}": mailbox routing rules will deliver to that other Worker.`);
  }
  if (read(env, "BOOTSTRAP_ADMIN_EMAIL") && !read(env, "BOOTSTRAP_ADMIN_API_KEY")) {
    warnings.push("BOOTSTRAP_ADMIN_EMAIL is set without BOOTSTRAP_ADMIN_API_KEY in this environment: the bootstrap admin needs both (the key may already be a Worker secret).");
  }
  if (read(env, "CLOUDFLARE_API_BASE_URL")) {
    warnings.push("CLOUDFLARE_API_BASE_URL is set in this environment: wrangler itself will talk to that URL instead of Cloudflare. Unset it unless that is intended.");
  }

  // 5. Worker secrets.
  /** @type {Secret[]} */
  const secrets = [];
  for (const spec of SECRETS) {
    const value = read(env, spec.name);
    if (value === undefined) continue;
    if (value.length < spec.minLength) {
      problem(spec.name, `${spec.name} must be at least ${spec.minLength} characters (the value given has ${value.length}). See ${doc("runtime-configuration")}.`);
      continue;
    }
    secrets.push(new Secret(spec.name, value));
  }
  const runtimeToken = read(env, "CLOUDFLARE_RUNTIME_API_TOKEN");
  const sharedAsRuntime = isTrue(read(env, "KAISOUMAIL_SHARED_TOKEN_AS_RUNTIME"));
  if (sharedAsRuntime && token) {
    if (runtimeToken) {
      warnings.push("KAISOUMAIL_SHARED_TOKEN_AS_RUNTIME is ignored: CLOUDFLARE_RUNTIME_API_TOKEN is set, and the split runtime token wins.");
    } else {
      secrets.push(new Secret("CLOUDFLARE_API_TOKEN", token.reveal()));
    }
  } else if (!runtimeToken) {
    warnings.push(
      "No runtime token in this environment: assuming the Worker already has the secret CLOUDFLARE_RUNTIME_API_TOKEN " +
        "(or the shared CLOUDFLARE_API_TOKEN). The smoke check tells if it does not.",
    );
  }
  if (runtimeToken && token && runtimeToken === token.reveal()) {
    warnings.push(
      "CLOUDFLARE_RUNTIME_API_TOKEN is the deploy token itself (the shared profile). The split profile keeps " +
        `deploy permissions out of the Worker runtime: ${doc("token-permissions")}.`,
    );
  }
  if (!read(env, "SESSION_SECRET")) {
    warnings.push("SESSION_SECRET is not in this environment: assuming it is already a Worker secret (browser sign-in needs it; API keys work without it).");
  }

  // 6. Steps.
  const config = d1.config ? ["--config", configPath] : [];
  /** @type {{ id: string, title: string, args: string[], stdin?: Secret }[]} */
  const steps = [
    { id: "migrate", title: "Apply the D1 migrations to the remote database", args: ["d1", "migrations", "apply", "DB", "--remote", ...config] },
    {
      id: "deploy",
      title: "Deploy the Worker and its static assets with the runtime vars",
      args: ["deploy", ...config, ...vars.flatMap(([n, v]) => ["--var", `${n}:${v}`])],
    },
    ...secrets.map((s) => ({ id: "secret", title: `Upload the Worker secret ${s.name}`, args: ["secret", "put", s.name, ...config], stdin: s })),
  ];

  return {
    ok: problems.length === 0,
    problems,
    warnings,
    workerName,
    token: token ? { source: tokenSource, secret: token } : null,
    accountId: accountId && ACCOUNT_ID.test(accountId) ? accountId : undefined,
    d1,
    configPath: d1.config ? configPath : null,
    vars,
    secrets,
    steps,
  };
}

/** Quotes an argument for display the way a POSIX shell would need it. */
function shellQuote(arg) {
  return /^[A-Za-z0-9_\-./:=@,]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line of a step as a person would type it (no secret value ever appears in args). */
export function commandLine(step) {
  const cmd = ["npx", "wrangler", ...step.args].map(shellQuote).join(" ");
  return step.stdin ? `${cmd}   # value from $${step.stdin.name} on stdin (hidden)` : cmd;
}

/** The refusal printed when inputs are missing: every problem, one per line. */
export function formatRefusal(plan) {
  return [
    `Refusing to deploy: ${plan.problems.length} value${plan.problems.length === 1 ? " is" : "s are"} missing or invalid (${[...new Set(plan.problems.map((p) => p.name))].join(", ")}):`,
    ...plan.problems.map((p) => `  ✗ ${p.message}`),
  ].join("\n");
}

/** The plan as text. Secret values are never part of it. */
export function formatPlan(plan, { dryRun = false } = {}) {
  const out = [`KaisouMail deploy plan${dryRun ? " (dry run: nothing is changed on Cloudflare)" : ""}`];
  out.push(`  Worker          ${plan.workerName}`);
  out.push(`  deploy token    ${plan.token ? `${plan.token.source} (value hidden)` : "missing"}`);
  out.push(`  account id      ${plan.accountId ?? "missing"}`);
  out.push(`  D1 database id  ${plan.d1.id ? `${plan.d1.id} (from ${plan.d1.source})` : "missing"}`);
  if (plan.configPath) out.push(`  config          ${plan.configPath} (wrangler.toml with that database id; removed afterwards)`);
  out.push("Steps:");
  let n = 1;
  for (const step of plan.steps) {
    out.push(`  ${n++}. ${step.title}`);
    out.push(`     $ ${commandLine(step)}`);
  }
  out.push(`  ${n}. Smoke check GET <deployed URL>/api/meta`);
  if (plan.warnings.length) out.push("Notes:", ...plan.warnings.map((w) => `  ! ${w}`));
  if (!plan.ok && dryRun) out.push("A real deploy would refuse to start:", ...plan.problems.map((p) => `  ✗ ${p.message}`));
  return out.join("\n");
}

/** The environment wrangler runs with: the chosen deploy token as CLOUDFLARE_API_TOKEN, the account
 *  id, and none of the other secrets this script was given. */
export function wranglerEnv(plan, env, extra = {}) {
  const child = { ...env };
  for (const name of SECRET_ENV) delete child[name];
  if (plan.token) child.CLOUDFLARE_API_TOKEN = plan.token.secret.reveal();
  if (plan.accountId) child.CLOUDFLARE_ACCOUNT_ID = plan.accountId;
  return { ...child, ...extra };
}

/**
 * The URL to smoke-check, from the file wrangler writes when WRANGLER_OUTPUT_FILE_PATH is set
 * (ND-JSON; the "deploy" entry lists the targets: the workers.dev URL, routes, custom domains).
 * @param {string} ndjson
 */
export function deployedUrl(ndjson) {
  for (const line of ndjson.split("\n")) {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry?.type !== "deploy" || !Array.isArray(entry.targets)) continue;
    const targets = entry.targets.filter((t) => typeof t === "string");
    const https = targets.find((t) => t.startsWith("https://"));
    if (https) return https.replace(/\/+$/, "");
    const custom = targets.find((t) => / \(custom domain\)$/.test(t));
    if (custom) return `https://${custom.replace(/ \(custom domain\)$/, "")}`;
  }
  return undefined;
}

/**
 * Judges GET /api/meta. Lifecycle must be on; with an account id, binding must be on too.
 * @param {unknown} meta the parsed JSON body
 * @param {{ accountId?: string }} options
 */
export function checkMeta(meta, { accountId } = {}) {
  /** @type {{ flag: string, message: string, fix: string }[]} */
  const failures = [];
  /** @type {string[]} */
  const passed = [];
  /** @type {string[]} */
  const notes = [];
  const m = /** @type {Record<string, unknown>} */ (meta && typeof meta === "object" ? meta : {});
  const lifecycle = m.cloudflareDomainLifecycleEnabled;
  const binding = m.cloudflareDomainBindingEnabled;
  if (typeof lifecycle !== "boolean" || typeof binding !== "boolean") {
    failures.push({
      flag: "response",
      message: "GET /api/meta did not return cloudflareDomainLifecycleEnabled and cloudflareDomainBindingEnabled as booleans.",
      fix: "Check that the URL is the KaisouMail Worker (the workers.dev URL wrangler deploy printed, or set KAISOUMAIL_URL / --url).",
    });
    return { ok: false, failures, passed, notes };
  }
  if (lifecycle) passed.push("cloudflareDomainLifecycleEnabled=true");
  else {
    failures.push({
      flag: "cloudflareDomainLifecycleEnabled",
      message:
        "cloudflareDomainLifecycleEnabled is false: the Worker runtime is missing EMAIL_ROUTING_MANAGEMENT_ENABLED=true " +
        "or a runtime token (CLOUDFLARE_RUNTIME_API_TOKEN, or the shared CLOUDFLARE_API_TOKEN).",
      fix:
        "Add CLOUDFLARE_RUNTIME_API_TOKEN (or CLOUDFLARE_API_TOKEN) as a Worker secret (`npx wrangler secret put " +
        "CLOUDFLARE_RUNTIME_API_TOKEN`, or the repository secret of the same name for the workflow), keep " +
        "EMAIL_ROUTING_MANAGEMENT_ENABLED=true and EMAIL_WORKER_NAME set, redeploy, then refresh /domains. " +
        `GET /api/admin/setup says which part is missing. See ${doc("runtime-configuration")}.`,
    });
  }
  if (binding) passed.push("cloudflareDomainBindingEnabled=true");
  else if (!accountId) {
    notes.push(
      "cloudflareDomainBindingEnabled=false: not checked, no CLOUDFLARE_ACCOUNT_ID was given. Only direct zone creation " +
        "(Bind mailbox domain) needs it; enabling zones that already exist in Cloudflare does not.",
    );
  } else if (!lifecycle) {
    failures.push({
      flag: "cloudflareDomainBindingEnabled",
      message: "cloudflareDomainBindingEnabled is false because cloudflareDomainLifecycleEnabled is false.",
      fix: "Fix cloudflareDomainLifecycleEnabled first; binding follows once it is true and CLOUDFLARE_ACCOUNT_ID reached the runtime.",
    });
  } else {
    failures.push({
      flag: "cloudflareDomainBindingEnabled",
      message:
        "cloudflareDomainBindingEnabled is false: CLOUDFLARE_ACCOUNT_ID did not reach the Worker runtime " +
        "(it may exist only in the GitHub Actions job environment).",
      fix:
        "Add CLOUDFLARE_ACCOUNT_ID to the repository secrets (or the environment of npm run deploy) and redeploy: the " +
        "deploy passes it with `wrangler deploy --var CLOUDFLARE_ACCOUNT_ID:...`, and a value set only in the dashboard " +
        "is dropped by the next wrangler deploy. Then confirm GET /api/meta returns cloudflareDomainBindingEnabled=true. " +
        `See ${doc("cloudflare-account-id")}.`,
    });
  }
  return { ok: failures.length === 0, failures, passed, notes };
}

/**
 * GET <url>/api/meta until it passes checkMeta or the time is up (a fresh deploy and the secret
 * uploads after it take a few seconds to reach every edge).
 * @param {string} url
 * @param {{ accountId?: string, fetch?: typeof fetch, timeoutMs?: number, intervalMs?: number, log?: (s: string) => void }} options
 */
export async function smokeCheck(url, { accountId, fetch: doFetch = fetch, timeoutMs = 90_000, intervalMs = 5_000, log = () => {} } = {}) {
  const base = url.replace(/\/+$/, "");
  const target = `${base}/api/meta`;
  const deadline = Date.now() + timeoutMs;
  /** @type {ReturnType<typeof checkMeta> & { error?: string }} */
  let last;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await doFetch(target, { headers: { accept: "application/json" }, redirect: "follow" });
      const text = await res.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!res.ok) {
        const details = body?.details;
        const hint = details?.hint ? ` ${details.hint}` : "";
        last = {
          ok: false,
          passed: [],
          notes: [],
          failures: [{ flag: "response", message: `GET ${target} answered ${res.status}${body?.error ? `: ${body.error}` : ""}.${hint}`, fix: `Check the Worker's logs (\`npx wrangler tail\`) and GET /api/admin/setup. See ${doc("runtime-configuration")}.` }],
        };
      } else {
        last = checkMeta(body, { accountId });
      }
    } catch (err) {
      last = {
        ok: false,
        passed: [],
        notes: [],
        failures: [{ flag: "response", message: `GET ${target} failed: ${err instanceof Error ? err.message : String(err)}.`, fix: "Check the URL; a new workers.dev subdomain can take a minute to resolve." }],
      };
    }
    if (last.ok || Date.now() + intervalMs > deadline) return { ...last, url: target, attempts: attempt };
    log(`  … ${last.failures.map((f) => f.flag).join(", ")} not ready yet (attempt ${attempt}); retrying in ${intervalMs / 1000} s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The smoke result as text: each flag, and for each false one the message and the fix. */
export function formatSmoke(result) {
  const out = [`Smoke check GET ${result.url}`];
  for (const p of result.passed) out.push(`  ✓ ${p}`);
  for (const n of result.notes) out.push(`  - ${n}`);
  for (const f of result.failures) out.push(`  ✗ ${f.message}`, `    Fix: ${f.fix}`);
  if (result.ok) {
    out.push(
      "Now confirm in the browser: /domains loads the Cloudflare-backed domain catalog" +
        (result.passed.includes("cloudflareDomainBindingEnabled=true") ? " and shows the Bind mailbox domain form" : "") +
        "; as an admin, GET /api/admin/setup reports every requirement ok.",
    );
  }
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Running it.

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

function runWrangler(step, env) {
  const res = spawnSync(process.execPath, [WRANGLER, ...step.args], {
    cwd: ROOT,
    env,
    stdio: [step.stdin ? "pipe" : "inherit", "inherit", "inherit"],
    input: step.stdin ? step.stdin.reveal() : undefined,
  });
  if (res.error) throw res.error;
  return res.status ?? 1;
}

function setOutput(name, value) {
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${name}=${value}\n`);
}

async function smokeOnly(url, accountId, timeoutSeconds) {
  if (!url || !/^https?:\/\//.test(url)) {
    console.error("The smoke check needs the deployed URL: --url https://kaisoumail.<subdomain>.workers.dev (or KAISOUMAIL_URL).");
    return 2;
  }
  const timeoutMs = Math.max(0, Number(timeoutSeconds) || 0) * 1000;
  const result = await smokeCheck(url, { accountId, timeoutMs, log: (s) => console.log(s) });
  console.log(formatSmoke(result));
  return result.ok ? 0 : 1;
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      "dry-run": { type: "boolean", default: false },
      "smoke-only": { type: "boolean", default: false },
      "skip-smoke": { type: "boolean", default: false },
      url: { type: "string" },
      "smoke-timeout": { type: "string", default: "90" },
      outdir: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1);
    const header = lines.slice(0, lines.findIndex((l) => !l.startsWith("//")));
    console.log(header.map((l) => l.slice(3)).join("\n"));
    return 0;
  }
  const env = process.env;
  const accountId = read(env, "CLOUDFLARE_ACCOUNT_ID");
  const urlOverride = values.url?.trim() || read(env, "KAISOUMAIL_URL");

  const smokeTimeout = values["smoke-timeout"];
  if (values["smoke-only"]) return smokeOnly(urlOverride, accountId && ACCOUNT_ID.test(accountId) ? accountId : undefined, smokeTimeout);

  const plan = planDeploy(env, { wranglerToml: readFileSync(join(ROOT, "wrangler.toml"), "utf8") });
  const dryRun = values["dry-run"];
  if (!plan.ok && !dryRun) {
    console.error(formatRefusal(plan));
    return 2;
  }
  console.log(formatPlan(plan, { dryRun }));

  const generated = plan.configPath ? join(ROOT, plan.configPath) : null;
  const cleanup = () => generated && rmSync(generated, { force: true });
  process.once("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  if (generated) writeFileSync(generated, `# Generated by scripts/deploy.mjs for one deploy; safe to delete.\n${plan.d1.config}`);
  try {
    if (dryRun) {
      const outdir = values.outdir ? resolve(values.outdir) : mkdtempSync(join(tmpdir(), "kaisoumail-dry-run-"));
      const deploy = plan.steps.find((s) => s.id === "deploy");
      const step = { ...deploy, args: [...deploy.args, "--dry-run", "--outdir", outdir] };
      console.log(`\n$ ${commandLine(step)}`);
      // No credentials at all: a dry run only bundles.
      const dryEnv = wranglerEnv({ token: null }, env);
      delete dryEnv.CLOUDFLARE_ACCOUNT_ID;
      const status = runWrangler(step, dryEnv);
      const bundled = existsSync(join(outdir, "index.js"));
      console.log(status === 0 && bundled ? `\nDry run ok: the Worker bundle is in ${outdir}.` : `\nDry run failed (wrangler exit ${status}).`);
      return status === 0 && bundled ? 0 : 1;
    }

    const outputDir = mkdtempSync(join(tmpdir(), "kaisoumail-deploy-"));
    process.once("exit", () => rmSync(outputDir, { recursive: true, force: true }));
    const outputFile = join(outputDir, "wrangler-output.ndjson");
    const env2 = wranglerEnv(plan, env, { WRANGLER_OUTPUT_FILE_PATH: outputFile });
    let n = 1;
    for (const step of plan.steps) {
      console.log(`\n[${n++}/${plan.steps.length}] ${step.title}\n$ ${commandLine(step)}`);
      const status = runWrangler(step, env2);
      if (status !== 0) {
        console.error(
          `\nStep failed (wrangler exit ${status}): ${step.title}.\n` +
            `An "Authentication error" or code 10000 means the deploy token lacks a permission of the deploy set; see ${doc("token-permissions")}.`,
        );
        return 1;
      }
    }
    const detected = existsSync(outputFile) ? deployedUrl(readFileSync(outputFile, "utf8")) : undefined;
    const url = urlOverride ?? detected;
    if (!url) {
      console.error("\nDeployed, but wrangler reported no https URL (workers.dev off and no custom domain?). Set KAISOUMAIL_URL or pass --url for the smoke check.");
      return values["skip-smoke"] ? 0 : 1;
    }
    console.log(`\nDeployed: ${url}${detected && detected !== url ? ` (wrangler reported ${detected})` : ""}`);
    setOutput("url", url);
    if (values["skip-smoke"]) return 0;
    console.log("");
    return await smokeOnly(url, plan.accountId, smokeTimeout);
  } finally {
    cleanup();
  }
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
