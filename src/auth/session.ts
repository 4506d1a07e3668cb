import { base64url, fromBase64url, hmacSign, hmacVerify } from "./crypto";

export const SESSION_COOKIE = "kaisoumail_session";
export const SESSION_TTL_SECONDS = 7 * 24 * 60 * 60;

interface SessionPayload {
  sub: string;
  iat: number;
  exp: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `base64url(payload).base64url(HMAC-SHA256(secret, payload))`; holds only the user id and times. */
export async function signSession(secret: string, userId: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  const payload: SessionPayload = { sub: userId, iat: nowSeconds, exp: nowSeconds + SESSION_TTL_SECONDS };
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
    if (typeof payload.sub !== "string" || typeof payload.exp !== "number" || payload.exp <= nowSeconds) return null;
    return payload;
  } catch {
    return null;
  }
}

export function sessionCookie(value: string, production: boolean, maxAge = SESSION_TTL_SECONDS): string {
  return [
    `${SESSION_COOKIE}=${encodeURIComponent(value)}`,
    "HttpOnly",
    "Path=/",
    "SameSite=Lax",
    `Max-Age=${maxAge}`,
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
