import { capabilityFlags, type Config } from "../config";
import { cachedActiveDomains } from "../domain/active-domains";
import { json, jsonText } from "../lib/http";
import { route } from "./define";
import { z } from "zod";
import { Meta } from "../api/dto";

export const MIN_TTL_MINUTES = 60;
export const MAX_TTL_MINUTES = 525_600;
export const LOCAL_PART_PATTERN = "^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$";
export const SUBDOMAIN_PATTERN =
  "^(?=.{1,190}$)[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)*$";

export async function activeRootDomains(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT root_domain FROM domains WHERE status = 'active' ORDER BY root_domain ASC")
    .all<{ root_domain: string }>();
  return results.map((r) => r.root_domain);
}

/** The body for a domain list and config, serialised once per change of either (meta is polled). */
let lastBody: { domains: string[]; config: Config; text: string } | null = null;
function metaBody(domains: string[], config: Config): string {
  if (lastBody?.domains === domains && lastBody.config === config) return lastBody.text;
  const text = JSON.stringify({
    domains,
    ...capabilityFlags(config),
    supportsUnlimitedMailboxTtl: true,
    defaultMailboxTtlMinutes: config.defaultMailboxTtlMinutes,
    minMailboxTtlMinutes: MIN_TTL_MINUTES,
    maxMailboxTtlMinutes: MAX_TTL_MINUTES,
    // The longest TTL a member may choose (null: no cap, unlimited allowed); admins are exempt.
    memberMaxMailboxTtlMinutes: config.memberMaxTtlMinutes,
    addressRules: {
      format: "localPart@subdomain.rootDomain",
      localPartPattern: LOCAL_PART_PATTERN,
      subdomainPattern: SUBDOMAIN_PATTERN,
      examples: domains.slice(0, 2).flatMap((d) => [`ava-lin@desk.hub.${d}`, `hello@ops.alpha.${d}`]),
    },
  });
  lastBody = { domains, config, text };
  return text;
}

export const metaRoutes = [
  route({
    method: "GET",
    path: "/health",
    access: "public",
    scope: "any",
    doc: { summary: "Liveness: the Worker and D1 answer", responses: { 200: z.object({ ok: z.boolean() }) } },
    handler: async (_req, c) => {
      await c.env.DB.prepare("SELECT 1").first();
      return json({ ok: true });
    },
  }),
  route({
    method: "GET",
    path: "/api/meta",
    access: "public",
    scope: "any",
    doc: { summary: "Active mail domains, capabilities and address rules (public)", responses: { 200: Meta } },
    handler: async (_req, c) => {
      const domains = await cachedActiveDomains(c.env.DB, activeRootDomains);
      return jsonText(metaBody(domains, c.config), { headers: { "cache-control": "no-store" } });
    },
  }),
];
