import type { Env } from "./env";
import { runHousekeeping } from "./cron";
import { purgeOldSessions } from "./db/sessions";
import { finishDeletedUsers } from "./db/user-admin";
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
    // Mailboxes of deleted users are turned `destroying` first, so this run's destroy pass takes them.
    ctx.waitUntil(finishDeletedUsers(env.DB).then(() => runHousekeeping(env)));
    ctx.waitUntil(purgeOldSessions(env.DB));
  },
} satisfies ExportedHandler<Env>;
