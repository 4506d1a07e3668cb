import { z } from "zod";
import { base64url, fromBase64url } from "../auth/crypto";
import { Catalog, Domain, type CatalogItemDTO } from "../api/dto";
import type { CfZone } from "../cloudflare/types";
import { catalogZones, readCatalog } from "../domain/catalog";
import { rowToDomainDTO, type DomainRow } from "../domain/dto";
import { forgetActiveDomains } from "../domain/active-domains";
import { classifyApex } from "../domain/names";
import { domainFailure, precondition, type CommandType, type DomainResult } from "../domain/object";
import { domainStub } from "../domain/stub";
import { ApiError, notFound } from "../lib/errors";
import { json, parseQuery, readJson } from "../lib/http";
import { route, type AuthedContext } from "./define";
import { isId, withDomainAlias } from "./schemas";

function answer(result: DomainResult, okStatus?: number): Response {
  forgetActiveDomains(); // GET /api/meta in this isolate reflects the change at once
  if (!result.ok) throw domainFailure(result);
  if (okStatus === 204) return new Response(null, { status: 204 });
  return json(result.domain, { status: okStatus ?? (result.created ? 201 : 200) });
}

function assertConfigured(c: AuthedContext, type: CommandType, hasZone: boolean): void {
  const pre = precondition(type, c.config, hasZone);
  if (pre) throw domainFailure(pre);
}

/**
 * `co.uk` or `github.io` is where other people register names, never a mail domain of its own:
 * refused on every path that creates a domain record (bind, enable from the catalog).
 */
function refusePublicSuffix(domain: string): void {
  const apex = classifyApex(domain);
  if (apex.kind !== "public_suffix") return;
  throw new ApiError(400, "A public suffix cannot be bound", {
    code: "public_suffix_not_supported",
    mailDomain: domain,
    suffixKind: apex.suffixKind,
    hint: `${domain} is a public suffix (${apex.suffixKind === "private" ? "a provider hands out names under it" : "names are registered under it"}); bind a domain registered under it instead, for example example.${domain}.`,
  });
}

async function domainRow(c: AuthedContext, id: string | undefined): Promise<DomainRow> {
  const row = isId("dom", id)
    ? await c.env.DB.prepare("SELECT * FROM domains WHERE id = ? AND status <> 'deleted'").bind(id).first<DomainRow>()
    : null;
  if (!row) throw notFound("Mailbox domain not found");
  return row;
}

type CatalogItem = CatalogItemDTO;

const catalogQuery = z.object({
  refresh: z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1").default(false).describe("true: list Cloudflare's zones now instead of the cached list"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(400).optional(),
});
const encodeCatalogCursor = (rootDomain: string) => base64url(new TextEncoder().encode(rootDomain));
function decodeCatalogCursor(cursor: string): string {
  const bytes = fromBase64url(cursor);
  const name = bytes ? new TextDecoder().decode(bytes) : "";
  if (!/^[a-z0-9.-]{1,253}$/.test(name)) throw new ApiError(400, "Invalid request", { formErrors: [], fieldErrors: { cursor: ["cursor is not valid"] } });
  return name;
}

