import { z } from "zod";
import pkg from "../../package.json";
import type { RouteDef, ResponseDoc } from "../routes/define";
import { ErrorEnvelope } from "./dto";

/**
 * The OpenAPI 3.1 document, generated from the route table: each route's method, path, access
 * level and scope, and the zod schemas it validates requests with and answers with (RouteDef.doc).
 * Nothing is written by hand, so the document cannot drift from the code; the contract test checks
 * every response the test suite receives against it.
 *
 * zod 4's own `z.toJSONSchema` does the conversion (JSON Schema 2020-12 is OpenAPI 3.1's dialect):
 * no extra dependency, and the same library that validates the requests describes them. Schemas
 * named with `.meta({ id })` become `#/components/schemas/<id>`.
 */

type JsonSchema = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No content",
  400: "Invalid request (details.formErrors / details.fieldErrors, or details.code)",
  401: "Authentication required, or the credential is invalid, revoked or its user disabled",
  403: "Not allowed: another user's resource, admin only, the key lacks the scope (details.code insufficient_scope), or a cross-site request",
  404: "Not found",
  409: "Conflict (details.code says which)",
  413: "Request body over 1 MiB",
  405: "Method not allowed",
  406: "Not acceptable: send the Accept header the protocol requires",
  415: "Body is not application/json",
  429: "Too many requests: throttled or over a quota (Retry-After header)",
  502: "Cloudflare answered with an unexpected error",
  503: "Cloudflare or a setting is unavailable; retry later",
};

function convert(schema: z.ZodType, io: "input" | "output", components: Record<string, JsonSchema>): JsonSchema {
  const out = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
  delete out.$schema;
  const defs = out.$defs as Record<string, JsonSchema> | undefined;
  delete out.$defs;
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === "object") {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = k === "$ref" && typeof x === "string" ? x.replace(/^#\/\$defs\//, "#/components/schemas/") : rewrite(x);
      return o;
    }
    return v;
  };
  // Input and output shapes of one named schema can differ (defaults, transforms): name them apart.
  for (const [id, def] of Object.entries(defs ?? {})) components[io === "input" ? `${id}Input` : id] = rewrite(def) as JsonSchema;
  const body = rewrite(out) as JsonSchema;
  return io === "input" ? (JSON.parse(JSON.stringify(body).replace(/#\/components\/schemas\/([A-Za-z0-9_]+)"/g, '#/components/schemas/$1Input"')) as JsonSchema) : body;
}

function responseContent(doc: ResponseDoc, components: Record<string, JsonSchema>) {
  if (doc === null) return undefined;
  if (doc === "binary") return { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } };
  if (doc === "html") return { "text/html": { schema: { type: "string" } } };
  if (doc === "event-stream") return { "text/event-stream": { schema: { type: "string", description: "id: <message id>\\nevent: message\\ndata: <MessageSummary JSON>" } } };
  return { "application/json": { schema: convert(doc, "output", components) } };
}

/** The error statuses a route can give, from its shape plus what it declares. */
export function errorStatuses(def: RouteDef): number[] {
  const s = new Set<number>(def.doc.errors ?? []);
  if (def.access !== "public") [401, 403, 429].forEach((x) => s.add(x));
  if (def.doc.query || def.doc.body) s.add(400);
  if (def.doc.body) [413, 415].forEach((x) => s.add(x));
  if (def.path.includes(":")) s.add(404);
  return [...s].sort((a, b) => a - b);
}

export const openApiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, "{$1}");

export function buildOpenApi(routes: readonly RouteDef[]): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  const errorRef = { $ref: "#/components/schemas/Error" };
  convert(ErrorEnvelope, "output", components); // registers #/components/schemas/Error
  for (const def of routes) {
    const method = def.method.toLowerCase();
    const path = openApiPath(def.path);
    const parameters: JsonSchema[] = [];
    for (const m of def.path.matchAll(/:([A-Za-z]+)/g)) parameters.push({ name: m[1], in: "path", required: true, schema: { type: "string" } });
    if (def.doc.query) {
      const q = convert(def.doc.query, "input", components) as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        const { description, ...rest } = schema;
        parameters.push({ name, in: "query", required: q.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest });
      }
    }
    for (const [name, description] of Object.entries(def.doc.headers ?? {})) parameters.push({ name, in: "header", required: false, description, schema: { type: "string" } });
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(def.doc.responses)) {
      const content = responseContent(doc, components);
      responses[status] = { description: STATUS_TEXT[Number(status)] ?? "OK", ...(content ? { content } : {}) };
    }
    const errorSchema = def.doc.errorBody ? { anyOf: [errorRef, convert(def.doc.errorBody, "output", components)] } : errorRef;
    for (const status of errorStatuses(def)) {
      responses[String(status)] = { description: STATUS_TEXT[status] ?? "Error", content: { "application/json": { schema: errorSchema } } };
    }
    paths[path] ??= {};
    paths[path][method] = {
      operationId: `${method}${def.path.replace(/[:/{}-]+([a-zA-Z])/g, (_m, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "")}`,
      summary: def.doc.summary,
      ...(def.doc.description ? { description: def.doc.description } : {}),
      tags: [def.path.split("/")[2] ?? "health"],
      security: def.access === "public" ? [] : [{ bearerKey: [] }, { sessionCookie: [] }],
      "x-kaisoumail-access": def.access,
      "x-kaisoumail-scope": def.scope,
      ...(parameters.length ? { parameters } : {}),
      ...(def.doc.body ? { requestBody: { required: true, content: { "application/json": { schema: convert(def.doc.body, "input", components) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "KaisouMail API",
      version: pkg.version,
      description:
        "Self-hosted temporary mailboxes on Cloudflare. Errors are always `{error, details}`; `details.code` is a stable machine-readable code. " +
        "Compatibility: adding fields or routes is not breaking; removing or renaming a field needs a new major version.",
    },
    servers: [{ url: "/" }],
    security: [{ bearerKey: [] }, { sessionCookie: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerKey: { type: "http", scheme: "bearer", description: "An API key (km_…). Its scopes limit what it may call." },
        sessionCookie: { type: "apiKey", in: "cookie", name: "__Host-kaisoumail_session", description: "The web page's session (kaisoumail_session outside production); writes need an allowed Origin." },
      },
    },
  };
}

let cached: string | null = null;
/** The document as JSON text, built once per isolate (the route table never changes at run time). */
export function openApiJson(routes: readonly RouteDef[]): string {
  cached ??= JSON.stringify(buildOpenApi(routes));
  return cached;
}
