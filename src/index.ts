import type { Env } from "./env";
import { runHousekeeping } from "./cron";
import { handleFetch } from "./router";

export { DomainObject } from "./domain/object";
export { CloudflareGate } from "./cloudflare/gate";

export default {
  fetch(request, env, ctx) {
    return handleFetch(request, env, ctx);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runHousekeeping(env));
  },
} satisfies ExportedHandler<Env>;
