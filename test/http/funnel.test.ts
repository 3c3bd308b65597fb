// The referral funnel: link opens counted once per visitor per link per UTC day (a cookie remembers
// the day's links; the counts wait in memory for the flush), the counts on GET / and /referrals/,
// and opens and conversion in the programme's analytics.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { isoDay, shortDay } from "../../src/format.js";
import { describeLinkFunnel, linkFunnelOf } from "../../src/referrals/funnel.js";
import { LINK_OPENS_COOKIE, MAX_REMEMBERED_LINKS, secondsLeftInDay } from "../../src/referrals/link-opens.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";

const DAY = 86_400_000;
/** Today at noon, UTC: the clock the app reads; tests move it forward across days (sessions written
 * with an earlier clock would have expired already). */
let now = Date.parse(`${isoDay(new Date())}T12:00:00Z`);
const dayOf = (ms: number) => isoDay(new Date(ms));
const today = dayOf(now);
const tomorrow = dayOf(now + DAY);
let t: TestApp;

/** A browser's navigation: what a person's click on a link sends. */
const browser = {
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "sec-fetch-mode": "navigate",
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
};

async function inviter(username: string): Promise<{ client: Client; token: string; id: number }> {
  const client = new Client(t.app);
  const response = await client.signUp(username);
  assert.equal(response.statusCode, 200, response.body);
  const token = tokenOf((await client.dashboard()).referral_link);
  return { client, token, id: await userIdOf(t.deps.db, username) };
}

function open(client: Client, token: string, headers: Record<string, string> = browser) {
  return client.get(`/signup/?ref=${token}`, headers);
}

/** The user's all-time opens and their opens per day, as stored (after a flush). */
async function storedOpens(userId: number): Promise<{ total: number; days: Record<string, number> }> {
  const [user] = await queryRows<{ link_opens: string | number }>(
    t.deps.db,
    sql`SELECT link_opens FROM users WHERE id = ${userId}`,
  );
  const rows = await queryRows<{ day: string; opens: number }>(
    t.deps.db,
    sql`SELECT day, opens FROM link_open_counts WHERE inviter_id = ${userId} ORDER BY day`,
  );
  return {
    total: Number(user?.link_opens ?? 0),
    days: Object.fromEntries(rows.map((r) => [r.day, Number(r.opens)])),
  };
}

async function flushed(userId: number) {
  await t.app.flushLinkOpens();
  return storedOpens(userId);
}

before(async () => {
  t = await createTestApp({}, { clock: () => now });
});
after(async () => t.close());

