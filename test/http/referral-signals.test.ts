// The referral signals: each one holds the referral (the invitee's $10 pending, the inviter's count
// unmoved) when its condition is met, and the same sign-up without the condition is approved at once.
// Each signal's own setting turns off only that signal; REFERRAL_SIGNALS=off turns off all of them.
// The invitee is never told which signal fired, and a sign-up that fails gives back what it counted.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config.js";
import { queryRows } from "../../src/db/connection.js";
import { signalNames, signalWords } from "../../src/referrals/integrity.js";
import { rejectReferral } from "../../src/referrals/review.js";
import type { AppDeps } from "../../src/web/app-deps.js";
import { Client, createTestApp, gatedHasher, SLOW_PASSWORD, type TestApp } from "../support/app.js";
import { accountOf, entriesOf, ledgerMismatches, referralOf } from "../support/ledger.js";
import {
  DAY_MS,
  freshAddress,
  freshClient,
  inviter,
  reviewDeps,
  signUpThrough,
  testClock,
} from "../support/referrals.js";

let t: TestApp;
before(async () => {
  // The defaults of the tests: self-referral and earlier rejections on, the one-address signals off.
  t = await createTestApp();
});
after(async () => {
  assert.deepEqual(await ledgerMismatches(t.deps.db), []);
  await t.close();
});

/** A test app with `env`, checked for an exact ledger and closed after `body`. */
async function withApp(
  env: Record<string, string>,
  body: (app: TestApp) => Promise<void>,
  overrides: Partial<AppDeps> = {},
): Promise<void> {
  const app = await createTestApp(env, overrides);
  try {
    await body(app);
    assert.deepEqual(await ledgerMismatches(app.deps.db), []);
  } finally {
    await app.close();
  }
}

/** The referral is held for `signals`: no money yet, $10 pending, the inviter's count unmoved. */
async function assertHeld(
  app: TestApp,
  invitee: { client: Client; name: string },
  inviterName: string,
  signals: string[],
  inviterCountBefore: number,
): Promise<void> {
  const referral = await referralOf(app.deps.db, invitee.name);
  assert.equal(referral.inviter, inviterName);
  assert.equal(referral.status, "held", `${invitee.name} held`);
  assert.deepEqual(referral.signals, signals);
  const account = await accountOf(app.deps.db, invitee.name);
  assert.equal(account.balanceCents, 0);
  assert.equal(account.pendingCents, 1000);
  assert.equal((await invitee.client.dashboard()).balance_cents, 0);
  assert.deepEqual(
    (await entriesOf(app.deps.db, invitee.name)).map((e) => [e.kind, e.amountCents, e.status]),
    [["invitee_bonus", 1000, "pending"]],
  );
  assert.equal((await accountOf(app.deps.db, inviterName)).referredCount, inviterCountBefore);
}

/** The referral is approved at once: $10 posted, nothing pending, the inviter's count one up. */
async function assertApproved(
  app: TestApp,
  invitee: { client: Client; name: string },
  inviterName: string,
  inviterCountBefore: number,
): Promise<void> {
  const referral = await referralOf(app.deps.db, invitee.name);
  assert.equal(referral.inviter, inviterName);
  assert.equal(referral.status, "approved", `${invitee.name} approved`);
  assert.deepEqual(referral.signals, []);
  const account = await accountOf(app.deps.db, invitee.name);
  assert.equal(account.balanceCents, 1000);
  assert.equal(account.pendingCents, 0);
  assert.equal((await invitee.client.dashboard()).balance_cents, 1000);
  assert.deepEqual(
    (await entriesOf(app.deps.db, invitee.name)).map((e) => [e.kind, e.amountCents, e.status]),
    [["invitee_bonus", 1000, "posted"]],
  );
  assert.equal((await accountOf(app.deps.db, inviterName)).referredCount, inviterCountBefore + 1);
}

/** Signs `name` up through `token` from `client`; the pair the assertions take. */
async function joins(client: Client, name: string, token: string) {
  await signUpThrough(client, name, token);
  return { client, name };
}

