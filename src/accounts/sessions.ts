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
  /** Credit held for review: not part of the balance until approved. */
  pendingCents: number;
  referredCount: number;
  /** Progress toward the next reward carried over from the Django version (rules.ts, countTowardRewards). */
  carriedReferrals: number;
  /** Visitors who opened the user's referral link (once per visitor per day), as last flushed. */
  linkOpens: number;
  isStaff: boolean;
  /** The verified address, or null. */
  email: string | null;
  /** The address a verification link was sent to and not yet confirmed, or null. */
  pendingEmail: string | null;
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

/** Who is starting a session: kept with it so staff can tell one device's session from another's. */
export interface SessionClient {
  userAgent?: string | undefined;
  address?: string | undefined;
}

/** A session about to be written: the cookie's value, and the row the store writes for it. */
export interface NewSession {
  id: string;
  row: { idHash: string; expiresAt: Date; userAgent: string | null; clientAddress: string | null };
}

export function newSession(policy: SessionPolicy, client: SessionClient, now = Date.now()): NewSession {
  const id = randomBytes(32).toString("base64url");
  return {
    id,
    row: {
      idHash: hashSessionId(id),
      expiresAt: new Date(now + policy.maxAgeSeconds * 1000),
      userAgent: client.userAgent?.slice(0, 300) ?? null,
      clientAddress: client.address ?? null,
    },
  };
}

/** The stored hash of a cookie's session id, or null when the cookie cannot be one. */
export function sessionIdHashOf(cookie: string | undefined): string | null {
  return cookie !== undefined && sessionIdPattern.test(cookie) ? hashSessionId(cookie) : null;
}

/** Sessions looked up together at most; more wait for the next round trip. */
export const MAX_LOOKUPS_PER_QUERY = 100;

/**
 * The session lookup every request makes, for every request that asked in the same turn of the
 * event loop at once: one round trip (`id_hash = ANY(…)`, a named prepared statement, so no SQL
 * building in Node and no parsing or planning in PostgreSQL) instead of one each. Each row is still
 * read after its request arrived, so nothing is staler than with a query per request; under load
 * the round trips, not the rows, are what cost.
 */
function sessionLookupStatement(db: Database) {
  return db
    .select({
      idHash: sessions.idHash,
      lastSeenAt: sessions.lastSeenAt,
      id: users.id,
      username: users.username,
      referralToken: users.referralToken,
      balanceCents: users.balanceCents,
      pendingCents: users.pendingCents,
      referredCount: users.referredCount,
      carriedReferrals: users.carriedReferrals,
      linkOpens: users.linkOpens,
      isStaff: users.isStaff,
      email: users.email,
      pendingEmail: users.pendingEmail,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        sql`${sessions.idHash} = ANY(${sql.placeholder("idHashes")}::text[])`,
        gt(sessions.expiresAt, sql`now()`),
        gt(sessions.lastSeenAt, sql`now() - make_interval(secs => ${sql.placeholder("idleSeconds")})`),
        eq(users.isActive, true),
      ),
    )
    .prepare("load_sessions");
}

type SessionRow = Awaited<ReturnType<ReturnType<typeof sessionLookupStatement>["execute"]>>[number];

interface Waiter {
  resolve: (row: SessionRow | undefined) => void;
  reject: (error: unknown) => void;
}

class SessionLookups {
  private readonly statement: ReturnType<typeof sessionLookupStatement>;
  /** Session id hash → the lookups waiting for it (the same session may be asked for twice). */
  private waiting = new Map<string, Waiter[]>();

  constructor(
    db: Database,
    private readonly idleSeconds: number,
  ) {
    this.statement = sessionLookupStatement(db);
  }

  load(idHash: string): Promise<SessionRow | undefined> {
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) {
        // After the sockets that are ready in this turn have all been read.
        setImmediate(() => this.flush());
      }
      const waiters = this.waiting.get(idHash);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(idHash, [{ resolve, reject }]);
    });
  }

  private flush(): void {
    const waiting = this.waiting;
    this.waiting = new Map();
    const hashes = [...waiting.keys()];
    for (let i = 0; i < hashes.length; i += MAX_LOOKUPS_PER_QUERY) {
      const batch = hashes.slice(i, i + MAX_LOOKUPS_PER_QUERY);
      const waitersOf = (hash: string) => waiting.get(hash) ?? [];
      this.statement.execute({ idHashes: batch, idleSeconds: this.idleSeconds }).then(
        (rows) => {
          const found = new Map(rows.map((row) => [row.idHash, row]));
          for (const hash of batch) for (const waiter of waitersOf(hash)) waiter.resolve(found.get(hash));
        },
        (error: unknown) => {
          for (const hash of batch) for (const waiter of waitersOf(hash)) waiter.reject(error);
        },
      );
    }
  }
}

const sessionLookups = new WeakMap<Database, Map<number, SessionLookups>>();

function lookupsFor(db: Database, idleSeconds: number): SessionLookups {
  let byIdle = sessionLookups.get(db);
  if (!byIdle) {
    byIdle = new Map();
    sessionLookups.set(db, byIdle);
  }
  let lookups = byIdle.get(idleSeconds);
  if (!lookups) {
    lookups = new SessionLookups(db, idleSeconds);
    byIdle.set(idleSeconds, lookups);
  }
  return lookups;
}

export async function loadSession(
  db: Database,
  id: string,
  policy: SessionPolicy,
): Promise<LoadedSession | null> {
  const idHash = sessionIdHashOf(id);
  if (idHash === null) return null;
  const row = await lookupsFor(db, policy.idleSeconds).load(idHash);
  if (!row) return null;
  const { lastSeenAt, idHash: _, ...user } = row;
  if (Date.now() - lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db.update(sessions).set({ lastSeenAt: sql`now()` }).where(eq(sessions.idHash, idHash));
  }
  return { idHash, user, lastSeenAt };
}

export async function deleteSession(db: Queryable, id: string): Promise<void> {
  const idHash = sessionIdHashOf(id);
  if (idHash !== null) await db.delete(sessions).where(eq(sessions.idHash, idHash));
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
