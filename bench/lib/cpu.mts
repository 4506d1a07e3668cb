// CPU time of the parse + verification-code path (`parseMessage` from src/mail/parse.ts, the exact
// code the `email` handler runs), per message, timed with process.cpuUsage (user + system, whole
// process, so garbage collection is included).
// Run: node --import tsx bench/lib/cpu.mts ['[[size, iterations], …]']
// Prints one JSON line: [{size, iterations, cpuMs: {median, p95, min}, parseStatus, code}].
import { parseMessage } from "../../src/mail/parse.ts";
import { makeMessage, KiB, MiB } from "./mail.mjs";

const plan: Array<[number, number]> = process.argv[2]
  ? JSON.parse(process.argv[2])
  : [[5 * KiB, 400], [100 * KiB, 100], [MiB, 20], [10 * MiB, 4]];

const out = [];
for (const [size, iterations] of plan) {
  const messages = Array.from({ length: Math.min(iterations, size >= 10 * MiB ? 2 : 4) }, (_, i) => makeMessage({ size, to: "ava@desk.bench.example", seed: 100 + i }));
  // Warm up the JIT on this size first (a Worker isolate that has handled mail before).
  for (let i = 0; i < (size >= 10 * MiB ? 0 : Math.max(1, Math.ceil(iterations / 5))); i++) await parseMessage(new Uint8Array(messages[i % messages.length]!));
  const samples: number[] = [];
  let last;
  for (let i = 0; i < iterations; i++) {
    const raw = new Uint8Array(messages[i % messages.length]!);
    const before = process.cpuUsage();
    last = await parseMessage(raw);
    const d = process.cpuUsage(before);
    samples.push((d.user + d.system) / 1000);
  }
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  out.push({
    size,
    iterations,
    cpuMs: { median: q(0.5), p95: q(0.95), min: samples[0], mean: samples.reduce((a, b) => a + b, 0) / samples.length },
    parseStatus: last!.parseStatus,
    code: last!.verification?.code ?? null,
    attachments: last!.attachments.length,
  });
}
console.log(JSON.stringify(out));
