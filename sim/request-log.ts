/**
 * In-memory log of Cloudflare API requests (never the token value: only its id). Capped at the
 * most recent 10,000 entries. Not persisted. Imports nothing.
 */

/** One logged request. */
export interface RequestLogEntry {
  seq: number;
  /** Arrival time, RFC 3339. */
  at: string;
  method: string;
  /** Full path, e.g. /client/v4/zones/<id>. */
  path: string;
  /** Query parameters (repeated keys become arrays). */
  query: Record<string, string | string[]>;
  /** HTTP status sent; 0 when the client went away before an answer (hang faults). */
  status: number;
  durationMs: number;
  tokenId: string | null;
  fault: "5xx" | "429" | "hang" | null;
}

const MAX_ENTRIES = 10_000;

/** Append-only request log with increasing `seq` numbers (starting at 1). */
export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private nextSeq = 1;
  /** Total requests ever logged since start/reset (not reduced by the cap or clear). */
  total = 0;

  add(entry: Omit<RequestLogEntry, "seq">): RequestLogEntry {
    const full = { seq: this.nextSeq++, ...entry };
    this.entries.push(full);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    this.total++;
    return full;
  }

  /** Entries with `seq > since`. */
  since(since = 0): RequestLogEntry[] {
    return this.entries.filter((e) => e.seq > since);
  }

  /** Drop the entries (seq keeps increasing). */
  clear(): void {
    this.entries = [];
  }

  /** Drop entries and restart numbering (reset). */
  reset(): void {
    this.entries = [];
    this.nextSeq = 1;
    this.total = 0;
  }
}

/** URLSearchParams → plain object, repeated keys as arrays. */
export function queryObject(q: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of q) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
