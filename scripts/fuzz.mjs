#!/usr/bin/env node
/**
 * Long fuzz run: `FUZZ_RUNS=10000 node scripts/fuzz.mjs` (FUZZ_SEED optional; extra arguments go
 * to vitest). The fuzz test runs inside workerd, where `process.env` is not the shell's; Vite
 * passes variables prefixed VITE_ through `import.meta.env`, so this maps FUZZ_* onto VITE_FUZZ_*.
 */
import { spawn } from "node:child_process";

const env = { ...process.env };
env.VITE_FUZZ_RUNS = process.env.FUZZ_RUNS ?? process.env.VITE_FUZZ_RUNS ?? "10000";
if (process.env.FUZZ_SEED ?? process.env.VITE_FUZZ_SEED) env.VITE_FUZZ_SEED = process.env.FUZZ_SEED ?? process.env.VITE_FUZZ_SEED;
if (process.env.FUZZ_SHRINK) env.VITE_FUZZ_SHRINK = process.env.FUZZ_SHRINK;

const args = ["vitest", "run", "--project", "workers", "test/worker/fuzz.test.ts", ...process.argv.slice(2)];
console.log(`fuzz: VITE_FUZZ_RUNS=${env.VITE_FUZZ_RUNS}${env.VITE_FUZZ_SEED ? ` VITE_FUZZ_SEED=${env.VITE_FUZZ_SEED}` : ""} npx ${args.join(" ")}`);
const child = spawn("npx", args, { stdio: "inherit", env });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
