/**
 * The control API (/__sim): zones, faults, request log, stats, config and the rate limit, reset,
 * state dump, persistence across a restart, and the CLI.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT, OTHER_ACCOUNT, TOKEN, fails, ok, ruleBody, sleep, startHarness, type Harness } from "./helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.sim.close());
beforeEach(async () => {
  await h.control("POST", "/reset");
});

const ruleCount = async () => (await h.control("GET", "/state")).body.zones.reduce((n: number, z: { rules: unknown[] }) => n + z.rules.length, 0);

describe("/__sim/zones", () => {
  it("creates active zones by default, pending on request, in any account", async () => {
    const active = await h.zone("active.example");
    expect(active).toMatchObject({ status: "active", activated_on: expect.stringMatching(/\.\d{6}Z$/), account: { id: ACCOUNT } });
    const pending = await h.zone("pending.example", { status: "pending" });
    expect(pending).toMatchObject({ status: "pending", activated_on: null });
    const other = await h.zone("other.example", { accountId: OTHER_ACCOUNT });
    expect(other.account.id).toBe(OTHER_ACCOUNT);
  });

  it("rejects bad input with 4xx {error}", async () => {
    expect((await h.control("POST", "/zones", { name: "bad" })).status).toBe(400);
    expect((await h.control("POST", "/zones", { name: "a.com", accountId: "x" })).status).toBe(400);
    expect((await h.control("POST", "/zones", { name: "a.com", status: "weird" })).status).toBe(400);
    await h.zone("a.com");
    const dupe = await h.control("POST", "/zones", { name: "a.com" });
    expect(dupe.status).toBe(409);
    expect(dupe.body.error).toBe("a.com already exists");
  });

  it("activates a pending zone and sets other statuses", async () => {
    const z = await h.zone("later.example", { status: "pending" });
    const activated = await h.control("POST", `/zones/${z.id}/activate`);
    expect(activated.body).toMatchObject({ id: z.id, status: "active", activated_on: expect.any(String) });
    const got = ok(await h.api("GET", `/zones/${z.id}`), "zone");
    expect(got.status).toBe("active");
    const moved = await h.control("POST", `/zones/${z.id}/status`, { status: "moved" });
    expect(moved.body.status).toBe("moved");
    expect((await h.control("POST", `/zones/${z.id}/status`, { status: "gone" })).status).toBe(400);
    expect((await h.control("POST", `/zones/${"c".repeat(32)}/activate`)).status).toBe(404);
  });

  it("unknown control endpoints answer 404", async () => {
    expect((await h.control("GET", "/nope")).status).toBe(404);
    expect((await h.control("GET", "/health")).body).toEqual({ ok: true });
  });
});

describe("/__sim/faults", () => {
  let zoneId: string;
  beforeEach(async () => {
    zoneId = (await h.zone("faults.example")).id;
  });
  const rulesPath = () => `/zones/${zoneId}/email/routing/rules`;

  it("5xx with count: the next N matching calls fail with a 1052 envelope, state unchanged", async () => {
    const f = await h.control("POST", "/faults", { method: "POST", path: "/zones/:id/email/routing/rules", kind: "5xx", count: 2 });
    expect(f.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), kind: "5xx", remaining: 2 });
    expect((await h.control("GET", "/faults")).body).toHaveLength(1);
    // a GET on the same path is not matched (method filter)
    ok(await h.api("GET", rulesPath()), "ruleList");
    for (let i = 0; i < 2; i++) {
      const res = await h.api("POST", rulesPath(), { body: ruleBody(`a${i}@faults.example`) });
      fails(res, 500, 1052, /An error has occurred/);
    }
    expect(await ruleCount()).toBe(0);
    ok(await h.api("POST", rulesPath(), { body: ruleBody("ok@faults.example") }), "rule");
    expect(await ruleCount()).toBe(1);
    expect((await h.control("GET", "/faults")).body).toEqual([]);
    const stats = (await h.control("GET", "/stats")).body;
    expect(stats.faultsInjected).toEqual({ total: 2, "5xx": 2, "429": 0, hang: 0 });
  });

  it("5xx honours status and x-should-retry", async () => {
    await h.control("POST", "/faults", { path: "/zones", kind: "5xx", status: 503, shouldRetry: false });
    const res = await h.api("GET", "/zones");
    fails(res, 503, 1052);
    expect(res.headers.get("x-should-retry")).toBe("false");
  });

  it("429 answers code 971 with Retry-After", async () => {
    await h.control("POST", "/faults", { path: "/zones/*", kind: "429", retryAfter: 7 });
    const res = await h.api("POST", `/zones/${zoneId}/email/routing/dns`, { body: {} });
    fails(res, 429, 971, "Please wait and consider throttling your request speed");
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await h.control("GET", "/state")).body.zones[0].settings.enabled).toBe(false);
    ok(await h.api("POST", `/zones/${zoneId}/email/routing/dns`, { body: {} }), "settings");
  });

  it("hang delays the answer (504 after hangMs) and changes nothing", async () => {
    await h.control("POST", "/faults", { method: "POST", path: "/zones/:id/email/routing/rules", kind: "hang", hangMs: 300 });
    const started = Date.now();
    const res = await h.api("POST", rulesPath(), { body: ruleBody("slow@faults.example") });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    fails(res, 504, 1052);
    expect(await ruleCount()).toBe(0);
    const log = (await h.control("GET", "/requests")).body;
    expect(log.at(-1)).toMatchObject({ method: "POST", status: 504, fault: "hang" });
  });

  it("a hang the client abandons is logged with status 0", async () => {
    await h.control("POST", "/faults", { path: "/zones", kind: "hang", hangMs: 10_000 });
    const aborted = await fetch(`${h.sim.apiBase}/zones`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(150),
    }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(Error);
    await sleep(100);
    const log = (await h.control("GET", "/requests")).body;
    expect(log.at(-1)).toMatchObject({ path: "/client/v4/zones", status: 0, fault: "hang" });
  });

  it("rate mode fires with the given probability until cleared", async () => {
    await h.control("POST", "/faults", { path: "/zones", kind: "5xx", rate: 1 });
    for (let i = 0; i < 3; i++) fails(await h.api("GET", "/zones"), 500, 1052);
    expect((await h.control("GET", "/faults")).body[0]).toMatchObject({ rate: 1, remaining: null, injected: 3 });
    expect((await h.control("DELETE", "/faults")).body).toEqual({ cleared: 1 });
    ok(await h.api("GET", "/zones"), "zoneList");
    await h.control("POST", "/faults", { path: "/zones", kind: "5xx", rate: 0 });
    for (let i = 0; i < 3; i++) ok(await h.api("GET", "/zones"), "zoneList");
  });

  it("patterns: :param is one segment, * is any number of segments", async () => {
    await h.control("POST", "/faults", { path: "/zones/:id", kind: "5xx", rate: 1 });
    fails(await h.api("GET", `/zones/${zoneId}`), 500, 1052);
    ok(await h.api("GET", `/zones/${zoneId}/email/routing`), "settings");
    await h.control("DELETE", "/faults");
    await h.control("POST", "/faults", { path: "/zones/*", kind: "5xx", rate: 1 });
    fails(await h.api("GET", `/zones/${zoneId}/email/routing/rules/catch_all`), 500, 1052);    await h.control("DELETE", "/faults");
    const full = await h.control("POST", "/faults", { path: "/client/v4/zones/:id/email/routing", kind: "5xx" });
    expect(full.body.path).toBe("/zones/:id/email/routing");
    fails(await h.api("GET", `/zones/${zoneId}/email/routing`), 500, 1052);
  });

  it("a fault can be removed by id; bad specs answer 400", async () => {
    const f = await h.control("POST", "/faults", { path: "/zones", kind: "429" });
    expect((await h.control("DELETE", `/faults/${f.body.id}`)).status).toBe(200);
    ok(await h.api("GET", "/zones"), "zoneList");
    for (const bad of [{ kind: "5xx" }, { path: "zones", kind: "5xx" }, { path: "/zones", kind: "boom" }, { path: "/zones", kind: "5xx", rate: 2 }, { path: "/zones", kind: "5xx", count: 0 }]) {
      expect((await h.control("POST", "/faults", bad)).status).toBe(400);
    }
  });
});

describe("/__sim/requests", () => {
  it("logs API calls with seq, token id (never the value), status and fault", async () => {
    await h.api("GET", "/zones?per_page=5&page=2");
    await h.api("GET", "/zones", { token: "unknown" });
    await h.control("POST", "/faults", { path: "/zones", kind: "429" });
    await h.api("GET", "/zones");
    const res = await h.control("GET", "/requests");
    const tokenId = (await h.control("GET", "/tokens")).body[0].id;
    expect(res.body).toHaveLength(3);
    expect(res.body[0]).toEqual({
      seq: 1,
      at: expect.stringMatching(/\.\d{6}Z$/),
      method: "GET",
      path: "/client/v4/zones",
      query: { per_page: "5", page: "2" },
      status: 200,
      durationMs: expect.any(Number),
      tokenId,
      fault: null,
    });
    expect(res.body[1]).toMatchObject({ seq: 2, status: 403, tokenId: null, fault: null });
    expect(res.body[2]).toMatchObject({ seq: 3, status: 429, tokenId, fault: "429" });
    expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    const since = await h.control("GET", "/requests?since=2");
    expect(since.body.map((e: { seq: number }) => e.seq)).toEqual([3]);
    await h.control("DELETE", "/requests");
    expect((await h.control("GET", "/requests")).body).toEqual([]);
    await h.api("GET", "/user/tokens/verify");
    expect((await h.control("GET", "/requests")).body[0].seq).toBe(4);
    expect((await h.control("GET", "/stats")).body.requests).toBe(4);
  });

  it("does not log control calls", async () => {
    await h.control("GET", "/state");
    expect((await h.control("GET", "/requests")).body).toEqual([]);
  });
});

describe("rate limit", () => {
  it("answers 429 971 with Retry-After past the limit, per token, then allows again after the window", async () => {
    const cfg = await h.control("PUT", "/config", { rateLimit: { limit: 5, windowSeconds: 1 } });
    expect(cfg.body.rateLimit).toEqual({ limit: 5, windowSeconds: 1 });
    for (let i = 0; i < 5; i++) {
      const res = await h.api("GET", "/zones");
      ok(res, "zoneList");
      expect(res.headers.get("ratelimit")).toBe(`"default";r=${4 - i};t=1`);
      expect(res.headers.get("ratelimit-policy")).toBe('"burst";q=5;w=1');
    }
    const limited = await h.api("GET", "/zones");
    fails(limited, 429, 971, "Please wait and consider throttling your request speed");
    expect(limited.headers.get("retry-after")).toBe("1");
    // another token has its own budget
    await h.token("second", {});
    ok(await h.api("GET", "/zones", { token: "second" }), "zoneList");
    expect((await h.control("GET", "/stats")).body.rateLimited).toBe(1);
    await sleep(1050);
    ok(await h.api("GET", "/zones"), "zoneList");
  });

  it("rejects a bad config with 400 and keeps the old one", async () => {
    expect((await h.control("PUT", "/config", { rateLimit: { limit: 0, windowSeconds: 1 } })).status).toBe(400);
    expect((await h.control("PUT", "/config", { rulesLimit: -1 })).status).toBe(400);
    expect((await h.control("PUT", "/config", { pendingZoneRouting: "maybe" })).status).toBe(400);
    expect((await h.control("GET", "/config")).body).toEqual({
      rateLimit: { limit: 100_000, windowSeconds: 300 },
      rulesLimit: 200,
      pendingZoneRouting: "reject",
    });
  });
});

describe("POST /__sim/reset and GET /__sim/state", () => {
  it("dumps zones with settings, dns, rules and catch-all, and reset clears everything", async () => {
    const z = await h.zone("dump.example");
    ok(await h.api("POST", `/zones/${z.id}/email/routing/dns`, { body: {} }), "settings");
    ok(await h.api("POST", `/zones/${z.id}/email/routing/rules`, { body: ruleBody("a@dump.example") }), "rule");
    await h.token("extra", { permissions: ["zone:read"] });
    await h.control("POST", "/faults", { path: "/nothing", kind: "5xx" });
    await h.control("PUT", "/config", { rateLimit: { limit: 10, windowSeconds: 10 }, rulesLimit: 3 });

    const state = (await h.control("GET", "/state")).body;
    expect(state.accounts).toEqual([{ id: ACCOUNT, name: expect.any(String) }]);
    expect(state.tokens).toHaveLength(2);
    expect(JSON.stringify(state)).not.toContain(TOKEN);
    expect(state.zones).toHaveLength(1);
    expect(state.zones[0]).toMatchObject({
      zone: { id: z.id, name: "dump.example", status: "active" },
      settings: { enabled: true, status: "ready" },
      dns: { "dump.example": expect.any(Array) },
      rules: [{ matchers: [{ value: "a@dump.example" }] }],
      catch_all: { enabled: false, actions: [{ type: "drop" }] },
    });
    expect(state.config.rulesLimit).toBe(3);

    expect((await h.control("POST", "/reset")).body).toEqual({ ok: true });
    const after = (await h.control("GET", "/state")).body;
    expect(after.zones).toEqual([]);
    expect(after.tokens).toHaveLength(1);
    expect(after.config).toEqual({ rateLimit: { limit: 100_000, windowSeconds: 300 }, rulesLimit: 200, pendingZoneRouting: "reject" });
    expect((await h.control("GET", "/faults")).body).toEqual([]);
    expect((await h.control("GET", "/requests")).body).toEqual([]);
    expect((await h.control("GET", "/stats")).body).toEqual({
      requests: 0,
      rateLimited: 0,
      faultsInjected: { total: 0, "5xx": 0, "429": 0, hang: 0 },
      zones: 0,
      rules: 0,
      tokens: 1,
    });
    fails(await h.api("GET", "/zones", { token: "extra" }), 403, 9109);
    ok(await h.api("GET", "/zones"), "zoneList");
  });
});

describe("cross-site requests to /__sim", () => {
  const FOREIGN = ["https://evil.example", "http://127.0.0.1.evil.example:8788", "http://localhost.evil.example", "null", "file://"];
  const send = (method: string, path: string, origin: string | null, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${h.sim.url}/__sim${path}`, {
      method,
      headers: { ...(origin === null ? {} : { Origin: origin }), ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  /** Every state-changing control request, each valid on its own (so only the Origin can refuse it). */
  const writes = async () => {
    const zone = await h.zone("victim.example", { status: "pending" });
    const fault = (await h.control("POST", "/faults", { method: "GET", path: "/zones", kind: "5xx", count: 2 })).body;
    await h.token("victim-token", { permissions: ["zone:read"] });
    return [
      ["POST", "/reset"],
      ["PUT", "/tokens/evil-token", { permissions: ["zone:edit"] }],
      ["DELETE", "/tokens/victim-token"],
      ["POST", "/zones", { name: "evil.example" }],
      ["POST", `/zones/${zone.id}/activate`],
      ["POST", `/zones/${zone.id}/status`, { status: "moved" }],
      ["POST", "/faults", { method: "*", path: "*", kind: "hang", rate: 1 }],
      ["DELETE", "/faults"],
      ["DELETE", `/faults/${fault.id}`],
      ["DELETE", "/requests"],
      ["PUT", "/config", { rulesLimit: 0 }],
    ] as Array<[string, string, unknown?]>;
  };

  it("refuses every state-changing control request from a foreign Origin with 403, changing nothing", async () => {
    const calls = await writes();
    await h.api("GET", "/zones"); // one logged API call (answered by the injected fault), for DELETE /requests
    const before = (await h.control("GET", "/state")).body;
    const faultsBefore = (await h.control("GET", "/faults")).body;
    const logBefore = (await h.control("GET", "/requests")).body;
    for (const origin of FOREIGN) {
      for (const [method, path, body] of calls) {
        const res = await send(method, path, origin, body);
        expect(res.status, `${method} ${path} from ${origin}`).toBe(403);
        expect(res.headers.get("access-control-allow-origin")).toBeNull();
        expect(((await res.json()) as { error: string }).error).toMatch(/cross-site/);
      }
      // A form post (text/plain, no preflight) is refused the same way.
      expect((await send("POST", "/reset", origin, "x", { "Content-Type": "text/plain" })).status).toBe(403);
    }
    expect((await h.control("GET", "/state")).body).toEqual(before);
    expect((await h.control("GET", "/faults")).body).toEqual(faultsBefore);
    expect((await h.control("GET", "/requests")).body).toEqual(logBefore);
  });

  it("refuses CORS preflight from a foreign Origin, and answers it for localhost", async () => {
    for (const origin of FOREIGN) {
      const res = await send("OPTIONS", "/reset", origin, undefined, { "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" });
      expect(res.status, origin).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-methods")).toBeNull();
    }
    const local = await send("OPTIONS", "/faults", "http://localhost:5173", undefined, { "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" });
    expect(local.status).toBe(204);
    expect(local.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(local.headers.get("access-control-allow-methods")).toContain("POST");
    expect(local.headers.get("vary")).toMatch(/origin/i);
  });

  it("accepts control requests from its own origin, localhost, 127.0.0.1 and [::1], and from tools that send no Origin", async () => {
    const port = new URL(h.sim.url).port;
    for (const origin of [h.sim.url, `http://localhost:${port}`, "http://localhost:3000", "https://localhost", "http://127.0.0.1:5173", "http://[::1]:8080", null]) {
      const zone = await send("POST", "/zones", origin, { name: `ok-${Math.random().toString(16).slice(2)}.example` });
      expect(zone.status, String(origin)).toBe(200);
      expect(zone.headers.get("access-control-allow-origin")).toBe(origin);
      expect((await send("POST", "/reset", origin)).status).toBe(200);
      expect((await send("GET", "/state", origin)).status).toBe(200);
    }
    expect((await h.control("GET", "/state")).body.zones).toEqual([]);
  });
});

