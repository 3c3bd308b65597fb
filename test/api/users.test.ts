// /api/v1/users and what hangs off it: the cursor-paged list (every user exactly once), one user
// with their figures and link, their ledger and referrals, adjustments and deactivation through a
// read-write key (a read key gets 403), bad input, and the audit log naming the key. Every answer is
// checked against the OpenAPI document (support.ts).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { ledgerMismatches } from "../support/ledger.js";
import { inviter, signUpThrough } from "../support/referrals.js";
import { ApiClient, type ContractChecker, contractChecker, type MadeKey, makeKey } from "./support.js";

const ORIGIN = "https://refer.example.com";

let t: TestApp;
let staff: Client;
let contract: ContractChecker;
let writeKey: MadeKey;
let reader: ApiClient;
let writer: ApiClient;
let aliceId: number;

interface ApiUser {
  id: number;
  username: string;
  balance_cents: number;
  pending_cents: number;
  referred_count: number;
  held_count: number;
  rejected_count: number;
  referral_link: string | null;
  invited_by_id: number | null;
  is_active: boolean;
  email: string | null;
  email_verified: boolean;
  deleted_at: string | null;
}

before(async () => {
  // Every referral is held for an hour: the counts by status can then be set by staff's decisions.
  t = await createTestApp({ PUBLIC_ORIGIN: ORIGIN, REFERRAL_HOLD_HOURS: "1" });
  staff = await staffClient(t, "users_boss");
  contract = await contractChecker(t.app);
  reader = new ApiClient(t.app, (await makeKey(staff, "Reporting", "read")).key, contract);
  writeKey = await makeKey(staff, "Billing bridge", "write");
  writer = new ApiClient(t.app, writeKey.key, contract);
  const alice = await inviter(t, "api_alice");
  aliceId = await userIdOf(t.deps.db, "api_alice");
  for (const name of ["api_bob", "api_carol", "api_dave"]) {
    await signUpThrough(new Client(t.app, "json", "10.9.0.1"), name, alice.token);
  }
});
after(async () => t.close());

async function ledgerCount(userId: number): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM ledger_entries WHERE user_id = ${userId}`,
  );
  return rows[0]?.n ?? 0;
}

async function allUserIds(): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(t.deps.db, sql`SELECT id::int AS id FROM users ORDER BY id`);
  return rows.map((r) => r.id);
}

/** Follows next_cursor to the end, `limit` at a time; `between` runs after each page. */
async function walk<T>(
  url: string,
  limit: number,
  between: (page: number) => Promise<void> = async () => {},
) {
  const seen: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const response = await reader.get(`${url}?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json() as { data: T[]; next_cursor: string | null };
    assert.ok(body.data.length <= limit);
    seen.push(...body.data);
    cursor = body.next_cursor;
    if (cursor === null) return seen;
    await between(page);
  }
  throw new Error("the pages never ended");
}

describe("listing users", () => {
  test("following next_cursor visits every user exactly once, newcomers at the end", async () => {
    const before = await allUserIds();
    let joined = 0;
    const seen = await walk<ApiUser>("/api/v1/users", 2, async (page) => {
      // Someone joins while the list is read: they come on a later page, once.
      if (page === 0) {
        await new Client(t.app).signUp(`api_newcomer_${++joined}`);
      }
    });
    const ids = seen.map((u) => u.id);
    assert.equal(new Set(ids).size, ids.length, "no user twice");
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      "in id order",
    );
    assert.deepEqual(ids, await allUserIds(), "every user, the newcomer included");
    assert.ok(ids.length > before.length);
  });

  test("the default page is 50, at most 200; a bad limit or cursor is a 400", async () => {
    const first = await reader.get("/api/v1/users");
    assert.equal(first.json().next_cursor, null, "fewer than 50 users: one page");
    assert.equal(first.json().data.length, (await allUserIds()).length);
    assert.equal((await reader.get("/api/v1/users?limit=200")).statusCode, 200);
    // Empty counts as none, as on the pages' lists.
    assert.equal(
      (await reader.get("/api/v1/users?limit=&cursor=")).json().data.length,
      first.json().data.length,
    );
    for (const [query, error] of [
      ["limit=201", "bad_limit"],
      ["limit=0", "bad_limit"],
      ["limit=ten", "bad_limit"],
      // A number as Ajv's coercion alone would read it is not one here.
      ["limit=1e1", "bad_limit"],
      ["limit=0x10", "bad_limit"],
      ["limit=%205", "bad_limit"],
      ["limit=1.5", "bad_limit"],
      ["limit=010", "bad_limit"],
      ["limit=-1", "bad_limit"],
      ["cursor=not%20a%20cursor", "bad_cursor"],
      ["cursor=abc", "bad_cursor"],
      ["limit=2&limit=3", "bad_query"],
    ] as const) {
      const response = await reader.get(`/api/v1/users?${query}`);
      assert.equal(response.statusCode, 400, query);
      assert.equal(response.json().error, error, query);
    }
  });
});

