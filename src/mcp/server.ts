import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";
import { z } from "zod";
import pkg from "../../package.json";
import { Mailbox, MessageSummary } from "../api/dto";
import { htmlToText } from "../mail/html-to-text";

/**
 * The built-in MCP server (`POST /mcp`, Streamable HTTP, stateless, JSON answers), for AI agents
 * that need an inbox and a verification code. It uses the official SDK, so the protocol revision is
 * the SDK's, not ours to re-implement.
 *
 * Every tool is a thin call to the HTTP API in the same isolate, with the caller's own
 * Authorization header: the same access rules, scopes, quotas and validation apply, and an API
 * failure comes back as an MCP tool error carrying the same `details.code` and `hint`.
 */

/** Calls one HTTP API route in-process as the MCP caller. */
export type ApiCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** The text of a message body an agent gets at most (the rest is cut, and said so). */
const BODY_CHARS = 20_000;

const cap = (s: string | null | undefined) => (s == null ? null : s.length > BODY_CHARS ? `${s.slice(0, BODY_CHARS)}\n…[cut at ${BODY_CHARS} characters]` : s);

function toolError(status: number, body: any): CallToolResult {
  const details = body?.details && typeof body.details === "object" ? body.details : null;
  const text = [`${status} ${body?.error ?? "Request failed"}`, details?.code && `code: ${details.code}`, details?.hint && `hint: ${details.hint}`].filter(Boolean).join("\n");
  return { isError: true, content: [{ type: "text", text }], structuredContent: { error: body?.error ?? "Request failed", status, details } };
}

const ok = (structured: Record<string, unknown>, text?: string): CallToolResult => ({
  content: [{ type: "text", text: text ?? JSON.stringify(structured) }],
  structuredContent: structured,
});

const q = (params: Record<string, string | number | boolean | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") s.set(k, String(v));
  const t = s.toString();
  return t ? `?${t}` : "";
};

const mailboxArg = z.string().min(3).max(320).describe("The mailbox address, e.g. ava@qa.example.com");

