// Webhooks end to end: events written with their changes, fanned out to the endpoints that want
// them, signed (checked by the `standardwebhooks` package in the receiver), retried, and an endpoint
// that fails too long turned off with staff told. Real HTTP receivers on 127.0.0.1.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { adjustBalance } from "../../src/admin/adjustments.js";
import { queryRows } from "../../src/db/connection.js";
import { deliveryDetail } from "../../src/webhooks/deliveries.js";
import { createEndpoint, rotateSecret } from "../../src/webhooks/endpoints.js";
import { newWebhookSecret } from "../../src/webhooks/signing.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { createTestApp, type TestApp } from "../support/app.js";
import { freshClient, HOUR_MS, inviter, signUpThrough, testClock } from "../support/referrals.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const webhookEnv = {
  WEBHOOKS: "on",
  WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1",
  WEBHOOK_RETRY_DELAY_SECONDS: "1",
  WEBHOOK_GIVE_UP_HOURS: "1",
  WEBHOOK_TIMEOUT_SECONDS: "5",
};

const allTypes = [
  "user.created",
  "user.deactivated",
  "user.reactivated",
  "referral.created",
  "referral.approved",
  "referral.rejected",
  "reward.granted",
  "balance.adjusted",
];

/** Registers `receiver` as an endpoint for `types`; the receiver verifies with its secret. */
async function register(
  t: TestApp,
  receiver: WebhookReceiver,
  types: string[],
  staffId: number,
): Promise<number> {
  receiver.secret = newWebhookSecret();
  return createEndpoint(t.deps.db, {
    url: receiver.url,
    description: "test",
    eventTypes: types,
    secret: receiver.secret,
    createdById: staffId,
  });
}

