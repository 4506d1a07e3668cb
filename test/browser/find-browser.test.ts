/** The browser finder: what it does when a browser is missing, and the path a bare machine takes. */
import { describe, expect, it } from "vitest";
import { LAUNCH_ARGS, launchBrowser, systemCandidates } from "./find-browser";

describe("finding a browser for the browser tests", { timeout: 90_000 }, () => {
  it("fails with one clear line when CHROMIUM_PATH names no browser (never a silent skip)", async () => {
    const err = await launchBrowser({ env: { CHROMIUM_PATH: "/nonexistent/chromium", PATH: "" } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^CHROMIUM_PATH=\/nonexistent\/chromium did not launch: .+ Unset it or point it at a working Chromium\.$/);
  });

  it("sees no system browser on an empty PATH but the usual paths, and launches the bundled one", async () => {
    expect(systemCandidates({ PATH: "" }).every((p) => p.startsWith("/"))).toBe(true);
    const b = await launchBrowser({ prefer: "bundled", env: { PATH: "" } });
    try {
      expect(b.source).toBe("bundled (@sparticuz/chromium)");
      expect(b.version).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const page = await b.browser.newPage();
      await page.setContent("<p id=x>ok</p>");
      expect(await page.textContent("#x")).toBe("ok");
    } finally {
      await b.browser.close();
    }
  });

  it("never launches with flags that stop the browser sending Origin", () => {
    expect(LAUNCH_ARGS.join(" ")).not.toMatch(/disable-web-security|allow-running-insecure-content/);
  });
});
