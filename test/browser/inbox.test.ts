/**
 * The inbox and the reader in a real browser (issue 15, part A): the guide for a deployment with no
 * domain, one-click New address, unread state in the list, the tab title and the favicon, HTML mail
 * (opens in the HTML view, links open a new tab through the link check while the reader stays as
 * it was, remote images only after "Load images", the frame as tall as its content), clickable
 * addresses in the text view, image thumbnails, the raw download's name, search, keyboard
 * shortcuts and the full-screen reader on a phone. Its own stack (scripts/start.mjs: simulator +
 * `wrangler dev`) with fresh state; the domain is enabled through the API, not the page.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, type LaunchedBrowser } from "./find-browser";
import { addSession, postMail, watchPage } from "./page";
import { startLocalStack, stopLocalStack, type LocalStack } from "./stack";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const shots = join(root, "docs", "screenshots");
const DOMAIN = "inbox-ui.dev";
const PNG_1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

let local: LocalStack;
let stateDir: string;
let base: string;
let simBase: string;
let adminKey: string;
let browser: Browser;
let launched: LaunchedBrowser;
let ctx: BrowserContext;
let page: Page;
/** Stands in for the web: the link's destination and the remote image. */
let web: Server;
let webUrl: string;
const webHits: string[] = [];
const pageErrors: string[] = [];

async function startStack(): Promise<void> {
  local = await startLocalStack("kaisou-inbox-", { DOMAIN_RETRY_BASE_SECONDS: "5", DOMAIN_RETRY_MAX_SECONDS: "60" });
  ({ stateDir, base, simBase, adminKey } = local);
}

const stopStack = () => stopLocalStack(local);

async function signedInContext(key: string, width = 1280, height = 860): Promise<BrowserContext> {
  const c = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, acceptDownloads: true, locale: "en-US" });
  await c.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  await addSession(c, base, key);
  return c;
}

async function openPage(c: BrowserContext): Promise<Page> {
  return watchPage(await c.newPage(), base, pageErrors);
}

async function api(path: string, init: RequestInit = {}, key = adminKey): Promise<Response> {
  return fetch(base + path, { ...init, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers } });
}

