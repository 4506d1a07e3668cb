import type { Env } from "./env";
import { handleFetch } from "./router";

export { DomainObject } from "./domain/object";
export { CloudflareGate } from "./cloudflare/gate";

export default {
  fetch(request, env, ctx) {
    return handleFetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