async function counterHits(app: TestApp, prefix: string): Promise<number> {
  const [row] = await queryRows<{ hits: number }>(
    app.deps.db,
    sql`SELECT COALESCE(SUM(hits), 0)::int AS hits FROM signal_counters WHERE bucket LIKE ${`${prefix}%`}`,
  );
  return row?.hits ?? 0;
}

describe("self-referral", () => {
  test("a sign-up from the inviter's own logged-in browser is held (self_referral)", async () => {
    const alice = await inviter(t, "self_alice");
    await assertHeld(
      t,
      await joins(alice.client, "self_bob", alice.token),
      "self_alice",
      ["self_referral"],
      0,
    );
  });

  test("the inviter's session cookie alone holds it", async () => {
    const alice = await inviter(t, "sess_alice");
    // Another browser holding only alice's session (no device cookie).
    const browser = freshClient(t);
    browser.cookies.set("sessionid", alice.client.cookies.get("sessionid") as string);
    assert.equal(browser.cookies.has("deviceid"), false);
    await assertHeld(t, await joins(browser, "sess_bob", alice.token), "sess_alice", ["self_referral"], 0);
  });

  test("the inviter's device cookie alone holds it: alice logs out, the same browser signs bob up", async () => {
    const alice = await inviter(t, "dev_alice");
    assert.equal((await alice.client.post("/logout/")).statusCode, 200);
    assert.equal(alice.client.cookies.has("sessionid"), false);
    assert.equal(alice.client.cookies.has("deviceid"), true);
    await assertHeld(t, await joins(alice.client, "dev_bob", alice.token), "dev_alice", ["self_referral"], 0);
  });

  test("control: another browser, or one whose device knows only someone else, is approved at once", async () => {
    const alice = await inviter(t, "ctl_alice");
    await assertApproved(t, await joins(freshClient(t), "ctl_bob", alice.token), "ctl_alice", 0);
    // A browser that signed up someone else (its device knows ctl_carol, not alice).
    const carol = await inviter(t, "ctl_carol");
    await assertApproved(t, await joins(carol.client, "ctl_dave", alice.token), "ctl_alice", 1);
  });
});

describe("shared address", () => {
  test("the first sign-up from the inviter's address is approved (same_address), the second held; another address is approved", async () => {
    await withApp({ REFERRAL_SHARED_ADDRESS_DAYS: "30" }, async (app) => {
      const alice = await inviter(app, "sa_alice");
      const bob = await joins(freshClient(app, alice.address), "sa_bob", alice.token);
      await assertApproved(app, bob, "sa_alice", 0);
      assert.equal((await referralOf(app.deps.db, "sa_bob")).sameAddress, true);

      const carol = await joins(freshClient(app, alice.address), "sa_carol", alice.token);
      await assertHeld(app, carol, "sa_alice", ["shared_address"], 1);
      assert.equal((await referralOf(app.deps.db, "sa_carol")).sameAddress, true);

      const dave = await joins(freshClient(app), "sa_dave", alice.token);
      await assertApproved(app, dave, "sa_alice", 1);
      assert.equal((await referralOf(app.deps.db, "sa_dave")).sameAddress, false);
    });
  });

  test("an address the inviter logged in from is theirs too", async () => {
    await withApp({ REFERRAL_SHARED_ADDRESS_DAYS: "30" }, async (app) => {
      const erin = await inviter(app, "sa_erin");
      const elsewhere = freshAddress();
      const laptop = freshClient(app, elsewhere);
      assert.equal((await laptop.logIn("sa_erin")).statusCode, 200);
      const first = await joins(freshClient(app, elsewhere), "sa_frank", erin.token);
      await assertApproved(app, first, "sa_erin", 0);
      assert.equal((await referralOf(app.deps.db, "sa_frank")).sameAddress, true);
      const second = await joins(freshClient(app, elsewhere), "sa_gina", erin.token);
      await assertHeld(app, second, "sa_erin", ["shared_address"], 1);
    });
  });

  test("an address last used by the inviter longer ago than the window is not theirs", async () => {
    const clock = testClock();
    await withApp(
      { REFERRAL_SHARED_ADDRESS_DAYS: "30" },
      async (app) => {
        const hal = await inviter(app, "sa_hal");
        clock.advance(31 * DAY_MS);
        for (const name of ["sa_ivy", "sa_jon"]) {
          const before = (await accountOf(app.deps.db, "sa_hal")).referredCount;
          await assertApproved(
            app,
            await joins(freshClient(app, hal.address), name, hal.token),
            "sa_hal",
            before,
          );
          assert.equal((await referralOf(app.deps.db, name)).sameAddress, false);
        }
      },
      { clock },
    );
  });
});

