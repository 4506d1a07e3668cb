import { parse } from "tldts";

/** Root-domain syntax (reference §4.1): 2+ labels of [a-z0-9-], 1–63 chars, no edge hyphens, ≤ 253. */
export const ROOT_DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lowercase, trimmed, no trailing dot: the one spelling used for `idFromName` and the D1 row. */
export function normalizeDomain(input: string): string {
  return input.trim().toLowerCase().replace(/\.+$/, "");
}

export type Apexness =
  | { kind: "apex"; domain: string }
  | { kind: "subdomain"; domain: string; apex: string; label: string }
  | { kind: "public_suffix"; domain: string; suffixKind: "icann" | "private" }
  | { kind: "unknown"; domain: string };

/**
 * Apex, subdomain or public suffix, decided with the public-suffix list including private
 * suffixes (tldts): `co.uk` and `github.io` are suffixes other people register names under, never
 * a domain of their own.
 */
export function classifyApex(domain: string): Apexness {
  const info = parse(domain, { allowPrivateDomains: true });
  if (info.publicSuffix === domain && (info.isIcann || info.isPrivate)) {
    return { kind: "public_suffix", domain, suffixKind: info.isPrivate ? "private" : "icann" };
  }
  const apex = info.domain;
  if (!apex) return { kind: "unknown", domain };
  if (apex === domain) return { kind: "apex", domain };
  if (domain.endsWith(`.${apex}`)) return { kind: "subdomain", domain, apex, label: domain.slice(0, -(apex.length + 1)) };
  return { kind: "unknown", domain };
}
