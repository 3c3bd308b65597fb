// Use case: deactivate or reactivate a user. A deactivated user cannot log in (login checks
// is_active), their link stops paying (sign-up only credits active inviters), and their sessions end.
import { eq } from "drizzle-orm";
import { deleteUserSessions } from "../accounts/sessions.js";
import type { Database } from "../db/connection.js";
import { users } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { UserNotFound } from "./adjustments.js";
import { recordAudit } from "./audit.js";

export const cannotReactivateDeleted = "This account was deleted by its owner: it cannot be reactivated.";

export interface StatusChange {
  changed: boolean;
  sessionsEnded: number;
}

export async function setUserActive(
  db: Database,
  actorId: number,
  userId: number,
  active: boolean,
): Promise<StatusChange> {
  if (!active && actorId === userId) {
    throw new ValidationError({ __all__: ["You cannot deactivate yourself: ask another staff member."] });
  }
  return db.transaction(async (tx) => {
    const before = await tx
      .select({ isActive: users.isActive, deletedAt: users.deletedAt })
      .from(users)
      .where(eq(users.id, userId))
      .for("update");
    const user = before[0];
    if (!user) throw new UserNotFound();
    // Its owner erased it: reactivated, it would be nobody's account with a working link.
    if (user.deletedAt !== null && active) throw new ValidationError({ __all__: [cannotReactivateDeleted] });
    if (user.isActive === active) return { changed: false, sessionsEnded: 0 };
    await tx.update(users).set({ isActive: active }).where(eq(users.id, userId));
    // Ended in the same transaction: no session of a deactivated user outlives the change.
    const sessionsEnded = active ? 0 : await deleteUserSessions(tx, userId);
    await recordAudit(tx, {
      actorId,
      action: active ? "user_reactivated" : "user_deactivated",
      targetUserId: userId,
      details: active ? {} : { sessions_ended: sessionsEnded },
    });
    return { changed: true, sessionsEnded };
  });
}
