import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import { balanceMismatches } from "../support/ledger.js";

let t: TestApp;
let alice: Client;
let aliceToken: string;
const inviteeNames: string[] = [];

before(async () => {
  t = await createTestApp();
  alice = new Client(t.app);
  await alice.signUp("alice");
  aliceToken = tokenOf((await alice.dashboard()).referral_link);
  for (let i = 1; i <= 12; i++) {
    const name = `friend_${String(i).padStart(2, "0")}`;
    inviteeNames.push(name);
    const r = await new Client(t.app).signUp(name, "correct horse battery", aliceToken);
    assert.equal(r.statusCode, 200, r.body);
  }
});

after(async () => {
  await t.close();
});

interface HistoryJson {
  balance: number;
  balance_cents: number;
  entries: {
    id: string;
    created_at: string;
    kind: string;
    amount_cents: number;
    reason: string;
    balance_after_cents: number;
  }[];
  next_cursor: string | null;
}

test("GET / in JSON mode adds balance_cents, pending_cents, referred_count, referrals_until_next_reward and the funnel", async () => {
  const body = (await alice.get("/")).json();
  assert.deepEqual(Object.keys(body).sort(), [
    "balance",
    "balance_cents",
    "email",
    "email_pending",
    "email_verified",
    "joined_count",
    "link_opens",
    "pending_cents",
    "referral_link",
    "referrals_until_next_reward",
    "referred_count",
    "rewards_earned",
  ]);
  assert.equal(body.link_opens, 0);
  assert.equal(body.joined_count, 12);
  assert.equal(body.rewards_earned, 2);
  assert.equal(body.referred_count, 12);
  assert.equal(body.balance_cents, 2000);
  assert.equal(body.balance, 20);
  assert.equal(body.referrals_until_next_reward, 3);
  assert.equal(body.pending_cents, 0);
});

test("/history/ JSON: every ledger entry, newest first, with reasons in words and a running balance", async () => {
  const response = await alice.get("/history/");
  assert.equal(response.statusCode, 200);
  const body = response.json() as HistoryJson;
  assert.equal(body.balance_cents, 2000);
  assert.equal(body.next_cursor, null);
  assert.deepEqual(
    body.entries.map((e) => [e.kind, e.amount_cents, e.balance_after_cents, e.reason]),
    [
      ["inviter_reward", 1000, 2000, "Referral reward: 5 more people joined through your link (10 in all)"],
      ["inviter_reward", 1000, 1000, "Referral reward: 5 more people joined through your link (5 in all)"],
    ],
  );
  for (const entry of body.entries) assert.ok(!Number.isNaN(Date.parse(entry.created_at)));

  const friend = new Client(t.app);
  await friend.logIn("friend_03");
  const own = (await friend.get("/history/")).json() as HistoryJson;
  assert.deepEqual(
    own.entries.map((e) => [e.kind, e.amount_cents, e.balance_after_cents, e.reason]),
    [["invitee_bonus", 1000, 1000, "Welcome bonus: you joined through alice's link"]],
  );
});

