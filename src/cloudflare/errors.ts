/**
 * A Cloudflare failure, classified once. `retryable` is true for 5xx, 429, network errors and
 * timeouts (the same request may succeed later); 4xx answers are permanent until someone changes
 * permissions, configuration or the request.
 */
export interface CloudflareFailure {
  status: number; // HTTP status; 0 for a network error, 504 for our own timeout
  code: number | null; // Cloudflare's errors[0].code
  message: string;
  retryable: boolean;
  retryAfterSeconds: number | null;
  kind: "http" | "network" | "timeout" | "rate_limited" | "gate";
  method: string;
  path: string;
}

export class CloudflareApiError extends Error implements CloudflareFailure {
  readonly status: number;
  readonly code: number | null;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | null;
  readonly kind: CloudflareFailure["kind"];
  readonly method: string;
  readonly path: string;
  constructor(f: CloudflareFailure) {
    super(f.message);
    this.name = "CloudflareApiError";
    this.status = f.status;
    this.code = f.code;
    this.retryable = f.retryable;
    this.retryAfterSeconds = f.retryAfterSeconds;
    this.kind = f.kind;
    this.method = f.method;
    this.path = f.path;
  }
  toJSON(): CloudflareFailure {
    return {
      status: this.status,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      retryAfterSeconds: this.retryAfterSeconds,
      kind: this.kind,
      method: this.method,
      path: this.path,
    };
  }
}

export function isCloudflareError(e: unknown): e is CloudflareApiError {
  return e instanceof CloudflareApiError;
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.max(0, Math.ceil(Number(trimmed)));
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
