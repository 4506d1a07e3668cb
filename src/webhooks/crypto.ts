/**
 * Webhook secrets and signatures (Standard Webhooks, https://www.standardwebhooks.com/):
 *  - a secret is `whsec_` + base64 of 32 random bytes; it is shown once (creation, rotation);
 *  - at rest it is encrypted with AES-GCM under a key derived by HKDF-SHA-256 from
 *    WEBHOOK_SECRET_KEY (SESSION_SECRET when unset), with the hook id as associated data, so a
 *    ciphertext copied onto another row does not decrypt;
 *  - `webhook-signature: v1,<base64 HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>")>`.
 */
const encoder = new TextEncoder();
export const SECRET_PREFIX = "whsec_";

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
function fromBase64(value: string): Uint8Array {
  return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
}

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

const aesKeys = new Map<string, Promise<CryptoKey>>();
function aesKey(master: string): Promise<CryptoKey> {
  let key = aesKeys.get(master);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey("raw", encoder.encode(master), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: encoder.encode("kaisoumail/webhooks"), info: encoder.encode("webhook-secret-encryption-v1") },
        ikm,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    aesKeys.set(master, key);
  }
  return key;
}

/** `v1:<base64 iv>:<base64 ciphertext>` */
export async function encryptSecret(master: string, webhookId: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(webhookId) }, await aesKey(master), encoder.encode(secret));
  return `v1:${toBase64(iv)}:${toBase64(new Uint8Array(ct))}`;
}

export async function decryptSecret(master: string, webhookId: string, stored: string): Promise<string> {
  const [version, iv, ct] = stored.split(":");
  if (version !== "v1" || !iv || !ct) throw new Error("unknown webhook secret format");
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(iv), additionalData: encoder.encode(webhookId) }, await aesKey(master), fromBase64(ct));
  return new TextDecoder().decode(pt);
}

/** The Standard Webhooks signature header value for one message. */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const raw = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}
