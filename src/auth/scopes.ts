import type { Role } from "../db/users";
import { ApiError } from "../lib/errors";

/**
 * What an API key (and a session made from it) may do. Every route in the route table declares
 * the one scope it needs; the router enforces it. `*` is the full power of the key's owner (an
 * admin's `*` includes `admin`, a member's does not: the role is checked as well).
 * A `:write` scope includes its `:read`.
 */
export const SCOPES = ["mailboxes:read", "mailboxes:write", "messages:read", "messages:write", "webhooks", "keys", "admin"] as const;
export type Scope = (typeof SCOPES)[number];
/** Routes any authenticated caller may use whatever its scopes (who am I, sign out) or public ones. */
export type RouteScope = Scope | "any";

export const ALL_SCOPES = "*";
const IMPLIED: Partial<Record<Scope, Scope>> = { "mailboxes:write": "mailboxes:read", "messages:write": "messages:read" };

/** Does a key with `granted` scopes cover `needed`? */
export function hasScope(granted: readonly string[], needed: RouteScope): boolean {
  if (needed === "any" || granted.includes(ALL_SCOPES) || granted.includes(needed)) return true;
  return granted.some((g) => IMPLIED[g as Scope] === needed);
}

export function isRouteScope(v: unknown): v is RouteScope {
  return v === "any" || (SCOPES as readonly unknown[]).includes(v);
}

/**
 * The scopes a caller may give a new key: known names only (400), `admin` only for admins (400),
 * and never more than the caller's own key holds (403).
 */
export function checkNewKeyScopes(requested: readonly string[], creator: { role: Role; scopes: readonly string[] }): string[] {
  const unknown = requested.filter((s) => s !== ALL_SCOPES && !(SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new ApiError(400, "Invalid request", {
      code: "unknown_scope",
      formErrors: [],
      fieldErrors: { scopes: [`Unknown scope${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`] },
      hint: `Scopes are ${ALL_SCOPES}, ${SCOPES.join(", ")}.`,
    });
  }
  if (creator.role !== "admin" && requested.includes("admin")) {
    throw new ApiError(400, "Invalid request", {
      code: "admin_scope_for_member",
      formErrors: [],
      fieldErrors: { scopes: ["The admin scope is only for admins"] },
    });
  }
  const beyond = requested.filter((s) => (s === ALL_SCOPES ? !creator.scopes.includes(ALL_SCOPES) : !hasScope(creator.scopes, s as Scope)));
  if (beyond.length > 0) {
    throw new ApiError(403, "A key cannot create a key with more power than itself", {
      code: "scope_escalation",
      scopes: beyond,
      hint: "Create the key while signed in with a key that holds these scopes.",
    });
  }
  return [...new Set(requested)];
}
