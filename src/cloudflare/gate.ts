import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/**
 * One rate gate for the whole deployment. Cloudflare allows 1,200 requests per 5 minutes per
 * token; every isolate and every domain object asks this single object for a permit before it
 * calls Cloudflare, so the sum stays under the limit no matter how the work is spread.
 *
 * Model: a token bucket with `burst` permits refilled at `ratePerSecond`. In any 300 s window it
 * admits at most burst + 300 × rate requests, which the defaults keep at 92% of the limit.
 * Permits are reserved (the bucket may go negative): a caller is told how long to wait for its
 * slot and never races another caller for it. After a 429 the gate is closed until Retry-After
 * has passed; the deadline is stored so it survives eviction of the object.
 */
export type GateDecision = { ok: true; waitMs: number } | { ok: false; retryAfterMs: number; reason: "rate_limited" | "busy" };

export interface GateParams {
  burst: number;
  ratePerSecond: number;
}

export function gateParams(limitPer5Min: number): GateParams {
  const budget = Math.floor(limitPer5Min * 0.92);
  const burst = Math.max(1, Math.floor(limitPer5Min / 6));
  return { burst, ratePerSecond: Math.max(0.001, (budget - burst) / 300) };
}

/** The pure bucket, separate from the object so it can be unit-tested with a fake clock. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  blockedUntil = 0;
  constructor(
    private readonly params: GateParams,
    now: number,
  ) {
    this.tokens = params.burst;
    this.updatedAt = now;
  }
  private refill(now: number) {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.params.burst, this.tokens + elapsed * this.params.ratePerSecond);
    this.updatedAt = now;
  }
  acquire(now: number, maxWaitMs: number): GateDecision {
    this.refill(now);
    const blockedWait = Math.max(0, this.blockedUntil - now);
    const tokenWait = this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.params.ratePerSecond) * 1000;
    const waitMs = Math.ceil(Math.max(blockedWait, tokenWait));
    if (waitMs > maxWaitMs) {
      return { ok: false, retryAfterMs: waitMs, reason: blockedWait >= tokenWait ? "rate_limited" : "busy" };
    }
    this.tokens -= 1;
    return { ok: true, waitMs };
  }
  block(until: number) {
    this.blockedUntil = Math.max(this.blockedUntil, until);
  }
}

export class CloudflareGate extends DurableObject<Env> {
  private bucket: TokenBucket | null = null;

  private load(): TokenBucket {
    if (this.bucket) return this.bucket;
    const limit = Number(this.env.CLOUDFLARE_RATE_LIMIT_PER_5_MIN ?? "1200");
    this.bucket = new TokenBucket(gateParams(Number.isFinite(limit) && limit > 0 ? limit : 1200), Date.now());
    const stored = this.ctx.storage.kv.get<number>("blockedUntil");
    if (typeof stored === "number") this.bucket.block(stored);
    return this.bucket;
  }

  acquire(maxWaitMs: number): GateDecision {
    return this.load().acquire(Date.now(), maxWaitMs);
  }

  /** Cloudflare answered 429: hold every call until Retry-After has passed. */
  blockFor(retryAfterSeconds: number): number {
    const until = Date.now() + Math.max(1, retryAfterSeconds) * 1000;
    const bucket = this.load();
    bucket.block(until);
    this.ctx.storage.kv.put("blockedUntil", bucket.blockedUntil);
    return bucket.blockedUntil;
  }

  status(): { blockedUntil: number | null } {
    const b = this.load().blockedUntil;
    return { blockedUntil: b > Date.now() ? b : null };
  }

  /** Test hook: reopen the gate (the simulator was reset). */
  reset(): void {
    this.bucket = null;
    this.ctx.storage.kv.delete("blockedUntil");
  }
}
