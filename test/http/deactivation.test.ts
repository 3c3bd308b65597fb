// Deactivation is final: it ends every session of the user, including those of logins that were
// checking the password while it ran, and reactivation brings none of them back.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { setUserActive } from "../../src/admin/user-status.js";
import { queryRows } from "../../src/db/connection.js";
import { userIdOf } from "../support/admin.js";
import { Client, cheapHasher, createTestApp, type TestApp } from "../support/app.js";

const PASSWORD = "correct horse battery";
const hasher = cheapHasher();
/** While set, every password check waits for it: the logins are caught between lookup and session. */
let gate: Promise<void> | null = null;
/** Password checks waiting at the gate, and who to tell when it changes. */
let waiting = 0;
let onWaiting: () => void = () => {};
let t: TestApp;

before(async () => {
  t = await createTestApp(
    {},
    {
      hasher: {
        ...hasher,
        async verify(encoded, password) {
          if (gate) {
            const waitFor = gate;
            waiting++;
            onWaiting();
            await waitFor;
          }
          return hasher.verify(encoded, password);
        },
      },
    },
  );
  for (const name of ["staff_member", "raced_user"]) {
    assert.equal((await new Client(t.app).signUp(name)).statusCode, 200);
  }
});
after(async () => {
  await t.close();
  await hasher.close();
});

async function sessionsOf(userId: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM sessions WHERE user_id = ${userId}`,
  );
  return row?.n ?? -1;
}

test("30 logins checking their password while the user is deactivated leave no session behind", async () => {
  const staffId = await userIdOf(t.deps.db, "staff_member");
  const userId = await userIdOf(t.deps.db, "raced_user");
  let open: () => void = () => {};
  gate = new Promise((resolve) => {
    open = resolve;
  });
  const clients = Array.from({ length: 30 }, (_, i) => new Client(t.app, "json", `192.0.2.${i + 1}`));
  await Promise.all(clients.map((c) => c.get("/login/")));
  const allWaiting = new Promise<void>((resolve) => {
    onWaiting = () => {
      if (waiting === clients.length) resolve();
    };
  });
  const logins = clients.map((c) => c.logIn("raced_user", PASSWORD));
  // Every login has read the user as active and is checking the password.
  await allWaiting;
  const change = await setUserActive(t.deps.db, staffId, userId, false);
  assert.equal(change.changed, true);
  gate = null;
  open();
  const statuses = (await Promise.all(logins)).map((r) => r.statusCode);
  assert.deepEqual(new Set(statuses), new Set([400]));
  assert.equal(await sessionsOf(userId), 0);

  await setUserActive(t.deps.db, staffId, userId, true);
  assert.equal(await sessionsOf(userId), 0, "reactivation revives nothing");
  for (const client of clients) assert.equal((await client.get("/")).statusCode, 401);
  // The user logs in afresh.
  assert.equal((await new Client(t.app).logIn("raced_user", PASSWORD)).statusCode, 200);
});

test("logins racing a deactivation without a pause: whatever finished, nothing survives it", async () => {
  const staffId = await userIdOf(t.deps.db, "staff_member");
  const userId = await userIdOf(t.deps.db, "raced_user");
  const clients = Array.from({ length: 30 }, (_, i) => new Client(t.app, "json", `198.51.100.${i + 1}`));
  await Promise.all(clients.map((c) => c.get("/login/")));
  const logins = Promise.all(clients.map((c) => c.logIn("raced_user", PASSWORD)));
  await setUserActive(t.deps.db, staffId, userId, false);
  await logins;
  assert.equal(await sessionsOf(userId), 0);
  await setUserActive(t.deps.db, staffId, userId, true);
  for (const client of clients) assert.equal((await client.get("/")).statusCode, 401);
});