describe("persistence", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kaisoumail-sim-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("survives a restart with the same statePath", async () => {
    const statePath = join(dir, "nested", "state.json");
    const first = await startHarness({ statePath });
    const z = await first.zone("persist.example");
    const pending = ok(await first.api("POST", "/zones", { body: { name: "later.example", account: { id: ACCOUNT } } }), "zoneCreate");
    ok(await first.api("POST", `/zones/${z.id}/email/routing/dns`, { body: { name: "in.persist.example" } }), "settings");
    const rule = ok(await first.api("POST", `/zones/${z.id}/email/routing/rules`, { body: ruleBody("a@persist.example") }), "rule");
    const catchAll = ok(
      await first.api("PUT", `/zones/${z.id}/email/routing/rules/catch_all`, {
        body: { matchers: [{ type: "all" }], actions: [{ type: "worker", value: ["w"] }], enabled: true },
      }),
      "catchAll",
    );
    await first.token("persisted-token", { permissions: ["zone:read"] });
    await first.control("PUT", "/config", { rulesLimit: 7 });
    // debounced write lands without close
    await sleep(200);
    expect(existsSync(statePath)).toBe(true);
    expect(readFileSync(statePath, "utf8")).toContain("persist.example");
    const before = (await first.control("GET", "/state")).body;
    await first.sim.close();

    const second = await startHarness({ statePath });
    try {
      // everything but the config (runtime knob, back to the start options on each start)
      const after = (await second.control("GET", "/state")).body;
      expect(after).toEqual({ ...before, config: { ...before.config, rulesLimit: 200 } });
      expect(ok(await second.api("GET", `/zones/${pending.id}`), "zone")).toMatchObject({ status: "pending", name_servers: pending.name_servers });
      expect(ok(await second.api("GET", `/zones/${z.id}/email/routing/rules/${rule.id}`), "rule")).toEqual(rule);
      expect(ok(await second.api("GET", `/zones/${z.id}/email/routing/rules/catch_all`), "catchAll")).toEqual(catchAll);
      ok(await second.api("GET", "/zones", { token: "persisted-token" }), "zoneList");
      // a mutation right before close is flushed by close
      await second.control("POST", "/reset");
      await second.zone("after-reset.example");
    } finally {
      await second.sim.close();
    }
    const third = await startHarness({ statePath });
    try {
      const names = (await third.control("GET", "/state")).body.zones.map((x: { zone: { name: string } }) => x.zone.name);
      expect(names).toEqual(["after-reset.example"]);
    } finally {
      await third.sim.close();
    }
  });

  it("refuses a corrupt state file", async () => {
    const statePath = join(dir, "corrupt.json");
    writeFileSync(statePath, JSON.stringify({ hello: "world" }));
    await expect(startHarness({ statePath })).rejects.toThrow(/not a simulator state file/);
  });
});

