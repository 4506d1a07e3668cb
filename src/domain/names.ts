import { getDomain } from "tldts";

/** Root-domain syntax (reference §4.1): 2+ labels of [a-z0-9-], 1–63 chars, no edge hyphens, ≤ 253. */
export const ROOT_DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lowercase, trimmed, no trailing dot: the one spelling used for `idFromName` and the D1 row. */
export function normalizeDomain(input: string): string {
  return input.trim().toLowerCase().replace(/\.+$/, "");
}

export type Apexness =
  | { kind: "apex"; domain: string }
  | { kind: "subdomain"; domain: string; apex: string; label: string }
  | { kind: "unknown"; domain: string };

/** Apex or subdomain, decided with the public-suffix list including private suffixes (tldts). */
export function classifyApex(domain: string): Apexness {
  const apex = getDomain(domain, { allowPrivateDomains: true });
  if (!apex) return { kind: "unknown", domain };
  if (apex === domain) return { kind: "apex", domain };
  if (domain.endsWith(`.${apex}`)) return { kind: "subdomain", domain, apex, label: domain.slice(0, -(apex.length + 1)) };
  return { kind: "unknown", domain };
}
