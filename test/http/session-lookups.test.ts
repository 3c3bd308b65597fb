// Session lookups asked in the same turn of the event loop share one query (accounts/sessions.ts).
// Each request must still get its own session and user, never another's; a session asked for twice
// gets the same answer twice; expired, idle and deactivated sessions stay invisible; more than one
// query's worth is split; and when the query fails every request waiting on it fails.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eq, sql } from "drizzle-orm";
import {
  hashSessionId,
  loadSession,
  MAX_LOOKUPS_PER_QUERY,
  newSession,
  type SessionPolicy,
} from "../../src/accounts/sessions.js";
import { openDatabase } from "../../src/db/connection.js";
import { sessions, users } from "../../src/db/schema.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";

const policy: SessionPolicy = { maxAgeSeconds: 3600, idleSeconds: 600 };
let database: TestDatabase;
/** Session id → the username it belongs to. */
const owners = new Map<string, string>();

before(async () => {
  database = await createTestDatabase();
  const db = database.handle.db;
  const count = MAX_LOOKUPS_PER_QUERY + 50;
  const created = await db
    .insert(users)
    .values(
      Array.from({ length: count }, (_, i) => ({
        username: `batch_${i}`,
        usernameKey: `batch_${i}`,
        passwordHash: "not-a-hash",
        referralToken: `token_${i}`.padEnd(22, "x"),
        balanceCents: i * 100,
        referredCount: i,
      })),
    )
    .returning({ id: users.id, username: users.username });
  for (const user of created) {
    const session = newSession(policy, {});
    await db.insert(sessions).values({ ...session.row, userId: user.id });
    owners.set(session.id, user.username);
  }
});
after(async () => database.drop());

test("concurrent lookups each get their own session and user, in one query per turn", async () => {
  const db = database.handle.db;
  const pool = database.handle.pool;
  let queries = 0;
  const countQuery = () => queries++;
  pool?.on("acquire", countQuery);
  const ids = [...owners.keys()].slice(0, 40);
  const loaded = await Promise.all(ids.map((id) => loadSession(db, id, policy)));
  pool?.off("acquire", countQuery);
  loaded.forEach((session, i) => {
    const username = owners.get(ids[i] as string) as string;
    assert.equal(session?.user.username, username);
    const n = Number(username.slice("batch_".length));
    assert.equal(session?.user.balanceCents, n * 100);
    assert.equal(session?.user.referredCount, n);
  });
  // The pool hands out a connection once per query (PostgreSQL; PGlite has a single connection).
  if (pool) assert.equal(queries, 1, "40 lookups in one turn share one query");
});

test("the same session asked for twice in one turn is answered twice; unknown ids get null", async () => {
  const db = database.handle.db;
  const [id] = owners.keys();
  const [a, b, unknown] = await Promise.all([
    loadSession(db, id as string, policy),
    loadSession(db, id as string, policy),
    loadSession(db, "B".repeat(43), policy),
  ]);
  assert.equal(a?.user.username, owners.get(id as string));
  assert.deepEqual(b?.user, a?.user);
  assert.equal(unknown, null);
});

test("more lookups than one query takes are split, and all are answered", async () => {
  const db = database.handle.db;
  const ids = [...owners.keys()];
  assert.ok(ids.length > MAX_LOOKUPS_PER_QUERY);
  const loaded = await Promise.all(ids.map((id) => loadSession(db, id, policy)));
  assert.deepEqual(
    loaded.map((s) => s?.user.username),
    ids.map((id) => owners.get(id)),
  );
});

test("expired, idle and deactivated sessions are not found, even batched with live ones", async () => {
  const db = database.handle.db;
  const [live, expired, idle, deactivated] = [...owners.keys()].slice(60, 64) as [
    string,
    string,
    string,
    string,
  ];
  await db
    .update(sessions)
    .set({ expiresAt: sql`now() - interval '1 second'` })
    .where(eq(sessions.idHash, hashSessionId(expired)));
  await db
    .update(sessions)
    .set({ lastSeenAt: sql`now() - interval '11 minutes'` })
    .where(eq(sessions.idHash, hashSessionId(idle)));
  await db
    .update(users)
    .set({ isActive: false })
    .where(eq(users.username, owners.get(deactivated) as string));
  const loaded = await Promise.all(
    [live, expired, idle, deactivated].map((id) => loadSession(db, id, policy)),
  );
  assert.deepEqual(
    loaded.map((s) => s?.user.username ?? null),
    [owners.get(live), null, null, null],
  );
});

test("when the query fails, every lookup waiting on it fails", async () => {
  // A database handle of its own, closed under the lookups.
  const handle = onPostgres
    ? await openDatabase({ databaseUrl: database.url, poolSize: 2 })
    : (await createTestDatabase()).handle;
  await handle.close();
  const ids = [...owners.keys()].slice(0, 3);
  const outcomes = await Promise.allSettled(ids.map((id) => loadSession(handle.db, id, policy)));
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ["rejected", "rejected", "rejected"],
  );
});