/** Waits until `check` holds, looking again after each short pause (bounded by the test's timeout). */
async function eventually<T>(check: () => Promise<T | null | undefined | false>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function deliveryRows(t: TestApp, endpointId: number) {
  return queryRows<{ id: number; status: string; attempts: number; event_id: string; job_id: string }>(
    t.deps.db,
    sql`SELECT id, status, attempts, event_id, job_id FROM webhook_deliveries WHERE endpoint_id = ${endpointId} ORDER BY id`,
  );
}

describe("webhook deliveries", () => {
  let t: TestApp;
  let staffId: number;
  const clock = testClock();
  before(async () => {
    t = await createTestApp(webhookEnv, { clock });
    await staffClient(t, "hook_staff");
    staffId = await userIdOf(t.deps.db, "hook_staff");
  });
  after(async () => {
    await t.close();
  });

  test("each endpoint gets the events it wants, signed; events from before it existed are not sent", async () => {
    await inviter(t, "before_hooks");
    const all = await startWebhookReceiver();
    const rewards = await startWebhookReceiver();
    try {
      await register(t, all, allTypes, staffId);
      await register(t, rewards, ["reward.granted"], staffId);
      const alice = await inviter(t, "hook_alice");
      for (let i = 1; i <= 5; i++) await signUpThrough(freshClient(t), `hook_friend${i}`, alice.token);
      // alice and 5 friends joined (6 user.created), 5 referrals, 5 newcomer bonuses and alice's reward.
      const received = await all.waitForCount(17);
      await rewards.waitForCount(6);
      for (const delivery of [...received, ...rewards.received]) {
        assert.ok(delivery.verified, `a delivery failed verification: ${delivery.body}`);
        assert.equal(delivery.headers["webhook-id"], delivery.event?.id);
        assert.match(String(delivery.headers["content-type"]), /^application\/json/);
      }
      const types = received.map((delivery) => delivery.event?.type).sort();
      assert.deepEqual(types, [
        ...Array(5).fill("referral.created"),
        ...Array(6).fill("reward.granted"),
        ...Array(6).fill("user.created"),
      ]);
      assert.ok(rewards.received.every((delivery) => delivery.event?.type === "reward.granted"));
      const names = received
        .filter((d) => d.event?.type === "user.created")
        .map((d) => d.event?.data.username);
      assert.ok(!names.includes("before_hooks"), "an event from before the endpoint existed was sent");
      const aliceId = await userIdOf(t.deps.db, "hook_alice");
      const inviterReward = rewards.received.find((d) => d.event?.data.reason === "inviter_reward");
      assert.equal(inviterReward?.event?.data.user_id, aliceId);
      assert.equal(inviterReward?.event?.data.amount_cents, 1000);
      // Each event's id is the same across endpoints: one event, one id.
      const rewardIds = new Set(rewards.received.map((d) => d.event?.id));
      assert.ok([...rewardIds].every((id) => received.some((d) => d.event?.id === id)));
    } finally {
      await all.close();
      await rewards.close();
      await t.deps.db.execute(sql`UPDATE webhook_endpoints SET enabled = false`);
    }
  });

  test("an endpoint answering 500 then 200 gets the event once more, with the same webhook-id", async () => {
    const receiver = await startWebhookReceiver();
    try {
      receiver.answers.push(500);
      const endpointId = await register(t, receiver, ["balance.adjusted"], staffId);
      const memberId = (await inviter(t, "retry_member")) && (await userIdOf(t.deps.db, "retry_member"));
      await adjustBalance(
        t.deps.db,
        staffId,
        memberId,
        { amountCents: 250, reason: "goodwill" },
        {
          wake: () => void t.app.deliverWebhooks(),
        },
      );
      const [first, second] = await receiver.waitForCount(2);
      assert.equal(first?.answered, 500);
      assert.equal(second?.answered, 200);
      assert.ok(first?.verified && second?.verified);
      assert.equal(first?.headers["webhook-id"], second?.headers["webhook-id"]);
      assert.equal(second?.event?.data.amount_cents, 250);
      assert.deepEqual(second?.event?.data.by, { type: "staff", user_id: staffId });
      const [delivery] = await eventually(async () => {
        const rows = await deliveryRows(t, endpointId);
        return rows[0]?.status === "delivered" ? rows : null;
      });
      assert.equal(delivery?.attempts, 2);
      // The queue's job is finished: nothing will send it a third time.
      const [job] = await queryRows<{ state: string }>(
        t.deps.db,
        sql`SELECT state FROM pgboss.job WHERE id = ${delivery?.job_id}::uuid`,
      );
      assert.equal(job?.state, "completed");
      // The log staff read: both attempts, the failure as a row of its own, the success on the
      // delivery's row (a delivery made at the first try writes no attempt row).
      const detail = await deliveryDetail(t.deps.db, endpointId, Number(delivery?.id));
      assert.deepEqual(
        detail?.attempts.map((a) => [a.statusCode, a.responseExcerpt, a.error]),
        [
          [500, "failed with 500", null],
          [200, "ok", null],
        ],
      );
      assert.equal(typeof detail?.attempts[0]?.id, "number");
      assert.equal(detail?.attempts[1]?.id, null);
      assert.ok((detail?.attempts[0]?.attemptedAt ?? 0) <= (detail?.attempts[1]?.attemptedAt ?? 0));
      const [logged] = await queryRows<{ n: number }>(
        t.deps.db,
        sql`SELECT count(*)::int AS n FROM webhook_attempts WHERE delivery_id = ${delivery?.id}`,
      );
      assert.equal(logged?.n, 1);
      assert.equal(receiver.received.length, 2);
    } finally {
      await receiver.close();
      await t.deps.db.execute(sql`UPDATE webhook_endpoints SET enabled = false`);
    }
  });

  test("during a secret's rotation both the new and the old secret verify every delivery", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const endpointId = await register(t, receiver, ["user.created"], staffId);
      const oldSecret = receiver.secret as string;
      const newSecret = newWebhookSecret();
      await rotateSecret(t.deps.db, endpointId, newSecret, 24);
      receiver.secret = newSecret;
      await inviter(t, "rotation_user");
      const [delivery] = await receiver.waitForCount(1);
      assert.ok(delivery?.verified, "the new secret verifies");
      const headers = {
        "webhook-id": String(delivery?.headers["webhook-id"]),
        "webhook-timestamp": String(delivery?.headers["webhook-timestamp"]),
        "webhook-signature": String(delivery?.headers["webhook-signature"]),
      };
      assert.doesNotThrow(
        () => new Webhook(oldSecret).verify(delivery?.body ?? "", headers),
        "the old secret verifies",
      );
      assert.equal(String(delivery?.headers["webhook-signature"]).split(" ").length, 2);
    } finally {
      await receiver.close();
      await t.deps.db.execute(sql`UPDATE webhook_endpoints SET enabled = false`);
    }
  });

  test("an endpoint failing for WEBHOOK_GIVE_UP_HOURS is turned off and staff are told", async () => {
    const receiver = await startWebhookReceiver();
    try {
      receiver.answers.push(...Array(50).fill(503));
      await t.deps.db.execute(sql`UPDATE users SET email = 'ops@example.com' WHERE username = 'hook_staff'`);
      const endpointId = await register(t, receiver, ["user.created"], staffId);
      await inviter(t, "failing_one");
      await receiver.waitForCount(1);
      await eventually(async () => (await deliveryRows(t, endpointId))[0]?.attempts === 1);
      // An hour later the next retry fails too: the endpoint has failed for the whole hour.
      clock.advance(HOUR_MS + 60_000);
      const [delivery] = await eventually(async () => {
        const rows = await deliveryRows(t, endpointId);
        return rows[0]?.status === "failed" ? rows : null;
      });
      assert.ok((delivery?.attempts ?? 0) >= 2);
      const [endpoint] = await queryRows<{ enabled: boolean; disabled_reason: string | null }>(
        t.deps.db,
        sql`SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = ${endpointId}`,
      );
      assert.deepEqual(endpoint, { enabled: false, disabled_reason: "failing" });
      const told = await queryRows<{ to_address: string; params: { url: string } }>(
        t.deps.db,
        sql`SELECT to_address, params FROM outbox_messages WHERE kind = 'webhook_disabled'`,
      );
      assert.deepEqual(
        told.map((m) => [m.to_address, m.params.url]),
        [["ops@example.com", receiver.url]],
      );
      // Turned off: the next event is not sent to it.
      const seen = receiver.received.length;
      await inviter(t, "after_off");
      await t.app.deliverWebhooks();
      assert.equal((await deliveryRows(t, endpointId)).length, 1);
      assert.equal(receiver.received.length, seen);
    } finally {
      await receiver.close();
    }
  });
});