export function mergeCatalog(rows: DomainRow[], zones: Array<Pick<CfZone, "id" | "name" | "status" | "name_servers">>): CatalogItem[] {
  const local = new Map(rows.map((r) => [r.root_domain, rowToDomainDTO(r)]));
  const remote = new Map(zones.map((z) => [z.name.toLowerCase(), z]));
  const keys = [...new Set([...local.keys(), ...remote.keys()])].sort();
  return keys.map((key) => {
    const row = local.get(key);
    const zone = remote.get(key);
    return {
      id: row?.id ?? null,
      mailDomain: key,
      rootDomain: key,
      zoneId: zone?.id ?? row?.zoneId ?? null,
      bindingSource: row?.bindingSource ?? null,
      cloudflareAvailability: zone ? "available" : "missing",
      cloudflareStatus: zone?.status ?? row?.cloudflareStatus ?? null,
      nameServers: zone?.name_servers ?? row?.nameServers ?? [],
      projectStatus: row?.status ?? "not_enabled",
      catchAllEnabled: row?.catchAllEnabled ?? false,
      lastProvisionError: row?.lastProvisionError ?? null,
      lastProvisionErrorCode: row?.lastProvisionErrorCode ?? null,
      lastProvisionErrorHint: row?.lastProvisionErrorHint ?? null,
      nextRetryAt: row?.nextRetryAt ?? null,
      createdAt: row?.createdAt ?? null,
      updatedAt: row?.updatedAt ?? null,
      lastProvisionedAt: row?.lastProvisionedAt ?? null,
      disabledAt: row?.disabledAt ?? null,
    };
  });
}

const bindSchema = withDomainAlias({}, true);
const enableSchema = withDomainAlias(
  { zoneId: z.string().trim().min(1, "zoneId is required").max(128).regex(/^[A-Za-z0-9]+$/, "zoneId must be a Cloudflare zone id") },
  true,
);

/** What a domain command can answer besides success: Cloudflare's failures, mapped (src/domain/errors.ts). */
const DOMAIN_ERRORS = [400, 404, 409, 429, 502, 503];

/** A domain action that is one command to the domain's object, answered with the domain. */
function domainAction(path: string, type: CommandType, summary: string, call: (stub: ReturnType<typeof domainStub>, root: string, c: AuthedContext) => Promise<DomainResult>) {
  return route({
    method: "POST",
    path: `/api/domains/:id/${path}`,
    access: "admin",
    scope: "admin",
    doc: { summary, responses: { 200: Domain }, errors: DOMAIN_ERRORS },
    handler: async (request, c) => {
      const row = await domainRow(c, request.params.id);
      assertConfigured(c, type, true);
      return answer(await call(domainStub(c.env, row.root_domain), row.root_domain, c), 200);
    },
  });
}

