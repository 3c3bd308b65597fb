// Which notifications a person wants by email: read and set by them (/email/preferences/), and
// turned off one kind at a time by the link in every notification (/email/unsubscribe/).
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import { users } from "../db/schema.js";
import type { NotificationChoice } from "./messages.js";

export type Preferences = Record<NotificationChoice, boolean>;

export async function preferencesOf(
  db: Queryable,
  userId: number,
): Promise<(Preferences & { email: string | null; username: string }) | null> {
  const rows = await queryRows<Preferences & { email: string | null; username: string }>(
    db,
    sql`SELECT username, email, notify_friend_joined, notify_rewards, notify_review
      FROM ${users} WHERE id = ${userId} AND deleted_at IS NULL`,
  );
  return rows[0] ?? null;
}

export async function setPreferences(db: Queryable, userId: number, wanted: Preferences): Promise<void> {
  await db.execute(
    sql`UPDATE ${users} SET notify_friend_joined = ${wanted.notify_friend_joined},
      notify_rewards = ${wanted.notify_rewards}, notify_review = ${wanted.notify_review}
      WHERE id = ${userId}`,
  );
}

/** One kind off, from an unsubscribe link; the username, for the page that says so (null: no such user). */
export async function turnOff(
  db: Queryable,
  userId: number,
  choice: NotificationChoice,
): Promise<string | null> {
  const rows = await queryRows<{ username: string }>(
    db,
    sql`UPDATE ${users} SET ${sql.raw(choice)} = false WHERE id = ${userId} AND deleted_at IS NULL
      RETURNING username`,
  );
  return rows[0]?.username ?? null;
}