export function buildMcpServer(call: ApiCall): McpServer {
  const server = new McpServer(
    { name: "kaisoumail", version: pkg.version },
    {
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
      instructions:
        "KaisouMail gives you temporary mailboxes. Typical flow: create_mailbox → use the address to sign up elsewhere → wait_for_message with hasCode=true → read the code or link.",
    },
  );

  server.registerTool(
    "list_domains",
    { title: "List mail domains", description: "The active mail domains new mailboxes can use.", outputSchema: { domains: z.array(z.string()) }, annotations: { readOnlyHint: true } },
    async () => {
      const r = await call("GET", "/api/meta");
      return r.status === 200 ? ok({ domains: r.body.domains }) : toolError(r.status, r.body);
    },
  );

  server.registerTool(
    "create_mailbox",
    {
      title: "Create a mailbox",
      description: "Creates a mailbox: a random readable address unless localPart and subdomain are given. Returns its address.",
      inputSchema: {
        localPart: z.string().max(64).optional().describe("Local part (before @); give it with subdomain"),
        subdomain: z.string().max(190).optional().describe("Subdomain under the mail domain; give it with localPart"),
        domain: z.string().max(260).optional().describe("One of list_domains; random when left out"),
        ttlMinutes: z.number().int().min(60).max(525_600).optional().describe("Lifetime in minutes (default: the deployment's)"),
      },
      outputSchema: { mailbox: Mailbox },
    },
    async (a) => {
      const r = await call("POST", "/api/mailboxes", {
        ...(a.localPart !== undefined ? { localPart: a.localPart } : {}),
        ...(a.subdomain !== undefined ? { subdomain: a.subdomain } : {}),
        ...(a.domain ? { mailDomain: a.domain } : {}),
        ...(a.ttlMinutes !== undefined ? { expiresInMinutes: a.ttlMinutes } : {}),
      });
      return r.status === 201 ? ok({ mailbox: r.body }, `Created ${r.body.address} (expires ${r.body.expiresAt ?? "never"})`) : toolError(r.status, r.body);
    },
  );

  server.registerTool(
    "list_mailboxes",
    {
      title: "List mailboxes",
      description: "Your mailboxes, newest first, a page at a time.",
      inputSchema: { cursor: z.string().max(200).optional().describe("nextCursor of the previous page") },
      outputSchema: { mailboxes: z.array(Mailbox), nextCursor: z.string().nullable() },
      annotations: { readOnlyHint: true },
    },
    async (a) => {
      const r = await call("GET", `/api/mailboxes${q({ cursor: a.cursor, limit: 50 })}`);
      return r.status === 200 ? ok({ mailboxes: r.body.mailboxes, nextCursor: r.body.nextCursor }) : toolError(r.status, r.body);
    },
  );

  server.registerTool(
    "delete_mailbox",
    {
      title: "Delete a mailbox",
      description: "Destroys a mailbox and all its mail.",
      inputSchema: { mailbox: mailboxArg },
      outputSchema: { mailbox: Mailbox },
      annotations: { destructiveHint: true },
    },
    async (a) => {
      const found = await call("GET", `/api/mailboxes/resolve${q({ address: a.mailbox })}`);
      if (found.status !== 200) return toolError(found.status, found.body);
      const r = await call("DELETE", `/api/mailboxes/${found.body.id}`);
      return r.status === 200 ? ok({ mailbox: r.body }, `Deleted ${a.mailbox}`) : toolError(r.status, r.body);
    },
  );

  server.registerTool(
    "list_messages",
    {
      title: "List messages",
      description: "Messages of one mailbox, newest first, with any verification code already extracted.",
      inputSchema: { mailbox: mailboxArg, cursor: z.string().max(200).optional() },
      outputSchema: { messages: z.array(MessageSummary), nextCursor: z.string().nullable() },
      annotations: { readOnlyHint: true },
    },
    async (a) => {
      const r = await call("GET", `/api/messages${q({ mailbox: a.mailbox, cursor: a.cursor, limit: 50 })}`);
      return r.status === 200 ? ok({ messages: r.body.messages, nextCursor: r.body.nextCursor }) : toolError(r.status, r.body);
    },
  );

  const readOutput = {
    id: z.string(),
    mailbox: z.string(),
    from: z.string().nullable(),
    subject: z.string(),
    receivedAt: z.string(),
    verification: MessageSummary.shape.verification,
    text: z.string().nullable().describe(`Plain text body (or the HTML as text), at most ${BODY_CHARS} characters`),
  };
  server.registerTool(
    "read_message",
    {
      title: "Read a message",
      description: "One message: sender, subject, its verification code or link, and the body as plain text (size-capped).",
      inputSchema: { id: z.string().max(64).describe("Message id (msg_…)") },
      outputSchema: readOutput,
      annotations: { readOnlyHint: true },
    },
    async (a) => {
      const r = await call("GET", `/api/messages/${encodeURIComponent(a.id)}`);
      if (r.status !== 200) return toolError(r.status, r.body);
      const m = r.body.message;
      const text = cap(m.text ?? (m.html ? htmlToText(m.html) : null));
      return ok({
        id: m.id,
        mailbox: m.mailboxAddress,
        from: m.fromAddress,
        subject: m.subject,
        receivedAt: m.receivedAt,
        verification: m.verification,
        text,
      });
    },
  );

  server.registerTool(
    "wait_for_message",
    {
      title: "Wait for a message",
      description:
        "Waits (up to timeoutSeconds, at most 60) for the next message of a mailbox and returns it with its verification code and link. " +
        "With hasCode=true, only a message that carries a code or a link counts. Returns message=null on timeout; call again to keep waiting.",
      inputSchema: {
        mailbox: mailboxArg,
        timeoutSeconds: z.number().int().min(1).max(60).optional().describe("Default 30"),
        hasCode: z.boolean().optional(),
        after: z.string().max(64).optional().describe("Only messages newer than this message id count (resume after an earlier wait)"),
      },
      outputSchema: { message: MessageSummary.nullable(), code: z.string().nullable(), link: z.string().nullable() },
      annotations: { readOnlyHint: true },
    },
    async (a) => {
      const r = await call("GET", `/api/messages/wait${q({ mailbox: a.mailbox, timeout: a.timeoutSeconds ?? 30, hasCode: a.hasCode, after: a.after })}`);
      if (r.status === 204) return ok({ message: null, code: null, link: null }, `No message for ${a.mailbox} yet.`);
      if (r.status !== 200) return toolError(r.status, r.body);
      const m = r.body.message;
      const code = m.verification?.code ?? null;
      const link = m.verification?.link ?? null;
      return ok({ message: m, code, link }, code ? `Code: ${code}` : link ? `Link: ${link}` : `Message ${m.id}: ${m.subject}`);
    },
  );

  return server;
}

/** Answers one MCP request: a fresh server and transport per request (stateless). */
export async function handleMcp(request: Request, call: ApiCall): Promise<Response> {
  const server = buildMcpServer(call);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    // JSON responses are complete when returned: nothing of this request stays open.
    await server.close().catch(() => {});
  }
}
