// CPU time of processes, read from /proc (Linux): used to measure what workerd itself spends.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** Pids whose process group is `pgid` (the group of a child started with `detached: true`). */
export function groupPids(pgid, comm = null) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const command = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      if (Number(fields[2]) === pgid && (comm === null || command === comm)) out.push(Number(name));
    } catch {
      /* exited */
    }
  }
  return out;
}

/** Nanoseconds on CPU, summed over every thread of `pids` (/proc/<pid>/task/<tid>/schedstat). */
export function cpuNs(pids) {
  let total = 0;
  for (const pid of pids) {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        /* thread exited */
      }
    }
  }
  return total;
}

/** CPU nanoseconds per pid of a process group, for `groupCpuDelta`. */
export function groupCpuSnapshot(pgid, comm = null) {
  return new Map(groupPids(pgid, comm).map((pid) => [pid, cpuNs([pid])]));
}

/** CPU ms spent by the group between two snapshots (a process that appeared counts in full). */
export function groupCpuDeltaMs(before, after) {
  let ns = 0;
  for (const [pid, v] of after) ns += v - (before.get(pid) ?? 0);
  return ns / 1e6;
}

const statusField = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) * 1024;

/**
 * Runs `fn` and returns, per pid, how far the resident set rose above its level just before
 * (the kernel's high-water mark VmHWM, reset by writing 5 to /proc/<pid>/clear_refs).
 */
export async function rssRise(pids, fn) {
  const before = new Map();
  for (const pid of pids) {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    before.set(pid, statusField(pid, "VmRSS"));
  }
  const value = await fn();
  const rise = new Map(pids.map((pid) => [pid, statusField(pid, "VmHWM") - before.get(pid)]));
  return { value, rise, maxRise: Math.max(...rise.values()) };
}
