import type { z } from "zod";
import { ApiError, invalidRequest } from "./errors";

export const MAX_BODY_BYTES = 1024 * 1024;

export function json(body: unknown, init: ResponseInit = {}): Response {
  return jsonText(JSON.stringify(body), init);
}

/** A JSON response from an already serialised body. */
export function jsonText(text: string, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(text, { ...init, headers });
}

export function errorResponse(status: number, error: string, details: unknown = null, headers: Record<string, string> = {}): Response {
  return json({ error, details }, { status, headers });
}

/** `application/json`, or a `+json` type, with any parameters. */
export function isJsonContentType(value: string | null): boolean {
  const type = value?.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Reads a JSON body with a hard size cap (413 beyond 1 MiB) and validates it with zod. A body that
 * is not declared as JSON is refused (415): a cross-site form or `text/plain` request can then
 * never be taken for a JSON call. An empty body is read as `{}` whatever its type.
 */
export async function readJson<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
  const raw = request.body ? new TextDecoder().decode(await readCapped(request.body)) : "";
  let data: unknown = {};
  if (raw.trim() !== "" && !isJsonContentType(request.headers.get("content-type"))) {
    throw new ApiError(415, "Unsupported media type", {
      code: "unsupported_media_type",
      contentType: request.headers.get("content-type")?.slice(0, 100) ?? null,
      hint: "Send the body as JSON with Content-Type: application/json.",
    });
  }
  if (raw.trim() !== "") {
    try {
      data = JSON.parse(raw);
    } catch {
      throw new ApiError(400, "Invalid request", { formErrors: ["Request body must be valid JSON"], fieldErrors: {} });
    }
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw invalidRequest(parsed.error);
  return parsed.data;
}

/**
 * Caps every request body at MAX_BODY_BYTES (413) whether or not the route reads it. A declared
 * Content-Length is checked without reading; a body of unknown length (chunked) is read up to the
 * cap and handed on as a buffer.
 */
export async function limitBody(request: Request): Promise<Request> {
  if (!request.body) return request;
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\s*\d+\s*$/.test(declared)) {
    if (Number(declared) > MAX_BODY_BYTES) throw tooLarge();
    return request;
  }
  const body = await readCapped(request.body);
  return new Request(request, { body });
}

/** The whole stream as one buffer, refusing (413) as soon as it passes MAX_BODY_BYTES. */
async function readCapped(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function tooLarge(): ApiError {
  return new ApiError(413, "Request body too large", { limitBytes: MAX_BODY_BYTES });
}

/** Query string → object; keys listed in `repeatable` become arrays. */
export function queryObject(url: URL, repeatable: readonly string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    out[key] = repeatable.includes(key) ? url.searchParams.getAll(key) : (url.searchParams.get(key) ?? "");
  }
  return out;
}

export function parseQuery<S extends z.ZodType>(url: URL, schema: S, repeatable: readonly string[] = []): z.infer<S> {
  const parsed = schema.safeParse(queryObject(url, repeatable));
  if (!parsed.success) throw invalidRequest(parsed.error);
  return parsed.data;
}

export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

export const nowIso = (ms = Date.now()) => new Date(ms).toISOString();
