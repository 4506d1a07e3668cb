/**
 * CLI: `tsx sim/main.ts --port 8788 --host 127.0.0.1 --state .sim/state.json
 * [--account-id X] [--account-name N] [--token T] [--rate-limit 1200/300]`.
 * Each flag also reads an env var (SIM_PORT, SIM_HOST, SIM_STATE, SIM_ACCOUNT_ID,
 * SIM_ACCOUNT_NAME, SIM_TOKEN, SIM_RATE_LIMIT); flags win. Prints one line with the URL and
 * exits cleanly on SIGINT/SIGTERM after flushing the state file. Never prints the token.
 */
import { parseArgs } from "node:util";
import { startSimulator, type SimulatorOptions } from "./server.ts";

function fail(message: string): never {
  console.error(`sim: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string" },
    state: { type: "string" },
    "account-id": { type: "string" },
    "account-name": { type: "string" },
    token: { type: "string" },
    "rate-limit": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});

if (values.help) {
  console.log(
    "usage: tsx sim/main.ts [--port 8788] [--host 127.0.0.1] [--state .sim/state.json] " +
      "[--account-id <32 hex>] [--account-name <name>] [--token <value>] [--rate-limit 1200/300]",
  );
  process.exit(0);
}

const env = process.env;
const pick = (flag: string | undefined, name: string): string | undefined => flag ?? env[name] ?? undefined;

const opts: SimulatorOptions = {};
const port = pick(values.port, "SIM_PORT");
if (port !== undefined) {
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`invalid port ${port}`);
  opts.port = n;
} else {
  opts.port = 8788;
}
opts.host = pick(values.host, "SIM_HOST") ?? "127.0.0.1";
const state = pick(values.state, "SIM_STATE");
if (state) opts.statePath = state;
const accountId = pick(values["account-id"], "SIM_ACCOUNT_ID");
if (accountId !== undefined) opts.accountId = accountId;
const accountName = pick(values["account-name"], "SIM_ACCOUNT_NAME");
if (accountName !== undefined) opts.accountName = accountName;
const token = pick(values.token, "SIM_TOKEN");
if (token !== undefined) opts.token = token;
const rate = pick(values["rate-limit"], "SIM_RATE_LIMIT");
if (rate !== undefined) {
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(rate);
  if (!m) fail(`invalid --rate-limit ${rate} (expected LIMIT/SECONDS, e.g. 1200/300)`);
  opts.rateLimit = { limit: Number(m[1]), windowSeconds: Number(m[2]) };
}

const sim = await startSimulator(opts).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
console.log(`Cloudflare API simulator listening on ${sim.url} (apiBase ${sim.apiBase}, control ${sim.url}/__sim)`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  sim.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`sim: error while stopping on ${signal}:`, err);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
