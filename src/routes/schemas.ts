import { z } from "zod";
import { normalizeDomain, ROOT_DOMAIN_RE } from "../domain/names";

const domainValue = z
  .string()
  .max(260)
  // Before lower-casing: "\u212A" (Kelvin sign) would otherwise fold into a real "k" domain.
  .refine((v) => /^[\x20-\x7e]*$/.test(v), { message: "mail domain must contain only ASCII characters (use the punycode xn-- form)" })
  .transform(normalizeDomain)
  .refine((v) => ROOT_DOMAIN_RE.test(v), { message: "Enter a valid mail domain, for example example.com" });

/** `mailDomain` is canonical, `rootDomain` its alias: either is accepted, both must agree. */
export function withDomainAlias<T extends z.ZodRawShape>(shape: T, required: boolean) {
  return z
    .object({ ...shape, mailDomain: domainValue.optional(), rootDomain: domainValue.optional() })
    .superRefine((v, ctx) => {
      const { mailDomain: m, rootDomain: r } = v as { mailDomain?: string; rootDomain?: string };
      if (m && r && m !== r) {
        ctx.addIssue({ code: "custom", path: ["mailDomain"], message: "mailDomain and rootDomain must match when both are provided" });
      }
      if (required && !m && !r) {
        ctx.addIssue({ code: "custom", path: ["mailDomain"], message: "Either mailDomain or rootDomain is required" });
      }
    })
    .transform((v) => {
      const { mailDomain, rootDomain } = v as { mailDomain?: string; rootDomain?: string };
      return { ...v, domain: mailDomain ?? rootDomain };
    });
}

/** Path ids: our ids are `<prefix>_<32 hex>`; anything else is simply not found. */
export const isId = (prefix: string, value: string | undefined): value is string =>
  typeof value === "string" && new RegExp(`^${prefix}_[0-9a-f]{32}$`).test(value);
