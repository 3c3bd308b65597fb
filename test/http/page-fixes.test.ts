// What people see on the pages, while JSON clients keep the earlier version's answers: the sign-up's
// password errors, the login's messages and its throttled page, the menu on error pages, "log out on
// every device", and the referrals and credit history paging both ways.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type { PasswordHasher } from "../../src/accounts/password-hasher.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, cheapHasher, createTestApp, type TestApp, tokenOf } from "../support/app.js";

const password = "correct horse battery";
const djangoInvalidLogin =
  "Please enter a correct username and password. Note that both fields may be case-sensitive.";

/** A cheap hasher that counts the passwords it verified: every login must pay for one. */
function countingHasher(): { hasher: PasswordHasher; verified: () => number } {
  const inner = cheapHasher();
  let verified = 0;
  return {
    hasher: {
      ...inner,
      async verify(hash, candidate) {
        verified++;
        return inner.verify(hash, candidate);
      },
    },
    verified: () => verified,
  };
}

const counting = countingHasher();
let t: TestApp;
before(async () => {
  t = await createTestApp({}, { hasher: counting.hasher });
});
after(async () => t.close());

/** The page's <main>, where what the page says is (the <title> and menu left out). */
function mainOf(body: string): string {
  const start = body.indexOf("<main");
  assert.ok(start >= 0, "the page has a <main>");
  return body.slice(start, body.indexOf("</main>"));
}

/** The text of the error list under a field, tags removed. */
function fieldErrors(body: string, field: string): string[] {
  const match = new RegExp(`id="id_${field}_errors">((?:<div>[^<]*</div>)*)</div>`).exec(body);
  if (!match?.[1]) return [];
  return [...match[1].matchAll(/<div>([\s\S]*?)<\/div>/g)].map((m) => (m[1] ?? "").trim());
}

/** The address of a page link (rel="prev" or rel="next"), unescaped. */
function pageLink(body: string, rel: "prev" | "next"): string | null {
  const match = new RegExp(`href="([^"]+)" rel="${rel}"`).exec(body);
  return match?.[1] ? match[1].replaceAll("&amp;", "&") : null;
}

const tooShort = "This password is too short. It must contain at least 8 characters.";
const tooCommon = "This password is too common.";
const numeric = "This password is entirely numeric.";
const mismatch = "The two password fields didn’t match.";

