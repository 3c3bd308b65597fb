// /admin/stats/: the figures for a period, computed over backdated users and ledger entries.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { staffClient } from "../support/admin.js";
import { type Client, createTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
let staff: Client;

async function addUser(username: string, createdAt: string, inviter?: string): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    t.deps.db,
    sql`INSERT INTO users (username, username_key, password_hash, referral_token, invited_by_id, created_at)
        VALUES (${username}, ${username}, 'x', ${`token-${username}`},
                (SELECT id FROM users WHERE username = ${inviter ?? null}), ${createdAt}::timestamptz)
        RETURNING id::int AS id`,
  );
  return rows[0]?.id as number;
}

async function addEntry(userId: number, kind: string, cents: number, createdAt: string): Promise<void> {
  await t.deps.db.execute(
    sql`INSERT INTO ledger_entries (user_id, amount_cents, kind, created_at) VALUES (${userId}, ${cents}, ${kind}, ${createdAt}::timestamptz)`,
  );
}

before(async () => {
  t = await createTestApp();
  staff = await staffClient(t, "stats_staff");
  // Ten users before the period (2025-03-01 to 2025-03-07): A and B among them.
  await addUser("alpha", "2025-01-10T12:00:00Z");
  await addUser("beta", "2025-02-01T12:00:00Z");
  for (let i = 0; i < 8; i++) await addUser(`early_${i}`, "2025-02-28T23:59:59Z");
  const a1 = await addUser("a_one", "2025-03-02T08:00:00Z", "alpha");
  const a2 = await addUser("a_two", "2025-03-02T09:00:00Z", "alpha");
  await addUser("direct_1", "2025-03-02T10:00:00Z");
  const b1 = await addUser("b_one", "2025-03-05T00:00:00Z", "beta");
  await addUser("direct_2", "2025-03-05T13:00:00Z");
  const a3 = await addUser("a_three", "2025-03-07T23:59:59Z", "alpha");
  await addUser("after_period", "2025-03-08T00:00:00Z", "beta");
  for (const [id, day] of [
    [a1, "2025-03-02T08:00:00Z"],
    [a2, "2025-03-02T09:00:00Z"],
    [b1, "2025-03-05T00:00:00Z"],
    [a3, "2025-03-07T23:59:59Z"],
  ] as const) {
    await addEntry(id, "invitee_bonus", 1000, day);
  }
  const alpha = (
    await queryRows<{ id: number }>(t.deps.db, sql`SELECT id::int AS id FROM users WHERE username = 'alpha'`)
  )[0]?.id as number;
  await addEntry(alpha, "inviter_reward", 2500, "2025-03-07T23:59:59Z");
  await addEntry(alpha, "adjustment", 500, "2025-03-03T10:00:00Z");
  await addEntry(alpha, "adjustment", -200, "2025-03-04T10:00:00Z");
  await addEntry(alpha, "invitee_bonus", 1000, "2025-03-08T00:00:00Z");
});
after(async () => t.close());

const period = "/admin/stats/?from=2025-03-01&to=2025-03-07";

test("sign-ups, referred sign-ups and rewards are counted per UTC day, zero days included", async () => {
  const stats = (await staff.get(period)).json();
  assert.equal(stats.from, "2025-03-01");
  assert.equal(stats.to, "2025-03-07");
  assert.deepEqual(
    stats.days.map((d: Record<string, unknown>) => [
      d.day,
      d.signups,
      d.referred_signups,
      d.invitee_bonus_cents,
      d.inviter_reward_cents,
    ]),
    [
      ["2025-03-01", 0, 0, 0, 0],
      ["2025-03-02", 3, 2, 2000, 0],
      ["2025-03-03", 0, 0, 0, 0],
      ["2025-03-04", 0, 0, 0, 0],
      ["2025-03-05", 2, 1, 1000, 0],
      ["2025-03-06", 0, 0, 0, 0],
      ["2025-03-07", 1, 1, 1000, 2500],
    ],
  );
  assert.equal(stats.signups, 6);
  assert.equal(stats.referred_signups, 4);
  assert.equal(stats.rewards_paid_cents, 6500);
  assert.equal(stats.adjustments_net_cents, 300, "adjustments are not rewards, and are shown apart");
});

