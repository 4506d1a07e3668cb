import type { Env } from "./env";
import { runHousekeeping } from "./cron";
import { receiveMessage } from "./mail/inbound";
import { handleFetch } from "./router";

export { DomainObject } from "./domain/object";
export { CloudflareGate } from "./cloudflare/gate";

export default {
  fetch(request, env, ctx) {
    return handleFetch(request, env, ctx);
  },
  async email(message, env) {
    await receiveMessage(message, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runHousekeeping(env));
  },
} satisfies ExportedHandler<Env>;