describe("sign-up: the password's problems", () => {
  test("in HTML every broken rule shows under the Password field", async () => {
    const response = await new Client(t.app, "html").post("/signup/", {
      username: "weak_page",
      password1: "123",
      password2: "123",
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(fieldErrors(response.body, "password1"), [tooShort, tooCommon, numeric]);
    assert.deepEqual(fieldErrors(response.body, "password2"), []);
    assert.match(response.body, /id="id_password1"[^>]*autofocus/);
  });

  test("in HTML the rules are still checked when the passwords differ, and the confirmation says they differ", async () => {
    const response = await new Client(t.app, "html").post("/signup/", {
      username: "weak_mismatch",
      password1: "123",
      password2: "1234",
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(fieldErrors(response.body, "password1"), [tooShort, tooCommon, numeric]);
    assert.deepEqual(fieldErrors(response.body, "password2"), [mismatch]);
  });

  test("in HTML a good password that differs only says so under the confirmation", async () => {
    const response = await new Client(t.app, "html").post("/signup/", {
      username: "good_mismatch",
      password1: password,
      password2: "something else entirely",
    });
    assert.deepEqual(fieldErrors(response.body, "password1"), []);
    assert.deepEqual(fieldErrors(response.body, "password2"), [mismatch]);
  });

  test("JSON keeps Django's answer: the rules under password2, and only once the passwords match", async () => {
    const differ = await new Client(t.app).post("/signup/", {
      username: "weak_json",
      password1: "123",
      password2: "1234",
    });
    assert.equal(differ.statusCode, 400);
    assert.deepEqual(differ.json(), { password2: [mismatch] });
    const weak = await new Client(t.app).post("/signup/", {
      username: "weak_json",
      password1: "123",
      password2: "123",
    });
    assert.deepEqual(weak.json(), { password2: [tooShort, tooCommon, numeric] });
  });
});

describe("login messages", () => {
  before(async () => {
    await new Client(t.app).signUp("Case_User");
    await new Client(t.app).signUp("gone_user");
    await t.deps.db.execute(sql`UPDATE users SET is_active = false WHERE username = 'gone_user'`);
  });

  test("the page does not claim usernames are case-sensitive; JSON keeps Django's words", async () => {
    const page = await new Client(t.app, "html").logIn("case_user", "wrong password");
    assert.equal(page.statusCode, 400);
    assert.doesNotMatch(page.body, /both fields may be case-sensitive/);
    assert.match(
      mainOf(page.body),
      /Please enter a correct username and password\. Note that the password is case-sensitive\./,
    );
    const json = await new Client(t.app).logIn("case_user", "wrong password");
    assert.deepEqual(json.json(), { __all__: [djangoInvalidLogin] });
  });

  test("a deactivated account says so after the right password, in both modes", async () => {
    const json = await new Client(t.app).logIn("gone_user");
    assert.equal(json.statusCode, 400);
    assert.deepEqual(json.json(), { __all__: ["This account is inactive."] });
    assert.equal(
      json.cookies.find((c) => c.name === "sessionid"),
      undefined,
    );
    const page = await new Client(t.app, "html").logIn("GONE_USER");
    assert.equal(page.statusCode, 400);
    assert.match(mainOf(page.body), /This account is inactive\./);
  });

  test("a wrong password for a deactivated account gets the usual message, and every case verifies a hash", async () => {
    const before = counting.verified();
    const wrong = await new Client(t.app).logIn("gone_user", "wrong password");
    assert.deepEqual(wrong.json(), { __all__: [djangoInvalidLogin] });
    const page = await new Client(t.app, "html").logIn("gone_user", "wrong password");
    assert.doesNotMatch(page.body, /inactive/);
    await new Client(t.app).logIn("nobody_at_all", "wrong password");
    await new Client(t.app).logIn("gone_user");
    assert.equal(counting.verified() - before, 4, "one hash verified per attempt, whoever it names");
  });
});

describe("error pages show who is logged in", () => {
  let member: Client;
  before(async () => {
    member = new Client(t.app, "html");
    await member.signUp("menu_member");
  });

  function assertLoggedInMenu(body: string, label: string) {
    const nav = body.slice(body.indexOf("<nav"), body.indexOf("</nav>"));
    assert.match(nav, /Log out/, label);
    assert.match(nav, /href="\/history\/"/, label);
    assert.doesNotMatch(nav, /href="\/login\/"/, label);
    assert.doesNotMatch(nav, /href="\/signup\/"/, label);
    assert.match(
      nav,
      new RegExp(`value="${member.csrfToken}"`),
      `${label}: the Log out form carries the token`,
    );
  }

  test("a 404 for an unknown address (outside every route) has the logged-in menu", async () => {
    const response = await member.get("/no-such-page/");
    assert.equal(response.statusCode, 404);
    assertLoggedInMenu(response.body, "404");
    const nested = await member.get("/admin/no-such-page/");
    assert.equal(nested.statusCode, 404);
    assertLoggedInMenu(nested.body, "404 under /admin/");
  });

  test("a 403 (not staff, or a refused CSRF token) has the logged-in menu", async () => {
    const forbidden = await member.get("/admin/");
    assert.equal(forbidden.statusCode, 403);
    assertLoggedInMenu(forbidden.body, "403");
    const csrf = await member.post("/logout/everywhere/", {}, { "x-csrftoken": "wrong" });
    assert.equal(csrf.statusCode, 403);
    assertLoggedInMenu(csrf.body, "403 csrf");
  });

  test("without a session, or in JSON mode, nothing changes", async () => {
    const anonymous = await new Client(t.app, "html").get("/no-such-page/");
    assert.equal(anonymous.statusCode, 404);
    assert.match(anonymous.body, /href="\/login\/"/);
    const json = await new Client(t.app).get("/no-such-page/");
    assert.deepEqual(json.json(), { error: "not_found", message: "There is nothing at this address." });
  });

  test("a stale session cookie on a 404 gives the logged-out menu", async () => {
    const response = await t.app.inject({
      method: "GET",
      url: "/no-such-page/",
      headers: { cookie: `sessionid=${"A".repeat(43)}` },
    });
    assert.equal(response.statusCode, 404);
    assert.match(response.body, /href="\/login\/"/);
  });
});

describe("logout on every device", () => {
  test("the page says how many sessions ended", async () => {
    const here = new Client(t.app, "html");
    await here.signUp("many_devices");
    for (let i = 0; i < 2; i++) await new Client(t.app).logIn("many_devices");
    const response = await here.post("/logout/everywhere/");
    assert.equal(response.statusCode, 200);
    assert.match(mainOf(response.body), /You were logged out of\s+3 sessions/);
    const json = new Client(t.app);
    await json.logIn("many_devices");
    assert.deepEqual((await json.post("/logout/everywhere/")).json(), { sessions_ended: 1 });
  });
});

describe("referrals and credit history", () => {
  let inviter: Client;
  before(async () => {
    inviter = new Client(t.app, "html");
    await inviter.signUp("pager");
    const token = tokenOf((await inviter.dashboard()).referral_link);
    for (let i = 1; i <= 5; i++) await new Client(t.app).signUp(`pager_friend_${i}`, password, token);
  });

  test("the menu links to the referrals page", async () => {
    const page = await inviter.get("/history/");
    const nav = page.body.slice(page.body.indexOf("<nav"), page.body.indexOf("</nav>"));
    assert.match(nav, /<a class="nav-link" href="\/referrals\/">Referrals<\/a>/);
  });

  test("a newcomer's empty referrals page says how to invite, with a link to the dashboard", async () => {
    const fresh = new Client(t.app, "html");
    await fresh.signUp("no_friends_yet");
    const page = await fresh.get("/referrals/");
    assert.equal(page.statusCode, 200);
    const main = mainOf(page.body);
    assert.match(main, /Nobody has joined through your link yet\./);
    assert.match(main, /Share your referral link/);
    assert.match(main, /<a class="btn btn-primary" href="\/#referral-link">/);
  });

  test("/referrals/ pages back as well as on", async () => {
    const names = (body: string) =>
      [...body.matchAll(/<td class="text-break">(pager_friend_\d)<\/td>/g)].map((m) => m[1]);
    const first = await inviter.get("/referrals/?limit=2");
    assert.deepEqual(names(first.body), ["pager_friend_5", "pager_friend_4"]);
    assert.equal(pageLink(first.body, "prev"), null, "nothing is newer than the first page");
    const olderUrl = pageLink(first.body, "next");
    assert.ok(olderUrl);
    const second = await inviter.get(olderUrl);
    assert.deepEqual(names(second.body), ["pager_friend_3", "pager_friend_2"]);
    const newerUrl = pageLink(second.body, "prev");
    assert.ok(newerUrl, "a Newer link back");
    assert.match(newerUrl, /^\/referrals\/\?before=\d+&limit=2$/);
    assert.match(second.body, />Newer sign-ups</);
    const back = await inviter.get(newerUrl);
    assert.deepEqual(names(back.body), ["pager_friend_5", "pager_friend_4"]);
    assert.equal(pageLink(back.body, "prev"), null);
    assert.equal(pageLink(back.body, "next"), olderUrl);
    const third = await inviter.get(pageLink(second.body, "next") ?? "");
    assert.deepEqual(names(third.body), ["pager_friend_1"]);
    const thirdBack = await inviter.get(pageLink(third.body, "prev") ?? "");
    assert.deepEqual(names(thirdBack.body), ["pager_friend_3", "pager_friend_2"]);
    assert.ok(pageLink(thirdBack.body, "prev"), "and newer again from there");
  });

  test("JSON takes ?before= too; a cursor and ?before= together are a bad cursor", async () => {
    const json = new Client(t.app);
    await json.logIn("pager");
    const friend4 = await userIdOf(t.deps.db, "pager_friend_4");
    const second = (await json.get(`/referrals/?limit=2&cursor=${friend4}`)).json();
    assert.deepEqual(
      second.referrals.map((r: { username: string }) => r.username),
      ["pager_friend_3", "pager_friend_2"],
    );
    const friend3 = await userIdOf(t.deps.db, "pager_friend_3");
    const newer = (await json.get(`/referrals/?limit=2&before=${friend3}`)).json();
    assert.deepEqual(
      newer.referrals.map((r: { username: string }) => r.username),
      ["pager_friend_5", "pager_friend_4"],
    );
    const both = await json.get(`/referrals/?limit=2&before=${friend3}&cursor=${friend3}`);
    assert.equal(both.statusCode, 400);
    assert.equal(both.json().error, "bad_cursor");
    assert.equal((await json.get("/referrals/?before=!")).json().error, "bad_cursor");
  });

  test("/history/ pages back as well as on", async () => {
    const staff = await staffClient(t, "history_staff");
    const id = await userIdOf(t.deps.db, "pager");
    for (let i = 1; i <= 4; i++) {
      await staff.post(`/admin/users/${id}/adjust/`, {
        direction: "add",
        amount: String(i),
        reason: `Gift ${i}`,
      });
    }
    const gifts = (body: string) => [...body.matchAll(/credit added by staff: (Gift \d)/g)].map((m) => m[1]);
    const first = await inviter.get("/history/?limit=2");
    assert.deepEqual(gifts(first.body), ["Gift 4", "Gift 3"]);
    assert.equal(pageLink(first.body, "prev"), null);
    const second = await inviter.get(pageLink(first.body, "next") ?? "");
    assert.deepEqual(gifts(second.body), ["Gift 2", "Gift 1"]);
    const newer = pageLink(second.body, "prev");
    assert.match(newer ?? "", /^\/history\/\?before=\d+&limit=2$/);
    assert.deepEqual(gifts((await inviter.get(newer ?? "")).body), ["Gift 4", "Gift 3"]);
  });
});

describe("throttled login page", () => {
  let throttled: TestApp;
  // 12:03 UTC: the 15-minute window ends at 12:15, 720 seconds later.
  const now = Date.UTC(2026, 0, 1, 12, 3, 0);
  before(async () => {
    throttled = await createTestApp(
      { LOGIN_FAILURES_PER_WINDOW: "2", THROTTLE_WINDOW_SECONDS: "900" },
      { clock: () => now },
    );
    await new Client(throttled.app).signUp("locked_out");
    for (let i = 0; i < 2; i++) await new Client(throttled.app).logIn("locked_out", "wrong password");
  });
  after(async () => throttled.close());

  test("keeps the form and the name, and says once when to try again", async () => {
    const response = await new Client(throttled.app, "html").logIn("locked_out");
    assert.equal(response.statusCode, 429);
    assert.equal(response.headers["retry-after"], "720");
    const main = mainOf(response.body);
    assert.match(main, /Too many failed attempts\. Try again in\s+12 minutes\./);
    assert.equal(main.match(/Too many/g)?.length, 1, "said once");
    assert.match(main, /<form method="post" action="\/login\/"/);
    assert.match(main, /id="id_username"[^>]*value="locked_out"/);
  });

  test("JSON is unchanged", async () => {
    const response = await new Client(throttled.app).logIn("locked_out");
    assert.equal(response.statusCode, 429);
    assert.deepEqual(response.json(), {
      error: "too_many_requests",
      message: "Too many attempts. Try again in 720 seconds.",
    });
  });
});

describe("other 429 pages", () => {
  let limited: TestApp;
  before(async () => {
    limited = await createTestApp({ SIGNUPS_PER_WINDOW: "1" });
  });
  after(async () => limited.close());

  test("a throttled sign-up's page says it once, with the menu of whoever is logged in", async () => {
    const browser = new Client(limited.app, "html");
    assert.equal((await browser.signUp("first_of_many")).statusCode, 302);
    const response = await browser.signUp("second_of_many");
    assert.equal(response.statusCode, 429);
    const main = mainOf(response.body);
    assert.equal(main.match(/Too many attempts/g)?.length, 1, "said once");
    assert.match(main, /Try again in \d+ (minutes?|seconds?)\./);
    const nav = response.body.slice(response.body.indexOf("<nav"), response.body.indexOf("</nav>"));
    assert.match(nav, /Log out/);
  });
});
