import type { Config } from "../config";

/**
 * May a browser page at `origin` make credentialed writes? The app's own origin, the configured
 * WEB_APP_ORIGIN(S), and outside production any localhost origin.
 */
export function allowedOrigin(origin: string | null, config: Config, selfOrigin: string): boolean {
  if (!origin) return false;
  if (origin === selfOrigin || config.allowedOrigins.includes(origin)) return true;
  if (!config.production) {
    try {
      const u = new URL(origin);
      return (u.protocol === "http:" || u.protocol === "https:") && (u.hostname === "localhost" || u.hostname === "127.0.0.1");
    } catch {
      return false;
    }
  }
  return false;
}