export const domainRoutes = [
  route({
    method: "GET",
    path: "/api/domains",
    access: "admin",
    scope: "admin",
    doc: { summary: "Mail domains known to this deployment (deleted ones excluded)", responses: { 200: z.object({ domains: z.array(Domain) }) } },
    handler: async (_req, c) => {
      const { results } = await c.env.DB.prepare("SELECT * FROM domains WHERE status <> 'deleted' ORDER BY root_domain ASC").all<DomainRow>();
      return json({ domains: results.map(rowToDomainDTO) });
    },
  }),
  route({
    method: "GET",
    path: "/api/domains/catalog",
    access: "admin",
    scope: "admin",
    doc: {
      summary: "Cloudflare's zones merged with this deployment's domains; rate limits degrade to the local rows",
      description:
        "The zone list is cached for 60 s (stale-while-revalidate: an older list is answered at once while one background sweep refreshes it); `refresh=true` lists Cloudflare's zones before answering. Sorted by domain and paged with `cursor` and `limit`.",
      query: catalogQuery,
      responses: { 200: Catalog },
      errors: [400, 404, 409, 502, 503],
    },
    handler: async (_req, c) => {
      const q = parseQuery(c.url, catalogQuery);
      const { rows, cache } = await readCatalog(c);
      const { zones, sync } = await catalogZones(c, cache, q.refresh);
      const all = mergeCatalog(rows, zones);
      const after = q.cursor ? decodeCatalogCursor(q.cursor) : null;
      const start = after === null ? 0 : all.findIndex((d) => d.rootDomain > after);
      const page = start < 0 ? [] : all.slice(start, start + q.limit);
      const more = start >= 0 && start + q.limit < all.length;
      return json({ domains: page, cloudflareSync: sync, nextCursor: more ? encodeCatalogCursor(page[page.length - 1]!.rootDomain) : null, total: all.length });
    },
  }),
  route({
    method: "POST",
    path: "/api/domains/bind",
    access: "admin",
    scope: "admin",
    doc: {
      summary: "Bind an apex domain: create its Cloudflare zone (pending until nameservers are delegated; retried by itself)",
      body: bindSchema,
      responses: { 200: Domain, 201: Domain },
      errors: DOMAIN_ERRORS,
    },
    handler: async (request, c) => {
      const body = await readJson(request, bindSchema);
      const domain = body.domain!;
      refusePublicSuffix(domain);
      const apex = classifyApex(domain);
      if (apex.kind === "subdomain") {
        // A record that already exists for this name (enabled earlier from the catalog) may be re-provisioned.
        const existing = await c.env.DB.prepare("SELECT id FROM domains WHERE root_domain = ? AND status <> 'deleted'").bind(domain).first();
        if (!existing) {
          throw new ApiError(400, "Direct subdomain binding is not supported", {
            code: "subdomain_direct_bind_not_supported",
            mailDomain: domain,
            recommendedApex: apex.apex,
            recommendedMailboxSubdomain: apex.label,
            hint: `Bind ${apex.apex}, then create mailboxes with subdomain "${apex.label}" to receive mail at user@${domain}.`,
          });
        }
      }
      const known = await c.env.DB.prepare("SELECT zone_id FROM domains WHERE root_domain = ?").bind(domain).first<{ zone_id: string | null }>();
      assertConfigured(c, "BIND", Boolean(known?.zone_id));
      return answer(await domainStub(c.env, domain).bind(domain));
    },
  }),
  route({
    method: "POST",
    path: "/api/domains",
    access: "admin",
    scope: "admin",
    doc: { summary: "Enable a zone that already exists in Cloudflare (from the catalog)", body: enableSchema, responses: { 200: Domain, 201: Domain }, errors: DOMAIN_ERRORS },
    handler: async (request, c) => {
      const body = await readJson(request, enableSchema);
      refusePublicSuffix(body.domain!);
      assertConfigured(c, "ENABLE", true);
      return answer(await domainStub(c.env, body.domain!).enable(body.domain!, body.zoneId.toLowerCase()));
    },
  }),
  route({
    method: "POST",
    path: "/api/domains/:id/delete",
    access: "admin",
    scope: "admin",
    doc: { summary: "Delete a domain (and the zone it created); refused while it has mailboxes", responses: { 204: null }, errors: DOMAIN_ERRORS },
    handler: async (request, c) => {
      const row = await domainRow(c, request.params.id);
      assertConfigured(c, "DELETE", true);
      const blocking = await c.env.DB.prepare("SELECT COUNT(*) AS n FROM mailboxes WHERE domain_id = ? AND status <> 'destroyed'")
        .bind(row.id)
        .first<number>("n");
      if (blocking) {
        throw new ApiError(409, "Mailbox domain still has non-destroyed mailboxes", {
          code: "domain_has_mailboxes",
          domainId: row.id,
          rootDomain: row.root_domain,
          mailboxes: blocking,
          hint: "Delete the domain's mailboxes first (DELETE /api/mailboxes/:id).",
        });
      }
      return answer(await domainStub(c.env, row.root_domain).remove(row.root_domain), 204);
    },
  }),
  domainAction("retry", "RETRY", "Check a pending or failed domain again now", (stub, root) => stub.retry(root)),
  domainAction("disable", "DISABLE", "Disable a domain: no new mailboxes; catch-all rules restored", (stub, root) => stub.disable(root)),
  domainAction("catch-all/enable", "CATCH_ALL_ENABLE", "Turn catch-all on: mail to any address becomes a mailbox of the calling admin", (stub, root, c) => stub.catchAllEnable(root, c.auth.user.id)),
  domainAction("catch-all/disable", "CATCH_ALL_DISABLE", "Turn catch-all off and restore the zone's previous catch-all rule", (stub, root) => stub.catchAllDisable(root)),
];
