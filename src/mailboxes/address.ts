import { z } from "zod";

export const LOCAL_PART_RE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const SUBDOMAIN_RE = /^(?=.{1,190}$)[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)*$/;

export const localPartSchema = z.string().regex(LOCAL_PART_RE, "localPart must be 1-32 lowercase letters, digits or hyphens, starting and ending with a letter or digit");
export const subdomainSchema = z.string().regex(SUBDOMAIN_RE, "subdomain must be dot-separated labels of 1-32 lowercase letters, digits or hyphens (190 characters at most)");

/**
 * Addresses are ASCII. Anything else is refused *before* case folding: `toLowerCase()` turns the
 * Kelvin sign (U+212A) into "k" (and U+0130 into "i" + a combining dot), so folding first would
 * let a look-alike spelling land on, or create, someone's mailbox.
 */
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
export const isPrintableAscii = (value: string) => PRINTABLE_ASCII.test(value);

/** Trimmed and lower-cased, or null when it holds anything but printable ASCII. */
export function foldAddress(raw: string): string | null {
  const trimmed = raw.trim();
  return isPrintableAscii(trimmed) ? trimmed.toLowerCase() : null;
}

/** A full address in a request (ensure, resolve, filters): ASCII only, then lower-cased. */
export const addressSchema = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .refine(isPrintableAscii, "address must contain only ASCII letters, digits and symbols (no spaces or look-alike characters)")
  .transform((v) => v.toLowerCase());

export interface ParsedAddress {
  localPart: string;
  subdomain: string;
  rootDomain: string;
  address: string;
}

/** Splits `local@sub(.sub)*.root` against the known roots, longest root first. */
export function parseAddress(raw: string, roots: readonly string[]): ParsedAddress | null {
  const address = foldAddress(raw);
  if (address === null) return null;
  const at = address.lastIndexOf("@");
  if (at <= 0 || address.indexOf("@") !== at) return null;
  const localPart = address.slice(0, at);
  const host = address.slice(at + 1);
  if (!LOCAL_PART_RE.test(localPart)) return null;
  for (const root of [...roots].sort((a, b) => b.length - a.length)) {
    if (!host.endsWith(`.${root}`)) continue;
    const subdomain = host.slice(0, -(root.length + 1));
    if (!SUBDOMAIN_RE.test(subdomain)) return null;
    return { localPart, subdomain, rootDomain: root, address };
  }
  return null;
}

export const buildAddress = (localPart: string, subdomain: string, root: string) => `${localPart}@${subdomain}.${root}`;
