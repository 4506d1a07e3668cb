/**
 * Every Cloudflare error the simulator can answer, in one place. Codes, HTTP statuses and
 * messages come from `shared/cloudflare-api/error-catalogue.json`; the few that Cloudflare does
 * not publish are marked "SIMULATOR CHOICE" and listed in sim/README.md.
 * Imports nothing.
 */

/** One item of the envelope's `errors` array (Cloudflare's ResponseInfo). */
export interface CfErrorItem {
  code: number;
  message: string;
  error_chain?: CfErrorItem[];
  source?: { pointer: string };
}

/**
 * A failed Cloudflare call: HTTP status plus the `errors` array. Handlers and state operations
 * throw it; the HTTP layer's single catch renders it as `{result:null, success:false, errors,
 * messages:[]}`.
 */
export class CfError extends Error {
  constructor(
    readonly status: number,
    readonly errors: CfErrorItem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors.map((e) => `${e.code} ${e.message}`).join("; "));
    this.name = "CfError";
  }
}

const one = (status: number, code: number, message: string, extra: Partial<CfErrorItem> = {}) =>
  new CfError(status, [{ code, message, ...extra }]);

/** Constructors for each error, named by situation. */
export const cf = {
  // ── auth (catalogue: official / observed) ──
  missingCredentials: () => one(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"),
  malformedAuthorization: () =>
    one(400, 6003, "Invalid request headers", {
      error_chain: [{ code: 6111, message: "Invalid format for Authorization header" }],
    }),
  malformedAuthKey: () =>
    one(400, 6003, "Invalid request headers", {
      error_chain: [{ code: 6103, message: "Invalid format for X-Auth-Key header" }],
    }),
  invalidApiToken: () => one(401, 1000, "Invalid API Token"),
  invalidAccessToken: () => one(403, 9109, "Invalid access token"),
  unauthorizedResource: () => one(403, 9109, "Unauthorized to access requested resource"),
  authenticationError: () => one(403, 10000, "Authentication error"),
  zoneCreatePermission: () =>
    one(
      403,
      0,
      'Requires permission "com.cloudflare.api.account.zone.create" to create zones for the selected account',
    ),

  // ── routing (observed) ──
  noRoute: () => one(404, 7000, "No route for that URI"),
  badIdentifier: (path: string) =>
    new CfError(400, [
      { code: 7003, message: `Could not route to ${path}, perhaps your object identifier is invalid?` },
      { code: 7000, message: "No route for that URI" },
    ]),

  // ── rate limit (observed) ──
  rateLimited: (retryAfterSeconds: number) =>
    new CfError(429, [{ code: 971, message: "Please wait and consider throttling your request speed" }], {
      "Retry-After": String(retryAfterSeconds),
    }),

  // ── zones ──
  zoneExists: (name: string) => one(400, 1061, `${name} already exists`), // observed
  missingAccount: () => one(400, 1068, "Permission denied"), // observed
  invalidDomain: (pointer = "/name") => one(400, 1002, "Invalid domain", { source: { pointer } }), // legacy-table
  partialNotAllowed: () => one(400, 1104, "Partial zone signup not allowed", { source: { pointer: "/type" } }), // legacy-table

  // ── request body ──
  /** SIMULATOR CHOICE (Cloudflare's usual code for unparsable JSON; not in the catalogue). */
  malformedJson: () => one(400, 6007, "Malformed JSON in request body"),
  /** SIMULATOR CHOICE: request bodies over 1 MiB (no handler runs). */
  bodyTooLarge: () => one(413, 6007, "Request body too large"),

  // ── email routing ──
  /** SIMULATOR CHOICE: Cloudflare publishes no code for "enable on a pending zone". */
  zonePending: () => one(400, 2001, "Zone is pending activation"),
  /** SIMULATOR CHOICE: 404 + "Rule not found" (callers match /rule not found/i). */
  ruleNotFound: () => one(404, 2002, "Rule not found"),
  /** SIMULATOR CHOICE: body validation for rules and the catch-all. */
  invalidRule: (detail: string, pointer: string) =>
    one(400, 2003, `Invalid rule: ${detail}`, { source: { pointer } }),
  /** SIMULATOR CHOICE: the 201st rule of a zone (limit 200, configurable). */
  rulesLimit: () => one(400, 2004, "Rules limit reached"),
  /** SIMULATOR CHOICE: `name`/`subdomain` that is not the zone apex or a name under it. */
  invalidRoutingName: (name: string, zone: string, pointer: string) =>
    one(400, 2006, `Invalid domain name: ${name} is not ${zone} or a subdomain of it`, {
      source: { pointer },
    }),
  /** Official (wrangler test mock): the catch-all addressed through /rules/{id}. */
  invalidRuleOperation: () => one(400, 2020, "Invalid rule operation"),

  // ── injected faults ──
  serverError: (status: number) =>
    one(
      status,
      1052,
      "An error has occurred and it has been logged. We will fix this problem promptly. We apologize for the inconvenience",
    ),
};
