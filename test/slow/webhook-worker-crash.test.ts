// A worker killed in the middle of a delivery loses nothing: the receiver holds the request without
// answering, the server process is killed (SIGKILL), a new process starts on the same database, and
// the delivery arrives again once the dead worker's lease has run out, with the same webhook-id.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, test } from "node:test";
import { sql } from "drizzle-orm";
import { migrateDatabase, openDatabase, queryRows } from "../../src/db/connection.js";
import { recordEvent } from "../../src/events/events.js";
import { createEndpoint } from "../../src/webhooks/endpoints.js";
import { newWebhookSecret } from "../../src/webhooks/signing.js";
import { generousLimits } from "../support/app.js";
import { createScratchDatabase, migratedDataDir, onPostgres } from "../support/database.js";
import { startServerProcess } from "../support/server-process.js";
import { startWebhookReceiver } from "../support/webhook-receiver.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

test("a worker killed mid-delivery: the next process delivers it, with the same webhook-id", {
  timeout: 180_000,
}, async () => {
  const receiver = await startWebhookReceiver();
  cleanups.push(() => receiver.close());
  receiver.secret = newWebhookSecret();
  receiver.answers.push("hang");

  // One database both processes serve, with an endpoint and an event waiting for it.
  let where: { databaseUrl: string } | { dataDir: string };
  if (onPostgres) {
    const scratch = await createScratchDatabase(process.env.DATABASE_URL as string, "referral_hook_crash");
    cleanups.push(() => scratch.drop());
    where = { databaseUrl: scratch.url };
  } else {
    const dataDir = await migratedDataDir("referral-hook-crash-");
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    where = { dataDir };
  }
  const handle = await openDatabase("databaseUrl" in where ? { ...where, poolSize: 1 } : where);
  await migrateDatabase(handle);
  await createEndpoint(handle.db, {
    url: receiver.url,
    description: "crash test",
    eventTypes: ["user.created"],
    secret: receiver.secret,
    createdById: null,
  });
  await recordEvent(handle.db, "user.created", { user_id: 1, username: "crash", invited_by_id: null });
  await handle.close();

  const env = {
    ...generousLimits,
    WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1",
    WEBHOOK_TIMEOUT_SECONDS: "5",
    WEBHOOK_RETRY_DELAY_SECONDS: "1",
    JOBS_MAINTENANCE_SECONDS: "1",
  };
  const first = await startServerProcess(env, where);
  // The first process's worker has the delivery in hand, unanswered: kill it there.
  const [held] = await receiver.waitForCount(1);
  first.child.kill("SIGKILL");
  await first.exited;

  const second = await startServerProcess(env, where);
  cleanups.push(() => second.stop());
  const all = await receiver.waitForCount(2);
  await second.stop();
  const delivered = all[1];
  assert.ok(held?.verified && delivered?.verified, "both requests verify with the endpoint's secret");
  assert.equal(delivered?.headers["webhook-id"], held?.headers["webhook-id"]);
  assert.equal(delivered?.event?.type, "user.created");

  const check = await openDatabase("databaseUrl" in where ? { ...where, poolSize: 1 } : where);
  const rows = await queryRows<{ status: string; attempts: number }>(
    check.db,
    sql`SELECT status, attempts FROM webhook_deliveries`,
  );
  await check.close();
  // The killed attempt was never written: the delivery shows the one that was answered.
  assert.deepEqual(rows, [{ status: "delivered", attempts: 1 }]);
  assert.equal(receiver.received.length, 2);
});
