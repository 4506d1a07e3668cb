import type { IRequest } from "itty-router";
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

export interface RouteDef {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  access: Access;
  /**
   * The key scope the route needs (`any`: every authenticated caller, and public routes). Required
   * by the type and checked at runtime: a route without a valid scope is never served.
   */
  scope: RouteScope;
  handler: (request: IRequest, c: AuthedContext) => Promise<Response> | Response;
}

/** Helper that keeps route modules typed; `access` and `scope` are required by the type and checked at runtime. */
export const route = (def: RouteDef): RouteDef => def;