describe("CLI (sim/main.ts)", () => {
  it("prints the URL, serves, and flushes state on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kaisoumail-sim-cli-"));
    const statePath = join(dir, "state.json");
    const root = new URL("../../", import.meta.url);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "sim/main.ts", "--port", "0", "--state", statePath, "--token", "cli-token", "--rate-limit", "50/60"],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SIM_ACCOUNT_ID: OTHER_ACCOUNT } },
    );
    try {
      let out = "";
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("\n")) resolve(out.split("\n")[0] as string);
        });
        child.on("exit", (code) => reject(new Error(`exited early with ${code}`)));
      });
      expect(line).not.toContain("cli-token");
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0];
      expect(url).toBeDefined();
      const verify = await fetch(`${url}/client/v4/user/tokens/verify`, { headers: { Authorization: "Bearer cli-token" } });
      expect(verify.status).toBe(200);
      expect(verify.headers.get("ratelimit-policy")).toBe('"burst";q=50;w=60');
      const created = await fetch(`${url}/__sim/zones`, { method: "POST", body: JSON.stringify({ name: "cli.example" }) });
      expect(((await created.json()) as { account: { id: string } }).account.id).toBe(OTHER_ACCOUNT);
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(readFileSync(statePath, "utf8")).toContain("cli.example");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
