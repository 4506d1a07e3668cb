import type { IRequest } from "itty-router";
import type { z } from "zod";
import type { AuthContext } from "../auth/authenticate";
import type { RouteScope } from "../auth/scopes";
import type { Config } from "../config";
import type { Env } from "../env";

/** Who may call a route. Every route must declare one; a route without it is refused. */
export type Access = "public" | "user" | "admin";

export interface HandlerContext {
  env: Env;
  config: Config;
  exec: ExecutionContext;
  requestId: string;
  url: URL;
  auth: AuthContext | null;
}
export interface AuthedContext extends HandlerContext {
  auth: AuthContext;
}

/** A success response: a JSON schema, no body (null), raw bytes, an event stream or an HTML page. */
export type ResponseDoc = z.ZodType | null | "binary" | "event-stream" | "html";

/**
 * What the OpenAPI document says about a route (src/api/openapi.ts). The request schemas are the
 * ones the handler validates with; error answers (400/401/403/404/413/415/429) are added from the
 * route's shape, `errors` lists any others it can give.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Request headers the route reads (name → description). */
  headers?: Record<string, string>;
  responses: Record<number, ResponseDoc>;
  errors?: number[];
  /** Another body an error answer may have besides `{error, details}` (the MCP transport's JSON-RPC errors). */
  errorBody?: z.ZodType;
}

export interface RouteDef {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  access: Access;
  /**
   * The key scope the route needs (`any`: every authenticated caller, and public routes). Required
   * by the type and checked at runtime: a route without a valid scope is never served.
   */
  scope: RouteScope;
  doc: RouteDoc;
  handler: (request: IRequest, c: AuthedContext) => Promise<Response> | Response;
}

/** Helper that keeps route modules typed; `access` and `scope` are required by the type and checked at runtime. */
export const route = (def: RouteDef): RouteDef => def;

