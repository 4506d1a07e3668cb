// Probe Worker for bench/run.mjs (see wrangler.toml).
import { parseMessage } from "../../src/mail/parse";

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const n = Math.max(1, Math.min(1000, Number(url.searchParams.get("n") ?? "1") || 1));
    const raw = new Uint8Array(await request.arrayBuffer());
    let code: string | null = null;
    let status = "";
    for (let i = 0; i < n; i++) {
      const copy = new Uint8Array(raw); // the handler parses a fresh buffer each time
      if (url.pathname === "/parse") {
        const parsed = await parseMessage(copy);
        code = parsed.verification?.code ?? null;
        status = parsed.parseStatus;
      }
    }
    return Response.json({ n, bytes: raw.byteLength, code, status });
  },
};
