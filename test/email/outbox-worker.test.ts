// The outbox worker against a real SMTP server: a message written with a change arrives, with its
// text and HTML parts; a server that refuses gets the message again later; without SMTP_URL the
// message is kept; nothing is sent for a change that rolled back.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { enqueueEmail, keptMail } from "../../src/email/outbox.js";
import { createTestApp, type TestApp } from "../support/app.js";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.js";

let smtp: TestSmtpServer;
let t: TestApp;

before(async () => {
  smtp = await startSmtpServer();
  // Retries come quickly here: one second, then about two, four…
  t = await createTestApp({
    SMTP_URL: smtp.url,
    MAIL_RETRY_DELAY_SECONDS: "1",
    JOBS_MAINTENANCE_SECONDS: "1",
  });
});

after(async () => {
  await t.close();
  await smtp.close();
});

async function userId(name: string): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    t.deps.db,
    sql`INSERT INTO users (username, username_key, password_hash, referral_token)
      VALUES (${name}, ${name}, '!', ${`tok-${name}`}) RETURNING id`,
  );
  return Number(rows[0]?.id);
}

async function statusOf(id: number): Promise<{ status: string; attempts: number; params: object }> {
  const rows = await queryRows<{ status: string; attempts: number; params: object }>(
    t.deps.db,
    sql`SELECT status, attempts, params FROM outbox_messages WHERE id = ${id}`,
  );
  return rows[0] as { status: string; attempts: number; params: object };
}

type Row = Awaited<ReturnType<typeof statusOf>>;

/** The row once it matches: read again after each turn of the event loop, for as long as it takes. */
async function until(id: number, done: (row: Row) => boolean): Promise<Row> {
  for (;;) {
    const row = await statusOf(id);
    if (done(row)) return row;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the email worker", () => {
  test("sends a written message over SMTP, with text and HTML parts, and forgets its token", async () => {
    const id = await userId("mailme");
    const messageId = await t.deps.db.transaction((tx) =>
      enqueueEmail(
        tx,
        { initialStatus: "pending", wake: () => {} },
        {
          kind: "verify_email",
          userId: id,
          to: "mailme@example.com",
          params: { username: "mailme <b>", token: "tok123", origin: "http://refer.test" },
        },
      ),
    );
    await t.app.sendPendingEmail();
    const received = await smtp.waitFor((m) => m.to === "mailme@example.com");
    assert.equal(received.parsed.subject, "Confirm your email address");
    assert.match(received.parsed.text ?? "", /http:\/\/refer\.test\/email\/verify\/\?token=tok123/);
    assert.match(String(received.parsed.html), /Hello mailme &lt;b&gt;,/, "the name is escaped in HTML");
    assert.equal(received.header("list-unsubscribe"), undefined, "a verification is not a notification");
    // The worker marks the row after the server accepted it; wait for that write, not for time.
    const row = await until(messageId, (r) => r.status === "sent");
    assert.deepEqual(row.params, {}, "the link's token is not kept once sent");
  });

  test("a notification carries RFC 8058 one-click unsubscribe headers", async () => {
    const id = await userId("notified");
    await t.deps.db.transaction((tx) =>
      enqueueEmail(
        tx,
        { initialStatus: "pending", wake: () => {} },
        {
          kind: "friend_joined",
          userId: id,
          to: "notified@example.com",
          params: { username: "notified", friend: "bob", origin: "http://refer.test" },
        },
      ),
    );
    await t.app.sendPendingEmail();
    const received = await smtp.waitFor((m) => m.to === "notified@example.com");
    assert.match(
      received.header("list-unsubscribe") ?? "",
      /^<http:\/\/refer\.test\/email\/unsubscribe\/\?token=/,
    );
    assert.equal(received.header("list-unsubscribe-post"), "List-Unsubscribe=One-Click");
  });

  test("a server that refuses gets the message again, with backoff, until it accepts", async () => {
    const id = await userId("retried");
    smtp.setMode("refuse");
    const messageId = await t.deps.db.transaction((tx) =>
      enqueueEmail(
        tx,
        { initialStatus: "pending", wake: () => {} },
        {
          kind: "reward_earned",
          userId: id,
          to: "retried@example.com",
          params: { username: "retried", amount_cents: 1000, origin: "http://refer.test" },
        },
      ),
    );
    await t.app.sendPendingEmail();
    const row = await until(messageId, (r) => r.attempts >= 1);
    assert.equal(row.status, "pending", "a refusal is retried, not given up");
    smtp.setMode("accept");
    const received = await smtp.waitFor((m) => m.to === "retried@example.com");
    assert.equal(received.parsed.subject, "You earned $10.00");
    assert.equal(smtp.received.filter((m) => m.to === "retried@example.com").length, 1);
  });

  test("a message whose hand-over to the queue was lost (a crash between the two) is handed over again", async () => {
    const id = await userId("lostjob");
    // As a process that died after giving the row its job id and before the job reached the queue.
    const [row] = await queryRows<{ id: number }>(
      t.deps.db,
      sql`INSERT INTO outbox_messages (kind, user_id, to_address, params, status, job_id, created_at)
        VALUES ('reward_earned', ${id}, 'lostjob@example.com', '{"username": "lostjob", "amount_cents": 1000}'::jsonb,
          'pending', gen_random_uuid(), now() - interval '1 minute')
        RETURNING id`,
    );
    await t.app.sendPendingEmail();
    const received = await smtp.waitFor((m) => m.to === "lostjob@example.com");
    assert.equal(received.parsed.subject, "You earned $10.00");
    await until(Number(row?.id), (r) => r.status === "sent");
  });

  test("a message written in a transaction that rolled back is never sent", async () => {
    const id = await userId("rolledback");
    await assert.rejects(
      t.deps.db.transaction(async (tx) => {
        await enqueueEmail(
          tx,
          { initialStatus: "pending", wake: () => {} },
          {
            kind: "reward_earned",
            userId: id,
            to: "rolledback@example.com",
            params: { username: "rolledback", amount_cents: 1000 },
          },
        );
        throw new Error("the change failed");
      }),
    );
    const rows = await queryRows<{ n: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS n FROM outbox_messages WHERE to_address = 'rolledback@example.com'`,
    );
    assert.equal(Number(rows[0]?.n), 0);
  });

  test("without SMTP_URL, messages are kept for staff and nothing is handed over", async () => {
    const id = await userId("kept");
    const messageId = await enqueueEmail(t.deps.db, keptMail, {
      kind: "reward_earned",
      userId: id,
      to: "kept@example.com",
      params: { username: "kept", amount_cents: 1000 },
    });
    await t.app.sendPendingEmail();
    assert.equal((await statusOf(messageId)).status, "kept");
  });
});