test("/history/ pages with a cursor: no entry skipped or repeated, running balance consistent", async () => {
  // Staff adjustments (written as the admin console does) make a longer ledger.
  const [row] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`SELECT id FROM users WHERE username = 'alice'`,
  );
  const id = Number(row?.id);
  for (const [amount, reason] of [
    [250, "Goodwill <b>credit</b>"],
    [-100, "Correction"],
    [75, "Survey"],
  ] as const) {
    await t.deps.db.transaction(async (tx) => {
      await tx.execute(
        sql`INSERT INTO ledger_entries (user_id, amount_cents, kind, reason) VALUES (${id}, ${amount}, 'adjustment', ${reason})`,
      );
      await tx.execute(sql`UPDATE users SET balance_cents = balance_cents + ${amount} WHERE id = ${id}`);
    });
  }
  assert.deepEqual(await balanceMismatches(t.deps.db), []);

  const seen: HistoryJson["entries"] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `/history/?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
    const page = (await alice.get(url)).json() as HistoryJson;
    assert.ok(page.entries.length <= 2);
    seen.push(...page.entries);
    cursor = page.next_cursor;
    pages++;
  } while (cursor !== null && pages < 10);
  assert.equal(pages, 3);
  assert.equal(new Set(seen.map((e) => e.id)).size, 5);
  assert.deepEqual(
    seen.map((e) => e.amount_cents),
    [75, -100, 250, 1000, 1000],
  );
  assert.equal(seen[0]?.balance_after_cents, 2225);
  for (let i = 0; i + 1 < seen.length; i++) {
    const [newer, older] = [seen[i], seen[i + 1]] as [HistoryJson["entries"][0], HistoryJson["entries"][0]];
    assert.equal(older.balance_after_cents, newer.balance_after_cents - newer.amount_cents);
  }
  assert.equal(seen[1]?.reason, "Adjustment, credit removed by staff: Correction");

  // The page escapes the reason and shows the running balance.
  const page = await new Client(t.app, "html");
  await page.logIn("alice");
  const htmlPage = (await page.get("/history/")).body;
  assert.match(htmlPage, /Goodwill &lt;b&gt;credit&lt;\/b&gt;/);
  assert.doesNotMatch(htmlPage, /<b>credit<\/b>/);
  assert.match(htmlPage, /\$22\.25/);
  assert.match(htmlPage, /−\$1\.00/);
  assert.match(htmlPage, /Referral reward: 5 more people joined through your link/);

  const firstHtml = (await page.get("/history/?limit=2")).body;
  const older = /href="(\/history\/\?cursor=\d+&amp;limit=2)"/.exec(firstHtml);
  assert.ok(older, "the first page links to older entries");
  const second = await page.get((older[1] as string).replace(/&amp;/g, "&"));
  assert.equal(second.statusCode, 200);
  assert.match(second.body, /Goodwill/);
  assert.match(second.body, /href="\/history\/"/, "an older page links back to the newest");
});

test("/referrals/ JSON: who joined through the link, newest first, in cursor pages", async () => {
  const names: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `/referrals/?limit=5${cursor ? `&cursor=${cursor}` : ""}`;
    const response = await alice.get(url);
    assert.equal(response.statusCode, 200);
    const body = response.json() as {
      referred_count: number;
      referrals: { username: string; joined_at: string }[];
      next_cursor: string | null;
    };
    assert.equal(body.referred_count, 12);
    names.push(...body.referrals.map((r) => r.username));
    cursor = body.next_cursor;
    pages++;
  } while (cursor !== null && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(names, [...inviteeNames].reverse());

  const friend = new Client(t.app);
  await friend.logIn("friend_01");
  const none = (await friend.get("/referrals/")).json();
  assert.deepEqual(none, {
    referred_count: 0,
    held_count: 0,
    rejected_count: 0,
    link_opens: 0,
    joined_count: 0,
    rewards_earned: 0,
    referrals: [],
    next_cursor: null,
  });
});

test("a cursor from someone else's list shows nothing of theirs", async () => {
  const friend = new Client(t.app);
  await friend.logIn("friend_02");
  const alicesFirst = (await alice.get("/referrals/?limit=1")).json().next_cursor as string;
  const theirs = (await friend.get(`/referrals/?cursor=${alicesFirst}`)).json();
  assert.deepEqual(theirs.referrals, []);
  const aliceLedger = (await alice.get("/history/?limit=1")).json() as HistoryJson;
  const leaked = (await friend.get(`/history/?cursor=${aliceLedger.next_cursor}`)).json() as HistoryJson;
  assert.deepEqual(leaked.entries, []);
});

test("bad cursors and limits are a clear 400, in JSON and in HTML", async () => {
  for (const query of [
    "cursor=abc",
    "cursor=-1",
    "cursor=0",
    "cursor=1e3",
    "cursor=99999999999999999999",
    "limit=0",
    "limit=101",
    "limit=x",
    "cursor=1&cursor=2",
  ]) {
    for (const path of ["/history/", "/referrals/"]) {
      const json = await alice.get(`${path}?${query}`);
      assert.equal(json.statusCode, 400, `${path}?${query}`);
      assert.match(json.json().error, /^bad_(cursor|limit|query)$/);
    }
  }
  const page = new Client(t.app, "html");
  await page.logIn("alice");
  const response = await page.get("/history/?cursor=abc");
  assert.equal(response.statusCode, 400);
  assert.match(response.headers["content-type"] as string, /text\/html/);
  assert.match(response.body, /The cursor is not valid\./);
});

test("/history/ and /referrals/ need a login: 401 in JSON, the login page in HTML", async () => {
  for (const path of ["/history/", "/referrals/"]) {
    assert.equal((await new Client(t.app).get(path)).statusCode, 401);
    const html = await new Client(t.app, "html").get(path);
    assert.equal(html.statusCode, 302);
    assert.equal(html.headers.location, `/login/?next=${path}`);
  }
});

test("the dashboard page: copy button, QR code, progress, latest referrals and logout everywhere", async () => {
  const page = new Client(t.app, "html");
  await page.logIn("alice");
  const body = (await page.get("/")).body;
  assert.match(
    body,
    /<button type="button" class="btn btn-primary" id="copy-link" data-copy="referral-link">Copy<\/button>/,
  );
  assert.match(body, /<script src="\/static\/client\/dashboard\.js" defer><\/script>/);
  assert.match(body, /role="status"/);
  // A real QR code (SVG drawn server-side), no external image.
  assert.match(body, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
  assert.doesNotMatch(body, /<img[^>]+src="https?:/);
  assert.match(body, /2 of 5 sign-ups toward your next \$10\.00/);
  assert.match(body, /<progress[^>]*max="5" value="2"/);
  assert.match(body, /12 people have joined through your link/);
  // The five newest referrals, then a link to the rest.
  for (const name of inviteeNames.slice(-5))
    assert.match(body, new RegExp(`<td class="text-break">${name}</td>`));
  assert.doesNotMatch(body, /<td class="text-break">friend_07<\/td>/);
  assert.match(body, /href="\/referrals\/"/);
  assert.match(body, /<form method="post" action="\/logout\/everywhere\/">/);
  assert.doesNotMatch(body, /style=/, "no inline styles: the CSP forbids them");
  assert.doesNotMatch(body, /<script>/, "no inline scripts");
});

test("logging out everywhere from the dashboard's form ends every session of the user", async () => {
  const laptop = new Client(t.app, "html");
  const phone = new Client(t.app);
  await laptop.logIn("friend_05");
  await phone.logIn("friend_05");
  const body = (await laptop.get("/")).body;
  const form =
    /<form method="post" action="(\/logout\/everywhere\/)">\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">/.exec(
      body,
    );
  assert.ok(form, "the dashboard has the form with its CSRF field");
  const response = await laptop.post(form[1] as string, { csrfmiddlewaretoken: form[2] as string });
  assert.equal(response.statusCode, 200);
  assert.match(response.body, /You are logged out/);
  assert.equal((await phone.get("/")).statusCode, 401, "the other device is logged out too");
  assert.equal((await laptop.get("/")).statusCode, 302);
});

test("the compiled password meter and dashboard scripts are served, and the meter runs the server's rules", async () => {
  const meter = await alice.get("/static/client/password-meter.js");
  assert.equal(meter.statusCode, 200);
  assert.match(meter.headers["content-type"] as string, /javascript/);
  assert.match(meter.body, /This password is too common\./, "the server's own messages are bundled");
  const dashboard = await alice.get("/static/client/dashboard.js");
  assert.equal(dashboard.statusCode, 200);
  assert.match(dashboard.body, /clipboard/);
});