describe("link velocity", () => {
  test("more than REFERRAL_LINK_SIGNUPS_PER_HOUR through one link in a clock hour is held; the next hour starts again", async () => {
    const clock = testClock();
    await withApp(
      { REFERRAL_LINK_SIGNUPS_PER_HOUR: "2" },
      async (app) => {
        const alice = await inviter(app, "lv_alice");
        const other = await inviter(app, "lv_other");
        await assertApproved(app, await joins(freshClient(app), "lv_1", alice.token), "lv_alice", 0);
        await assertApproved(app, await joins(freshClient(app), "lv_2", alice.token), "lv_alice", 1);
        await assertHeld(
          app,
          await joins(freshClient(app), "lv_3", alice.token),
          "lv_alice",
          ["link_velocity"],
          2,
        );
        await assertHeld(
          app,
          await joins(freshClient(app), "lv_4", alice.token),
          "lv_alice",
          ["link_velocity"],
          2,
        );
        // Another link in the same hour has a count of its own.
        await assertApproved(app, await joins(freshClient(app), "lv_other_1", other.token), "lv_other", 0);

        clock.nextHour();
        await assertApproved(app, await joins(freshClient(app), "lv_5", alice.token), "lv_alice", 2);
        await assertApproved(app, await joins(freshClient(app), "lv_6", alice.token), "lv_alice", 3);
        await assertHeld(
          app,
          await joins(freshClient(app), "lv_7", alice.token),
          "lv_alice",
          ["link_velocity"],
          4,
        );
      },
      { clock },
    );
  });

  test("counted atomically: 12 concurrent sign-ups through one link with a limit of 3 give exactly 3 approved", async () => {
    await withApp({ REFERRAL_LINK_SIGNUPS_PER_HOUR: "3" }, async (app) => {
      const alice = await inviter(app, "lvc_alice");
      const clients = Array.from({ length: 12 }, () => freshClient(app));
      await Promise.all(clients.map((c) => c.get("/signup/")));
      const responses = await Promise.all(
        clients.map((c, i) => c.signUp(`lvc_${i}`, "correct horse battery", alice.token)),
      );
      assert.deepEqual(
        responses.map((r) => r.statusCode),
        Array(12).fill(200),
      );
      const referrals = await Promise.all(clients.map((_, i) => referralOf(app.deps.db, `lvc_${i}`)));
      assert.equal(referrals.filter((r) => r.status === "approved").length, 3);
      const held = referrals.filter((r) => r.status === "held");
      assert.equal(held.length, 9);
      assert.ok(held.every((r) => r.signals.join() === "link_velocity"));
      assert.equal((await accountOf(app.deps.db, "lvc_alice")).referredCount, 3);
      assert.equal(await counterHits(app, "referral:link:"), 12);
    });
  });
});

