/**
 * HTTP plumbing shared by the Cloudflare API and the control API: Cloudflare's envelope (key
 * order result, result_info, success, errors, messages), JSON body reading, path patterns, a
 * tiny method+path router and Cloudflare-style pagination. Imports node:http types and errors.ts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { cf, type CfErrorItem } from "./errors.ts";

// ── Envelope ───────────────────────────────────────────────────────────────────────────────

/** `result_info` of list endpoints. */
export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

/** An informational message (token verify puts one in `messages`). */
export interface CfMessage {
  code: number;
  message: string;
  type?: string | null;
}

/** What a Cloudflare API handler returns on success. */
export interface ApiResult {
  result: unknown;
  result_info?: ResultInfo;
  messages?: CfMessage[];
}

/** Success envelope in Cloudflare's key order. */
export function successEnvelope(r: ApiResult): Record<string, unknown> {
  return {
    result: r.result,
    ...(r.result_info ? { result_info: r.result_info } : {}),
    success: true,
    errors: [],
    messages: r.messages ?? [],
  };
}

/** Failure envelope in Cloudflare's key order (`result: null`). */
export function errorEnvelope(errors: CfErrorItem[]): Record<string, unknown> {
  return { result: null, success: false, errors, messages: [] };
}

/** Write a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

// ── Bodies ─────────────────────────────────────────────────────────────────────────────────

const MAX_BODY_BYTES = 1024 * 1024;

/** Read the whole request body as text; `null` when it exceeds 1 MiB (the rest is drained). */
export function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Parse a JSON body; empty → undefined; unparsable → 400 6007. */
export function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw cf.malformedJson();
  }
}

// ── Paths ──────────────────────────────────────────────────────────────────────────────────

/** Split a path into non-empty segments. */
export function segments(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

/**
 * Compile a path pattern (`/zones/:id/email/routing/rules`, `/zones/*`) into a matcher.
 * `:name` matches exactly one segment; `*` matches any number of segments (including none).
 */
export function compilePattern(pattern: string): (path: string) => boolean {
  const parts = segments(pattern).map((seg) => {
    if (seg === "*") return "(?:/[^/]+)*";
    if (seg.startsWith(":")) return "/[^/]+";
    return `/${seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
  });
  const re = new RegExp(`^${parts.join("")}/?$`);
  return (path: string) => re.test(path === "" ? "/" : path);
}

/** A registered route: method, `:param` pattern, handler. */
export interface Route<H> {
  method: string;
  parts: string[];
  handler: H;
}

/** Result of a router lookup. */
export type RouteMatch<H> =
  | { kind: "found"; handler: H; params: Record<string, string> }
  | { kind: "none" };

/** Minimal method + path router (first match in registration order wins). */
export class Router<H> {
  private readonly routes: Array<Route<H>> = [];

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ method, parts: segments(pattern), handler });
    return this;
  }

  match(method: string, path: string): RouteMatch<H> {
    const segs = segments(path);
    for (const route of this.routes) {
      if (route.method !== method || route.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const p = route.parts[i] as string;
        const s = segs[i] as string;
        if (p.startsWith(":")) {
          try {
            params[p.slice(1)] = decodeURIComponent(s);
          } catch {
            params[p.slice(1)] = s;
          }
        } else if (p !== s) {
          ok = false;
          break;
        }
      }
      if (ok) return { kind: "found", handler: route.handler, params };
    }
    return { kind: "none" };
  }
}

// ── Pagination ─────────────────────────────────────────────────────────────────────────────

/** Defaults and bounds of `page`/`per_page` on these endpoints. */
export const PAGE_DEFAULT = 1;
export const PER_PAGE_DEFAULT = 20;
export const PER_PAGE_MIN = 5;
export const PER_PAGE_MAX = 50;

/**
 * Cloudflare page pagination. `page` < 1 or unparsable → 1; `per_page` unparsable → 20, else
 * clamped into 5..50 (SIMULATOR CHOICE: Cloudflare documents the bounds, not what happens
 * outside them). A page past the end is `[]` with success.
 */
export function paginate<T>(items: readonly T[], query: URLSearchParams): { page: T[]; info: ResultInfo } {
  const rawPage = Math.floor(Number(query.get("page") ?? PAGE_DEFAULT));
  const page = Number.isFinite(rawPage) && rawPage >= 1 ? rawPage : PAGE_DEFAULT;
  const rawPer = query.get("per_page");
  const parsedPer = Math.floor(Number(rawPer ?? PER_PAGE_DEFAULT));
  const perPage =
    rawPer === null || !Number.isFinite(parsedPer)
      ? PER_PAGE_DEFAULT
      : Math.min(PER_PAGE_MAX, Math.max(PER_PAGE_MIN, parsedPer));
  const start = (page - 1) * perPage;
  const slice = items.slice(start, start + perPage);
  return {
    page: slice,
    info: {
      page,
      per_page: perPage,
      count: slice.length,
      total_count: items.length,
      total_pages: Math.ceil(items.length / perPage),
    },
  };
}
