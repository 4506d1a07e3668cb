import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { TestProject } from "vitest/node";

/**
 * A webhook receiver for the "workers" project (issue 18), reached from workerd at the
 * WEBHOOK_RECEIVER_URL binding (vitest.config.ts), like the Cloudflare simulator at SIM_URL.
 *   POST /hook/<name>             a delivery; answered as <name>'s behaviour says
 *   PUT  /__ctl/hooks/<name>      {mode: ok|fail|gone|redirect|hang, failTimes?, status?, hangMs?}
 *   GET  /__ctl/log               every delivery received: {name, headers, body, status, at}
 *   DELETE /__ctl/log             forget the log and every behaviour
 */
interface Behaviour {
  mode: "ok" | "fail" | "gone" | "redirect" | "hang";
  failTimes?: number;
  status?: number;
  hangMs?: number;
}
interface Entry {
  name: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  at: number;
}

export async function startReceiver(port: number) {
  const behaviours = new Map<string, Behaviour>();
  const failures = new Map<string, number>();
  let log: Entry[] = [];
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const body = await read(req);
    const send = (status: number, text = "", headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(text);
    };
    if (url.pathname === "/__ctl/log") {
      if (req.method === "DELETE") {
        log = [];
        behaviours.clear();
        failures.clear();
        return send(204);
      }
      return send(200, JSON.stringify(log));
    }
    const ctl = /^\/__ctl\/hooks\/([^/]+)$/.exec(url.pathname);
    if (ctl && req.method === "PUT") {
      behaviours.set(ctl[1]!, JSON.parse(body) as Behaviour);
      failures.set(ctl[1]!, 0);
      return send(204);
    }
    const name = /^\/hook\/([^/]+)/.exec(url.pathname)?.[1] ?? url.pathname;
    const b = behaviours.get(name) ?? { mode: "ok" };
    const entry: Entry = { name, method: req.method ?? "", headers: req.headers as Record<string, string>, body, status: 0, at: Date.now() };
    log.push(entry);
    switch (b.mode) {
      case "fail": {
        const n = failures.get(name) ?? 0;
        if (n < (b.failTimes ?? Infinity)) {
          failures.set(name, n + 1);
          entry.status = b.status ?? 500;
          return send(entry.status, '{"error":"nope"}');
        }
        entry.status = 200;
        return send(200, '{"ok":true}');
      }
      case "gone":
        entry.status = 410;
        return send(410);
      case "redirect":
        entry.status = 302;
        return send(302, "", { location: `http://127.0.0.1:${port}/hook/${name}-redirected` });
      case "hang":
        entry.status = -1;
        setTimeout(() => send(200, '{"late":true}'), b.hangMs ?? 15_000).unref();
        return;
      default:
        entry.status = b.status ?? 200;
        return send(entry.status, '{"ok":true}');
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export default async function setup(_project: TestProject) {
  const receiver = await startReceiver(Number(process.env.WEBHOOK_RECEIVER_PORT));
  return async () => {
    await receiver.close();
  };
}
