// The addresses (keyed hashes) each account signed up or logged in from, for the shared-address
// signal: parts of the sign-up's and the login's statements, and the clean-up after the window.
import { lt, type SQL, sql } from "drizzle-orm";
import type { Queryable } from "./connection.js";
import { addressSightings } from "./schema.js";

/** Remembers (or refreshes) that the users of `source` (a query with an `id` column) were seen at the address. */
export function recordSighting(addressHash: string, source: SQL): SQL {
  return sql`INSERT INTO ${addressSightings} (address_hash, user_id, last_seen_at)
    SELECT ${addressHash}, id, now() FROM (${source}) AS seen
    ON CONFLICT (address_hash, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at`;
}

/** Forgets the sightings older than `before` (the end of the shared-address window). Returns how many. */
export async function purgeSightingsBefore(db: Queryable, before: Date): Promise<number> {
  const deleted = await db
    .delete(addressSightings)
    .where(lt(addressSightings.lastSeenAt, before))
    .returning({ userId: addressSightings.userId });
  return deleted.length;
}
