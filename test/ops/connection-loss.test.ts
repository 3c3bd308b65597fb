// A PostgreSQL connection that dies while a request holds it (a server crash, a failover, an admin
// killing the backend) must fail that request, not the process. node-postgres emits 'error' on a
// checked-out client whose socket ends, and the pool listens only while the client is idle, so an
// unheard 'error' would be thrown as an uncaught exception and take the whole server down.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import pg from "pg";
import { queryRows } from "../../src/db/connection.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";

const skip = onPostgres ? false : "needs PostgreSQL (set DATABASE_URL): PGlite has no connection to lose";

let database: TestDatabase | undefined;
before(async () => {
  if (!skip) database = await createTestDatabase({ poolSize: 2 });
});
after(async () => {
  await database?.drop();
});

/** Ends the backend with this pid from a connection of its own, as a crash or an admin would. */
async function terminateBackend(url: string, pid: number): Promise<void> {
  const killer = new pg.Client({ connectionString: url });
  await killer.connect();
  try {
    await killer.query("SELECT pg_terminate_backend($1)", [pid]);
  } finally {
    await killer.end();
  }
}

test("a connection killed inside a transaction fails that transaction, and the process and pool carry on", {
  skip,
}, async () => {
  const { handle, url } = database as TestDatabase;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on("uncaughtException", onUncaught);
  try {
    const outcome = await handle.db
      .transaction(async (tx) => {
        const [me] = await queryRows<{ pid: number }>(tx, sql`SELECT pg_backend_pid() AS pid`);
        // Between two statements, as while a request does other work: the socket ends with no query
        // in flight, the case that reaches the client's 'error' event.
        await terminateBackend(url as string, (me as { pid: number }).pid);
        await new Promise((r) => setTimeout(r, 200));
        await queryRows(tx, sql`SELECT 1`);
        return "committed";
      })
      .catch((error: Error) => `failed: ${error.message}`);
    assert.match(outcome, /^failed: /, "the transaction on the dead connection must fail");
    // Give any stray 'error' event time to surface.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(uncaught, [], "no uncaught exception");
    // The pool drops the dead client and serves the next request on a fresh connection.
    const rows = await queryRows<{ one: number }>(handle.db, sql`SELECT 1 AS one`);
    assert.equal(rows[0]?.one, 1);
  } finally {
    process.off("uncaughtException", onUncaught);
  }
});