describe("one user", () => {
  test("figures, counts, an absolute link on PUBLIC_ORIGIN, and no secrets", async () => {
    // One referral approved, one rejected, one still held.
    const held = await queryRows<{ id: number; username: string }>(
      t.deps.db,
      sql`SELECT r.id::int AS id, u.username FROM referrals r JOIN users u ON u.id = r.invitee_id
          WHERE r.inviter_id = ${aliceId} ORDER BY r.id`,
    );
    assert.equal(held.length, 3);
    assert.equal(
      (await staff.postJson("/admin/review/", { action: "approve", ids: [held[0]?.id] })).statusCode,
      200,
    );
    assert.equal(
      (
        await staff.postJson("/admin/review/", {
          action: "reject",
          ids: [held[1]?.id],
          reason: "Same person",
        })
      ).statusCode,
      200,
    );
    const response = await reader.get(`/api/v1/users/${aliceId}`);
    assert.equal(response.statusCode, 200);
    const alice = response.json() as ApiUser;
    assert.equal(alice.username, "api_alice");
    assert.equal(alice.referred_count, 1);
    assert.equal(alice.held_count, 1);
    assert.equal(alice.rejected_count, 1);
    assert.equal(alice.is_active, true);
    assert.equal(alice.email, null);
    assert.equal(alice.email_verified, false);
    const token = (
      await queryRows<{ t: string }>(
        t.deps.db,
        sql`SELECT referral_token AS t FROM users WHERE id = ${aliceId}`,
      )
    )[0]?.t;
    assert.equal(alice.referral_link, `${ORIGIN}/signup/?ref=${token}`);
    const dave = (
      await reader.get(`/api/v1/users/${await userIdOf(t.deps.db, "api_dave")}`)
    ).json() as ApiUser;
    assert.equal(dave.invited_by_id, aliceId);
    assert.equal(dave.pending_cents, t.config.program.inviteeRewardCents, "a held bonus is pending");
    assert.equal(dave.balance_cents, 0);
    assert.doesNotMatch(response.body, /argon2|password|\$/i, "no hash, nothing about passwords");
  });

  test("an unknown or malformed id is a 404, for the user and their lists", async () => {
    for (const url of [
      "/api/v1/users/999999",
      "/api/v1/users/0",
      "/api/v1/users/abc",
      "/api/v1/users/1e0",
      "/api/v1/users/01",
    ]) {
      const response = await reader.get(url);
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json().error, "not_found");
    }
    for (const list of ["ledger", "referrals"]) {
      assert.equal((await reader.get(`/api/v1/users/999999/${list}`)).statusCode, 404);
    }
  });

  test("a deleted account has no link and cannot be reactivated", async () => {
    const leaver = new Client(t.app);
    await leaver.signUp("api_leaver");
    const leaverId = await userIdOf(t.deps.db, "api_leaver");
    assert.equal(
      (await leaver.post("/account/delete/", { password: "correct horse battery" })).statusCode,
      200,
    );
    const gone = (await reader.get(`/api/v1/users/${leaverId}`)).json() as ApiUser;
    assert.equal(gone.referral_link, null);
    assert.notEqual(gone.deleted_at, null);
    assert.equal(gone.is_active, false);
    const refused = await writer.post(`/api/v1/users/${leaverId}/reactivate`);
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error, "invalid_request");
    assert.match(refused.json().message, /deleted by its owner/);
  });
});

