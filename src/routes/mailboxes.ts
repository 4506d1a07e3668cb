import { z } from "zod";
import { localPartSchema, subdomainSchema } from "../mailboxes/address";
import { canSee, effectiveStatusSql, getMailbox, toMailboxDTO, type MailboxRow } from "../mailboxes/repo";
import { MailboxService, MAX_TTL, MIN_TTL } from "../mailboxes/service";
import { ApiError, notFound } from "../lib/errors";
import { json, nowIso, parseQuery, readJson } from "../lib/http";
import { route, type AuthedContext } from "./define";
import { isId, withDomainAlias } from "./schemas";

const ttl = z.number().int().min(MIN_TTL).max(MAX_TTL).nullable().optional();
const STATUSES = ["active", "expired", "destroying", "destroyed"] as const;

const createSchema = withDomainAlias(
  {
    localPart: localPartSchema.optional(),
    subdomain: subdomainSchema.optional(),
    expiresInMinutes: ttl,
  },
  false,
);

const ensureAddress = z.object({ address: z.string().trim().min(3).max(320), expiresInMinutes: ttl }).strict();
const ensureSegments = withDomainAlias({ localPart: localPartSchema, subdomain: subdomainSchema, expiresInMinutes: ttl }, false);

async function visibleMailbox(c: AuthedContext, id: string | undefined): Promise<MailboxRow> {
  const row = isId("mbx", id) ? await getMailbox(c.env.DB, id) : null;
  if (!row || row.status === "creating") throw notFound("Mailbox not found");
  if (!canSee(c.auth, row)) throw new ApiError(403, "Forbidden");
  return row;
}

export const mailboxRoutes = [
  route({
    method: "GET",
    path: "/api/mailboxes",
    access: "user",
    handler: async (request, c) => {
      const q = parseQuery(
        c.url,
        z.object({
          status: z.array(z.enum(STATUSES)).optional(),
          scope: z.enum(["default", "workspace"]).optional(),
        }),
        ["status"],
      );
      const now = nowIso();
      const status = effectiveStatusSql("?1");
      const where: string[] = [`${status} <> 'creating'`];
      const binds: unknown[] = [now];
      if (c.auth.user.role !== "admin") {
        binds.push(c.auth.user.id);
        where.push(`user_id = ?${binds.length}`);
      }
      let wanted: string[] = q.status ?? [];
      if (q.scope === "workspace") wanted = wanted.length ? wanted.filter((s) => s === "active" || s === "destroying") : ["active", "destroying"];
      if (q.status || q.scope === "workspace") {
        if (wanted.length === 0) return json({ mailboxes: [] });
        where.push(`${status} IN (${wanted.map((s) => `'${s}'`).join(",")})`);
      }
      const { results } = await c.env.DB.prepare(`SELECT * FROM mailboxes WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT 1000`)
        .bind(...binds)
        .all<MailboxRow>();
      return json({ mailboxes: results.map((r) => toMailboxDTO(r, now)) });
    },
  }),
  route({
    method: "POST",
    path: "/api/mailboxes",
    access: "user",
    handler: async (request, c) => {
      const body = await readJson(request, createSchema);
      const mailbox = await new MailboxService(c.env, c.config).create(c.auth, body);
      return json(mailbox, { status: 201 });
    },
  }),
  route({
    method: "POST",
    path: "/api/mailboxes/ensure",
    access: "user",
    handler: async (request, c) => {
      const body = await readJson(request, z.union([ensureAddress, ensureSegments]));
      const { mailbox, created } = await new MailboxService(c.env, c.config).ensure(c.auth, body);
      return json(mailbox, { status: created ? 201 : 200 });
    },
  }),
  route({
    method: "GET",
    path: "/api/mailboxes/resolve",
    access: "user",
    handler: async (_request, c) => {
      const q = parseQuery(c.url, z.object({ address: z.string().trim().toLowerCase().pipe(z.email()) }));
      const row = await c.env.DB.prepare("SELECT * FROM mailboxes WHERE address = ? AND status IN ('active','expired')").bind(q.address).first<MailboxRow>();
      if (!row || !canSee(c.auth, row)) throw notFound("Mailbox not found");
      return json(toMailboxDTO(row));
    },
  }),
  route({
    method: "GET",
    path: "/api/mailboxes/:id",
    access: "user",
    handler: async (request, c) => json(toMailboxDTO(await visibleMailbox(c, request.params.id))),
  }),
  route({
    method: "DELETE",
    path: "/api/mailboxes/:id",
    access: "user",
    handler: async (request, c) => {
      const row = await visibleMailbox(c, request.params.id);
      return json(await new MailboxService(c.env, c.config).destroy(row));
    },
  }),
];
