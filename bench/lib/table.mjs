// Renders the results as one Markdown table (printed by bench/run.mjs and pasted into README).
const KB = 1024;
const MiB = 1024 * 1024;

const num = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "?");
const rps = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const lat = (s) => `${rps(s.rps)}/s · p50 ${num(s.p50)} · p95 ${num(s.p95)} · p99 ${num(s.p99)} ms · CPU ${num(s.cpuPerRequest, 2)} ms/req`;
const status = (s) => (s === "met" ? "met" : s === "missed" ? "**missed**" : s === "errors" ? "**errors**" : s === "failed" ? "**failed**" : s ?? "—");
const pct = (s) => `p50 ${num(s.p50)} · p95 ${num(s.p95)} · p99 ${num(s.p99)} ms (max ${num(s.max)})`;

export function renderTable({ figures, machine, config, durationSec }) {
  const rows = [];
  rows.push("| Figure | KaisouMail | Baseline | Ratio | Target | Status |");
  rows.push("|---|---|---|---|---|---|");
  const order = ["Against the floors", "API", "Messages", "Inbound", "Push", "Webhooks", "Capacity", "CPU", "Free plan CPU", "Memory", "Cloudflare calls", "Web page", "Runtime floor"];
  const sorted = [...figures].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
  for (const f of sorted) {
    switch (f.kind) {
      case "load": {
        const err = f.target.errors ? ` (${f.target.errors} errors: ${f.target.errorSample})` : "";
        rows.push(`| ${f.label} | ${lat(f.target)}${err}${f.note ? `; ${f.note}` : ""} | ${lat(f.baseline)} | ${num(f.ratio, 3)}× (CPU ${num(f.cpuRatio, 3)}×) | ${f.goal ? `≥ ${f.goal.min}×` : "—"} | ${status(f.status)} |`);
        break;
      }
      case "growth":
        rows.push(
          `| ${f.label} | ${num(f.detail.p95Big)} ms ÷ ${num(f.detail.p95Small)} ms | — | ${num(f.value, 2)}× | ≤ ${f.goal.max}× | ${status(f.status)} |`,
        );
        break;
      case "cpu": {
        const p95 = f.detail.cpuMs?.p95;
        rows.push(`| CPU: ${f.label} | ${num(f.value, 2)} ms${p95 !== undefined ? ` (p95 ${num(p95, 2)})` : ""} | — | — | ${f.goal ? `≤ ${f.goal.maxMs} ms` : "—"} | ${status(f.status)} |`);
        break;
      }
      case "memory": {
        const d = f.detail;
        rows.push(
          `| ${f.label} (receiveMessage in Node with D1/R2 stand-ins; heap + array buffers after a full GC, ${d.liveSamples} samples, above the level before delivery) | +${num(d.livePeakAbove / MiB)} MiB | RSS high-water +${num(d.rssPeakAbove / MiB)} MiB (${num(d.rssPeakAbove / d.size, 2)}× size, includes garbage) | ${num(f.ratio, 2)}× size | ≤ 4× | ${status(f.status)} |`,
        );
        break;
      }
      case "calls":
        rows.push(`| Cloudflare calls: ${f.label} | ${f.value} (${f.calls.join(", ")}) | minimum ${f.minimum}${f.note ? ` (${f.note})` : ""} | — | = minimum | ${status(f.status)} |`);
        break;
      case "bytes":
        rows.push(
          `| ${f.label} | ${num(f.value / KB)} KB gzip on the wire, ${f.detail.files.length} files | ${num(f.detail.gzip9Bytes / KB)} KB at gzip -9, ${num(f.detail.rawBytes / KB)} KB uncompressed | — | ≤ 30 KB | ${status(f.status)} |`,
        );
        break;
      case "latency": {
        const miss = f.value.missing ? `, **${f.value.missing} never arrived**` : "";
        rows.push(
          `| Push: ${f.label} | ${pct(f.value)}${miss} | ${f.baseline ? `polling: ${pct(f.baseline)}` : "—"} | ${f.ratio !== undefined ? `p95 ${num(f.ratio, 3)}× polling` : "—"} | ${f.goal ? `p95 ≤ ${f.goal.maxRatio}× polling p95` : "—"} | ${status(f.status)} |`,
        );
        break;
      }
      case "idle-cpu": {
        const d = f.detail;
        const app = (x) => num(x.byRole["workerd (app)"] ?? 0, 0);
        // Telling a round's cost from the quiet level needs enough quiet seconds (not in --quick).
        const split =
          d.quietSeconds >= 20
            ? `${d.perRound ? `; each round ≈ ${Object.entries(d.perRound).map(([k, v]) => `${k} ${num(v, 0)}`).join(", ")} ms` : ""}; between rounds ${num(d.quietRatio, 2)}× the no-stream level`
            : "";
        rows.push(
          `| Push: ${f.label} | ${num(d.open.cpuMs, 0)} ms CPU (app's workerd ${app(d.open)} ms); ${d.stillOpen}/${d.streams} streams still open, ${d.keepAlivesInWindow} keep-alive comments in ${d.keepAliveRounds.length} round(s)${split} | none open: ${num(d.none.cpuMs, 0)} ms CPU (app's workerd ${app(d.none)} ms) | ${num(f.value, 2)}× | ≤ ${f.goal.maxRatio}× | ${status(f.status)} |`,
        );
        break;
      }
      case "fanout": {
        const d = f.detail;
        rows.push(
          `| Push: ${f.label} | ${d.complete}/${d.streams} streams got all ${d.messages} exactly once, ${d.inOrder}/${d.streams} in one order (${d.eventsReceived} events, ${d.duplicates} duplicates, ${d.missing} missing, ${d.extra} extra); last stream held each message p50 ${num(d.toLastStream.p50)} · p95 ${num(d.toLastStream.p95)} ms after its POST | — | — | all, once, one order | ${status(f.status)} |`,
        );
        break;
      }
      case "recovery": {
        const d = f.detail;
        rows.push(`| ${f.label} | ${d.accepted}/${d.messages} events accepted, ${d.duplicates} accepted twice; ${d.refusedWhileDown} requests refused while down; all in ${num(d.allInMsAfterUp / 1000)} s after the receiver came back | — | — | every event, exactly once | ${status(f.status)} |`);
        break;
      }
      case "per-message":
        rows.push(`| ${f.label} | ${num(f.value, 0)} bytes/message | ${num(f.detail.before / KB, 0)} → ${num(f.detail.after / KB, 0)} KB | — | — | ${status(f.status)} |`);
        break;
      case "sustained": {
        const d = f.detail;
        const err = d.errors ? ` (${d.errors} errors: ${d.errorSample})` : "";
        rows.push(`| ${f.label} | ${lat(d)}${err}; per window ${d.windows.join(" / ")} msg/s | — | — | — | ${status(f.status)} |`);
        break;
      }
      case "vs-floor":
        rows.push(
          `| ${f.label} | ${num(f.detail.targetRps)} req/s (${num(f.detail.targetRatio, 3)}× hello)${f.detail.targetCpuMs !== undefined ? `, ${num(f.detail.targetCpuMs, 2)} ms CPU/req` : ""} | floor ${num(f.detail.floorRps)} req/s (${num(f.detail.floorRatio, 3)}× hello)${f.detail.floorCpuMs !== undefined ? `, ${num(f.detail.floorCpuMs, 2)} ms CPU/req` : ""} | ${num(f.value, 2)}× the floor${f.cpu !== undefined ? ` (CPU ${num(f.cpu, 2)}×)` : ""} | ≥ ${f.goal.min}× | ${status(f.status)} |`,
        );
        break;
      case "cpu-invocation": {
        const d = f.detail;
        rows.push(
          d.p99Ms === undefined
            ? `| Free plan CPU: ${f.label} | — (${d.note ?? d.status}) | — | — | p99 ≤ 10 ms | ${status(f.status)} |`
            : `| Free plan CPU: ${f.label}${d.note ? ` (${d.note})` : ""} | mean ${num(d.meanMs, 2)} ms, p50 ${num(d.p50Ms, 2)} ms, p99 ${num(d.p99Ms, 2)} ms (raw ${num(d.p99RawMs, 2)}) | answered ${d.recordedStatus}; control p50 ${num(d.controlP50Ms, 2)} / p99 ${num(d.controlP99Ms, 2)} ms | — | p99 ≤ 10 ms | ${status(f.status)} |`,
        );
        break;
      }
      default:
        rows.push(`| ${f.label} | ${JSON.stringify(f.value)} | | | | ${status(f.status)} |`);
    }
  }
  const head = [
    `KaisouMail benchmark (${config.mode}) — ${machine.date}`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, wrangler ${machine.wrangler}; load average ${machine.loadAverageAtStart.join(" ")} at start, ${(machine.loadAverageAtEnd ?? []).join(" ")} at end`,
    `Code: ${machine.git?.commit ?? "?"}${machine.git?.uncommittedFiles ? ` + ${machine.git.uncommittedFiles} uncommitted files` : ""} (run from a snapshot of the tree taken at the start). Load figures: ${config.concurrency} concurrent keep-alive clients, ${config.rounds} round(s) of ${config.durationMs / 1000} s per side (mailbox create: ${config.createRounds} × ${config.createRequests} requests${config.catalogRequests ? `; catalog: ${config.catalogRequests} requests` : ""}${config.largeInboundRequests ? `; 1 MiB inbound: ${config.largeInboundRequests} requests` : ""}), baseline and figures in rotating order each round; ratio = median of per-round ratios; CPU = server process group (wrangler + workerd) CPU per request, from /proc. Run took ${durationSec} s.`,
    ...(config.push && figures.some((f) => f.group === "Push")
      ? [
          `Push: ${figures.find((f) => f.id === "push_latency_post")?.value.n ?? "?"} messages (5-line text/plain) sent one at a time to one mailbox watched by a wait loop, a stream reader and a 1 s poller at once, each sent once all three held the previous one plus a seeded gap of ${config.push.gapMs[0]}–${config.push.gapMs[1]} ms; idle CPU over ${config.push.idleWindowMs / 1000} s per side; fan-out ${config.push.fanStreams} streams × ${config.push.fanMessages} messages, ${config.push.fanConcurrency} deliveries at a time.`,
        ]
      : []),
    "",
  ];
  return [...head, ...rows].join("\n");
}
