// Throttles hold when requests arrive together: each attempt is reserved on its counter before the
// hash, in the statement that checks the limit, so at most the limit ever passes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, cheapHasher, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import { balanceMismatches } from "../support/ledger.js";

const limits = { SIGNUPS_PER_WINDOW: "20", LOGIN_FAILURES_PER_WINDOW: "10" };
const PASSWORD = "correct horse battery";
const hasher = cheapHasher();
/** Every hash the app was asked to verify: the login attempts that got past the throttle. */
let verified = 0;
let t: TestApp;

before(async () => {
  t = await createTestApp(limits, {
    hasher: {
      ...hasher,
      verify(encoded, password) {
        verified++;
        return hasher.verify(encoded, password);
      },
    },
  });
});
after(async () => {
  await t.close();
  await hasher.close();
});

function count(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe("throttles under concurrency", () => {
  test("100 concurrent referred sign-ups from one address through one link: exactly the limit of 20 pass", async () => {
    const inviter = new Client(t.app, "json", "192.0.2.200");
    assert.equal((await inviter.signUp("crowded_inviter")).statusCode, 200);
    const token = tokenOf((await inviter.dashboard()).referral_link);
    const clients = Array.from({ length: 100 }, () => new Client(t.app, "json", "198.51.100.99"));
    await Promise.all(clients.map((c) => c.get("/login/")));
    const responses = await Promise.all(
      clients.map((c, i) => c.signUp(`crowd_member_${i}`, PASSWORD, token)),
    );
    assert.deepEqual(count(responses.map((r) => r.statusCode)), { 200: 20, 429: 80 });
    const me = await inviter.dashboard();
    assert.equal(me.referred_count, 20);
    assert.equal(me.balance_cents, 4 * 1000);
    assert.deepEqual(await balanceMismatches(t.deps.db), []);
  });

  test("60 concurrent logins for one user (59 wrong, 1 right) verify at most 10 passwords", async () => {
    assert.equal((await new Client(t.app, "json", "192.0.2.201").signUp("guessed_user")).statusCode, 200);
    verified = 0;
    const attempts = Array.from({ length: 60 }, (_, i) => {
      const client = new Client(t.app, "json", `203.0.113.${i + 1}`);
      return client.logIn("guessed_user", i === 30 ? PASSWORD : `wrong guess ${i}`);
    });
    const statuses = (await Promise.all(attempts)).map((r) => r.statusCode);
    const counts = count(statuses);
    assert.equal((counts[400] ?? 0) + (counts[200] ?? 0), 10, JSON.stringify(counts));
    assert.equal(counts[429], 50);
    assert.equal(verified, 10);
  });

  test("60 concurrent wrong logins from one address for many users verify at most 10 passwords", async () => {
    verified = 0;
    const attempts = Array.from({ length: 60 }, (_, i) =>
      new Client(t.app, "json", "198.51.100.250").logIn(`someone_${i}`, "wrong"),
    );
    const counts = count((await Promise.all(attempts)).map((r) => r.statusCode));
    assert.deepEqual(counts, { 400: 10, 429: 50 });
    assert.equal(verified, 10);
  });
});

describe("one username, one counter", () => {
  test("spaces, tabs, a newline or U+FEFF around the name count on the same username's counter", async () => {
    assert.equal((await new Client(t.app, "json", "192.0.2.202").signUp("padded_alice")).statusCode, 200);
    const variants = [
      " padded_alice ",
      "\tpadded_alice",
      "padded_alice\n",
      "\uFEFFpadded_alice",
      "PADDED_ALICE ",
    ];
    for (let i = 0; i < 10; i++) {
      const name = variants[i % variants.length] as string;
      const r = await new Client(t.app, "json", `198.18.0.${i + 1}`).logIn(name, "wrong password");
      assert.equal(r.statusCode, 400, JSON.stringify(name));
    }
    for (const name of variants) {
      const r = await new Client(t.app, "json", "198.18.1.1").logIn(name, PASSWORD);
      assert.equal(r.statusCode, 429, `${JSON.stringify(name)} uses a counter of its own`);
    }
  });
});

describe("a stranger cannot lock the owner out", () => {
  test("a browser that has logged in to the account before keeps logging in with the right password", async () => {
    const owner = new Client(t.app, "json", "192.0.2.210");
    assert.equal((await owner.signUp("locked_owner")).statusCode, 200);
    assert.ok(owner.cookies.get("deviceid"), "sign-up hands out a device cookie");
    await owner.post("/logout/");
    const strangers = Array.from({ length: 12 }, (_, i) =>
      new Client(t.app, "json", `198.19.0.${i + 1}`).logIn("locked_owner", `guess ${i}`),
    );
    const statuses = (await Promise.all(strangers)).map((r) => r.statusCode);
    assert.deepEqual(count(statuses), { 400: 10, 429: 2 });
    // The username is locked for browsers it does not know, even with the right password...
    assert.equal(
      (await new Client(t.app, "json", "198.19.1.1").logIn("locked_owner", PASSWORD)).statusCode,
      429,
    );
    // ...but not for the owner's own browser.
    assert.equal((await owner.logIn("locked_owner", PASSWORD)).statusCode, 200);
    assert.equal((await owner.dashboard()).referred_count, 0);
  });

  test("a known browser's wrong passwords count on a counter of its own, with the same limit", async () => {
    const owner = new Client(t.app, "json", "192.0.2.211");
    assert.equal((await owner.signUp("careless_owner")).statusCode, 200);
    await owner.post("/logout/");
    for (let i = 0; i < 10; i++) {
      assert.equal((await owner.logIn("careless_owner", `typo ${i}`)).statusCode, 400);
    }
    assert.equal((await owner.logIn("careless_owner", PASSWORD)).statusCode, 429);
    // A stranger's browser is still measured by the username's counter, untouched by the owner's typos.
    assert.equal(
      (await new Client(t.app, "json", "198.19.2.1").logIn("careless_owner", PASSWORD)).statusCode,
      200,
    );
  });

  test("a device cookie that belongs to another account does not lift this account's limit", async () => {
    const other = new Client(t.app, "json", "192.0.2.212");
    assert.equal((await other.signUp("device_holder")).statusCode, 200);
    assert.equal((await new Client(t.app, "json", "192.0.2.213").signUp("device_target")).statusCode, 200);
    await other.post("/logout/");
    for (let i = 0; i < 10; i++) {
      assert.equal(
        (await new Client(t.app, "json", `198.19.3.${i + 1}`).logIn("device_target", "x")).statusCode,
        400,
      );
    }
    assert.equal((await other.logIn("device_target", PASSWORD)).statusCode, 429);
  });
});
