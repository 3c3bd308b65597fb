// How deliveries reach the job queue: each change hands the ids of the deliveries it wrote to the
// worker after its commit; the sweep queues those no job still to run names, and a job leaves the
// ones the sweep gave to another; an endpoint staff turned off or deleted skips its own.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type PgBoss from "pg-boss";
import { adjustBalance } from "../../src/admin/adjustments.js";
import { setUserActive } from "../../src/admin/user-status.js";
import { loadConfig } from "../../src/config.js";
import { queryRows } from "../../src/db/connection.js";
import { keptMail } from "../../src/email/outbox.js";
import { type EventDeps, eventTypeNames, recordEvent } from "../../src/events/events.js";
import { startJobQueue } from "../../src/jobs/queue.js";
import { startRelay } from "../../src/jobs/relay.js";
import { approveReferral, rejectReferral } from "../../src/referrals/review.js";
import { signUp } from "../../src/referrals/signup.js";
import {
  claimUnhandedDeliveries,
  deliveriesForJob,
  deliveryDetail,
  JOB_SIZE,
  WEBHOOK_QUEUE,
} from "../../src/webhooks/deliveries.js";
import { createEndpoint, updateEndpoint } from "../../src/webhooks/endpoints.js";
import { newWebhookSecret } from "../../src/webhooks/signing.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { signUpDeps } from "../support/referrals.js";

const config = loadConfig({ NODE_ENV: "test" });
const password = "plum-Orbit-74-lantern";

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.drop());

/** Every delivery written so far, by id. */
async function deliveryIds(): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(
    database.handle.db,
    sql`SELECT id FROM webhook_deliveries ORDER BY id`,
  );
  return rows.map((row) => Number(row.id));
}

/** The only endpoint: those of the tests before are gone, with their deliveries. */
async function newEndpoint(eventTypes: string[]): Promise<number> {
  await database.handle.db.execute(sql`DELETE FROM webhook_deliveries`);
  await database.handle.db.execute(sql`DELETE FROM webhook_endpoints`);
  return createEndpoint(database.handle.db, {
    url: "https://hooks.example.com/in",
    description: "hand-over test",
    eventTypes,
    secret: newWebhookSecret(),
    createdById: null,
  });
}

/** An EventDeps that keeps what each change handed over. */
function handedOver(): EventDeps & { calls: number[][] } {
  const calls: number[][] = [];
  return { calls, wake: (ids) => void calls.push([...ids]) };
}

describe("each change hands over the deliveries it wrote", () => {
  test("sign-ups, rewards, reviews, adjustments and status changes: every delivery, once", async () => {
    const { db } = database.handle;
    const endpointId = await newEndpoint(eventTypeNames);
    const webhooks = handedOver();
    const deps = signUpDeps(db, webhooks);
    after(() => deps.hasher.close());
    const client = { address: "192.0.2.7", sessionIdHash: null, deviceIdHash: null };
    const inviter = await signUp(
      deps,
      { username: "handover_inviter", password, referralToken: null },
      client,
    );
    assert.equal(webhooks.calls.length, 1);
    assert.deepEqual(webhooks.calls[0], await deliveryIds(), "user.created: one delivery, handed over");

    const [row] = await queryRows<{ referral_token: string }>(
      db,
      sql`SELECT referral_token FROM users WHERE id = ${inviter.userId}`,
    );
    const token = row?.referral_token ?? null;
    // Friends from addresses of their own are approved at once; the fifth pays the inviter.
    for (let i = 1; i <= config.program.referralsPerInviterReward; i++) {
      await signUp(
        deps,
        { username: `handover_friend${i}`, password, referralToken: token },
        { ...client, address: `198.51.100.${i}` },
      );
    }
    // Three from the inviter's own address: the first is approved (a partner at home), the next
    // two are held for review, then one approved and one rejected.
    for (const name of ["handover_home", "handover_held1", "handover_held2"]) {
      await signUp(deps, { username: name, password, referralToken: token }, client);
    }
    const held = await queryRows<{ id: number }>(
      db,
      sql`SELECT id FROM referrals WHERE status = 'held' ORDER BY id`,
    );
    assert.equal(held.length, 2);
    const review = {
      db,
      program: config.program,
      integrity: config.integrity,
      clock: Date.now,
      mail: keptMail,
      webhooks,
    };
    const decision = { staffId: null, reason: null, staffNote: null };
    assert.ok(await approveReferral(review, { ...decision, referralId: Number(held[0]?.id) }));
    assert.ok(await rejectReferral(review, { ...decision, referralId: Number(held[1]?.id) }));
    await adjustBalance(
      db,
      inviter.userId,
      inviter.userId,
      { amountCents: 150, reason: "goodwill" },
      webhooks,
    );
    const [staff] = await queryRows<{ id: number }>(
      db,
      sql`SELECT id FROM users WHERE username = 'handover_friend1'`,
    );
    await setUserActive(db, Number(staff?.id), inviter.userId, false, webhooks);

    const all = await deliveryIds();
    const handed = webhooks.calls.flat();
    assert.deepEqual(
      [...handed].sort((a, b) => a - b),
      all,
      "every delivery handed over, none twice",
    );
    const types = await queryRows<{ type: string; n: number }>(
      db,
      sql`SELECT ev.type, count(*)::int AS n FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id
        WHERE d.endpoint_id = ${endpointId} GROUP BY ev.type ORDER BY ev.type`,
    );
    assert.deepEqual(Object.fromEntries(types.map((t) => [t.type, t.n])), {
      "balance.adjusted": 1,
      "referral.approved": 1,
      "referral.created": 8,
      "referral.rejected": 1,
      // 6 bonuses paid at once, the approved friend's, and the inviter's reward.
      "reward.granted": 8,
      "user.created": 9,
      "user.deactivated": 1,
    });
  });
});