describe("address velocity", () => {
  test("more than REFERRAL_ADDRESS_SIGNUPS_PER_HOUR referred sign-ups from one address is held; another address or the next hour is not", async () => {
    const clock = testClock();
    await withApp(
      { REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "2" },
      async (app) => {
        const [a, b, c] = [
          await inviter(app, "av_a"),
          await inviter(app, "av_b"),
          await inviter(app, "av_c"),
        ];
        const busy = freshAddress();
        await assertApproved(app, await joins(freshClient(app, busy), "av_1", a.token), "av_a", 0);
        await assertApproved(app, await joins(freshClient(app, busy), "av_2", b.token), "av_b", 0);
        await assertHeld(
          app,
          await joins(freshClient(app, busy), "av_3", c.token),
          "av_c",
          ["address_velocity"],
          0,
        );
        // Control: the same link from another address.
        await assertApproved(app, await joins(freshClient(app), "av_4", c.token), "av_c", 0);
        // A sign-up without a link is not a referred sign-up: it neither counts nor is held.
        assert.equal((await freshClient(app, busy).signUp("av_plain")).statusCode, 200);
        assert.equal(await counterHits(app, "referral:addr:"), 4);

        clock.nextHour();
        await assertApproved(app, await joins(freshClient(app, busy), "av_5", c.token), "av_c", 1);
        await assertApproved(app, await joins(freshClient(app, busy), "av_6", c.token), "av_c", 2);
        await assertHeld(
          app,
          await joins(freshClient(app, busy), "av_7", a.token),
          "av_a",
          ["address_velocity"],
          1,
        );
      },
      { clock },
    );
  });

  test("counted atomically: 10 concurrent sign-ups from one address with a limit of 3 give exactly 3 approved", async () => {
    await withApp({ REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "3" }, async (app) => {
      const alice = await inviter(app, "avc_alice");
      const crowd = freshAddress();
      const clients = Array.from({ length: 10 }, () => freshClient(app, crowd));
      await Promise.all(clients.map((c) => c.get("/signup/")));
      const responses = await Promise.all(
        clients.map((c, i) => c.signUp(`avc_${i}`, "correct horse battery", alice.token)),
      );
      assert.ok(responses.every((r) => r.statusCode === 200));
      const referrals = await Promise.all(clients.map((_, i) => referralOf(app.deps.db, `avc_${i}`)));
      assert.equal(referrals.filter((r) => r.status === "approved").length, 3);
      assert.ok(
        referrals.filter((r) => r.status === "held").every((r) => r.signals.join() === "address_velocity"),
      );
      assert.equal((await accountOf(app.deps.db, "avc_alice")).referredCount, 3);
    });
  });
});

describe("earlier rejections", () => {
  test("after one of alice's referrals is rejected, her next clean referral is held (earlier_rejections); bob's is not", async () => {
    const alice = await inviter(t, "rj_alice");
    const bob = await inviter(t, "rj_bob");
    // A self-referral, held, then rejected by staff.
    await signUpThrough(alice.client, "rj_fake", alice.token);
    const fake = await referralOf(t.deps.db, "rj_fake");
    assert.equal(fake.status, "held");
    const rejected = await rejectReferral(reviewDeps(t), {
      referralId: fake.id,
      staffId: null,
      reason: "Signed up by the inviter.",
      staffNote: null,
    });
    assert.equal(rejected?.voidedCents, 1000);

    await assertHeld(
      t,
      await joins(freshClient(t), "rj_next", alice.token),
      "rj_alice",
      ["earlier_rejections"],
      0,
    );
    await assertApproved(t, await joins(freshClient(t), "rj_bobs", bob.token), "rj_bob", 0);
  });

  test("REFERRAL_REJECTIONS_BEFORE_HOLD rejections are needed, and only within REFERRAL_REJECTIONS_WINDOW_DAYS", async () => {
    const clock = testClock();
    await withApp(
      { REFERRAL_REJECTIONS_BEFORE_HOLD: "2", REFERRAL_REJECTIONS_WINDOW_DAYS: "7" },
      async (app) => {
        const alice = await inviter(app, "rw_alice");
        const rejectNext = async (name: string) => {
          await signUpThrough(alice.client, name, alice.token);
          const held = await referralOf(app.deps.db, name);
          assert.deepEqual(held.signals, ["self_referral"]);
          const done = await rejectReferral(reviewDeps(app, clock), {
            referralId: held.id,
            staffId: null,
            reason: null,
            staffNote: null,
          });
          assert.notEqual(done, null);
        };
        await rejectNext("rw_fake1");
        await assertApproved(app, await joins(freshClient(app), "rw_one", alice.token), "rw_alice", 0);
        await rejectNext("rw_fake2");
        await assertHeld(
          app,
          await joins(freshClient(app), "rw_two", alice.token),
          "rw_alice",
          ["earlier_rejections"],
          1,
        );
        clock.advance(8 * DAY_MS);
        await assertApproved(app, await joins(freshClient(app), "rw_three", alice.token), "rw_alice", 1);
      },
      { clock },
    );
  });
});

