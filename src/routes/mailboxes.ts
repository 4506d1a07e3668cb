import { z } from "zod";
import { Mailbox, type MailboxDTO } from "../api/dto";
import { base64url, fromBase64url } from "../auth/crypto";
import { addressSchema, localPartSchema, subdomainSchema } from "../mailboxes/address";
import { canSee, effectiveStatusSql, getMailbox, toMailboxDTO, type MailboxRow } from "../mailboxes/repo";
import { MailboxService, MAX_TTL, MIN_TTL } from "../mailboxes/service";
import { ApiError, notFound } from "../lib/errors";
import { json, nowIso, parseQuery, readJson } from "../lib/http";
import { dispatchMailboxCreated } from "../webhooks/repo";
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

const ensureAddress = z.object({ address: addressSchema, expiresInMinutes: ttl }).strict();
const ensureSegments = withDomainAlias({ localPart: localPartSchema, subdomain: subdomainSchema, expiresInMinutes: ttl }, false);

/** Page size of GET /api/mailboxes when the caller gives none, and the largest it may ask for. */
const LIST_DEFAULT_LIMIT = 100;
const LIST_MAX_LIMIT = 1000;

/** Opaque cursor: the (createdAt, id) of the last row of the previous page. */
function encodeMailboxCursor(createdAt: string, id: string): string {
  return base64url(new TextEncoder().encode(`${createdAt}|${id}`));
}
function decodeMailboxCursor(cursor: string): { createdAt: string; id: string } {
  const bytes = fromBase64url(cursor);
  const [createdAt, id, extra] = bytes ? new TextDecoder().decode(bytes).split("|") : [];
  if (!createdAt || !id || extra !== undefined || Number.isNaN(Date.parse(createdAt)) || !/^mbx_[0-9a-f]{32}$/.test(id)) {
    throw new ApiError(400, "Invalid request", { formErrors: [], fieldErrors: { cursor: ["cursor is not valid"] } });
  }
  return { createdAt, id };
}

async function visibleMailbox(c: AuthedContext, id: string | undefined): Promise<MailboxRow> {
  const row = isId("mbx", id) ? await getMailbox(c.env.DB, id) : null;
  if (!row || row.status === "creating") throw notFound("Mailbox not found");
  if (!canSee(c.auth, row)) throw new ApiError(403, "Forbidden");
  return row;
}

/** The owners' emails of `rows` (an admin's view): one query, deleted users included (their mailboxes linger while destroyed). */
async function ownerEmails(c: AuthedContext, rows: MailboxRow[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.map((r) => r.user_id))];
  const map = new Map<string, string>();
  // D1 binds at most 100 values per statement.
  for (let i = 0; i < ids.length; i += 90) {
    const chunk = ids.slice(i, i + 90);
    const { results } = await c.env.DB.prepare(`SELECT id, email FROM users WHERE id IN (${chunk.map(() => "?").join(",")})`)
      .bind(...chunk)
      .all<{ id: string; email: string }>();
    for (const u of results) map.set(u.id, u.email);
  }
  return map;
}
const withOwner = (dto: MailboxDTO, owners: Map<string, string> | null): MailboxDTO =>
  owners ? { ...dto, owner: { id: dto.userId, email: owners.get(dto.userId) ?? "" } } : dto;

const listMailboxesQuery = z.object({
  status: z.array(z.enum(STATUSES)).optional().describe("Repeatable"),
  scope: z.enum(["default", "workspace"]).optional(),
  limit: z.coerce.number().int().min(1).max(LIST_MAX_LIMIT).default(LIST_DEFAULT_LIMIT),
  cursor: z.string().max(200).optional().describe("nextCursor of the previous page"),
  owner: z.string().regex(/^usr_[0-9a-f]{32}$/, "owner must be a user id").optional().describe("Admins: only this user's mailboxes (a member sees only their own either way)"),
});
const resolveQuery = z.object({ address: addressSchema.pipe(z.email()) });
const ensureSchema = z.union([ensureAddress, ensureSegments]);
/** Provisioning goes through the domain's object and Cloudflare: its failures, mapped. */
const PROVISION_ERRORS = [409, 429, 502, 503];

