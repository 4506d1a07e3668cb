import { forgetUser } from "../auth/cache";
import { ApiError } from "../lib/errors";
import { nowIso } from "../lib/http";
import { log } from "../lib/log";
import type { MailboxRow } from "../mailboxes/repo";
import { revokeUserSessions } from "./sessions";
import { toUser, type Role, type User, type UserRow } from "./users";

/**
 * Admin changes to users: role, disabled, delete. Each guard that protects the deployment (never
 * zero enabled admins) is part of the UPDATE itself, so two admins demoting each other at the
 * same moment cannot both succeed: D1 runs one statement at a time.
 */

const USER_ID = /^usr_[0-9a-f]{32}$/;

/** "Another enabled admin exists besides ?1": the last-admin guard. */
const ANOTHER_ADMIN = "EXISTS (SELECT 1 FROM users o WHERE o.id <> ?1 AND o.role = 'admin' AND o.disabled_at IS NULL AND o.deleted_at IS NULL)";

const lastAdmin = () =>
  new ApiError(409, "Cannot demote, disable or delete the last admin", {
    code: "last_admin",
    hint: "Make another user an admin first.",
  });

export async function liveUser(db: D1Database, id: string | undefined): Promise<User | null> {
  if (!id || !USER_ID.test(id)) return null;
  const row = await db.prepare("SELECT * FROM users WHERE id = ? AND deleted_at IS NULL").bind(id).first<UserRow>();
  return row ? toUser(row) : null;
}

/**
 * Sets the role and/or the disabled flag. Disabling revokes every session of the user in the same
 * transaction; the user's keys stop working while disabled (every key lookup checks the user) and
 * work again if the user is re-enabled.
 */
export async function updateUser(db: D1Database, user: User, change: { role?: Role; disabled?: boolean }): Promise<User> {
  forgetUser(user.id);
  const now = nowIso();
  const disabled = change.disabled === undefined ? null : change.disabled ? 1 : 0;
  const [updated] = await db.batch([
    db
      .prepare(
        `UPDATE users SET
           role = coalesce(?2, role),
           disabled_at = CASE WHEN ?3 IS NULL THEN disabled_at WHEN ?3 = 1 THEN coalesce(disabled_at, ?4) ELSE NULL END,
           updated_at = ?4
         WHERE id = ?1 AND deleted_at IS NULL
           AND ((coalesce(?2, role) = 'admin' AND CASE WHEN ?3 IS NULL THEN disabled_at IS NULL ELSE ?3 = 0 END) OR ${ANOTHER_ADMIN})
         RETURNING *`,
      )
      .bind(user.id, change.role ?? null, disabled, now),
    db
      .prepare(
        "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND disabled_at IS NOT NULL)",
      )
      .bind(user.id, now),
  ]);
  const row = (updated?.results as UserRow[] | undefined)?.[0];
  if (!row) throw lastAdmin();
  log("info", "user.updated", { userId: user.id, role: row.role, disabled: row.disabled_at !== null });
  return toUser(row);
}

/**
 * Marks a user deleted (a tombstone: disabled, e-mail address freed for re-use), revokes every key
 * and session, and turns each of their live mailboxes `destroying` so no more mail is accepted for
 * them. Returns those mailboxes: the caller destroys them through the normal path, and the cron
 * finishes any that fail (see `finishDeletedUsers`). Nothing cascades, so no routing rule or stored
 * message is left behind without its row.
 */
export async function deleteUser(db: D1Database, user: User): Promise<MailboxRow[]> {
  const catchAll = await db
    .prepare("SELECT root_domain FROM domains WHERE catch_all_owner_user_id = ? AND catch_all_enabled = 1 AND status <> 'deleted' LIMIT 5")
    .bind(user.id)
    .all<{ root_domain: string }>();
  if (catchAll.results.length > 0) {
    const domains = catchAll.results.map((d) => d.root_domain);
    throw new ApiError(409, "User owns catch-all mail on a domain", {
      code: "user_owns_catch_all",
      domains,
      hint: `Turn catch-all off on ${domains.join(", ")} (or have another admin turn it on again) first.`,
    });
  }
  forgetUser(user.id);
  const now = nowIso();
  const [deleted] = await db.batch([
    db
      .prepare(
        `UPDATE users SET deleted_at = ?2, disabled_at = coalesce(disabled_at, ?2), email = 'deleted-' || id || '@users.invalid', updated_at = ?2
         WHERE id = ?1 AND deleted_at IS NULL AND ${ANOTHER_ADMIN}
         RETURNING id`,
      )
      .bind(user.id, now),
    db.prepare("UPDATE api_keys SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NOT NULL)").bind(user.id, now),
    revokeUserSessions(db, user.id, now),
    db
      .prepare(
        "UPDATE mailboxes SET status = 'destroying', cleanup_next_attempt_at = ?2 WHERE user_id = ?1 AND status IN ('active', 'expired') AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NOT NULL)",
      )
      .bind(user.id, now),
  ]);
  if (!deleted?.results?.length) throw lastAdmin();
  log("info", "user.deleted", { userId: user.id });
  const { results } = await db.prepare("SELECT * FROM mailboxes WHERE user_id = ? AND status = 'destroying' ORDER BY created_at").bind(user.id).all<MailboxRow>();
  return results;
}

/**
 * Cron: a mailbox of a deleted user that is still live (a create that finished after the delete)
 * is turned `destroying`, so the housekeeping destroy pass removes it like any other.
 */
export async function finishDeletedUsers(db: D1Database): Promise<number> {
  const res = await db
    .prepare(
      `UPDATE mailboxes SET status = 'destroying', cleanup_next_attempt_at = ?1
       WHERE status IN ('active', 'expired') AND user_id IN (SELECT id FROM users WHERE deleted_at IS NOT NULL)`,
    )
    .bind(nowIso())
    .run();
  return res.meta.changes;
}
