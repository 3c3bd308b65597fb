// Use cases: staff end one of a user's sessions, or give a user a new referral link (the old one
// stops working at once). Each is one transaction that also writes its audit row.
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/connection.js";
import { sessions, users } from "../db/schema.js";
import { newReferralToken } from "../referrals/token.js";
import { UserNotFound } from "./adjustments.js";
import { recordAudit } from "./audit.js";

/**
 * How staff name a session: the start of its stored id hash (the SHA-256 of the cookie), 96 bits.
 * It is not the cookie and gives no way to one; within one user's sessions it is as good as unique.
 */
export const SESSION_PUBLIC_ID_LENGTH = 16;
const publicIdPattern = new RegExp(`^[A-Za-z0-9_-]{${SESSION_PUBLIC_ID_LENGTH}}$`);

/** The public id of a session row, in SQL. */
export const sessionPublicIdSql = sql<string>`left(${sessions.idHash}, ${sql.raw(String(SESSION_PUBLIC_ID_LENGTH))})`;

export function isSessionPublicId(value: unknown): value is string {
  return typeof value === "string" && publicIdPattern.test(value);
}

export interface SessionEnded {
  /** False when no such session of this user was open (already ended, or never one of theirs). */
  ended: boolean;
}

/** Ends the user's session with this public id; the audit entry says which device it was. */
export async function endUserSession(
  db: Database,
  actorId: number,
  userId: number,
  publicId: string,
): Promise<SessionEnded> {
  return db.transaction(async (tx) => {
    const found = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId));
    if (!found[0]) throw new UserNotFound();
    if (!isSessionPublicId(publicId)) return { ended: false };
    const deleted = await tx
      .delete(sessions)
      .where(and(eq(sessions.userId, userId), sql`${sessionPublicIdSql} = ${publicId}`))
      .returning({ userAgent: sessions.userAgent, clientAddress: sessions.clientAddress });
    const first = deleted[0];
    if (!first) return { ended: false };
    await recordAudit(tx, {
      actorId,
      action: "session_ended",
      targetUserId: userId,
      details: { session: publicId, client_address: first.clientAddress, user_agent: first.userAgent },
    });
    return { ended: true };
  });
}

/** Gives the user a new referral token: links with the old one name nobody from now on. */
export async function regenerateReferralLink(
  db: Database,
  actorId: number,
  userId: number,
): Promise<{ referralToken: string }> {
  const referralToken = newReferralToken();
  return db.transaction(async (tx) => {
    const updated = await tx
      .update(users)
      .set({ referralToken })
      .where(eq(users.id, userId))
      .returning({ id: users.id });
    if (!updated[0]) throw new UserNotFound();
    await recordAudit(tx, { actorId, action: "referral_link_regenerated", targetUserId: userId });
    return { referralToken };
  });
}