export const mailboxRoutes = [
  route({
    method: "GET",
    path: "/api/mailboxes",
    access: "user",
    scope: "mailboxes:read",
    doc: {
      summary: "Your mailboxes (all of them for an admin), newest first, a page at a time",
      query: listMailboxesQuery,
      responses: { 200: z.object({ mailboxes: z.array(Mailbox), nextCursor: z.string().nullable() }) },
    },
    handler: async (request, c) => {
      const q = parseQuery(c.url, listMailboxesQuery, ["status"]);
      const now = nowIso();
      const status = effectiveStatusSql("?1");
      const where: string[] = [`${status} <> 'creating'`];
      const binds: unknown[] = [now];
      const admin = c.auth.user.role === "admin";
      if (!admin) {
        binds.push(c.auth.user.id);
        where.push(`user_id = ?${binds.length}`);
      }
      // Like every filter, a member's `owner` narrows their own rows: someone else's id finds nothing.
      if (q.owner) {
        binds.push(q.owner);
        where.push(`user_id = ?${binds.length}`);
      }
      let wanted: string[] = q.status ?? [];
      if (q.scope === "workspace") wanted = wanted.length ? wanted.filter((s) => s === "active" || s === "destroying") : ["active", "destroying"];
      if (q.status || q.scope === "workspace") {
        if (wanted.length === 0) return json({ mailboxes: [], nextCursor: null });
        where.push(`${status} IN (${wanted.map((s) => `'${s}'`).join(",")})`);
      }
      if (q.cursor) {
        const cur = decodeMailboxCursor(q.cursor);
        binds.push(cur.createdAt, cur.id);
        where.push(`(created_at, id) < (?${binds.length - 1}, ?${binds.length})`);
      }
      // One row more than the page tells whether another page follows.
      const { results } = await c.env.DB.prepare(`SELECT * FROM mailboxes WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ${q.limit + 1}`)
        .bind(...binds)
        .all<MailboxRow>();
      const page = results.slice(0, q.limit);
      const last = page[page.length - 1];
      const owners = admin ? await ownerEmails(c, page) : null;
      return json({
        mailboxes: page.map((r) => withOwner(toMailboxDTO(r, now), owners)),
        nextCursor: results.length > q.limit && last ? encodeMailboxCursor(last.created_at, last.id) : null,
      });
    },
  }),
  route({
    method: "POST",
    path: "/api/mailboxes",
    access: "user",
    scope: "mailboxes:write",
    doc: {
      summary: "Create a mailbox: a random address, or chosen local part and subdomain, with a TTL",
      body: createSchema,
      responses: { 201: Mailbox },
      errors: PROVISION_ERRORS,
    },
    handler: async (request, c) => {
      const body = await readJson(request, createSchema);
      const mailbox = await new MailboxService(c.env, c.config).create(c.auth, body);
      c.exec.waitUntil(dispatchMailboxCreated(c.env, mailbox)); // webhooks, after the commit
      return json(mailbox, { status: 201 });
    },
  }),
  route({
    method: "POST",
    path: "/api/mailboxes/ensure",
    access: "user",
    scope: "mailboxes:write",
    doc: {
      summary: "Create the mailbox if it does not exist (201), or return yours and extend its TTL (200)",
      body: ensureSchema,
      responses: { 200: Mailbox, 201: Mailbox },
      errors: PROVISION_ERRORS,
    },
    handler: async (request, c) => {
      const body = await readJson(request, ensureSchema);
      const { mailbox, created } = await new MailboxService(c.env, c.config).ensure(c.auth, body);
      if (created) c.exec.waitUntil(dispatchMailboxCreated(c.env, mailbox)); // webhooks, after the commit
      return json(mailbox, { status: created ? 201 : 200 });
    },
  }),
  route({
    method: "GET",
    path: "/api/mailboxes/resolve",
    access: "user",
    scope: "mailboxes:read",
    doc: { summary: "Find one of your mailboxes by address", query: resolveQuery, responses: { 200: Mailbox }, errors: [404] },
    handler: async (_request, c) => {
      const q = parseQuery(c.url, resolveQuery);
      const row = await c.env.DB.prepare("SELECT * FROM mailboxes WHERE address = ? AND status IN ('active','expired')").bind(q.address).first<MailboxRow>();
      if (!row || !canSee(c.auth, row)) throw notFound("Mailbox not found");
      return json(toMailboxDTO(row));
    },
  }),
  route({
    method: "GET",
    path: "/api/mailboxes/:id",
    access: "user",
    scope: "mailboxes:read",
    doc: { summary: "One mailbox", responses: { 200: Mailbox } },
    handler: async (request, c) => {
      const row = await visibleMailbox(c, request.params.id);
      return json(withOwner(toMailboxDTO(row), c.auth.user.role === "admin" ? await ownerEmails(c, [row]) : null));
    },
  }),
  route({
    method: "DELETE",
    path: "/api/mailboxes/:id",
    access: "user",
    scope: "mailboxes:write",
    doc: {
      summary: "Destroy a mailbox: its routing rule, stored mail and rows (a failure is retried by the cron)",
      responses: { 200: Mailbox },
      errors: PROVISION_ERRORS,
    },
    handler: async (request, c) => {
      const row = await visibleMailbox(c, request.params.id);
      return json(await new MailboxService(c.env, c.config).destroy(row));
    },
  }),
];