describe("REFERRAL_SIGNALS=off", () => {
  test("the self-referral flow, and sign-ups that would trip every other signal, are approved at once", async () => {
    await withApp(
      {
        REFERRAL_SIGNALS: "off",
        REFERRAL_SHARED_ADDRESS_DAYS: "30",
        REFERRAL_LINK_SIGNUPS_PER_HOUR: "1",
        REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "1",
      },
      async (app) => {
        const alice = await inviter(app, "off_alice");
        await assertApproved(app, await joins(alice.client, "off_bob", alice.token), "off_alice", 0);
        await assertApproved(
          app,
          await joins(freshClient(app, alice.address), "off_carol", alice.token),
          "off_alice",
          1,
        );
        await assertApproved(
          app,
          await joins(freshClient(app, alice.address), "off_dave", alice.token),
          "off_alice",
          2,
        );
        // Nothing is counted or remembered for signals that are off.
        const [rows] = await queryRows<{ counters: number; sightings: number }>(
          app.deps.db,
          sql`SELECT (SELECT count(*) FROM signal_counters)::int AS counters,
                     (SELECT count(*) FROM address_sightings)::int AS sightings`,
        );
        assert.deepEqual(rows, { counters: 0, sightings: 0 });
      },
    );
  });

  test("SIGNUPS_PER_WINDOW defaults back to 20 with the signals off (1000 with them on), and every signal is off", () => {
    const off = loadConfig({ REFERRAL_SIGNALS: "off", REFERRAL_LINK_SIGNUPS_PER_HOUR: "3" });
    assert.equal(off.throttle.signupsPerWindow, 20);
    assert.deepEqual(
      {
        signalsOn: off.integrity.signalsOn,
        selfReferral: off.integrity.selfReferral,
        sharedAddressDays: off.integrity.sharedAddressDays,
        linkSignupsPerHour: off.integrity.linkSignupsPerHour,
        addressSignupsPerHour: off.integrity.addressSignupsPerHour,
        rejectionsBeforeHold: off.integrity.rejectionsBeforeHold,
      },
      {
        signalsOn: false,
        selfReferral: false,
        sharedAddressDays: 0,
        linkSignupsPerHour: 0,
        addressSignupsPerHour: 0,
        rejectionsBeforeHold: 0,
      },
    );
    assert.equal(loadConfig({}).throttle.signupsPerWindow, 1000);
    assert.equal(
      loadConfig({ REFERRAL_SIGNALS: "off", SIGNUPS_PER_WINDOW: "7" }).throttle.signupsPerWindow,
      7,
    );
  });
});

