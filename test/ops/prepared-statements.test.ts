// The hot statements of the sign-up and the login run as named prepared statements: each connection
// (PGlite's one session included) parses and plans them once.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { authenticate } from "../../src/accounts/login.js";
import { hashSessionId } from "../../src/accounts/sessions.js";
import { loadConfig } from "../../src/config.js";
import { queryPreparedRows, queryRows } from "../../src/db/connection.js";
import { signUp } from "../../src/referrals/signup.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";
import { signUpDeps } from "../support/referrals.js";

let database: TestDatabase;
// One connection, so the statements it has prepared are the ones the use cases prepared.
before(async () => {
  database = await createTestDatabase({ poolSize: 1 });
});
after(() => database.drop());

const config = loadConfig({ NODE_ENV: "test" });

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

test(`the sign-up's and the login's checks and writes are prepared once per connection (${onPostgres ? "PostgreSQL" : "PGlite"})`, async () => {
  const { db } = database.handle;
  const deps = signUpDeps(db);
  const client = { address: "192.0.2.1", sessionIdHash: null, deviceIdHash: null };
  const password = "plum-Orbit-74-lantern";
  try {
    const inviter = await signUp(
      deps,
      { username: "prepared_inviter", password, referralToken: null },
      client,
    );
    const [row] = await queryRows<{ referral_token: string }>(
      db,
      sql`SELECT referral_token FROM users WHERE id = ${inviter.userId}`,
    );
    const token = row?.referral_token ?? null;
    // Each friend from an address of their own, so the referral signals (on, as by default) pay at once.
    const friend = (n: number) => ({ ...client, address: `198.51.100.${n}` });
    const first = await signUp(
      deps,
      { username: "prepared_first", password, referralToken: token },
      friend(1),
    );
    assert.equal(first.referralStatus, "approved");
    // Up to the inviter's first reward, whose write is a statement of its own.
    for (let i = 0; i < config.program.referralsPerInviterReward - 1; i++) {
      await signUp(deps, { username: `prepared_early_${i}`, password, referralToken: token }, friend(10 + i));
    }
    const loggedIn = await authenticate(
      deps,
      { username: "prepared_first", password },
      {
        ...client,
        sessionIdHash: hashSessionId(first.sessionId),
      },
    );
    const afterFirst = await preparedStatements();
    assertPrepared(afterFirst, {
      "the sign-up's check before the hash": "WITH slot AS",
      "the sign-up's write": "WITH inviter AS",
      "the inviter's reward": "WITH entries AS",
      "the login's check before the hash": "user_slot AS",
      "the login's write": "WITH started AS",
    });
    for (let i = 0; i < config.program.referralsPerInviterReward; i++) {
      await signUp(deps, { username: `prepared_more_${i}`, password, referralToken: token }, friend(20 + i));
      await authenticate(
        deps,
        { username: "prepared_first", password },
        {
          ...client,
          sessionIdHash: hashSessionId(loggedIn.sessionId),
        },
      );
    }
    // Later sign-ups and logins reuse them: nothing new was prepared.
    assert.deepEqual(await preparedStatements(), afterFirst);
  } finally {
    await deps.hasher.close();
  }
});
