// The sign-up's and the login's statements run as named prepared statements on PostgreSQL: each
// connection parses and plans them once (bench/README.md measures what that saves). On PGlite they
// run as any other.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { authenticate } from "../../src/accounts/login.js";
import { hashPassword } from "../../src/accounts/password-hasher.js";
import { endSessionWith, newSession } from "../../src/accounts/sessions.js";
import { Throttle } from "../../src/accounts/throttle.js";
import { loadConfig } from "../../src/config.js";
import { queryPreparedRows, queryRows } from "../../src/db/connection.js";
import { runDependentWrites } from "../../src/db/dependent-writes.js";
import { signUp } from "../../src/referrals/signup.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";

let database: TestDatabase;
// One connection, so the statements it has prepared are the ones the use cases prepared.
before(async () => {
  database = await createTestDatabase({ poolSize: 1 });
});
after(() => database.drop());

const config = loadConfig({ NODE_ENV: "test" });
const fastHash = async (password: string) => `not-a-hash:${password.length}`;

/** The texts of the statements this connection has prepared by name (queryPreparedRows: q_…). */
async function preparedStatements(): Promise<string[]> {
  const rows = await queryRows<{ statement: string }>(
    database.handle.db,
    sql`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'q\\_%' ORDER BY statement`,
  );
  return rows.map((row) => row.statement);
}

/** Each of `expected` (what → a piece of its SQL) is among the prepared statements. */
function assertPrepared(statements: string[], expected: Record<string, string>): void {
  for (const [what, piece] of Object.entries(expected)) {
    assert.ok(
      statements.some((text) => text.includes(piece)),
      what,
    );
  }
}

test("a prepared query returns what the same query returns unprepared", async () => {
  const { db } = database.handle;
  const query = sql`SELECT ${7}::int AS n, ${"seven"}::text AS word`;
  assert.deepEqual(await queryPreparedRows(db, query), await queryRows(db, query));
  assert.deepEqual(await queryPreparedRows(db, sql`SELECT ${8}::int AS n, ${"eight"}::text AS word`), [
    { n: 8, word: "eight" },
  ]);
});

test("on PostgreSQL, sign-ups and their throttle check prepare each statement once per connection", {
  skip: onPostgres ? false : "prepared statements are PostgreSQL's (set DATABASE_URL)",
}, async () => {
  const { db } = database.handle;
  const deps = { db, program: config.program, hashPassword: fastHash };
  const throttle = new Throttle(db, config.throttle);
  const signUpOnce = (username: string, token: string | null) =>
    signUp(
      deps,
      { username, password1: "plum-Orbit-74-lantern", password2: "plum-Orbit-74-lantern" },
      token,
      {
        check: throttle.signupAllowed("192.0.2.1"),
      },
    );

  const inviter = await signUpOnce("prepared_inviter", null);
  const [row] = await queryRows<{ referral_token: string }>(
    db,
    sql`SELECT referral_token FROM users WHERE id = ${inviter.userId}`,
  );
  const token = row?.referral_token ?? null;
  // Two round trips: the read before the hash, which also reads the throttle count, and the write.
  let roundTrips = 0;
  const countRoundTrip = () => roundTrips++;
  database.handle.pool?.on("acquire", countRoundTrip);
  await signUpOnce("prepared_first", token);
  database.handle.pool?.off("acquire", countRoundTrip);
  assert.equal(roundTrips, 2);
  const afterFirst = await preparedStatements();
  for (let i = 0; i < 5; i++) await signUpOnce(`prepared_more_${i}`, token);
  const afterMore = await preparedStatements();

  assertPrepared(afterFirst, {
    "the referred sign-up's write": "WITH schedule AS",
    "the read before the hash, with the throttle check": "inviter.referred_count, COALESCE((SELECT hits",
  });
  // Later sign-ups through the link reuse them: nothing new was prepared.
  assert.deepEqual(afterMore, afterFirst);
});

test("on PostgreSQL, logins prepare the user lookup (with the throttle check) and the session write once per connection", {
  skip: onPostgres ? false : "prepared statements are PostgreSQL's (set DATABASE_URL)",
}, async () => {
  const { db } = database.handle;
  const password = "plum-Orbit-74-lantern";
  await signUp(
    { db, program: config.program, hashPassword: fastHash },
    { username: "prepared_login", password1: password, password2: password },
    null,
  );
  // The fast hash above is not argon2id: store a real one to log in with.
  const real = await hashPassword(password);
  await queryRows(db, sql`UPDATE users SET password_hash = ${real} WHERE username = 'prepared_login'`);
  const throttle = new Throttle(db, config.throttle);
  let lookups = 0;
  const countLookup = () => lookups++;
  const logIn = async (previous: string | null) => {
    database.handle.pool?.on("acquire", countLookup);
    const { user } = await authenticate(
      db,
      { username: "prepared_login", password },
      throttle.loginAllowed("prepared_login", "192.0.2.2"),
    );
    database.handle.pool?.off("acquire", countLookup);
    const session = newSession(config.session);
    await runDependentWrites(
      db,
      user.id,
      previous ? [endSessionWith(previous), session.write] : [session.write],
    );
    return session.id;
  };
  const first = await logIn(null);
  await logIn(first);
  const afterTwo = await preparedStatements();
  let last = first;
  for (let i = 0; i < 4; i++) last = await logIn(last);
  // One round trip before the session write: the user lookup reads the throttle counts too.
  assert.equal(lookups, 6);

  assertPrepared(afterTwo, {
    "the user lookup, with the throttle check": "is_active FROM",
    "the session write": 'INSERT INTO "sessions"',
  });
  // Later logins reuse them: nothing new was prepared.
  assert.deepEqual(await preparedStatements(), afterTwo);
});