describe("jobs and the sweep share the deliveries out", () => {
  let boss: PgBoss;
  before(async () => {
    boss = await startJobQueue(database.handle, { maintenanceSeconds: 3600, onError: () => {} });
    await boss.createQueue(WEBHOOK_QUEUE, { name: WEBHOOK_QUEUE });
  });
  after(() => boss.stop({ graceful: false, close: false, wait: true }));

  test("a job reads its deliveries; once the sweep gave them to another job, it leaves them", async () => {
    const { db } = database.handle;
    const endpointId = await newEndpoint(["user.created"]);
    const ids = await recordEvent(db, "user.created", { user_id: 1, username: "x", invited_by_id: null });
    assert.equal(ids.length, 1);
    const first = "00000000-0000-4000-8000-000000000001";
    const read = await deliveriesForJob(db, ids, first);
    assert.deepEqual([...read.keys()], ids);
    assert.equal(read.get(ids[0] as number)?.endpointId, endpointId);
    assert.deepEqual([...(await deliveriesForJob(db, ids, first)).keys()], ids, "the job, run again");
    // No job still to run names it: the sweep gives it a job of its own, which alone sends it.
    const [swept] = await claimUnhandedDeliveries(db, 0, 500);
    assert.equal(swept?.id, ids[0]);
    assert.equal((await deliveriesForJob(db, ids, first)).size, 0, "given to the sweep's job");
    assert.deepEqual([...(await deliveriesForJob(db, ids, swept?.jobId as string)).keys()], ids);
  });

  test("a job's body is the event in the Standard Webhooks shape, as the delivery's page shows it", async () => {
    const { db } = database.handle;
    const endpointId = await newEndpoint(["balance.adjusted"]);
    const data = {
      user_id: 7,
      reason: 'a "quoted" reason\nover two lines, with é and 😀 and <tags> & \\',
      amount_cents: -1250,
      nested: { list: [1, null, true], big: 12345678901234 },
    };
    const [id] = await recordEvent(db, "balance.adjusted", data);
    // Past the millisecond: the timestamp is cut to it, as JavaScript's own dates are.
    await db.execute(sql`UPDATE events SET occurred_at = '2026-01-02 03:04:05.678999+00'
      WHERE id = (SELECT event_id FROM webhook_deliveries WHERE id = ${id})`);
    const [event] = await queryRows<{ id: string }>(
      db,
      sql`SELECT event_id AS id FROM webhook_deliveries WHERE id = ${id}`,
    );
    const sent = (await deliveriesForJob(db, [id as number], "00000000-0000-4000-8000-00000000000a")).get(
      id as number,
    );
    assert.ok(sent);
    assert.equal(sent.eventId, event?.id);
    assert.deepEqual(JSON.parse(sent.body), {
      id: event?.id,
      type: "balance.adjusted",
      timestamp: "2026-01-02T03:04:05.678Z",
      data,
    });
    assert.match(
      sent.body,
      /^\{"id":"evt_[0-9a-f]{32}","type":"balance\.adjusted","timestamp":"[^"]+","data":\{/,
    );
    assert.equal((await deliveryDetail(db, endpointId, id as number))?.body, sent.body);
  });

  test("the sweep leaves deliveries a job still to run names, and takes them once it has run", async () => {
    const { db } = database.handle;
    await newEndpoint(["user.created"]);
    const ids = await recordEvent(db, "user.created", { user_id: 4, username: "w", invited_by_id: null });
    const jobId = "00000000-0000-4000-8000-000000000007";
    await boss.insert([{ id: jobId, name: WEBHOOK_QUEUE, data: { ids } }]);
    assert.deepEqual(await claimUnhandedDeliveries(db, 0, 500), [], "queued");
    const [fetched] = (await boss.fetch(WEBHOOK_QUEUE)) ?? [];
    assert.equal(fetched?.id, jobId);
    assert.deepEqual(await claimUnhandedDeliveries(db, 0, 500), [], "running");
    // The job ended without sending it (say its writes kept failing): the sweep hands it over.
    await boss.complete(WEBHOOK_QUEUE, jobId);
    assert.deepEqual(
      (await claimUnhandedDeliveries(db, 0, 500)).map((s) => s.id),
      ids,
    );
  });

  test("a delivery whose endpoint staff turned off is skipped, not left waiting", async () => {
    const { db } = database.handle;
    const endpointId = await newEndpoint(["user.created"]);
    const ids = await recordEvent(db, "user.created", { user_id: 2, username: "y", invited_by_id: null });
    await updateEndpoint(db, endpointId, {
      url: "https://hooks.example.com/in",
      description: "off",
      eventTypes: ["user.created"],
      enabled: false,
    });
    assert.equal((await deliveriesForJob(db, ids, "00000000-0000-4000-8000-000000000003")).size, 0);
    const [row] = await queryRows<{ status: string; last_error: string }>(
      db,
      sql`SELECT status, last_error FROM webhook_deliveries WHERE id = ${ids[0]}`,
    );
    assert.deepEqual(row, { status: "skipped", last_error: "the endpoint was off" });
  });

  test("a delivery whose endpoint was deleted while its change was written is skipped", async () => {
    const { db } = database.handle;
    const endpointId = await newEndpoint(["user.created"]);
    const [id] = await recordEvent(db, "user.created", { user_id: 3, username: "z", invited_by_id: null });
    // What a sign-up racing the deletion leaves: deliveries name their endpoint without a foreign key.
    await db.execute(sql`DELETE FROM webhook_endpoints WHERE id = ${endpointId}`);
    assert.equal(
      (await deliveriesForJob(db, [id as number], "00000000-0000-4000-8000-000000000006")).size,
      0,
    );
    const [row] = await queryRows<{ status: string; last_error: string }>(
      db,
      sql`SELECT status, last_error FROM webhook_deliveries WHERE id = ${id}`,
    );
    assert.deepEqual(row, { status: "skipped", last_error: "the endpoint was deleted" });
  });

  test("a job handed over can be fetched in the same millisecond: its start is before its insert", async () => {
    // pg-boss fetches only jobs whose start is before now(), and PGlite's now() moves in whole
    // milliseconds: a job starting at its insert's now() is passed over by a fetch in that millisecond.
    const jobId = randomUUID();
    const waiting = [{ id: 1, jobId }];
    const relay = startRelay({
      boss,
      queue: WEBHOOK_QUEUE,
      workerIds: [],
      source: {
        claim: async () => waiting.splice(0),
        handedOverBefore: async () => [],
      },
      log: { info: () => {}, warn: () => {} },
      label: "test",
      batchJobs: true,
      gather: { quietMs: 0, busyMs: 0 },
      handOverBatch: 10,
    });
    await relay.dispatch();
    await relay.stop();
    const [job] = await queryRows<{ early: boolean }>(
      database.handle.db,
      sql`SELECT start_after < created_on AS early FROM pgboss.job WHERE id = ${jobId}::uuid`,
    );
    assert.equal(job?.early, true);
  });

  test("the sweep queues, a job per JOB_SIZE, only what is old enough and no job has", async () => {
    const { db } = database.handle;
    await newEndpoint(["user.created"]);
    const ids: number[] = [];
    for (let i = 0; i < JOB_SIZE + 3; i++) {
      ids.push(
        ...(await recordEvent(db, "user.created", { user_id: i, username: `s${i}`, invited_by_id: null })),
      );
    }
    assert.deepEqual(await claimUnhandedDeliveries(db, 3600, 500), [], "none is an hour old");
    const swept = await claimUnhandedDeliveries(db, 0, 500);
    assert.deepEqual(
      swept.map((s) => s.id),
      ids,
    );
    const jobs = new Map<string, number>();
    for (const s of swept) jobs.set(s.jobId, (jobs.get(s.jobId) ?? 0) + 1);
    assert.deepEqual([...jobs.values()], [JOB_SIZE, 3]);
    assert.deepEqual(await claimUnhandedDeliveries(db, 0, 500), [], "each is queued once");
  });
});
