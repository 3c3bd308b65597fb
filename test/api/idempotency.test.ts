// Idempotent adjustments: POST /api/v1/users/ID/adjustments with an Idempotency-Key writes once. A
// repeat gets the first answer back (same status and body) and writes nothing, even ten at once; the
// same key with another request is a 422; an error keeps nothing, so the key can be tried again;
// kept answers are forgotten by the housekeeping after API_IDEMPOTENCY_HOURS.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { cleanUpExpired } from "../../src/accounts/housekeeping.js";
import { queryRows } from "../../src/db/connection.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { ledgerMismatches } from "../support/ledger.js";
import { ApiClient, type ContractChecker, contractChecker, makeKey } from "./support.js";

let t: TestApp;
let staff: Client;
let contract: ContractChecker;
let writer: ApiClient;
let other: ApiClient;

before(async () => {
  t = await createTestApp();
  staff = await staffClient(t, "idem_boss");
  contract = await contractChecker(t.app);
  writer = new ApiClient(t.app, (await makeKey(staff, "Payments", "write")).key, contract);
  other = new ApiClient(t.app, (await makeKey(staff, "Another integration", "write")).key, contract);
});
after(async () => t.close());

async function member(name: string): Promise<number> {
  await new Client(t.app).signUp(name);
  return userIdOf(t.deps.db, name);
}

async function writesFor(
  userId: number,
): Promise<{ entries: number; audits: number; events: number; balance: number }> {
  const [row] = await queryRows<{ entries: number; audits: number; events: number; balance: number }>(
    t.deps.db,
    sql`SELECT
          (SELECT count(*)::int FROM ledger_entries WHERE user_id = ${userId}) AS entries,
          (SELECT count(*)::int FROM audit_log WHERE target_user_id = ${userId} AND action = 'balance_adjusted') AS audits,
          (SELECT count(*)::int FROM events WHERE type = 'balance.adjusted' AND (data->>'user_id')::bigint = ${userId}) AS events,
          (SELECT balance_cents::int FROM users WHERE id = ${userId}) AS balance`,
  );
  assert.ok(row);
  return row;
}

test("a repeat gets the first answer back and writes nothing", async () => {
  const userId = await member("idem_seq");
  const body = { amount_cents: 1500, reason: "Survey reward", note: "batch 7" };
  const first = await writer.adjust(userId, body, "seq-1");
  assert.equal(first.statusCode, 201);
  assert.equal(first.headers["idempotent-replayed"], undefined);
  assert.deepEqual(await writesFor(userId), { entries: 1, audits: 1, events: 1, balance: 1500 });

  const again = await writer.adjust(userId, body, "seq-1");
  assert.equal(again.statusCode, 201);
  assert.equal(again.headers["idempotent-replayed"], "true");
  assert.equal(again.body, first.body, "the same body, byte for byte");
  // The same request written differently (order, spacing, trimmed text, an explicit null) is a repeat.
  const rewritten = await writer.adjust(
    userId,
    '{ "note": " batch 7 ", "reason": "Survey reward  ",\n "amount_cents": 1500 }',
    "seq-1",
  );
  assert.equal(rewritten.statusCode, 201);
  assert.equal(rewritten.body, first.body);
  assert.deepEqual(await writesFor(userId), { entries: 1, audits: 1, events: 1, balance: 1500 });
});

test("the same key with a different request is a 422, and writes nothing", async () => {
  const userId = await member("idem_diff");
  const otherUserId = await member("idem_diff_other");
  assert.equal(
    (await writer.adjust(userId, { amount_cents: 700, reason: "First" }, "diff-1")).statusCode,
    201,
  );
  for (const [target, body] of [
    [userId, { amount_cents: 701, reason: "First" }],
    [userId, { amount_cents: 700, reason: "Another reason" }],
    [userId, { amount_cents: 700, reason: "First", note: "now with a note" }],
    [otherUserId, { amount_cents: 700, reason: "First" }],
  ] as const) {
    const response = await writer.adjust(target, body, "diff-1");
    assert.equal(response.statusCode, 422, JSON.stringify(body));
    assert.equal(response.json().error, "idempotency_key_reused");
    assert.match(response.json().message, /already used with a different request/);
  }
  assert.deepEqual(await writesFor(userId), { entries: 1, audits: 1, events: 1, balance: 700 });
  assert.equal((await writesFor(otherUserId)).entries, 0);
});

