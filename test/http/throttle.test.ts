import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { cleanUpExpired } from "../../src/accounts/housekeeping.js";
import { currentWindow } from "../../src/accounts/throttle.js";
import { buildApp } from "../../src/app.js";
import { queryRows } from "../../src/db/connection.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";

const limits = { LOGIN_FAILURES_PER_WINDOW: "3", SIGNUPS_PER_WINDOW: "2", THROTTLE_WINDOW_SECONDS: "900" };
let now = Date.UTC(2026, 0, 1, 12, 0, 0);
let t: TestApp;

before(async () => {
  // A clock the tests move.
  t = await createTestApp(limits, { clock: () => now });
  for (const name of ["victim", "bystander"]) {
    const c = new Client(t.app);
    await c.post("/signup/", {
      username: name,
      password1: "correct horse battery",
      password2: "correct horse battery",
    });
  }
  await t.deps.db.execute(sql`DELETE FROM throttle_counters`);
});
after(async () => t.close());

function loginFrom(address: string, username: string, password: string) {
  return new Client(t.app, "json", address).post("/login/", { username, password });
}

describe("login throttling", () => {
  test("after the limit of failures for one username, even the right password gets 429 with Retry-After", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await loginFrom(`10.0.0.${i + 1}`, "victim", "wrong password");
      assert.equal(r.statusCode, 400);
    }
    const blocked = await loginFrom("10.0.0.9", "victim", "correct horse battery");
    assert.equal(blocked.statusCode, 429);
    assert.equal(blocked.json().error, "too_many_requests");
    const retryAfter = Number(blocked.headers["retry-after"]);
    assert.ok(retryAfter > 0 && retryAfter <= 900, String(retryAfter));
  });

  test("other users still log in while one username is throttled", async () => {
    const r = await loginFrom("10.0.0.1", "bystander", "correct horse battery");
    assert.equal(r.statusCode, 200);
  });

  test("after the limit of failures from one address, that address gets 429 for any username", async () => {
    for (const name of ["a1", "a2", "a3"]) {
      assert.equal((await loginFrom("192.0.2.50", name, "wrong password")).statusCode, 400);
    }
    assert.equal((await loginFrom("192.0.2.50", "bystander", "correct horse battery")).statusCode, 429);
    // The refusal comes first, whatever else is wrong with the form.
    assert.equal((await loginFrom("192.0.2.50", "bystander", "")).statusCode, 429);
    assert.equal((await loginFrom("192.0.2.51", "bystander", "correct horse battery")).statusCode, 200);
  });

  test("the counters live in the database: a second server process over it sees them", async () => {
    const second = await buildApp({ ...t.deps });
    try {
      const r = await new Client(second, "json", "10.9.9.9").logIn("victim");
      assert.equal(r.statusCode, 429);
      const rows = await queryRows<{ bucket: string; hits: number }>(
        t.deps.db,
        sql`SELECT bucket, hits FROM throttle_counters WHERE bucket = 'login:user:victim'`,
      );
      assert.equal(rows[0]?.hits, 3);
    } finally {
      await second.close();
    }
  });

  test("when the window ends the username may try again, and old counters are purged", async () => {
    now += 900_000;
    assert.equal((await loginFrom("10.0.0.1", "victim", "correct horse battery")).statusCode, 200);
    const purged = await cleanUpExpired(t.deps.db, t.config, now);
    assert.ok(purged.throttleCounters >= 1);
  });

  test("a right password clears the username's failures and counts no failure of its own", async () => {
    const userFailures = async () =>
      (
        await queryRows<{ hits: number }>(
          t.deps.db,
          sql`SELECT hits FROM throttle_counters WHERE bucket = 'login:user:bystander'`,
        )
      )[0]?.hits;
    // Two failures from different addresses, then the right password: the count goes.
    for (const address of ["10.1.0.1", "10.1.0.2"]) {
      assert.equal((await loginFrom(address, "bystander", "wrong password")).statusCode, 400);
    }
    assert.equal(await userFailures(), 2);
    assert.equal((await loginFrom("10.1.0.3", "bystander", "correct horse battery")).statusCode, 200);
    assert.equal(await userFailures(), undefined);
    // Two more failures would have reached the limit of 3 had the first two stayed.
    for (const address of ["10.1.0.4", "10.1.0.5"]) {
      assert.equal((await loginFrom(address, "bystander", "wrong password")).statusCode, 400);
    }
    assert.equal((await loginFrom("10.1.0.6", "bystander", "correct horse battery")).statusCode, 200);
    // The attempt reserved before the hash is given back once the password proves right.
    const failures = () =>
      queryRows(t.deps.db, sql`SELECT bucket, hits FROM throttle_counters WHERE hits > 0 ORDER BY bucket`);
    const before = await failures();
    assert.equal((await loginFrom("10.1.0.7", "bystander", "correct horse battery")).statusCode, 200);
    assert.deepEqual(await failures(), before);
  });
});

describe("sign-up throttling", () => {
  test("sign-ups per client address are limited", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await new Client(t.app, "json", "198.51.100.7").signUp(`mass_${i}`);
      statuses.push(r.statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    // Over the limit, the refusal comes first, whatever else is wrong with the form.
    const invalid = await new Client(t.app, "json", "198.51.100.7").post("/signup/", {
      username: "no spaces allowed",
      password1: "x",
      password2: "y",
    });
    assert.equal(invalid.statusCode, 429);
    const elsewhere = await new Client(t.app, "json", "198.51.100.8").post("/signup/", {
      username: "no spaces allowed",
      password1: "x",
      password2: "y",
    });
    assert.equal(elsewhere.statusCode, 400);
  });
});

describe("windows", () => {
  test("a window starts on a multiple of its length and reports the seconds left", () => {
    const w = currentWindow(Date.UTC(2026, 0, 1, 12, 5, 0), 900);
    assert.equal(w.start.toISOString(), "2026-01-01T12:00:00.000Z");
    assert.equal(w.secondsLeft, 600);
  });
});

describe("client addresses", () => {
  let signups = 0;
  async function signupsFrom(app: TestApp, forwardedFor: string[]): Promise<number[]> {
    const statuses: number[] = [];
    for (const address of forwardedFor) {
      const client = new Client(app.app);
      const r = await client.post(
        "/signup/",
        {
          username: `forwarded_${signups++}`,
          password1: "correct horse battery",
          password2: "correct horse battery",
        },
        { "x-forwarded-for": address },
      );
      statuses.push(r.statusCode);
    }
    return statuses;
  }

  test("behind a trusted proxy, X-Forwarded-For names the client, so each client has its own limit", async () => {
    const proxied = await createTestApp({ ...limits, TRUST_PROXY: "true" });
    try {
      assert.deepEqual(
        await signupsFrom(proxied, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]),
        [200, 200, 200],
      );
      assert.deepEqual(await signupsFrom(proxied, ["203.0.113.1", "203.0.113.1"]), [200, 429]);
    } finally {
      await proxied.close();
    }
  });

  test("without TRUST_PROXY a forged X-Forwarded-For does not escape the limit", async () => {
    const direct = await createTestApp(limits);
    try {
      assert.deepEqual(
        await signupsFrom(direct, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]),
        [200, 200, 429],
      );
    } finally {
      await direct.close();
    }
  });
});
