/**
 * Helpers the browser tests share (ui, inbox, shell): signing a context in over HTTP, watching a
 * page for errors, the simulator's view of a zone, and delivering mail through the local email
 * trigger. Each test file keeps its own state (base URLs, keys) and passes it in.
 */
import type { BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";

/** Signs `key` in over HTTP and puts the session cookie in `c` (no page load). */
export async function addSession(c: BrowserContext, base: string, key: string): Promise<void> {
  const res = await fetch(`${base}/api/auth/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiKey: key }) });
  expect(res.status).toBe(200);
  const [pair] = (res.headers.get("set-cookie") ?? "").split(";");
  const [name, value] = [pair!.slice(0, pair!.indexOf("=")), pair!.slice(pair!.indexOf("=") + 1)];
  await c.addCookies([{ name, value, url: base, httpOnly: true, sameSite: "Lax" }]);
}

/**
 * Records the page's uncaught errors, and every report of its own content security policy
 * blocking something of the page itself (blocks inside the message iframe, at about:srcdoc, are
 * expected and wanted), into `errors`.
 */
export function watchPage(p: Page, base: string, errors: string[]): Page {
  p.on("pageerror", (e) => errors.push(e.message));
  p.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text()) && m.location().url.startsWith(base)) errors.push(`CSP: ${m.text()}`);
  });
  return p;
}

/** A zone as the simulator holds it. */
export async function simZoneOf(simBase: string, name: string): Promise<{ id: string; status: string; name_servers: string[] }> {
  const state = (await (await fetch(`${simBase}/__sim/state`)).json()) as { zones: { zone: { id: string; name: string; status: string; name_servers: string[] } }[] };
  const z = state.zones.find((x) => x.zone.name === name);
  if (!z) throw new Error(`zone ${name} not in the simulator`);
  return z.zone;
}

/** Posts raw RFC 822 lines (CRLF-joined) to the Worker's local email handler; it must accept them. */
export async function postMail(base: string, from: string, to: string, lines: string[]): Promise<void> {
  const res = await fetch(`${base}/cdn-cgi/handler/email?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { method: "POST", body: lines.join("\r\n") });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}
