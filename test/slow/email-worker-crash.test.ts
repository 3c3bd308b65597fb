// A worker killed in the middle of sending loses nothing: the SMTP server holds the message at DATA,
// the server process is killed (SIGKILL, no chance to clean up), a new process starts on the same
// database, and the message arrives once the dead worker's lease has run out.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, test } from "node:test";
import { sql } from "drizzle-orm";
import { migrateDatabase, openDatabase, queryRows } from "../../src/db/connection.js";
import { enqueueEmail } from "../../src/email/outbox.js";
import { generousLimits } from "../support/app.js";
import { createScratchDatabase, migratedDataDir, onPostgres } from "../support/database.js";
import { startServerProcess } from "../support/server-process.js";
import { startSmtpServer } from "../support/smtp.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

test("a worker killed mid-send: the next process sends the message, nothing is lost", {
  timeout: 180_000,
}, async () => {
  const smtp = await startSmtpServer();
  cleanups.push(() => smtp.close());
  smtp.setMode("stall");

  // One database both processes serve, with a message already waiting in its outbox.
  let where: { databaseUrl: string } | { dataDir: string };
  if (onPostgres) {
    const scratch = await createScratchDatabase(process.env.DATABASE_URL as string, "referral_crash");
    cleanups.push(() => scratch.drop());
    where = { databaseUrl: scratch.url };
  } else {
    const dataDir = await migratedDataDir("referral-crash-");
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    where = { dataDir };
  }
  const handle = await openDatabase("databaseUrl" in where ? { ...where, poolSize: 1 } : where);
  await migrateDatabase(handle);
  const [user] = await queryRows<{ id: number }>(
    handle.db,
    sql`INSERT INTO users (username, username_key, password_hash, referral_token, email, email_key)
      VALUES ('crash', 'crash', '!', 'crash-token', 'crash@example.com', 'crash@example.com') RETURNING id`,
  );
  const messageId = await enqueueEmail(
    handle.db,
    { initialStatus: "pending", wake: () => {} },
    {
      kind: "reward_earned",
      userId: Number(user?.id),
      to: "crash@example.com",
      params: { username: "crash", amount_cents: 1000 },
    },
  );
  await handle.close();

  const env = {
    ...generousLimits,
    SMTP_URL: smtp.url,
    MAIL_LEASE_SECONDS: "2",
    MAIL_RETRY_DELAY_SECONDS: "1",
    JOBS_MAINTENANCE_SECONDS: "1",
  };
  const first = await startServerProcess(env, where);
  // The first process's worker has the message in hand, held by the server at DATA: kill it there.
  await smtp.stalled();
  first.child.kill("SIGKILL");
  await first.exited;
  assert.equal(smtp.received.length, 0);

  smtp.setMode("accept");
  const second = await startServerProcess(env, where);
  cleanups.push(() => second.stop());
  const mail = await smtp.waitFor((m) => m.to === "crash@example.com");
  assert.equal(mail.parsed.subject, "You earned $10.00");
  await second.stop();

  const check = await openDatabase("databaseUrl" in where ? { ...where, poolSize: 1 } : where);
  const [row] = await queryRows<{ status: string; attempts: number }>(
    check.db,
    sql`SELECT status, attempts FROM outbox_messages WHERE id = ${messageId}`,
  );
  await check.close();
  assert.equal(row?.status, "sent");
  assert.equal(smtp.received.filter((m) => m.to === "crash@example.com").length, 1);
});
