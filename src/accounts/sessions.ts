// Server-side sessions in the database, shared by every server process. The cookie carries 256
// random bits; the table keeps only their SHA-256, so a database leak gives no usable cookie.
import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, lt, or, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/connection.js";
import { sessions, users } from "../db/schema.js";

export interface SessionPolicy {
  maxAgeSeconds: number;
  idleSeconds: number;
}

/** The logged-in user, as every page needs it: one query per request. */
export interface SessionUser {
  id: number;
  username: string;
  referralToken: string;
  balanceCents: number;
  referredCount: number;
  isStaff: boolean;
}

export interface LoadedSession {
  idHash: string;
  user: SessionUser;
  lastSeenAt: Date;
}

/** last_seen_at is written at most this often, so reads stay reads. */
const TOUCH_EVERY_MS = 60_000;

export function hashSessionId(id: string): string {
  return createHash("sha256").update(id).digest("base64url");
}

const sessionIdPattern = /^[A-Za-z0-9_-]{43}$/;

export async function createSession(
  db: Queryable,
  userId: number,
  policy: SessionPolicy,
  meta: { userAgent?: string | undefined; clientAddress?: string | undefined } = {},
): Promise<string> {
  const id = randomBytes(32).toString("base64url");
  await db.insert(sessions).values({
    idHash: hashSessionId(id),
    userId,
    expiresAt: new Date(Date.now() + policy.maxAgeSeconds * 1000),
    userAgent: meta.userAgent?.slice(0, 300) ?? null,
    clientAddress: meta.clientAddress ?? null,
  });
  return id;
}

/**
 * The session lookup every request makes, built once per database and run as a named prepared
 * statement: no SQL building in Node and no parsing or planning in PostgreSQL per request.
 */
function sessionLookup(db: Database) {
  return db
    .select({
      lastSeenAt: sessions.lastSeenAt,
      id: users.id,
      username: users.username,
      referralToken: users.referralToken,
      balanceCents: users.balanceCents,
      referredCount: users.referredCount,
      isStaff: users.isStaff,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.idHash, sql.placeholder("idHash")),
        gt(sessions.expiresAt, sql`now()`),
        gt(sessions.lastSeenAt, sql`now() - make_interval(secs => ${sql.placeholder("idleSeconds")})`),
        eq(users.isActive, true),
      ),
    )
    .limit(1)
    .prepare("load_session");
}

const sessionLookups = new WeakMap<Database, ReturnType<typeof sessionLookup>>();

export async function loadSession(
  db: Database,
  id: string,
  policy: SessionPolicy,
): Promise<LoadedSession | null> {
  if (!sessionIdPattern.test(id)) return null;
  const idHash = hashSessionId(id);
  let lookup = sessionLookups.get(db);
  if (!lookup) {
    lookup = sessionLookup(db);
    sessionLookups.set(db, lookup);
  }
  const rows = await lookup.execute({ idHash, idleSeconds: policy.idleSeconds });
  const row = rows[0];
  if (!row) return null;
  const { lastSeenAt, ...user } = row;
  if (Date.now() - lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db.update(sessions).set({ lastSeenAt: sql`now()` }).where(eq(sessions.idHash, idHash));
  }
  return { idHash, user, lastSeenAt };
}

export async function deleteSession(db: Queryable, id: string): Promise<void> {
  if (!sessionIdPattern.test(id)) return;
  await db.delete(sessions).where(eq(sessions.idHash, hashSessionId(id)));
}

/** Logout everywhere (or deactivation, inside its transaction): ends every session of the user. Returns how many ended. */
export async function deleteUserSessions(db: Queryable, userId: number): Promise<number> {
  const deleted = await db
    .delete(sessions)
    .where(eq(sessions.userId, userId))
    .returning({ h: sessions.idHash });
  return deleted.length;
}

/** Removes sessions past their absolute or idle expiry. Returns how many. */
export async function purgeExpiredSessions(db: Database, policy: SessionPolicy): Promise<number> {
  const deleted = await db
    .delete(sessions)
    .where(
      or(
        lt(sessions.expiresAt, sql`now()`),
        lt(sessions.lastSeenAt, sql`now() - make_interval(secs => ${policy.idleSeconds})`),
      ),
    )
    .returning({ h: sessions.idHash });
  return deleted.length;
}