test("keys belong to one API key: another key's same Idempotency-Key is its own request", async () => {
  const userId = await member("idem_two_keys");
  assert.equal((await writer.adjust(userId, { amount_cents: 100, reason: "One" }, "shared")).statusCode, 201);
  const second = await other.adjust(userId, { amount_cents: 100, reason: "One" }, "shared");
  assert.equal(second.statusCode, 201);
  assert.equal(second.headers["idempotent-replayed"], undefined);
  assert.equal((await writesFor(userId)).entries, 2);
});

test("ten concurrent repeats write once and all get the same answer", async () => {
  const userId = await member("idem_race");
  const body = { amount_cents: 2000, reason: "Race prize" };
  const responses = await Promise.all(
    Array.from({ length: 10 }, () => writer.adjust(userId, body, "race-1")),
  );
  assert.deepEqual(
    responses.map((r) => r.statusCode),
    Array(10).fill(201),
  );
  assert.equal(new Set(responses.map((r) => r.body)).size, 1, "one body for all");
  assert.equal(responses.filter((r) => r.headers["idempotent-replayed"] === "true").length, 9);
  assert.deepEqual(await writesFor(userId), { entries: 1, audits: 1, events: 1, balance: 2000 });

  // Ten different keys at once are ten adjustments: nothing is merged that should not be.
  const distinct = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      writer.adjust(userId, { amount_cents: 10, reason: "Each" }, `race-many-${i}`),
    ),
  );
  assert.ok(distinct.every((r) => r.statusCode === 201 && r.headers["idempotent-replayed"] === undefined));
  assert.deepEqual(await writesFor(userId), { entries: 11, audits: 11, events: 11, balance: 2100 });
  assert.deepEqual(await ledgerMismatches(t.deps.db), []);
});

test("an answer that is an error is not kept: the same key works once the error is fixed", async () => {
  const userId = await member("idem_error");
  const removal = { amount_cents: -500, reason: "Refund" };
  const refused = await writer.adjust(userId, removal, "error-1");
  assert.equal(refused.statusCode, 400);
  assert.equal(
    (await queryRows(t.deps.db, sql`SELECT 1 FROM api_idempotency_keys WHERE key = 'error-1'`)).length,
    0,
  );
  assert.equal(
    (await other.adjust(userId, { amount_cents: 800, reason: "Top-up" }, "top-up")).statusCode,
    201,
  );
  const retried = await writer.adjust(userId, removal, "error-1");
  assert.equal(retried.statusCode, 201);
  assert.equal(retried.json().balance_cents, 300);
});

test("the Idempotency-Key header is required: 1 to 255 printable ASCII characters", async () => {
  const userId = await member("idem_header");
  const body = { amount_cents: 100, reason: "x" };
  const missing = await writer.post(`/api/v1/users/${userId}/adjustments`, body);
  assert.equal(missing.statusCode, 400);
  assert.deepEqual(Object.keys(missing.json().fields), ["Idempotency-Key"]);
  assert.match(missing.json().fields["Idempotency-Key"][0], /^This header is required/);
  const long = await writer.adjust(userId, body, "k".repeat(256));
  assert.equal(long.statusCode, 400);
  assert.deepEqual(long.json().fields, { "Idempotency-Key": ["Use 1 to 255 printable ASCII characters."] });
  assert.equal((await writer.adjust(userId, body, "k".repeat(255))).statusCode, 201);
  assert.equal((await writer.adjust(userId, body, "a 0-9 ~!@#$%^&*() key")).statusCode, 201);
  assert.equal((await writesFor(userId)).entries, 2);
});

test("kept answers are forgotten after API_IDEMPOTENCY_HOURS: the key is then new", async () => {
  const userId = await member("idem_expiry");
  assert.equal(
    (await writer.adjust(userId, { amount_cents: 100, reason: "Old" }, "expiring")).statusCode,
    201,
  );
  // Within the hours, the housekeeping keeps it.
  const soon = await cleanUpExpired(
    t.deps.db,
    t.config,
    Date.now() + (t.config.api.idempotencyHours - 1) * 3_600_000,
  );
  assert.equal(soon.idempotencyKeys, 0);
  assert.equal(
    (await writer.adjust(userId, { amount_cents: 200, reason: "New" }, "expiring")).statusCode,
    422,
  );
  const later = await cleanUpExpired(
    t.deps.db,
    t.config,
    Date.now() + (t.config.api.idempotencyHours + 1) * 3_600_000,
  );
  assert.ok(later.idempotencyKeys >= 1);
  const reused = await writer.adjust(userId, { amount_cents: 200, reason: "New" }, "expiring");
  assert.equal(reused.statusCode, 201);
  assert.equal(reused.headers["idempotent-replayed"], undefined);
  assert.equal((await writesFor(userId)).balance, 300);
});
