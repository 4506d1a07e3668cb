import { Router, type IRequest } from "itty-router";
import { authenticate, authRequired } from "./auth/authenticate";
import { allowedOrigin } from "./auth/origin";
import { hasScope, isRouteScope } from "./auth/scopes";
import { loadConfig, type Config } from "./config";
import type { Env } from "./env";
import { ApiError } from "./lib/errors";
import { errorResponse, json, limitBody } from "./lib/http";
import { log } from "./lib/log";
import { routes } from "./routes";
import type { HandlerContext, RouteDef, AuthedContext } from "./routes/define";
export type { HandlerContext, RouteDef, AuthedContext, Access } from "./routes/define";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function corsHeaders(request: Request, origin: string): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-credentials": "true",
    "access-control-allow-methods": "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS",
    "access-control-allow-headers": request.headers.get("access-control-request-headers") ?? "Content-Type, Authorization",
    "access-control-max-age": "600",
    vary: "Origin",
  };
}

function buildRouter(defs: RouteDef[]) {
  const router = Router<IRequest, [HandlerContext]>();
  for (const def of defs) {
    const method = def.method.toLowerCase() as "get" | "post" | "put" | "patch" | "delete";
    router[method](def.path, async (request: IRequest, c: HandlerContext) => {
      if (def.access !== "public" && def.access !== "user" && def.access !== "admin") {
        // A route that forgot to declare who may call it is never served.
        throw new ApiError(403, "Forbidden", { code: "route_access_undeclared" });
      }
      if (!isRouteScope(def.scope)) throw new ApiError(403, "Forbidden", { code: "route_scope_undeclared" });
      if (def.access !== "public") {
        const auth = c.auth;
        if (!auth) throw authRequired();
        if (def.access === "admin" && auth.user.role !== "admin") throw new ApiError(403, "Admin access required");
        if (!hasScope(auth.scopes, def.scope)) {
          throw new ApiError(403, "API key scope does not allow this", {
            code: "insufficient_scope",
            requiredScope: def.scope,
            hint: `Use a key that holds the "${def.scope}" scope (or "*").`,
          });
        }
        if (auth.via === "session" && STATE_CHANGING.has(request.method)) {
          // Cookie-only writes must come from an allowed Origin (cross-site request forgery guard).
          if (!allowedOrigin(request.headers.get("origin"), c.config, c.url.origin)) {
            throw new ApiError(403, "Cross-site request refused", {
              code: "origin_not_allowed",
              hint: "Send the request from the KaisouMail web page, or authenticate with an API key.",
            });
          }
        }
      }
      return def.handler(request, c as AuthedContext);
    });
  }
  return router;
}

const router = buildRouter(routes);
export const routeTable: readonly RouteDef[] = routes;

function requestIdOf(request: Request): string {
  const given = request.headers.get("x-request-id") ?? request.headers.get("cf-ray");
  if (given && /^[A-Za-z0-9._:-]{1,128}$/.test(given)) return given;
  return `req_${crypto.randomUUID().replaceAll("-", "")}`;
}

export async function handleFetch(request: Request, env: Env, exec: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  const requestId = requestIdOf(request);
  const isApi = url.pathname === "/api" || url.pathname.startsWith("/api/") || url.pathname === "/mcp";
  let config: Config | null = null;
  let response: Response;
  try {
    config = loadConfig(env);
    if (request.method === "OPTIONS" && isApi) {
      const origin = request.headers.get("origin");
      response = allowedOrigin(origin, config, url.origin)
        ? new Response(null, { status: 204, headers: corsHeaders(request, origin!) })
        : errorResponse(403, "Origin not allowed");
    } else {
      // Bodies over 1 MiB are refused on every write route, before authentication (413).
      if (isApi && STATE_CHANGING.has(request.method)) request = await limitBody(request);
      const needsAuth = isApi && url.pathname !== "/api/meta";
      const auth = needsAuth ? await authenticate(request, env.DB, config) : null;
      const c: HandlerContext = { env, config, exec, requestId, url, auth };
      const result = (await router.fetch(request, c)) as Response | undefined;
      response = result ?? (isApi ? errorResponse(404, "Not found", { path: url.pathname }) : await serveAsset(request, env));
    }
  } catch (error) {
    response = toErrorResponse(error, requestId, url);
  }
  return finish(request, response, requestId, config, url, isApi);
}

async function serveAsset(request: Request, env: Env): Promise<Response> {
  if (env.ASSETS) return env.ASSETS.fetch(request);
  return errorResponse(404, "Not found");
}

export function toErrorResponse(error: unknown, requestId: string, url?: URL): Response {
  if (error instanceof ApiError) return errorResponse(error.status, error.message, error.details, error.headers);
  log("error", "request.failed", {
    requestId,
    path: url?.pathname,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  return errorResponse(500, "Internal server error", null);
}

function finish(request: Request, response: Response, requestId: string, config: Config | null, url: URL, isApi: boolean): Response {
  let out = response;
  try {
    out.headers.set("x-request-id", requestId);
  } catch {
    // Responses from fetch() (static assets) have immutable headers: copy them into a fresh one.
    out = new Response(response.body, { status: response.status, statusText: response.statusText, headers: new Headers(response.headers), webSocket: (response as { webSocket?: WebSocket | null }).webSocket ?? null });
    out.headers.set("x-request-id", requestId);
  }
  const headers = out.headers;
  if (isApi) {
    if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
    headers.set("x-content-type-options", "nosniff");
    const origin = request.headers.get("origin");
    if (config && origin && request.method !== "OPTIONS" && allowedOrigin(origin, config, url.origin)) {
      for (const [k, v] of Object.entries(corsHeaders(request, origin))) if (k !== "vary") headers.set(k, v);
      headers.append("vary", "Origin");
    }
  }
  return out;
}

export { json };