describe("events are written with their changes, and only with them", () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  test("a sign-up that rolls back leaves no event; every user and reward has its event", async () => {
    const alice = await inviter(t, "rb_alice");
    for (let i = 1; i <= 4; i++) await signUpThrough(freshClient(t), `rb_friend${i}`, alice.token);
    // The fifth sign-up's reward statement fails: its whole transaction, user included, rolls back.
    await t.deps.db.execute(sql`CREATE FUNCTION fail_reward() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.kind = 'inviter_reward' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$`);
    await t.deps.db.execute(sql`CREATE TRIGGER fail_reward BEFORE INSERT ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION fail_reward()`);
    try {
      const response = await freshClient(t).signUp("rb_fifth", "correct horse battery", alice.token);
      assert.equal(response.statusCode, 500);
    } finally {
      await t.deps.db.execute(sql`DROP TRIGGER fail_reward ON ledger_entries`);
      await t.deps.db.execute(sql`DROP FUNCTION fail_reward()`);
    }
    const fifth = await queryRows<{ n: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS n FROM events WHERE data->>'username' = 'rb_fifth'`,
    );
    assert.equal(fifth[0]?.n, 0);
    const [counts] = await queryRows<Record<string, number>>(
      t.deps.db,
      sql`SELECT (SELECT count(*) FROM users)::int AS users,
          (SELECT count(*) FROM events WHERE type = 'user.created')::int AS user_events,
          (SELECT count(*) FROM referrals)::int AS referrals,
          (SELECT count(*) FROM events WHERE type = 'referral.created')::int AS referral_events,
          (SELECT count(*) FROM ledger_entries WHERE status = 'posted' AND kind IN ('invitee_bonus', 'inviter_reward'))::int AS rewards,
          (SELECT count(*) FROM events WHERE type = 'reward.granted')::int AS reward_events`,
    );
    assert.deepEqual(counts, {
      users: 5,
      user_events: 5,
      referrals: 4,
      referral_events: 4,
      rewards: 4,
      reward_events: 4,
    });
    // The same sign-up goes through once the fault is gone, with its events and alice's reward.
    await signUpThrough(freshClient(t), "rb_fifth", alice.token);
    const [after] = await queryRows<{ n: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS n FROM events WHERE type = 'reward.granted' AND data->>'reason' = 'inviter_reward'`,
    );
    assert.equal(after?.n, 1);
  });
});
