/**
 * Per-token sliding-window rate limiter (SIMULATOR CHOICE: sliding log, so a burst blocks for
 * exactly the time until the oldest counted request leaves the window). Rejected requests are
 * not counted. Imports nothing.
 */

/** Outcome of one check. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  windowSeconds: number;
  /** Requests left in the current window after this one. */
  remaining: number;
  /** Seconds until the oldest counted request leaves the window (rounded up). */
  resetSeconds: number;
  /** Only when rejected: seconds until a request is allowed again (rounded up, ≥ 1). */
  retryAfterSeconds: number;
}

/** Sliding log of request times per key. */
export class SlidingWindowLimiter {
  private readonly log = new Map<string, number[]>();

  constructor(private readonly config: () => { limit: number; windowSeconds: number }) {}

  /** Count a request for `key` at `now` (ms) if the window allows it. */
  check(key: string, now = Date.now()): RateDecision {
    const { limit, windowSeconds } = this.config();
    const windowMs = windowSeconds * 1000;
    const times = (this.log.get(key) ?? []).filter((t) => t > now - windowMs);
    const allowed = times.length < limit;
    if (allowed) times.push(now);
    this.log.set(key, times);
    const oldest = times[0] ?? now;
    const untilFree = Math.max(0, oldest + windowMs - now);
    return {
      allowed,
      limit,
      windowSeconds,
      remaining: Math.max(0, limit - times.length),
      resetSeconds: Math.ceil(untilFree / 1000),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(untilFree / 1000)),
    };
  }

  /** Forget all counters. */
  reset(): void {
    this.log.clear();
  }
}
