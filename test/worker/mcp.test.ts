/**
 * The MCP endpoint inside workerd, driven by the official MCP TypeScript client (its transport's
 * fetch goes to the Worker's own fetch handler). The same flow runs over real HTTP against
 * `wrangler dev` in test/node/start.test.ts.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { activeDomain, api, deliverViaWorker, makeUser, resetCloudflare, type Caller } from "./helpers";

const root = "mcp-test.com";
let admin: Caller;
let member: Caller;

beforeAll(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  member = await makeUser("member");
  await activeDomain(admin.key, root);
});

async function connect(key: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL("http://kaisoumail.test/mcp"), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
    fetch: (input, init) => exports.default.fetch(new Request(input as RequestInfo, init)),
  });
  const client = new Client({ name: "kaisoumail-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

async function deliver(to: string, body: string): Promise<void> {
  const raw = new TextEncoder().encode(
    `From: Acme <no-reply@acme.example>\r\nTo: ${to}\r\nSubject: Your code\r\nMessage-ID: <${crypto.randomUUID()}@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
  );
  await deliverViaWorker(raw, to);
}

describe("MCP server (official client)", () => {
  it("lists its tools with input and output schemas", async () => {
    const client = await connect(member.key);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["create_mailbox", "delete_mailbox", "list_domains", "list_mailboxes", "list_messages", "read_message", "wait_for_message"]);
    for (const t of tools) {
      expect(t.inputSchema.type).toBe("object");
      expect(t.outputSchema?.type, t.name).toBe("object");
    }
    await client.close();
  });

  it("creates a mailbox, waits for a mail and gets its code, reads and lists it, then deletes the mailbox", async () => {
    const client = await connect(member.key);
    const domains = await client.callTool({ name: "list_domains", arguments: {} });
    expect((domains.structuredContent as { domains: string[] }).domains).toContain(root);
    const created = await client.callTool({ name: "create_mailbox", arguments: { domain: root } });
    expect(created.isError).toBeFalsy();
    const address = (created.structuredContent as { mailbox: { address: string } }).mailbox.address;
    expect(address).toMatch(new RegExp(`@.+\\.${root.replace(".", "\\.")}$`));

    const waiting = client.callTool({ name: "wait_for_message", arguments: { mailbox: address, timeoutSeconds: 20, hasCode: true } });
    await new Promise((r) => setTimeout(r, 300));
    await deliver(address, "Your sign-in code is 604925. It expires in 10 minutes.");
    const got = await waiting;
    expect(got.isError).toBeFalsy();
    const s = got.structuredContent as { code: string; message: { id: string } };
    expect(s.code).toBe("604925");

    const read = await client.callTool({ name: "read_message", arguments: { id: s.message.id } });
    expect((read.structuredContent as { text: string }).text).toContain("604925");
    const listed = await client.callTool({ name: "list_messages", arguments: { mailbox: address } });
    expect((listed.structuredContent as { messages: unknown[] }).messages).toHaveLength(1);
    const mine = await client.callTool({ name: "list_mailboxes", arguments: {} });
    expect(JSON.stringify(mine.structuredContent)).toContain(address);
    const timeout = await client.callTool({ name: "wait_for_message", arguments: { mailbox: address, timeoutSeconds: 1, after: s.message.id } });
    expect(timeout.structuredContent).toEqual({ message: null, code: null, link: null });
    const deleted = await client.callTool({ name: "delete_mailbox", arguments: { mailbox: address } });
    expect((deleted.structuredContent as { mailbox: { status: string } }).mailbox.status).toBe("destroyed");
    await client.close();
  });

  it("answers API failures as tool errors with the same details.code and hint, never a protocol error", async () => {
    const client = await connect(member.key);
    const other = await makeUser();
    const theirs = await api("POST", "/api/mailboxes", { key: other.key, body: { mailDomain: root } });
    const res = await client.callTool({ name: "wait_for_message", arguments: { mailbox: theirs.body.address, timeoutSeconds: 1 } });
    expect(res.isError).toBe(true);
    expect(res.structuredContent).toMatchObject({ status: 403, error: "Forbidden" });
    const bad = await client.callTool({ name: "create_mailbox", arguments: { domain: "not-enabled.example" } });
    expect(bad.isError).toBe(true);
    expect(bad.structuredContent).toMatchObject({ status: 400, details: { code: "domain_not_enabled" } });
    expect((bad.content as Array<{ text: string }>)[0]!.text).toContain("code: domain_not_enabled");
    // A scoped key's limits apply tool by tool.
    const reader = (await api("POST", "/api/api-keys", { key: member.key, body: { name: "reader", scopes: ["messages:read"] } })).body.apiKey;
    const limited = await connect(reader);
    const refused = await limited.callTool({ name: "create_mailbox", arguments: {} });
    expect(refused.structuredContent).toMatchObject({ status: 403, details: { code: "insufficient_scope" } });
    await limited.close();
    await client.close();
  });

  it("refuses a revoked key, no key, and a session cookie", async () => {
    const revoked = await makeUser();
    const keyId = (await api("GET", "/api/api-keys", { key: revoked.key })).body.apiKeys[0].id;
    await api("POST", `/api/api-keys/${keyId}/revoke`, { key: revoked.key });
    await expect(connect(revoked.key)).rejects.toThrow(/Authentication required/);
    const anon = await api("POST", "/mcp", { body: { jsonrpc: "2.0", id: 1, method: "tools/list" }, headers: { accept: "application/json, text/event-stream" } });
    expect(anon.status).toBe(401);
    const session = await api("POST", "/api/auth/session", { body: { apiKey: member.key } });
    const cookie = session.res.headers.get("set-cookie")!.split(";")[0]!;
    const viaCookie = await api("POST", "/mcp", { body: { jsonrpc: "2.0", id: 1, method: "tools/list" }, headers: { cookie, origin: "http://kaisoumail.test", accept: "application/json, text/event-stream" } });
    expect(viaCookie.status).toBe(401);
  });
});
