// Secrets the service makes for itself: created on first use by whichever process asks first, and
// then read by every process, so instances sharing a database share them.
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Queryable } from "./connection.js";
import { serviceSecrets } from "./schema.js";

/** The named secret (32 random bytes, base64url), made now if it does not exist yet. */
export async function serviceSecret(db: Queryable, name: string): Promise<string> {
  await db
    .insert(serviceSecrets)
    .values({ name, value: randomBytes(32).toString("base64url") })
    .onConflictDoNothing();
  const [row] = await db
    .select({ value: serviceSecrets.value })
    .from(serviceSecrets)
    .where(eq(serviceSecrets.name, name));
  if (!row) throw new Error(`service secret ${name} could not be read`);
  return row.value;
}