describe("each signal's own setting turns off only that signal", () => {
  /** Every signal on, with limits these tests reach. */
  const allOn = {
    REFERRAL_SHARED_ADDRESS_DAYS: "30",
    REFERRAL_LINK_SIGNUPS_PER_HOUR: "2",
    REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "2",
    REFERRAL_REJECTIONS_BEFORE_HOLD: "1",
  };

  test("REFERRAL_SELF_SIGNAL=off: a self-referral is approved; the link's count still holds the third", async () => {
    await withApp({ ...allOn, REFERRAL_SELF_SIGNAL: "off" }, async (app) => {
      const alice = await inviter(app, "o1_alice");
      // From alice's browser but another address, so that only the self-referral could fire.
      alice.client.cookies.delete("csrftoken");
      const browser = new Client(app.app, "json", freshAddress());
      for (const [name, value] of alice.client.cookies) browser.cookies.set(name, value);
      await assertApproved(app, await joins(browser, "o1_bob", alice.token), "o1_alice", 0);
      await assertApproved(app, await joins(freshClient(app), "o1_carol", alice.token), "o1_alice", 1);
      await assertHeld(
        app,
        await joins(freshClient(app), "o1_dave", alice.token),
        "o1_alice",
        ["link_velocity"],
        2,
      );
    });
  });

  test("REFERRAL_SHARED_ADDRESS_DAYS=0: two sign-ups from the inviter's address are approved; self-referral still holds", async () => {
    await withApp(
      { ...allOn, REFERRAL_SHARED_ADDRESS_DAYS: "0", REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "5" },
      async (app) => {
        const alice = await inviter(app, "o2_alice");
        await assertApproved(
          app,
          await joins(freshClient(app, alice.address), "o2_bob", alice.token),
          "o2_alice",
          0,
        );
        await assertApproved(
          app,
          await joins(freshClient(app, alice.address), "o2_carol", alice.token),
          "o2_alice",
          1,
        );
        assert.equal((await referralOf(app.deps.db, "o2_carol")).sameAddress, false);
        const other = await inviter(app, "o2_other");
        await assertHeld(
          app,
          await joins(other.client, "o2_self", other.token),
          "o2_other",
          ["self_referral"],
          0,
        );
      },
    );
  });

  test("REFERRAL_LINK_SIGNUPS_PER_HOUR=0: four sign-ups through one link in an hour are approved; self-referral still holds", async () => {
    await withApp({ ...allOn, REFERRAL_LINK_SIGNUPS_PER_HOUR: "0" }, async (app) => {
      const alice = await inviter(app, "o3_alice");
      for (let i = 0; i < 4; i++) {
        await assertApproved(app, await joins(freshClient(app), `o3_${i}`, alice.token), "o3_alice", i);
      }
      const other = await inviter(app, "o3_other");
      await assertHeld(
        app,
        await joins(other.client, "o3_self", other.token),
        "o3_other",
        ["self_referral"],
        0,
      );
    });
  });

  test("REFERRAL_ADDRESS_SIGNUPS_PER_HOUR=0: four referred sign-ups from one address are approved; self-referral still holds", async () => {
    await withApp({ ...allOn, REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "0" }, async (app) => {
      const busy = freshAddress();
      for (let i = 0; i < 4; i++) {
        const host = await inviter(app, `o4_host${i}`);
        await assertApproved(
          app,
          await joins(freshClient(app, busy), `o4_${i}`, host.token),
          `o4_host${i}`,
          0,
        );
      }
      const other = await inviter(app, "o4_other");
      await assertHeld(
        app,
        await joins(other.client, "o4_self", other.token),
        "o4_other",
        ["self_referral"],
        0,
      );
    });
  });

  test("REFERRAL_REJECTIONS_BEFORE_HOLD=0: after a rejection the next referral is approved; self-referral still holds", async () => {
    await withApp({ ...allOn, REFERRAL_REJECTIONS_BEFORE_HOLD: "0" }, async (app) => {
      const alice = await inviter(app, "o5_alice");
      await signUpThrough(alice.client, "o5_fake", alice.token);
      const fake = await referralOf(app.deps.db, "o5_fake");
      assert.deepEqual(fake.signals, ["self_referral"]);
      await rejectReferral(reviewDeps(app), {
        referralId: fake.id,
        staffId: null,
        reason: null,
        staffNote: null,
      });
      await assertApproved(app, await joins(freshClient(app), "o5_next", alice.token), "o5_alice", 0);
    });
  });
});