describe("counting opens", () => {
  test("a visitor counts once per link per day; the next day, another link or another visitor count again", async () => {
    const alice = await inviter("funnel_alice");
    const bob = await inviter("funnel_bob");
    const visitor = new Client(t.app, "html");

    const first = await open(visitor, alice.token);
    assert.equal(first.statusCode, 200);
    const cookie = first.cookies.find((c) => c.name === LINK_OPENS_COOKIE);
    assert.ok(cookie, "the first open sets the cookie");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Lax");
    assert.equal(cookie.path, "/signup");
    assert.equal(cookie.maxAge, secondsLeftInDay(now), "it lives until the end of the UTC day");
    assert.match(cookie.value, new RegExp(`^${today}\\.[A-Za-z0-9_-]{8}$`));
    assert.ok(!cookie.value.includes(alice.token), "the cookie keeps a digest, not the token");

    const again = await open(visitor, alice.token);
    assert.equal(again.statusCode, 200);
    assert.equal(
      again.cookies.find((c) => c.name === LINK_OPENS_COOKIE),
      undefined,
      "a repeat open sets nothing",
    );
    assert.deepEqual(await flushed(alice.id), { total: 1, days: { [today]: 1 } });

    await open(visitor, bob.token);
    assert.match(
      visitor.cookies.get(LINK_OPENS_COOKIE) ?? "",
      new RegExp(`^${today}(\\.[A-Za-z0-9_-]{8}){2}$`),
    );
    assert.deepEqual(await flushed(bob.id), { total: 1, days: { [today]: 1 } });
    assert.equal((await flushed(alice.id)).total, 1, "another link's open is its own");

    await open(new Client(t.app, "html"), alice.token);
    assert.equal((await flushed(alice.id)).total, 2, "a new visitor counts");

    now += DAY;
    await open(visitor, alice.token);
    await open(visitor, alice.token);
    assert.deepEqual(await flushed(alice.id), {
      total: 3,
      days: { [today]: 2, [tomorrow]: 1 },
    });
    assert.match(
      visitor.cookies.get(LINK_OPENS_COOKIE) ?? "",
      new RegExp(`^${tomorrow}\\.[A-Za-z0-9_-]{8}$`),
      "yesterday's links are forgotten",
    );
  });

  test("the app's own client (JSON) counts too, once a day while it keeps its cookies", async () => {
    const carol = await inviter("funnel_carol");
    const app = new Client(t.app);
    const body = (await open(app, carol.token, {})).json();
    assert.deepEqual(body, { referral: { valid: true, inviter: "funnel_carol", reward_cents: 1000 } });
    await open(app, carol.token, {});
    assert.equal((await flushed(carol.id)).total, 1);
  });

  test("an unknown or malformed token, and a deactivated user's link, count nothing", async () => {
    const dora = await inviter("funnel_dora");
    const visitor = new Client(t.app, "html");
    const unknown = await open(visitor, "A".repeat(22));
    assert.equal(unknown.statusCode, 200);
    assert.match(unknown.body, /id="invalid-link"/);
    await open(visitor, "not-a-token");
    assert.equal(visitor.cookies.get(LINK_OPENS_COOKIE), undefined, "no cookie for a link that is no one's");

    await t.deps.db.execute(sql`UPDATE users SET is_active = false WHERE id = ${dora.id}`);
    const closed = await open(visitor, dora.token);
    assert.match(closed.body, /id="invalid-link"/);
    await open(new Client(t.app), dora.token, {});
    assert.deepEqual(await flushed(dora.id), { total: 0, days: {} });
    const [sum] = await queryRows<{ n: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS n FROM link_open_counts WHERE inviter_id = ${dora.id}`,
    );
    assert.equal(sum?.n, 0);
  });

  test("link-preview bots and requests that do not look like a browser's are not counted", async () => {
    const erin = await inviter("funnel_erin");
    const bot = new Client(t.app, "html");
    for (const agent of [
      "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
      "facebookexternalhit/1.1;line-poker/1.0",
      "WhatsApp/2.23.20.0",
      "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
      "TelegramBot (like TwitterBot)",
    ]) {
      const response = await open(bot, erin.token, { ...browser, "user-agent": agent });
      assert.equal(response.statusCode, 200, "the page is still served");
    }
    await open(bot, erin.token, { accept: "*/*", "user-agent": "curl/8.5.0" });
    const head = await t.app.inject({ method: "HEAD", url: `/signup/?ref=${erin.token}`, headers: browser });
    assert.equal(head.statusCode, 200);
    assert.equal(
      head.cookies.find((c) => c.name === LINK_OPENS_COOKIE),
      undefined,
      "a HEAD opens nothing",
    );
    assert.deepEqual(await flushed(erin.id), { total: 0, days: {} });

    // A browser that sends only Sec-Fetch-Mode, or only an Accept with text/html, is a visitor.
    await open(new Client(t.app, "html"), erin.token, { accept: "*/*", "sec-fetch-mode": "navigate" });
    await open(new Client(t.app, "html"), erin.token, { accept: "text/html" });
    assert.equal((await flushed(erin.id)).total, 2);
  });

  test("a logged-in person is told they have an account; the inviter's own opens are not counted", async () => {
    const fay = await inviter("funnel_fay");
    const gus = await inviter("funnel_gus");
    const faysPage = new Client(t.app, "html");
    faysPage.cookies.set("sessionid", fay.client.cookies.get("sessionid") ?? "");

    const own = await open(faysPage, fay.token);
    assert.equal(own.statusCode, 200);
    assert.match(own.body, /id="already-signed-in"/);
    assert.match(own.body, /This is your own invitation link, <strong>funnel_fay<\/strong>/);
    assert.match(own.body, /<a href="\/" class="alert-link">Go to your dashboard<\/a>/);
    assert.match(own.body, /<form method="post"/, "the form stays, for someone else on this computer");
    await open(fay.client, fay.token, {});
    assert.equal((await flushed(fay.id)).total, 0, "the inviter opening their own link is not an open");

    const other = await open(faysPage, gus.token);
    assert.match(
      other.body,
      /You already have an account: you are logged in as <strong>funnel_fay<\/strong>/,
    );
    assert.equal((await flushed(gus.id)).total, 1, "someone else's link opened while logged in counts");

    const plain = await open(new Client(t.app, "html"), gus.token);
    assert.doesNotMatch(plain.body, /already-signed-in/);
  });

  test("the cookie stays bounded however many links a visitor opens", async () => {
    const count = MAX_REMEMBERED_LINKS + 5;
    const tokens: string[] = [];
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const token = `bounded_${String(i).padStart(2, "0")}`.padEnd(22, "x");
      const [row] = await queryRows<{ id: number }>(
        t.deps.db,
        sql`INSERT INTO users (username, username_key, password_hash, referral_token)
            VALUES (${`bounded_${i}`}, ${`bounded_${i}`}, 'x', ${token}) RETURNING id::int AS id`,
      );
      tokens.push(token);
      ids.push(row?.id as number);
    }
    const visitor = new Client(t.app, "html");
    for (const token of tokens) await open(visitor, token);
    const value = visitor.cookies.get(LINK_OPENS_COOKIE) ?? "";
    assert.equal(value.split(".").length, 1 + MAX_REMEMBERED_LINKS, "the day and the latest links");
    assert.ok(value.length <= 10 + MAX_REMEMBERED_LINKS * 9, `${value.length} characters`);

    await open(visitor, tokens[count - 1] as string);
    await open(visitor, tokens[0] as string);
    await t.app.flushLinkOpens();
    assert.equal((await storedOpens(ids[count - 1] as number)).total, 1, "a recent link is remembered");
    assert.equal(
      (await storedOpens(ids[0] as number)).total,
      2,
      "the oldest link was forgotten, so it counts again",
    );

    const forged = new Client(t.app, "html");
    forged.cookies.set(LINK_OPENS_COOKIE, `${"x".repeat(4000)}`);
    assert.equal((await open(forged, tokens[1] as string)).statusCode, 200, "a malformed cookie is ignored");
  });

  test("opens store no address, no agent and no cookie: only counts", async () => {
    const hal = await inviter("funnel_hal");
    const tables = ["address_sightings", "throttle_counters", "signal_counters", "sessions", "known_devices"];
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const table of tables) {
        const [row] = await queryRows<{ n: number }>(
          t.deps.db,
          sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`,
        );
        out[table] = row?.n ?? 0;
      }
      return out;
    };
    const before = await counts();
    const visitor = new Client(t.app, "html", "203.0.113.77");
    await open(visitor, hal.token);
    await t.app.flushLinkOpens();
    assert.deepEqual(await counts(), before, "an open writes no address, session or throttle row");

    const columns = await queryRows<{ column_name: string }>(
      t.deps.db,
      sql`SELECT column_name FROM information_schema.columns
          WHERE table_name = 'link_open_counts' ORDER BY column_name`,
    );
    assert.deepEqual(
      columns.map((c) => c.column_name),
      ["day", "inviter_id", "opens"],
    );
    const dump = JSON.stringify(
      await queryRows(t.deps.db, sql`SELECT * FROM link_open_counts WHERE inviter_id = ${hal.id}`),
    );
    assert.doesNotMatch(dump, /203\.0\.113\.77|Firefox/);
    assert.doesNotMatch(visitor.cookies.get(LINK_OPENS_COOKIE) ?? "", /203|Firefox/);
  });

  test("/metrics counts the opens", async () => {
    const metrics = await t.app.inject({ method: "GET", url: "/metrics" });
    const value = Number(/^referral_link_opens_total (\d+)$/m.exec(metrics.body)?.[1]);
    assert.ok(value > 0, `referral_link_opens_total ${value}`);
  });

  test("a flush that fails keeps its counts for the next one", async () => {
    const ida = await inviter("funnel_ida");
    await open(new Client(t.app, "html"), ida.token);
    await t.deps.db.execute(sql`CREATE FUNCTION refuse_opens() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'link opens are unavailable'; END $$`);
    await t.deps.db.execute(
      sql`CREATE TRIGGER refuse_opens BEFORE INSERT OR UPDATE ON link_open_counts FOR EACH ROW EXECUTE FUNCTION refuse_opens()`,
    );
    try {
      await assert.rejects(t.app.flushLinkOpens());
      assert.equal((await storedOpens(ida.id)).total, 0, "the statement wrote nothing");
    } finally {
      await t.deps.db.execute(sql`DROP TRIGGER refuse_opens ON link_open_counts`);
      await t.deps.db.execute(sql`DROP FUNCTION refuse_opens()`);
    }
    await open(new Client(t.app, "html"), ida.token);
    assert.equal((await flushed(ida.id)).total, 2, "the kept open and the new one, once each");
  });
});