/** Delivers a raw RFC 822 message through the Worker's local email handler. */
async function deliver(to: string, subject: string, parts: { text: string; html?: string; png?: string }): Promise<void> {
  const from = "no-reply@sender.test";
  const id = crypto.randomUUID();
  const head = [`From: Sender Test <${from}>`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: <${id}@sender.test>`, `Date: ${new Date().toUTCString()}`, "MIME-Version: 1.0"];
  const text = ["Content-Type: text/plain; charset=utf-8", "", parts.text];
  const alt = parts.html ? ['Content-Type: multipart/alternative; boundary="b1"', "", "--b1", ...text, "--b1", "Content-Type: text/html; charset=utf-8", "", parts.html, "--b1--"] : text;
  const raw = parts.png
    ? [...head, 'Content-Type: multipart/mixed; boundary="m1"', "", "--m1", ...alt, "--m1", `Content-Type: image/png; name="${parts.png}"`, `Content-Disposition: attachment; filename="${parts.png}"`, "Content-Transfer-Encoding: base64", "", PNG_1x1, "--m1--", ""]
    : [...head, ...alt, ""];
  await postMail(base, from, to, raw);
}

const item = (p: Page, subject: string) => p.locator('[data-testid="message-item"]', { hasText: subject });

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  web = createHttpServer((req, res) => {
    if (req.url !== "/favicon.ico") webHits.push(`${req.method} ${req.url}`);
    if (req.url?.endsWith(".png")) {
      res.setHeader("content-type", "image/png");
      return res.end(Buffer.from(PNG_1x1, "base64"));
    }
    res.setHeader("content-type", "text/html");
    res.end('<!doctype html><link rel="icon" href="data:,"><title>landing</title><p>landing</p>');
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  webUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
  [launched] = await Promise.all([launchBrowser(), startStack()]);
  browser = launched.browser;
  ctx = await signedInContext(adminKey);
  page = await openPage(ctx);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopStack();
  await new Promise((r) => web?.close(r));
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

describe("inbox and reader in Chromium", { timeout: 60_000 }, () => {
  let address = "";
  let mailboxId = "";
  const HTML_SUBJECT = "Confirm your account";
  const LONG = Array.from({ length: 40 }, (_, i) => `<p>Paragraph ${i + 1} of a long message.</p>`).join("");
  // Built when used: webUrl is known only after beforeAll.
  const html = () => `<div><h1>Welcome</h1><p><a href="${webUrl}/landing?x=1" id="go">Confirm my account</a></p>
    <p><img src="${webUrl}/remote.png" alt="remote" width="20" height="20"></p>${LONG}<p id="last">The end.</p></div>`;

  it("a new admin of a deployment with no domain lands on the guide to Domains", async () => {
    const created = await api("/api/users", { method: "POST", body: JSON.stringify({ email: "new-admin@inbox.test", name: "New Admin", role: "admin" }) });
    expect(created.status).toBe(201);
    const key = ((await created.json()) as { initialKey: { apiKey: string } }).initialKey.apiKey;
    const c = await signedInContext(key);
    const p = await openPage(c);
    await p.goto(`${base}/inbox`);
    const guide = p.getByTestId("guide-domains");
    await guide.waitFor();
    expect(await guide.textContent()).toContain("Bind your first domain");
    expect(await p.getByTestId("no-mailboxes").count()).toBe(0);
    expect(await p.getByTestId("new-address").isDisabled()).toBe(true);
    await guide.getByRole("link").click();
    await p.waitForURL(`${base}/domains`);
    await c.close();
  });

  it("New address makes a random mailbox in one click, selects it and shows it large with Copy and a countdown", async () => {
    const zone = (await (await fetch(`${simBase}/__sim/zones`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: DOMAIN, status: "active" }) })).json()) as { id: string };
    expect((await api("/api/domains", { method: "POST", body: JSON.stringify({ mailDomain: DOMAIN, zoneId: zone.id }) })).status).toBe(201);
    await page.goto(`${base}/inbox`);
    await page.getByTestId("no-mailboxes").waitFor();
    await page.getByTestId("new-address").click();
    const shown = page.getByTestId("current-address");
    await shown.waitFor();
    address = (await shown.textContent()) ?? "";
    expect(address).toMatch(new RegExp(`^[a-z0-9.-]+@[a-z0-9.-]*${DOMAIN.replace(".", "\\.")}$`));
    mailboxId = new URL(page.url()).searchParams.get("mailbox") ?? "";
    expect(mailboxId).toMatch(/^mbx_/);
    expect(await page.getByTestId("mailbox-pick").inputValue()).toBe(mailboxId);
    const expiry = page.getByTestId("address-expiry");
    const first = await expiry.textContent();
    expect(first).toMatch(/Expires in (\d+ d )?\d\d:\d\d:\d\d/);
    await expect.poll(() => expiry.textContent(), { timeout: 3000 }).not.toBe(first);
    await page.getByTestId("copy-address").click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(address);
    await page.getByTestId("messages-empty").waitFor();
    await expect.poll(() => page.getByTestId("live-status").getAttribute("data-status"), { timeout: 10_000 }).toBe("live");
  });

  it("new mail is bold and counted in the title and the favicon; opening it marks it seen", async () => {
    await deliver(address, "Plain notice", { text: `Read more at ${webUrl}/docs/page?a=1. Thanks!` });
    await deliver(address, HTML_SUBJECT, { text: "Confirm at the link.", html: html(), png: "photo.png" });
    await expect.poll(() => page.getByTestId("message-item").count(), { timeout: 20_000 }).toBe(2);
    expect(await page.locator('[data-testid="message-item"].unread').count()).toBe(2);
    await expect.poll(() => page.title()).toBe("(2) Inbox · KaisouMail");
    expect(await page.locator('link[rel="icon"]').getAttribute("href")).toMatch(/^data:image\/png;base64,/);
    const weight = (s: string) => item(page, s).locator(".subj").evaluate((e) => Number(getComputedStyle(e).fontWeight));
    expect(await weight(HTML_SUBJECT)).toBeGreaterThanOrEqual(700);

    await item(page, HTML_SUBJECT).click();
    await page.getByTestId("reader-subject").waitFor();
    await expect.poll(() => item(page, HTML_SUBJECT).getAttribute("data-seen")).toBe("true");
    expect(await weight(HTML_SUBJECT)).toBeLessThan(700);
    await expect.poll(() => page.title()).toBe("(1) Inbox · KaisouMail");
    // The server knows: a fresh list says seen.
    const list = (await (await api(`/api/messages?mailboxId=${mailboxId}`)).json()) as { messages: { subject: string; seen: boolean }[] };
    expect(Object.fromEntries(list.messages.map((m) => [m.subject, m.seen]))).toEqual({ [HTML_SUBJECT]: true, "Plain notice": false });
  });

  it("opens multipart mail in the HTML view, as tall as its content, with an image thumbnail", async () => {
    expect(await page.getByTestId("view-html").getAttribute("aria-selected")).toBe("true");
    const frame = page.getByTestId("reader-html");
    expect(await frame.getAttribute("sandbox")).toBe("allow-popups allow-popups-to-escape-sandbox");
    await expect.poll(() => frame.getAttribute("data-height"), { timeout: 10_000 }).not.toBe("");
    const content = page.frameLocator('[data-testid="reader-html"]');
    await content.locator("#last").waitFor();
    const inner = await content.locator("html").evaluate((e) => ({ scroll: e.scrollHeight, client: e.clientHeight }));
    const outer = (await frame.boundingBox())!;
    // No inner scroll (everything fits) and no blank area below the content.
    expect(inner.scroll).toBeLessThanOrEqual(inner.client + 1);
    expect(Math.abs(outer.height - (inner.scroll + 2))).toBeLessThanOrEqual(4);
    expect(outer.height).toBeGreaterThan(800);
    const thumb = page.getByTestId("thumb");
    await expect.poll(() => thumb.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBe(1);
  });

  it("a link in HTML mail opens a new tab through the link check, and the reader stays as it was", async () => {
    const before = { url: page.url(), subject: await page.getByTestId("reader-subject").textContent() };
    webHits.length = 0;
    const [tab] = await Promise.all([ctx.waitForEvent("page"), page.frameLocator('[data-testid="reader-html"]').locator("#go").click()]);
    await tab.waitForLoadState();
    expect(new URL(tab.url()).pathname).toMatch(/^\/link/);
    await tab.locator('[data-testid="check-host"]').waitFor();
    expect(await tab.getByTestId("check-host").textContent()).toBe("127.0.0.1");
    expect(await tab.getByTestId("check-url").textContent()).toBe(`${webUrl}/landing?x=1`);
    expect(await tab.evaluate(() => window.opener)).toBeNull();
    // Nothing was fetched from the destination before the reader chose to open it.
    expect(webHits).toEqual([]);
    await shot(tab, "inbox-link-check");
    await tab.getByTestId("check-open").click();
    await tab.waitForURL(`${webUrl}/landing?x=1`);
    expect(webHits).toContain("GET /landing?x=1");
    await tab.close();
    // The reader is unchanged: same page, same message, the frame still shows the mail.
    expect(page.url()).toBe(before.url);
    expect(await page.getByTestId("reader-subject").textContent()).toBe(before.subject);
    expect(await page.frameLocator('[data-testid="reader-html"]').locator("h1").textContent()).toBe("Welcome");
  });

  it("keeps remote images blocked until Load images is clicked for that message", async () => {
    await page.waitForTimeout(300);
    expect(webHits.filter((h) => h.includes("remote.png"))).toEqual([]);
    expect(await page.getByTestId("images-bar").textContent()).toContain("Remote images are blocked");
    await page.getByTestId("load-images").click();
    await expect.poll(() => webHits.filter((h) => h.includes("remote.png")).length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.frameLocator('[data-testid="reader-html"]').locator('img[alt="remote"]').evaluate((i: HTMLImageElement) => i.naturalWidth))
      .toBe(1);
    await shot(page, "inbox-reader");
  });

  it("names the raw download after the subject and the date", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("raw-download").click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${HTML_SUBJECT} \\d{4}-\\d\\d-\\d\\d \\d\\d-\\d\\d\\.eml$`));
    expect(readFileSync(await download.path(), "utf8")).toContain(`Subject: ${HTML_SUBJECT}`);
  });

  it("makes web addresses in the text view clickable through the same check", async () => {
    await item(page, "Plain notice").click();
    const link = page.getByTestId("text-link");
    await link.waitFor();
    expect(await link.textContent()).toBe(`${webUrl}/docs/page?a=1`);
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    const url = page.url();
    const [tab] = await Promise.all([ctx.waitForEvent("page"), link.click()]);
    await tab.getByTestId("check-url").waitFor();
    expect(await tab.getByTestId("check-url").textContent()).toBe(`${webUrl}/docs/page?a=1`);
    await tab.close();
    expect(page.url()).toBe(url);
    await expect.poll(() => page.title()).toBe("Inbox · KaisouMail");
    expect(await page.locator('link[rel="icon"]').getAttribute("href")).toBe("data:,");
  });

  it("searches subject, sender and code on the server", async () => {
    await page.getByTestId("search").fill("confirm your");
    await expect.poll(() => page.getByTestId("message-item").count()).toBe(1);
    expect(await page.getByTestId("message-item").textContent()).toContain(HTML_SUBJECT);
    await page.getByTestId("search").fill("nothing like this");
    await page.getByTestId("messages-empty").waitFor();
    await page.getByTestId("search").fill("");
    await expect.poll(() => page.getByTestId("message-item").count()).toBe(2);
  });

  it("has keyboard shortcuts: j/k move, Enter opens, # asks to delete, / searches, ? lists them", async () => {
    await page.goto(`${base}/inbox?mailbox=${mailboxId}`);
    await expect.poll(() => page.getByTestId("message-item").count()).toBe(2);
    const ids = await page.getByTestId("message-item").evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    await page.locator("body").click({ position: { x: 5, y: 500 } });
    await page.keyboard.press("j");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-id"))).toBe(ids[0]);
    await page.keyboard.press("j");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-id"))).toBe(ids[1]);
    await page.keyboard.press("k");
    await page.keyboard.press("j");
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).searchParams.get("message")).toBe(ids[1]);
    await page.getByTestId("reader-subject").waitFor();
    await page.locator("body").click({ position: { x: 5, y: 500 } });
    await page.keyboard.press("#");
    const confirm = page.getByTestId("confirm");
    await confirm.waitFor();
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await confirm.waitFor({ state: "detached" });
    await page.keyboard.press("?");
    const help = page.getByTestId("shortcuts");
    await help.waitFor();
    for (const k of ["j / k", "Enter", "# / Delete", "/", "?"]) expect(await help.textContent()).toContain(k);
    await page.keyboard.press("Escape");
    await help.waitFor({ state: "detached" });
    await page.keyboard.press("/");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("search");
    // Typing in the search box is not a shortcut.
    await page.keyboard.type("jk?");
    expect(await page.getByTestId("shortcuts").count()).toBe(0);
    expect(await page.getByTestId("search").inputValue()).toBe("jk?");
    await page.getByTestId("search").fill("");
  });

  it("lets an admin filter the inbox by owner", async () => {
    const me = (await (await api("/api/auth/session")).json()) as { user: { id: string } };
    await page.goto(`${base}/inbox`);
    await page.getByTestId("owner-pick").locator("option", { hasText: "new-admin@inbox.test" }).waitFor({ state: "attached" });
    const newAdmin = await page.getByTestId("owner-pick").locator("option", { hasText: "new-admin@inbox.test" }).getAttribute("value");
    await page.getByTestId("owner-pick").selectOption(newAdmin!);
    await page.getByTestId("messages-empty").waitFor();
    expect(new URL(page.url()).searchParams.get("owner")).toBe(newAdmin);
    await page.getByTestId("owner-pick").selectOption(me.user.id);
    await expect.poll(() => page.getByTestId("message-item").count()).toBe(2);
  });

  it("on a phone, opening a message shows a full-screen reader with a Back button", async () => {
    const c = await signedInContext(adminKey, 375, 740);
    const p = await openPage(c);
    await p.goto(`${base}/inbox?mailbox=${mailboxId}`);
    await item(p, HTML_SUBJECT).click();
    const back = p.getByTestId("reader-back");
    await back.waitFor();
    const pane = (await p.locator(".reader-pane").boundingBox())!;
    expect(pane).toMatchObject({ x: 0, y: 0, width: 375, height: 740 });
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBe(375);
    await shot(p, "inbox-phone-reader");
    await back.click();
    await expect.poll(() => new URL(p.url()).searchParams.get("message")).toBeNull();
    expect(await item(p, HTML_SUBJECT).isVisible()).toBe(true);
    expect(await back.count()).toBe(0);
    await c.close();
  });

  it("raised no page errors and no CSP violations of the page itself", () => {
    expect(pageErrors).toEqual([]);
  });
});

async function shot(p: Page, name: string): Promise<void> {
  await p.mouse.move(0, 0);
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}
