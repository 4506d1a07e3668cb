import { base64url, fromBase64url, hmacSign, hmacVerify } from "./crypto";

/**
 * Web sessions. The cookie is `base64url(payload).base64url(HMAC-SHA256(secret, payload))` and
 * holds only a session id, the user id and times; what makes it valid is the `sessions` row it
 * names (src/db/sessions.ts), so sign-out, key revocation and disabling a user end it at once.
 * In production the cookie is `__Host-` prefixed: the browser then insists on Secure, Path=/ and no
 * Domain, so no sibling subdomain can set or shadow it.
 */
export const SESSION_COOKIE_DEV = "kaisoumail_session";
export const SESSION_COOKIE_PROD = "__Host-kaisoumail_session";
export const sessionCookieName = (production: boolean) => (production ? SESSION_COOKIE_PROD : SESSION_COOKIE_DEV);

export interface SessionPayload {
  /** Session id (the `sessions` row). */
  sid: string;
  /** User id. */
  sub: string;
  iat: number;
  exp: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function signSession(secret: string, payload: SessionPayload): Promise<string> {
  const body = base64url(encoder.encode(JSON.stringify(payload)));
  return `${body}.${await hmacSign(secret, body)}`;
}

export async function verifySession(secret: string, token: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<SessionPayload | null> {
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined || token.length > 2048) return null;
  if (!(await hmacVerify(secret, body, sig))) return null;
  const bytes = fromBase64url(body);
  if (!bytes) return null;
  try {
    const payload = JSON.parse(decoder.decode(bytes)) as SessionPayload;
    if (typeof payload.sid !== "string" || typeof payload.sub !== "string" || typeof payload.exp !== "number" || payload.exp <= nowSeconds) return null;
    return payload;
  } catch {
    return null;
  }
}

export function sessionCookie(value: string, production: boolean, maxAgeSeconds: number): string {
  return [
    `${sessionCookieName(production)}=${encodeURIComponent(value)}`,
    "HttpOnly",
    "Path=/",
    "SameSite=Lax",
    `Max-Age=${maxAgeSeconds}`,
    ...(production ? ["Secure"] : []),
  ].join("; ");
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const idx = part.indexOf("=");
    if (idx < 0) continue;
    if (part.slice(0, idx).trim() === name) {
      try {
        return decodeURIComponent(part.slice(idx + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}
