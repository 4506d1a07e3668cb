import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The fault soak in its short configuration (scripts/soak.mjs --quick: 4 binds, 40 mailboxes,
 * 60 messages, 20 % Cloudflare faults). It starts its own isolated stack on free ports, so it
 * runs alongside the other tests; `npm run soak` is the full-size version.
 */
describe("fault soak (short)", () => {
  it(
    "keeps every invariant under 20 % injected Cloudflare faults",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "kaisoumail-soak-test-"));
      const out = join(dir, "soak.json");
      const output: string[] = [];
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ["scripts/soak.mjs", "--quick", "--out", out], { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] });
        child.stdout.on("data", (d) => output.push(String(d)));
        child.stderr.on("data", (d) => output.push(String(d)));
        // Past the test's own time-out the soak is stopped (it then stops its stack).
        const timer = setTimeout(() => child.kill("SIGTERM"), 225_000);
        child.on("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      const text = output.join("");
      let result: {
        passed: boolean;
        invariants: Array<{ name: string; ok: boolean; figures: Record<string, unknown>; mismatches: unknown[] }>;
        cloudflare?: { faultsInjected: { total: number } };
        workload?: { mailboxes: { created: number }; messages: { delivered: number } };
      };
      try {
        result = JSON.parse(readFileSync(out, "utf8"));
      } catch {
        throw new Error(`the soak wrote no results (exit ${code}):\n${text.slice(-4000)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const failed = result.invariants.filter((i) => !i.ok);
      expect(failed, text.slice(-6000)).toEqual([]);
      expect(code).toBe(0);
      expect(result.passed).toBe(true);
      // The faults really happened and the workload really ran.
      expect(result.cloudflare!.faultsInjected.total).toBeGreaterThan(0);
      expect(result.workload!.mailboxes.created).toBeGreaterThan(0);
      expect(result.workload!.messages.delivered).toBeGreaterThanOrEqual(60);
      const names = result.invariants.map((i) => i.name).join("\n");
      for (const wanted of ["agrees with its zone", "no zone created twice", "routing rules", "byte-identical", "time limit", "no token, API key or session"]) {
        expect(names).toContain(wanted);
      }
    },
    240_000,
  );
});