describe("a user's lists", () => {
  test("the ledger pages newest first, each entry with the balance it left", async () => {
    const bobId = await userIdOf(t.deps.db, "api_bob");
    for (const [i, cents] of [500, -200, 300].entries()) {
      const made = await writer.adjust(bobId, { amount_cents: cents, reason: `step ${i}` }, `ledger-${i}`);
      assert.equal(made.statusCode, 201, made.body);
    }
    const entries = await walk<{
      id: number;
      amount_cents: number;
      balance_after_cents: number;
      reason: string | null;
    }>(`/api/v1/users/${bobId}/ledger`, 1);
    assert.equal(entries.length, await ledgerCount(bobId));
    assert.deepEqual(
      entries.slice(0, 3).map((e) => [e.amount_cents, e.reason]),
      [
        [300, "step 2"],
        [-200, "step 1"],
        [500, "step 0"],
      ],
    );
    const bob = (await reader.get(`/api/v1/users/${bobId}`)).json() as ApiUser;
    assert.equal(entries[0]?.balance_after_cents, bob.balance_cents);
  });

  test("the referrals page newest first, with their status", async () => {
    const referrals = await walk<{ username: string; status: string; reason: string | null }>(
      `/api/v1/users/${aliceId}/referrals`,
      2,
    );
    assert.deepEqual(
      referrals.map((r) => [r.username, r.status, r.reason]),
      [
        ["api_dave", "held", null],
        ["api_carol", "rejected", "Same person"],
        ["api_bob", "approved", null],
      ],
    );
  });
});

describe("adjusting credit", () => {
  test("a read key cannot write: 403, and nothing is written", async () => {
    const entries = await ledgerCount(aliceId);
    for (const [url, body] of [
      [`/api/v1/users/${aliceId}/adjustments`, { amount_cents: 100, reason: "nope" }],
      [`/api/v1/users/${aliceId}/deactivate`, undefined],
      [`/api/v1/users/${aliceId}/reactivate`, undefined],
    ] as const) {
      const response = await reader.post(url, body, { "idempotency-key": "read-key-try" });
      assert.equal(response.statusCode, 403, url);
      assert.equal(response.json().error, "insufficient_scope");
      assert.equal(
        response.headers["www-authenticate"],
        'Bearer realm="api", error="insufficient_scope", scope="write"',
      );
    }
    assert.equal(await ledgerCount(aliceId), entries);
    assert.equal(((await reader.get(`/api/v1/users/${aliceId}`)).json() as ApiUser).is_active, true);
  });

  test("an adjustment is a ledger entry, in the audit log and the events under the key's name", async () => {
    const response = await writer.adjust(
      aliceId,
      { amount_cents: 2500, reason: "  Conference prize ", note: "ticket 42" },
      "audit-1",
    );
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.equal(body.reason, "Conference prize", "trimmed, as the admin's form does");
    assert.equal(body.note, "ticket 42");
    assert.equal(body.amount_cents, 2500);
    assert.equal(response.headers["idempotent-replayed"], undefined);

    const audit = await queryRows<{ actor_id: number | null; api_key_id: number; details: string }>(
      t.deps.db,
      sql`SELECT actor_id, api_key_id::int AS api_key_id, details FROM audit_log
          WHERE action = 'balance_adjusted' AND target_user_id = ${aliceId} ORDER BY id DESC LIMIT 1`,
    );
    assert.equal(audit[0]?.actor_id, null);
    assert.equal(audit[0]?.api_key_id, writeKey.id);
    assert.equal(JSON.parse(audit[0]?.details ?? "{}").ledger_entry_id, body.ledger_entry_id);
    const page = new Client(t.app, "html");
    await page.logIn("users_boss");
    assert.match((await page.get("/admin/")).body, /API key <q>Billing bridge<\/q>/);
    const json = (await staff.get("/admin/")).json() as {
      audit: { action: string; api_key: string | null }[];
    };
    assert.equal(json.audit.find((entry) => entry.action === "balance_adjusted")?.api_key, "Billing bridge");

    const events = await queryRows<{ data: { by: unknown; ledger_entry_id: number } }>(
      t.deps.db,
      sql`SELECT data FROM events WHERE type = 'balance.adjusted' ORDER BY seq DESC LIMIT 1`,
    );
    assert.deepEqual(events[0]?.data.by, {
      type: "api_key",
      api_key_id: writeKey.id,
      name: "Billing bridge",
    });
    assert.equal(events[0]?.data.ledger_entry_id, body.ledger_entry_id);
    assert.deepEqual(await ledgerMismatches(t.deps.db), []);
  });

  test("bad input is a 400 naming each field; nothing is written", async () => {
    const entries = await ledgerCount(aliceId);
    const cases: [unknown, Record<string, string[]>][] = [
      [{ reason: "x" }, { amount_cents: ["This field is required."] }],
      [{ amount_cents: "500", reason: "x" }, { amount_cents: ["Enter a whole number."] }],
      [{ amount_cents: 5.5, reason: "x" }, { amount_cents: ["Enter a whole number."] }],
      [{ amount_cents: true, reason: "x" }, { amount_cents: ["Enter a whole number."] }],
      [
        { amount_cents: 0, reason: "x" },
        {
          amount_cents: [
            "The amount must not be zero: give a positive amount to add credit, a negative one to remove it.",
          ],
        },
      ],
      [
        { amount_cents: 100_000_001, reason: "x" },
        { amount_cents: ["Ensure this value is less than or equal to 100000000."] },
      ],
      [{ amount_cents: 100, reason: "   " }, { reason: ["This field is required."] }],
      [
        { amount_cents: 100, reason: "r".repeat(501) },
        { reason: ["Ensure this value has at most 500 characters (it has 501)."] },
      ],
      [{ amount_cents: 100, reason: "x", amount: 5 }, { amount: ["This field is not accepted here."] }],
      [{ amount_cents: 100, reason: "x", note: 7 }, { note: ["Enter text, or null."] }],
    ];
    for (const [i, [body, fields]] of cases.entries()) {
      const response = await writer.adjust(aliceId, body, `bad-${i}`);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.equal(response.json().error, "invalid_request");
      assert.deepEqual(response.json().fields, fields, JSON.stringify(body));
    }
    // Removing more than the balance: the use case's own check, under the API's field name.
    const balance = ((await reader.get(`/api/v1/users/${aliceId}`)).json() as ApiUser).balance_cents;
    const tooMuch = await writer.adjust(aliceId, { amount_cents: -(balance + 1), reason: "x" }, "too-much");
    assert.equal(tooMuch.statusCode, 400);
    assert.match(tooMuch.json().fields.amount_cents[0], /^Cannot remove \$[\d,.]+: the balance is only/);
    // A body that is not JSON, or not an object, or not JSON at all.
    const notJson = await writer.post(`/api/v1/users/${aliceId}/adjustments`, "{", {
      "idempotency-key": "nj",
    });
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json().error, "invalid_json");
    const form = await t.app.inject({
      method: "POST",
      url: `/api/v1/users/${aliceId}/adjustments`,
      headers: {
        authorization: `Bearer ${writeKey.key}`,
        "idempotency-key": "form",
        "content-type": "application/x-www-form-urlencoded",
      },
      payload: "amount_cents=100&reason=x",
    });
    contract.check("POST", `/api/v1/users/${aliceId}/adjustments`, form);
    assert.equal(form.statusCode, 415);
    assert.equal(await ledgerCount(aliceId), entries);
  });

  test("an unknown user is a 404, and nothing is kept for the Idempotency-Key", async () => {
    const response = await writer.adjust(999_999, { amount_cents: 100, reason: "x" }, "nobody");
    assert.equal(response.statusCode, 404);
    const kept = await queryRows(t.deps.db, sql`SELECT 1 FROM api_idempotency_keys WHERE key = 'nobody'`);
    assert.equal(kept.length, 0);
  });
});

