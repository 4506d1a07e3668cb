/**
 * Which endpoint URLs a webhook may have. In production (and whenever WEBHOOK_ALLOW_HTTP is not
 * "true") only https:// URLs whose host is a name or a public IP literal: `localhost` (and
 * `*.localhost`) and IP literals in loopback, private, link-local, CGNAT, unspecified, multicast
 * and reserved ranges (IPv4 and IPv6, IPv4-mapped IPv6 included) are refused. With
 * WEBHOOK_ALLOW_HTTP=true (local development and tests) http:// and loopback are allowed too.
 * Names are not resolved here (Workers cannot resolve DNS); the fetch itself never reaches
 * private networks from Cloudflare's edge.
 */
export interface UrlPolicy {
  allowHttp: boolean;
}

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: string };

function ipv4Private(parts: number[]): boolean {
  const [a, b] = parts as [number, number, number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && parts[2] === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

/** Expands an IPv6 literal (no brackets) to 8 groups, or null. */
function parseIpv6(host: string): number[] | null {
  let h = host.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (v4) {
    const p = parseIpv4(v4[1]!);
    if (!p) return null;
    h = h.slice(0, -v4[1]!.length) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const halves = h.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...rest].some(Number.isNaN)) return null;
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  return [...head, ...Array(8 - total).fill(0), ...rest];
}

function ipv6Private(g: number[]): boolean {
  if (g.every((x) => x === 0)) return true; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): judge the IPv4 address.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) {
    return ipv4Private([g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255]);
  }
  const first = g[0]!;
  return (
    (first & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (first & 0xffc0) === 0xfe80 || // fe80::/10 link-local
    (first & 0xffc0) === 0xfec0 || // fec0::/10 site-local (deprecated)
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x64 && g[1] === 0xff9b) || // 64:ff9b::/96 NAT64 (may embed a private IPv4)
    (first === 0x2001 && g[1] === 0x0db8) // documentation
  );
}

/** Is `hostname` (as URL gives it: IPv6 in brackets) a private, loopback or link-local literal, or localhost? */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host.startsWith("[") && host.endsWith("]")) {
    const g = parseIpv6(host.slice(1, -1).split("%")[0]!);
    return g === null ? true : ipv6Private(g);
  }
  const v4 = parseIpv4(host);
  if (v4) return ipv4Private(v4);
  // The URL parser already turned decimal / octal / hex IPv4 forms into dotted quads; an all-numeric
  // leftover is not a name anyone can register.
  return /^[0-9.]+$/.test(host);
}

export function checkWebhookUrl(raw: string, policy: UrlPolicy): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "url must be an absolute URL" };
  }
  if (url.username || url.password) return { ok: false, reason: "url must not contain credentials" };
  if (url.protocol === "https:") {
    // fall through to the host check
  } else if (url.protocol === "http:" && policy.allowHttp) {
    return { ok: true, url: url.href };
  } else {
    return { ok: false, reason: policy.allowHttp ? "url must be http:// or https://" : "url must be https:// (set WEBHOOK_ALLOW_HTTP=true to allow http:// in development)" };
  }
  if (!policy.allowHttp && isPrivateHost(url.hostname)) {
    return { ok: false, reason: "url must not point at localhost or a private, loopback or link-local address" };
  }
  return { ok: true, url: url.href };
}
