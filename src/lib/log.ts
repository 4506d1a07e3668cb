/**
 * Structured logging: one JSON line per event. Values are scrubbed before they are written so a
 * token, API key or session can never reach a log line even if a caller passes one by mistake.
 */
const SECRET_KEYS = /token|secret|authorization|cookie|password|api_?key|session/i;
const SECRET_VALUES = [
  /\bkm_[A-Za-z0-9_-]{16,}/g, // KaisouMail API keys
  /\bwhsec_[A-Za-z0-9+/=]{16,}/g, // webhook signing secrets
  /\bBearer\s+[^\s"]+/gi,
  /kaisoumail_session=[^;\s"]+/g,
];

export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    let out = value;
    for (const re of SECRET_VALUES) out = out.replace(re, "[redacted]");
    return out;
  }
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.test(k) && typeof v === "string" ? "[redacted]" : scrub(v, depth + 1);
  }
  return out;
}

export function log(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...(scrub(fields) as Record<string, unknown>) });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