describe("deactivating and reactivating", () => {
  test("a deactivation ends the user's sessions and refuses their login; a repeat changes nothing", async () => {
    const member = new Client(t.app);
    await member.signUp("api_paused");
    const memberId = await userIdOf(t.deps.db, "api_paused");
    const off = await writer.post(`/api/v1/users/${memberId}/deactivate`);
    assert.equal(off.statusCode, 200);
    assert.deepEqual(off.json(), { user_id: memberId, is_active: false, changed: true, sessions_ended: 1 });
    assert.equal((await member.get("/")).statusCode, 401, "the session ended");
    assert.equal((await member.logIn("api_paused")).statusCode, 400);
    assert.deepEqual((await writer.post(`/api/v1/users/${memberId}/deactivate`)).json(), {
      user_id: memberId,
      is_active: false,
      changed: false,
      sessions_ended: 0,
    });
    const on = await writer.post(`/api/v1/users/${memberId}/reactivate`);
    assert.deepEqual(on.json(), { user_id: memberId, is_active: true, changed: true, sessions_ended: 0 });
    assert.equal((await member.logIn("api_paused")).statusCode, 200);
    const audit = await queryRows<{ action: string; api_key_id: number }>(
      t.deps.db,
      sql`SELECT action, api_key_id::int AS api_key_id FROM audit_log WHERE target_user_id = ${memberId} ORDER BY id`,
    );
    assert.deepEqual(
      audit.map((a) => [a.action, a.api_key_id]),
      [
        ["user_deactivated", writeKey.id],
        ["user_reactivated", writeKey.id],
      ],
    );
    assert.equal((await writer.post("/api/v1/users/999999/deactivate")).statusCode, 404);
  });
});
