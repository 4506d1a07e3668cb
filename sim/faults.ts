/**
 * Fault injection for the Cloudflare API: for requests whose method and path (relative to
 * /client/v4) match a pattern, answer a 5xx, a 429 or hang instead of running the handler, so the
 * request never changes state. A fault fires for its next `count` matches, or with probability
 * `rate` per match until cleared. Imports http.ts (patterns) and ids.ts.
 */
import { compilePattern } from "./http.ts";
import { randomId } from "./ids.ts";

export type FaultKind = "5xx" | "429" | "hang";

/** Body of POST /__sim/faults. */
export interface FaultSpec {
  method?: string;
  path: string;
  kind: FaultKind;
  count?: number;
  rate?: number;
  status?: number;
  retryAfter?: number;
  hangMs?: number;
  /** Adds `x-should-retry: true|false` to the faulted response (the TS SDK honours it). */
  shouldRetry?: boolean;
}

/** A registered fault as listed by GET /__sim/faults. */
export interface Fault {
  id: string;
  method: string | null;
  path: string;
  kind: FaultKind;
  /** Matches left (count mode), null in rate mode. */
  remaining: number | null;
  rate: number | null;
  status: number;
  retryAfter: number;
  hangMs: number;
  shouldRetry: boolean | null;
  /** How many times this fault fired. */
  injected: number;
}

/** Validate a FaultSpec; returns an error message or the normalised fault. */
export function parseFaultSpec(body: unknown): { error: string } | { fault: Fault } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { error: "body must be an object" };
  const b = body as Record<string, unknown>;
  if (typeof b.path !== "string" || !b.path.startsWith("/")) return { error: "path must be a string starting with /" };
  if (b.kind !== "5xx" && b.kind !== "429" && b.kind !== "hang") return { error: "kind must be 5xx, 429 or hang" };
  if (b.method !== undefined && typeof b.method !== "string") return { error: "method must be a string" };
  const num = (v: unknown, name: string, ok: (n: number) => boolean): number | string | undefined => {
    if (v === undefined) return undefined;
    return typeof v === "number" && Number.isFinite(v) && ok(v) ? v : `invalid ${name}`;
  };
  const count = num(b.count, "count", (n) => Number.isInteger(n) && n >= 1);
  const rate = num(b.rate, "rate", (n) => n >= 0 && n <= 1);
  const status = num(b.status, "status", (n) => Number.isInteger(n) && n >= 500 && n <= 599);
  const retryAfter = num(b.retryAfter, "retryAfter", (n) => n >= 0);
  const hangMs = num(b.hangMs, "hangMs", (n) => n >= 0);
  for (const v of [count, rate, status, retryAfter, hangMs]) if (typeof v === "string") return { error: v };
  if (count !== undefined && rate !== undefined) return { error: "give count or rate, not both" };
  if (b.shouldRetry !== undefined && typeof b.shouldRetry !== "boolean") return { error: "shouldRetry must be a boolean" };
  return {
    fault: {
      id: randomId(),
      method: typeof b.method === "string" ? b.method.toUpperCase() : null,
      // Patterns are relative to /client/v4; a pasted full path works too.
      path: b.path.startsWith("/client/v4/") ? b.path.slice("/client/v4".length) : b.path,
      kind: b.kind,
      remaining: rate === undefined ? ((count as number | undefined) ?? 1) : null,
      rate: (rate as number | undefined) ?? null,
      status: (status as number | undefined) ?? (b.kind === "hang" ? 504 : 500),
      retryAfter: (retryAfter as number | undefined) ?? 1,
      hangMs: (hangMs as number | undefined) ?? 30_000,
      shouldRetry: (b.shouldRetry as boolean | undefined) ?? null,
      injected: 0,
    },
  };
}

/** Registered faults and injection counters. */
export class FaultRegistry {
  private faults: Array<{ fault: Fault; test: (path: string) => boolean }> = [];
  /** Injected faults by kind since start/reset. */
  injected: Record<FaultKind, number> = { "5xx": 0, "429": 0, hang: 0 };

  constructor(private readonly random: () => number = Math.random) {}

  add(fault: Fault): Fault {
    this.faults.push({ fault, test: compilePattern(fault.path) });
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((f) => f.fault);
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.fault.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  /** Reset also zeroes the counters. */
  reset(): void {
    this.faults = [];
    this.injected = { "5xx": 0, "429": 0, hang: 0 };
  }

  /**
   * The fault to inject for this request, if any (first registered match that fires). Count-mode
   * faults are removed once used up.
   */
  take(method: string, relPath: string): Fault | null {
    for (const entry of this.faults) {
      const f = entry.fault;
      if (f.method !== null && f.method !== method) continue;
      if (!entry.test(relPath)) continue;
      if (f.rate !== null) {
        if (this.random() >= f.rate) continue;
      } else {
        f.remaining = (f.remaining ?? 1) - 1;
        if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== entry);
      }
      f.injected++;
      this.injected[f.kind]++;
      return f;
    }
    return null;
  }
}