describe("the counts people see", () => {
  test("GET / and /referrals/ carry opens, people joined and rewards earned", async () => {
    const jo = await inviter("funnel_jo");
    for (let i = 0; i < 3; i++) await open(new Client(t.app, "html"), jo.token);
    for (let i = 0; i < 6; i++) {
      const friend = new Client(t.app);
      const response = await friend.signUp(`funnel_jo_friend_${i}`, "correct horse battery", jo.token);
      assert.equal(response.statusCode, 200, response.body);
    }
    await t.app.flushLinkOpens();

    const dashboard = (await jo.client.get("/")).json();
    assert.equal(dashboard.link_opens, 3);
    assert.equal(dashboard.joined_count, 6);
    assert.equal(dashboard.rewards_earned, 1);
    assert.equal(dashboard.referred_count, 6, "the earlier fields are unchanged");
    assert.equal(dashboard.referrals_until_next_reward, 4);

    const referrals = (await jo.client.get("/referrals/")).json();
    assert.equal(referrals.link_opens, 3);
    assert.equal(referrals.joined_count, 6);
    assert.equal(referrals.rewards_earned, 1);

    const funnel = linkFunnelOf({ linkOpens: 3, referredCount: 6 }, t.config.program);
    assert.deepEqual(funnel, { linkOpens: 3, joined: 6, rewardsEarned: 1 });
    assert.equal(describeLinkFunnel(funnel), "3 people opened your link · 6 joined · 1 reward earned");
    assert.equal(
      describeLinkFunnel({ linkOpens: 1, joined: 0, rewardsEarned: 0 }),
      "1 person opened your link · 0 joined · 0 rewards earned",
    );
  });
});