test("the K-factor is referred sign-ups in the period over users who existed at its start", async () => {
  const stats = (await staff.get(period)).json();
  assert.equal(stats.users_at_start, 10);
  assert.equal(stats.k_factor, 0.4);
  assert.equal(stats.referred_share, 4 / 6);
  const empty = (await staff.get("/admin/stats/?from=2020-01-01&to=2020-01-31")).json();
  assert.equal(empty.users_at_start, 0);
  assert.equal(empty.k_factor, null, "no users at the start: no K-factor");
  assert.equal(empty.referred_share, null);
  const page = await staff.get("/admin/stats/?from=2020-01-01&to=2020-01-31", { accept: "text/html" });
  assert.match(page.body, /Nobody existed at the start of this period, so K has no value for it/);
});

test("top referrers are ranked by sign-ups through their link in the period", async () => {
  const stats = (await staff.get(period)).json();
  assert.deepEqual(
    stats.top_referrers.map((r: Record<string, unknown>) => [r.username, r.referred_in_period]),
    [
      ["alpha", 3],
      ["beta", 1],
    ],
  );
});

test("the page draws the charts as SVG with the numbers in tables, explains the K-factor, and uses no inline style", async () => {
  const page = await staff.get(period, { accept: "text/html" });
  assert.equal(page.statusCode, 200);
  const body = page.body;
  for (const id of [
    "signups-chart",
    "rewards-chart",
    "top-chart",
    "signups-table",
    "rewards-table",
    "top-table",
  ]) {
    assert.match(body, new RegExp(`id="${id}"`), id);
  }
  assert.equal((body.match(/<svg /g) ?? []).length >= 3, true);
  assert.match(body, /<title id="signups-chart-title">Sign-ups per day, 2025-03-01 to 2025-03-07<\/title>/);
  assert.match(body, /Mar 2: through a link 2, direct 1/);
  assert.match(body, /id="k-factor">0\.400</);
  assert.match(body, /id="referred-share">66\.7%</);
  assert.match(body, /id="rewards-paid">\$65\.00</);
  assert.match(body, /counts only sign-ups through a link, not invitations sent/);
  assert.doesNotMatch(body, /\sstyle=/i, "the CSP forbids inline styles");
  assert.doesNotMatch(body, /<style|<script(?! src)/i);
  assert.match(
    body,
    /<td>Mar 7<\/td><td class="text-end">\$10\.00<\/td><td class="text-end">\$25\.00<\/td><td class="text-end">\$35\.00<\/td>/,
  );
});

test("the period is selectable: presets, and dates checked", async () => {
  const week = (await staff.get("/admin/stats/?days=7")).json();
  assert.equal(week.days.length, 7);
  assert.equal(week.to, new Date().toISOString().slice(0, 10));
  assert.equal((await staff.get("/admin/stats/")).json().days.length, 30);
  assert.equal(
    (await staff.get("/admin/stats/?days=12345")).json().days.length,
    30,
    "unknown presets fall back",
  );
  for (const bad of [
    "from=2025-03-07&to=2025-03-01",
    "from=2025-02-30&to=2025-03-01",
    "from=x&to=y",
    "from=2020-01-01&to=2025-01-01",
  ]) {
    const response = await staff.get(`/admin/stats/?${bad}`);
    assert.equal(response.statusCode, 400, bad);
    assert.ok(Array.isArray(response.json().period), bad);
  }
  const page = await staff.get("/admin/stats/?from=2025-03-07&to=2025-03-01", { accept: "text/html" });
  assert.equal(page.statusCode, 400);
  assert.match(page.body, /The first day must not be after the last day\./);
});
