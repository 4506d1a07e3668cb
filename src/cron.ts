import { loadConfig } from "./config";
import type { Env } from "./env";
import { nowIso } from "./lib/http";
import { log } from "./lib/log";
import type { MailboxRow } from "./mailboxes/repo";
import { EXPIRED_GRACE_MS, MailboxService } from "./mailboxes/service";
import { dispatchMailboxesExpired } from "./webhooks/repo";

export const CLEANUP_BATCH = 25;
/** A `creating` placeholder older than this belongs to a request that died half way. */
const STALE_CREATING_MS = 15 * 60 * 1000;

/**
 * Housekeeping, every few minutes: expire overdue mailboxes, destroy expired ones after the 24 h
 * grace, retry failed destroys with backoff, and drop placeholders of crashed creates. Each
 * mailbox is handled on its own: one failure never blocks the rest of the batch.
 */
export async function runHousekeeping(env: Env, now = Date.now()): Promise<{ expired: number; destroyed: number; failed: number; stale: number }> {
  const db = env.DB;
  const nowStr = nowIso(now);
  const expired = await db
    .prepare("UPDATE mailboxes SET status = 'expired' WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= ? RETURNING id, user_id, address, expires_at")
    .bind(nowStr)
    .all<{ id: string; user_id: string; address: string; expires_at: string | null }>();
  await dispatchMailboxesExpired(env, expired.results); // webhooks: mailbox.expired (never throws)
  const stale = await db
    .prepare("DELETE FROM mailboxes WHERE status = 'creating' AND routing_rule_id IS NULL AND created_at <= ?")
    .bind(nowIso(now - STALE_CREATING_MS))
    .run();
  const { results } = await db
    .prepare(
      `SELECT * FROM mailboxes
       WHERE (status = 'destroying' AND (cleanup_next_attempt_at IS NULL OR cleanup_next_attempt_at <= ?1))
          OR (status = 'expired' AND expires_at <= ?2 AND (cleanup_next_attempt_at IS NULL OR cleanup_next_attempt_at <= ?1))
       ORDER BY CASE status WHEN 'destroying' THEN 0 ELSE 1 END, created_at
       LIMIT ?3`,
    )
    .bind(nowStr, nowIso(now - EXPIRED_GRACE_MS), CLEANUP_BATCH)
    .all<MailboxRow>();
  const service = new MailboxService(env, loadConfig(env));
  let destroyed = 0;
  let failed = 0;
  for (const row of results) {
    try {
      await service.destroy(row);
      destroyed++;
    } catch {
      failed++; // recorded on the row with its backoff by destroy()
    }
  }
  const summary = { expired: expired.meta.changes, destroyed, failed, stale: stale.meta.changes };
  if (summary.expired || destroyed || failed || summary.stale) log("info", "cron.housekeeping", summary);
  return summary;
}
