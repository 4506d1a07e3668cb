/**
 * Credential parsing and token lookup, with Cloudflare's codes: no credentials → 400 9106,
 * malformed `Authorization` → 400 6003 (+6111), malformed `X-Auth-Key` → 400 6003 (+6103),
 * unknown or disabled token → 403 9109 "Invalid access token" (401 1000 "Invalid API Token" at
 * /user/tokens/verify). Imports errors.ts and state.ts.
 */
import type { IncomingHttpHeaders } from "node:http";
import { cf } from "./errors.ts";
import type { SimStore, TokenRecord } from "./state.ts";

/** Credentials found on a request, before lookup. */
export type Credentials = { scheme: "bearer"; value: string } | { scheme: "key"; email: string; value: string };

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Extract credentials from headers or throw the matching 400. */
export function readCredentials(headers: IncomingHttpHeaders): Credentials {
  const authorization = header(headers, "authorization");
  if (authorization !== undefined) {
    const m = /^Bearer ([^\s]+)$/i.exec(authorization.trim());
    if (!m) throw cf.malformedAuthorization();
    return { scheme: "bearer", value: m[1] as string };
  }
  const key = header(headers, "x-auth-key");
  const email = header(headers, "x-auth-email");
  if (key !== undefined && email !== undefined) {
    if (!/^[^\s]+$/.test(key)) throw cf.malformedAuthKey();
    return { scheme: "key", email, value: key };
  }
  throw cf.missingCredentials();
}

/**
 * Resolve the request's token. `X-Auth-Email`+`X-Auth-Key` are accepted as a legacy scheme: the
 * key is looked up like a token value (a Global API Key is just another token here).
 * Unknown or disabled tokens answer 403 9109 "Invalid access token", or 401 1000 "Invalid API
 * Token" with `forVerify` (GET /user/tokens/verify).
 */
export function authenticate(store: SimStore, headers: IncomingHttpHeaders, forVerify = false): TokenRecord {
  const creds = readCredentials(headers);
  const token = store.findToken(creds.value);
  if (!token || token.status !== "active") throw forVerify ? cf.invalidApiToken() : cf.invalidAccessToken();
  return token;
}
