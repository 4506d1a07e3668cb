/**
 * `GET /api/meta` is public and polled by every page and API client, so it must not cost a D1
 * read per request (that read was most of its cost). The active domain list is kept per isolate
 * for a few seconds; a domain change made through this isolate (domain routes, and the domain
 * object's D1 projection) drops it at once, and other isolates see the change within the TTL.
 * Mailbox creation and every other decision still read D1.
 */
export const ACTIVE_DOMAINS_TTL_MS = 5_000;

let memo: { db: D1Database; at: number; domains: Promise<string[]> } | null = null;

export function forgetActiveDomains(): void {
  memo = null;
}

export function cachedActiveDomains(db: D1Database, load: (db: D1Database) => Promise<string[]>): Promise<string[]> {
  const now = Date.now();
  if (memo && memo.db === db && now - memo.at < ACTIVE_DOMAINS_TTL_MS) return memo.domains;
  const entry = { db, at: now, domains: load(db) };
  memo = entry;
  // A failed read is not remembered.
  entry.domains.catch(() => {
    if (memo === entry) memo = null;
  });
  return entry.domains;
}