describe("the invitee is never told which signal fired", () => {
  const forbidden = [...signalNames, ...Object.values(signalWords)];
  const assertSilent = (where: string, body: string) => {
    for (const word of forbidden) assert.ok(!body.includes(word), `${where} mentions ${word}`);
  };

  test("neither the sign-up's answer nor the invitee's and inviter's pages name a signal", async () => {
    const alice = await inviter(t, "quiet_alice");
    const response = await alice.client.signUp("quiet_bob", "correct horse battery", alice.token);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {});
    assertSilent("the sign-up's answer", response.body);
    assertSilent("the sign-up's headers", JSON.stringify(response.headers));
    const referral = await referralOf(t.deps.db, "quiet_bob");
    assert.equal(referral.status, "held");
    assert.deepEqual(referral.signals, ["self_referral"]);

    // In HTML: a sign-up from a browser form holding alice's device cookie (bob's session stays).
    const carolsBrowser = new Client(t.app, "html", freshAddress());
    carolsBrowser.cookies.set("deviceid", alice.client.cookies.get("deviceid") as string);
    const html = await carolsBrowser.signUp("quiet_carol", "correct horse battery", alice.token);
    assert.equal(html.statusCode, 302);
    assertSilent("the HTML sign-up's answer", html.body + JSON.stringify(html.headers));
    assert.equal((await referralOf(t.deps.db, "quiet_carol")).status, "held");

    const aliceAgain = freshClient(t);
    assert.equal((await aliceAgain.logIn("quiet_alice")).statusCode, 200);
    const pages = ["/", "/history/", "/referrals/"];
    for (const [who, client] of [
      ["quiet_bob", alice.client],
      ["quiet_carol", carolsBrowser],
      ["quiet_alice", aliceAgain],
    ] as const) {
      for (const accept of ["application/json", "text/html"]) {
        for (const page of pages) {
          const answer = await client.get(page, { accept });
          assert.equal(answer.statusCode, 200, `${who} ${page} ${accept}`);
          assertSilent(`${who}'s ${page} (${accept})`, answer.body + JSON.stringify(answer.headers));
        }
      }
    }
  });
});

describe("a sign-up that fails gives back what it counted", () => {
  test("a name taken while the password hashed: the link's and the address's counts are given back", async () => {
    const { hasher, hashing, release } = gatedHasher();
    try {
      await withApp(
        { REFERRAL_LINK_SIGNUPS_PER_HOUR: "2", REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "2" },
        async (app) => {
          const alice = await inviter(app, "gb_alice");
          const lateAddress = freshAddress();
          const late = freshClient(app, lateAddress);
          await late.get("/signup/");
          const lateResponse = late.signUp("gb_name", SLOW_PASSWORD, alice.token);
          await hashing;
          // The late sign-up has counted one on alice's link and on its address.
          assert.equal(await counterHits(app, "referral:link:"), 1);
          assert.equal(await counterHits(app, "referral:addr:"), 1);
          assert.equal((await freshClient(app).signUp("gb_name")).statusCode, 200);
          release();
          const refused = await lateResponse;
          assert.equal(refused.statusCode, 400);
          assert.deepEqual(refused.json(), { username: ["A user with that username already exists."] });
          assert.equal(await counterHits(app, "referral:link:"), 0);
          assert.equal(await counterHits(app, "referral:addr:"), 0);

          // So the limit of 2 is whole: two more from that address through the link are approved.
          await assertApproved(
            app,
            await joins(freshClient(app, lateAddress), "gb_1", alice.token),
            "gb_alice",
            0,
          );
          await assertApproved(
            app,
            await joins(freshClient(app, lateAddress), "gb_2", alice.token),
            "gb_alice",
            1,
          );
          await assertHeld(
            app,
            await joins(freshClient(app, lateAddress), "gb_3", alice.token),
            "gb_alice",
            ["link_velocity", "address_velocity"],
            2,
          );
        },
        { hasher },
      );
    } finally {
      release();
      await hasher.close();
    }
  });

  test("a name already taken moves no count at all", async () => {
    await withApp({ REFERRAL_LINK_SIGNUPS_PER_HOUR: "2" }, async (app) => {
      const alice = await inviter(app, "gc_alice");
      await inviter(app, "gc_taken");
      for (let i = 0; i < 3; i++) {
        const response = await freshClient(app).signUp("gc_taken", "correct horse battery", alice.token);
        assert.equal(response.statusCode, 400);
      }
      assert.equal(await counterHits(app, "referral:link:"), 0);
      await assertApproved(app, await joins(freshClient(app), "gc_1", alice.token), "gc_alice", 0);
      await assertApproved(app, await joins(freshClient(app), "gc_2", alice.token), "gc_alice", 1);
    });
  });
});