describe("the programme's analytics", () => {
  test("opens, sign-ups through links and conversion per day, in total and per top referrer", async () => {
    const staff = await staffClient(t, "funnel_staff");
    // A week of its own, three weeks ahead: nothing else in these tests happens in it.
    const first = Date.parse(`${dayOf(now + 21 * DAY)}T00:00:00Z`);
    const [d0, d1, d2, d3] = [0, 1, 2, 3].map((k) => dayOf(first + k * DAY)) as [
      string,
      string,
      string,
      string,
    ];
    const period = `/admin/stats/?from=${d0}&to=${dayOf(first + 6 * DAY)}`;
    const kim = await inviter("funnel_kim");
    const lee = await inviter("funnel_lee");
    now = Date.parse(`${d1}T10:00:00Z`);
    for (let i = 0; i < 4; i++) await open(new Client(t.app, "html"), kim.token);
    await open(new Client(t.app, "html"), lee.token);
    now = Date.parse(`${d2}T10:00:00Z`);
    await open(new Client(t.app, "html"), kim.token);
    await t.app.flushLinkOpens();
    // Sign-ups through the links, dated in the period (a sign-up dates itself by the database's clock).
    const invite = async (username: string, inviterName: string, at: string) =>
      t.deps.db.execute(
        sql`INSERT INTO users (username, username_key, password_hash, referral_token, invited_by_id, created_at)
            VALUES (${username}, ${username}, 'x', ${`tok_${username}`.padEnd(22, "y")},
                    (SELECT id FROM users WHERE username = ${inviterName}), ${at}::timestamptz)`,
      );
    await invite("kim_one", "funnel_kim", `${d1}T11:00:00Z`);
    await invite("kim_two", "funnel_kim", `${d1}T12:00:00Z`);
    await invite("lee_one", "funnel_lee", `${d3}T09:00:00Z`);
    // Opens before the period are not counted in it.
    await t.deps.db.execute(
      sql`INSERT INTO link_open_counts (inviter_id, day, opens) VALUES (${kim.id}, ${dayOf(first - 5 * DAY)}, 50)`,
    );

    const stats = (await staff.get(period)).json();
    const day = (d: string) => stats.days.find((x: { day: string }) => x.day === d);
    assert.deepEqual(
      [day(d0), day(d1), day(d2), day(d3)].map((d) => [d.link_opens, d.referred_signups, d.conversion]),
      [
        [0, 0, null],
        [5, 2, 0.4],
        [1, 0, 0],
        [0, 1, null],
      ],
    );
    assert.equal(stats.link_opens, 6);
    assert.equal(stats.referred_signups, 3);
    assert.equal(stats.conversion, 0.5);
    assert.deepEqual(
      stats.top_referrers.map((r: Record<string, unknown>) => [
        r.username,
        r.referred_in_period,
        r.link_opens_in_period,
        r.conversion,
      ]),
      [
        ["funnel_kim", 2, 5, 0.4],
        ["funnel_lee", 1, 1, 1],
      ],
    );

    const page = await staff.get(period, { accept: "text/html" });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /id="link-conversion">50\.0%</);
    assert.match(page.body, /id="opens-table"/);
    assert.match(page.body, /id="opens-chart"/);
    assert.ok(
      page.body.includes(
        `<td>${shortDay(d1)}</td><td class="text-end">5</td><td class="text-end">2</td><td class="text-end">40.0%</td>`,
      ),
      "the day's row: opens, sign-ups, conversion",
    );
    assert.doesNotMatch(page.body, /\sstyle=/i);
  });
});

test("closing the app writes the opens still in memory", async () => {
  const other = await createTestApp({}, { clock: () => now });
  let dropped = false;
  try {
    const mo = new Client(other.app);
    await mo.signUp("funnel_mo");
    const token = tokenOf((await mo.dashboard()).referral_link);
    await new Client(other.app, "html").get(`/signup/?ref=${token}`, browser);
    await other.app.close();
    const [row] = await queryRows<{ link_opens: string | number }>(
      other.deps.db,
      sql`SELECT link_opens FROM users WHERE username = 'funnel_mo'`,
    );
    assert.equal(Number(row?.link_opens), 1);
    await other.database.drop();
    await other.deps.hasher.close();
    dropped = true;
  } finally {
    if (!dropped) await other.close();
  }
});
