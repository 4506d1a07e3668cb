/**
 * Finds and launches a Chromium for the browser tests, so that `npm install && npm test` works on a
 * machine that never had a browser. Order:
 *   1. CHROMIUM_PATH, when set (an error if it does not launch: the caller asked for that one);
 *   2. a Chromium or Chrome already on the machine (PATH names, then the usual Linux/macOS paths);
 *   3. the headless Chromium shipped inside the `@sparticuz/chromium` dev dependency (unpacked to
 *      the temp directory on first use; nothing is downloaded).
 * Nothing here skips: when no browser launches, the error says what was tried and how to fix it.
 *
 * Launch flags are our own, never the package's defaults: those include `--disable-web-security`,
 * with which the browser sends no Origin header and the app (rightly) refuses every write.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { chromium, type Browser } from "playwright-core";

export type BrowserSource = "CHROMIUM_PATH" | "system" | "bundled (@sparticuz/chromium)";
export interface Candidate {
  source: BrowserSource;
  path: string;
}
export interface LaunchedBrowser {
  browser: Browser;
  source: BrowserSource;
  path: string;
  version: string;
}

/** The flags every test browser runs with. Deliberately without --disable-web-security. */
export const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

const SYSTEM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];
const SYSTEM_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/lib/chromium/chromium",
  "/snap/bin/chromium",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/opt/google/chrome/chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Chromium/Chrome executables already installed, PATH first, without duplicates. */
export function systemCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const found: string[] = [];
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const name of SYSTEM_NAMES) for (const dir of dirs) found.push(join(dir, name));
  found.push(...SYSTEM_PATHS);
  return [...new Set(found.filter(executable))];
}

/** The bundled Chromium's path (unpacks it on first use). */
export async function bundledChromium(): Promise<string> {
  const mod = await import("@sparticuz/chromium");
  return mod.default.executablePath();
}

async function tryLaunch(c: Candidate): Promise<LaunchedBrowser> {
  const browser = await chromium.launch({ executablePath: c.path, args: LAUNCH_ARGS, timeout: 60_000 });
  return { browser, ...c, version: browser.version() };
}

/**
 * Launches the first browser that works. `prefer: "bundled"` skips the system browsers (used to
 * exercise the bundled path on a machine that also has a system Chromium).
 */
export async function launchBrowser(opts: { prefer?: "bundled"; env?: NodeJS.ProcessEnv } = {}): Promise<LaunchedBrowser> {
  const env = opts.env ?? process.env;
  const tried: string[] = [];
  if (env.CHROMIUM_PATH && opts.prefer !== "bundled") {
    try {
      return await tryLaunch({ source: "CHROMIUM_PATH", path: env.CHROMIUM_PATH });
    } catch (e) {
      throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} did not launch: ${firstLine(e)}. Unset it or point it at a working Chromium.`);
    }
  }
  if (opts.prefer !== "bundled") {
    for (const path of systemCandidates(env)) {
      try {
        return await tryLaunch({ source: "system", path });
      } catch (e) {
        tried.push(`${path}: ${firstLine(e)}`);
      }
    }
    if (tried.length === 0) tried.push("no system Chromium/Chrome on PATH or in the usual places");
  }
  try {
    return await tryLaunch({ source: "bundled (@sparticuz/chromium)", path: await bundledChromium() });
  } catch (e) {
    tried.push(`@sparticuz/chromium: ${firstLine(e)}`);
  }
  throw new Error(
    `No browser for the browser tests. Tried: ${tried.join("; ")}. Fix: run \`npm install\` (it brings @sparticuz/chromium), ` +
      "or install Chromium (Debian: apt-get install chromium), or set CHROMIUM_PATH to a Chromium/Chrome executable.",
  );
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split("\n").find((l) => l.trim()) ?? text).trim().slice(0, 300);
}
