// The browsers each account has used (the device cookie's hashes): what housekeeping removes.
import { lt } from "drizzle-orm";
import type { Queryable } from "./connection.js";
import { knownDevices } from "./schema.js";

/**
 * Forgets the browsers not seen since `before`. A browser's cookie is set once, before it was last
 * seen, so one unseen for longer than the cookie lives can never be presented again. Returns how many.
 */
export async function purgeDevicesUnseenSince(db: Queryable, before: Date): Promise<number> {
  const deleted = await db
    .delete(knownDevices)
    .where(lt(knownDevices.lastSeenAt, before))
    .returning({ userId: knownDevices.userId });
  return deleted.length;
}
