import { z } from "zod";
import { ApiError } from "../lib/errors";
import { handleMcp, type ApiCall } from "../mcp/server";
import { handleFetch } from "../router";
import { route } from "./define";

/**
 * `POST /mcp`: the Model Context Protocol endpoint (src/mcp/server.ts). Bearer API keys only, like
 * any script; each tool call goes back through the HTTP API with the same key, so the key's
 * scopes and the usual access rules apply tool by tool.
 */
export const mcpRoutes = [
  route({
    method: "POST",
    path: "/mcp",
    access: "user",
    scope: "any",
    doc: {
      summary: "Model Context Protocol (Streamable HTTP, stateless): tools to create mailboxes and wait for codes",
      description:
        "JSON-RPC 2.0 over HTTP per the MCP specification. Tools: list_domains, create_mailbox, list_mailboxes, delete_mailbox, list_messages, read_message, wait_for_message. Send `Accept: application/json, text/event-stream`.",
      body: z.looseObject({ jsonrpc: z.literal("2.0") }).or(z.array(z.looseObject({ jsonrpc: z.literal("2.0") }))),
      responses: { 200: z.looseObject({}).or(z.array(z.looseObject({}))), 202: null },
      errors: [406, 415],
      errorBody: z
        .object({ jsonrpc: z.literal("2.0"), error: z.looseObject({ code: z.number().int(), message: z.string() }), id: z.union([z.string(), z.number(), z.null()]) })
        .meta({ id: "JsonRpcError" }),
    },
    handler: async (request, c) => {
      if (c.auth.via !== "api_key") {
        throw new ApiError(401, "Authentication required", null);
      }
      const authorization = request.headers.get("authorization")!;
      const call: ApiCall = async (method, path, body) => {
        const res = await handleFetch(
          new Request(new URL(path, c.url.origin), {
            method,
            headers: { authorization, ...(body === undefined ? {} : { "content-type": "application/json" }), "x-request-id": c.requestId },
            body: body === undefined ? undefined : JSON.stringify(body),
          }),
          c.env,
          c.exec,
        );
        const text = await res.text();
        let parsed: unknown = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = text;
        }
        return { status: res.status, body: parsed };
      };
      return handleMcp(request, call);
    },
  }),
];
