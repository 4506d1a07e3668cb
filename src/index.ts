import type { Env } from "./env";
import { runHousekeeping } from "./cron";
import { purgeOldSessions } from "./db/sessions";
import { finishDeletedUsers } from "./db/user-admin";
import { receiveMessage } from "./mail/inbound";
import { runStorageMaintenance } from "./messages/capacity";
import { notifyHub } from "./push/hub";
import { handleFetch } from "./router";
import { kickOutboxes, kickStalledOutboxes } from "./webhooks/repo";

export { DomainObject } from "./domain/object";
export { CloudflareGate } from "./cloudflare/gate";
export { MailHub } from "./push/hub";
export { WebhookOutbox } from "./webhooks/outbox";

export default {
  fetch(request, env, ctx) {
    return handleFetch(request, env, ctx);
  },
  async email(message, env, ctx) {
    const result = await receiveMessage(message, env);
    // After the commit, outside the SMTP answer's path: waiters and streams learn of it. Losing
    // this is harmless (see src/push/hub.ts), so it may run in waitUntil.
    if (result.kind === "stored") {
      ctx.waitUntil(notifyHub(env, result.userId));
      // Webhooks: the events were queued in D1 with the message itself; each hook's outbox (a
      // Durable Object) sends them on its own alarm, so email() never waits on a receiver. A lost
      // kick only delays them: the cron pokes outboxes with stalled deliveries.
      if (result.webhookIds.length > 0) ctx.waitUntil(kickOutboxes(env, result.webhookIds));
    }
  },
  async scheduled(_controller, env, ctx) {
    // Mailboxes of deleted users are turned `destroying` first, so this run's destroy pass takes them.
    ctx.waitUntil(finishDeletedUsers(env.DB).then(() => runHousekeeping(env)));
    ctx.waitUntil(purgeOldSessions(env.DB));
    // Webhook deliveries whose outbox was never poked (a kick lost after the commit).
    ctx.waitUntil(kickStalledOutboxes(env));
    // Retention, storage pressure and the hourly capacity snapshot (src/messages/capacity.ts).
    ctx.waitUntil(runStorageMaintenance(env));
  },
} satisfies ExportedHandler<Env>;
