// Use case: deactivate or reactivate a user. A deactivated user cannot log in (login checks
// is_active), their link stops paying (sign-up only credits active inviters), and their sessions end.
import { eq } from "drizzle-orm";
import { deleteUserSessions } from "../accounts/sessions.js";
import type { Database } from "../db/connection.js";
import { users } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { type EventDeps, noEventWake, recordEvent } from "../events/events.js";
import { UserNotFound } from "./adjustments.js";
import { type Actor, auditActor, eventActor, recordAudit } from "./audit.js";

export const cannotReactivateDeleted = "This account was deleted by its owner: it cannot be reactivated.";

export interface StatusChange {
  changed: boolean;
  sessionsEnded: number;
}

/** Staff (a user id) or an API key; the events `user.deactivated` and `user.reactivated` tell integrations. */
export async function setUserActive(
  db: Database,
  actor: Actor,
  userId: number,
  active: boolean,
  events: EventDeps = noEventWake,
): Promise<StatusChange> {
  if (!active && actor === userId) {
    throw new ValidationError({ __all__: ["You cannot deactivate yourself: ask another staff member."] });
  }
  const change = await db.transaction(async (tx) => {
    const before = await tx
      .select({ isActive: users.isActive, deletedAt: users.deletedAt, username: users.username })
      .from(users)
      .where(eq(users.id, userId))
      .for("update");
    const user = before[0];
    if (!user) throw new UserNotFound();
    // Its owner erased it: reactivated, it would be nobody's account with a working link.
    if (user.deletedAt !== null && active) throw new ValidationError({ __all__: [cannotReactivateDeleted] });
    if (user.isActive === active) return { changed: false, sessionsEnded: 0, deliveryIds: [] };
    await tx.update(users).set({ isActive: active }).where(eq(users.id, userId));
    // Ended in the same transaction: no session of a deactivated user outlives the change.
    const sessionsEnded = active ? 0 : await deleteUserSessions(tx, userId);
    await recordAudit(tx, {
      ...auditActor(actor),
      action: active ? "user_reactivated" : "user_deactivated",
      targetUserId: userId,
      details: active ? {} : { sessions_ended: sessionsEnded },
    });
    const deliveryIds = await recordEvent(tx, active ? "user.reactivated" : "user.deactivated", {
      user_id: userId,
      username: user.username,
      by: eventActor(actor),
    });
    return { changed: true, sessionsEnded, deliveryIds };
  });
  events.wake(change.deliveryIds);
  return { changed: change.changed, sessionsEnded: change.sessionsEnded };
}
