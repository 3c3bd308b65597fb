// The admin console over HTTP: who may see it, every action it offers, and what each one writes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { auditRows, parseCsv, staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import { onPostgres } from "../support/database.js";
import { balanceMismatches, ledgerOf } from "../support/ledger.js";

let t: TestApp;
let staff: Client;
let member: Client;
let memberId: number;

before(async () => {
  t = await createTestApp();
  staff = await staffClient(t, "admin_boss");
  member = new Client(t.app);
  await member.signUp("plain_member");
  memberId = await userIdOf(t.deps.db, "plain_member");
});
after(async () => t.close());

async function ledgerCount(): Promise<number> {
  const rows = await queryRows<{ n: number }>(t.deps.db, sql`SELECT count(*)::int AS n FROM ledger_entries`);
  return rows[0]?.n ?? 0;
}

function routes(id: number): { get: string[]; post: { url: string; form: Record<string, string> }[] } {
  return {
    get: [
      "/admin/",
      "/admin/users/",
      `/admin/users/${id}/`,
      "/admin/stats/",
      "/admin/export/users.csv",
      "/admin/export/ledger.csv",
    ],
    post: [
      { url: `/admin/users/${id}/adjust/`, form: { direction: "add", amount: "5", reason: "no" } },
      { url: `/admin/users/${id}/deactivate/`, form: {} },
      { url: `/admin/users/${id}/reactivate/`, form: {} },
    ],
  };
}

describe("who may use /admin/", () => {
  test("anonymous people are sent to the login page (HTML) or get 401 (JSON), for every page and action", async () => {
    const before = { audit: (await auditRows(t.deps.db)).length, ledger: await ledgerCount() };
    const { get, post } = routes(memberId);
    const browser = new Client(t.app, "html");
    for (const url of get) {
      const page = await browser.get(url);
      assert.equal(page.statusCode, 302, url);
      assert.equal(page.headers.location, `/login/?next=${url}`, url);
      assert.equal((await new Client(t.app).get(url)).statusCode, 401, url);
    }
    for (const { url, form } of post) {
      const page = await browser.post(url, form);
      assert.equal(page.statusCode, 302, url);
      assert.match(String(page.headers.location), /^\/login\/\?next=\/admin\/users\//);
      const api = await new Client(t.app).post(url, form);
      assert.equal(api.statusCode, 401, url);
      assert.deepEqual(api.json(), { error: "unauthorized" });
    }
    assert.equal((await auditRows(t.deps.db)).length, before.audit);
    assert.equal(await ledgerCount(), before.ledger);
  });

  test("logged-in people who are not staff get 403 for every page and action, and nothing changes", async () => {
    const before = { audit: (await auditRows(t.deps.db)).length, ledger: await ledgerCount() };
    const outsider = new Client(t.app, "html");
    await outsider.signUp("not_staff_html");
    const outsiderJson = new Client(t.app);
    await outsiderJson.signUp("not_staff_json");
    const { get, post } = routes(memberId);
    for (const url of get) {
      const page = await outsider.get(url);
      assert.equal(page.statusCode, 403, url);
      assert.match(page.body, /You do not have permission to see this page\./);
      const api = await outsiderJson.get(url);
      assert.equal(api.statusCode, 403, url);
      assert.equal(api.json().error, "forbidden");
    }
    for (const { url, form } of post) {
      assert.equal((await outsider.post(url, form)).statusCode, 403, url);
      assert.equal((await outsiderJson.post(url, form)).statusCode, 403, url);
    }
    assert.equal((await auditRows(t.deps.db)).length, before.audit + 0);
    assert.equal(await ledgerCount(), before.ledger);
    assert.equal((await member.dashboard()).balance_cents, 0, "the member is still logged in and unchanged");
  });

  test("staff can open every page", async () => {
    const browser = await staffClient(t, "staff_browser", "html");
    for (const url of routes(memberId).get) {
      const page = await browser.get(url);
      assert.equal(page.statusCode, 200, url);
    }
  });

  test("the navigation shows the Admin link to staff only", async () => {
    const browser = await staffClient(t, "staff_nav", "html");
    assert.match((await browser.get("/")).body, /href="\/admin\/"/);
    const other = new Client(t.app, "html");
    await other.signUp("nav_member");
    assert.doesNotMatch((await other.get("/")).body, /href="\/admin\/"/);
  });

  test("taking staff away takes effect on the next request, without logging out", async () => {
    const formerStaff = await staffClient(t, "former_staff");
    assert.equal((await formerStaff.get("/admin/users/")).statusCode, 200);
    await t.deps.db.execute(sql`UPDATE users SET is_staff = false WHERE username = 'former_staff'`);
    assert.equal((await formerStaff.get("/admin/users/")).statusCode, 403);
  });

  test("an unknown or malformed user id is 404", async () => {
    assert.equal((await staff.get("/admin/users/999999/")).statusCode, 404);
    assert.equal((await staff.get("/admin/users/abc/")).statusCode, 404);
    assert.equal((await staff.get("/admin/users/1e3/")).statusCode, 404);
    const adjust = await staff.post("/admin/users/999999/adjust/", {
      direction: "add",
      amount: "1",
      reason: "x",
    });
    assert.equal(adjust.statusCode, 404);
    assert.equal((await staff.post("/admin/users/999999/deactivate/")).statusCode, 404);
  });
});

describe("CSRF on admin actions", () => {
  test("an action without the token is refused with 403 and writes nothing", async () => {
    const before = { audit: (await auditRows(t.deps.db)).length, ledger: await ledgerCount() };
    for (const { url, form } of routes(memberId).post) {
      const missing = await staff.post(url, form, { "x-csrftoken": "" });
      assert.equal(missing.statusCode, 403, url);
      assert.equal(missing.json().error, "csrf_failed");
      const wrong = await staff.post(url, form, { "x-csrftoken": "A".repeat(43) });
      assert.equal(wrong.statusCode, 403, url);
      const otherSite = await staff.post(url, form, { origin: "https://evil.example" });
      assert.equal(otherSite.statusCode, 403, url);
    }
    assert.equal((await auditRows(t.deps.db)).length, before.audit);
    assert.equal(await ledgerCount(), before.ledger);
    const me = await staff.get(`/admin/users/${memberId}/`);
    assert.equal(me.json().user.is_active, true);
  });

  test("the forms on the user page carry the token", async () => {
    const browser = await staffClient(t, "staff_forms", "html");
    const page = await browser.get(`/admin/users/${memberId}/`);
    const forms = page.body.match(/<form method="post"[\s\S]*?<\/form>/g) ?? [];
    assert.ok(forms.length >= 2);
    for (const form of forms) {
      assert.ok(form.includes(`name="csrfmiddlewaretoken" value="${browser.csrfToken}"`), form.slice(0, 120));
    }
  });
});

describe("balance adjustments", () => {
  test("adding credit writes a ledger entry of its own, moves the balance, and audits who, what and when", async () => {
    const person = new Client(t.app);
    await person.signUp("credit_me");
    const id = await userIdOf(t.deps.db, "credit_me");
    const started = Date.now();
    const response = await staff.post(`/admin/users/${id}/adjust/`, {
      direction: "add",
      amount: "12.50",
      reason: "Goodwill for the outage",
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().balance_cents, 1250);
    assert.equal((await person.dashboard()).balance_cents, 1250);

    const ledger = await ledgerOf(t.deps.db, "credit_me");
    assert.deepEqual(ledger, [
      { kind: "adjustment", amountCents: 1250, signupUsername: null, referralCount: null },
    ]);
    const entries = await queryRows<{ reason: string; created_by: string }>(
      t.deps.db,
      sql`SELECT l.reason, c.username AS created_by FROM ledger_entries l JOIN users c ON c.id = l.created_by_id
          WHERE l.user_id = ${id}`,
    );
    assert.deepEqual(entries, [{ reason: "Goodwill for the outage", created_by: "admin_boss" }]);

    const audit = (await auditRows(t.deps.db)).filter((a) => a.target === "credit_me");
    assert.equal(audit.length, 1);
    const row = audit[0];
    assert.ok(row);
    assert.equal(row.actor, "admin_boss");
    assert.equal(row.action, "balance_adjusted");
    assert.equal(row.details.amount_cents, 1250);
    assert.equal(row.details.reason, "Goodwill for the outage");
    assert.equal(row.details.balance_after_cents, 1250);
    assert.ok(row.createdAt.getTime() >= started - 5000 && row.createdAt.getTime() <= Date.now() + 5000);
    assert.deepEqual(await balanceMismatches(t.deps.db), []);
  });

  test("removing credit adds a negative entry and never edits the earlier ones", async () => {
    const inviter = new Client(t.app);
    await inviter.signUp("remove_inviter");
    const token = tokenOf((await inviter.dashboard()).referral_link);
    await new Client(t.app).signUp("remove_me", "correct horse battery", token);
    const id = await userIdOf(t.deps.db, "remove_me");
    const before = await ledgerOf(t.deps.db, "remove_me");
    const response = await staff.post(`/admin/users/${id}/adjust/`, {
      direction: "remove",
      amount: "4",
      reason: "Duplicate account bonus",
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().balance_cents, 600);
    const after = await ledgerOf(t.deps.db, "remove_me");
    assert.deepEqual(after.slice(0, before.length), before);
    assert.deepEqual(after.at(-1), {
      kind: "adjustment",
      amountCents: -400,
      signupUsername: null,
      referralCount: null,
    });
    assert.deepEqual(await balanceMismatches(t.deps.db), []);
  });

  test("a removal larger than the balance is refused with a clear message and writes nothing", async () => {
    const person = new Client(t.app);
    await person.signUp("poor_person");
    const id = await userIdOf(t.deps.db, "poor_person");
    await staff.post(`/admin/users/${id}/adjust/`, { direction: "add", amount: "3", reason: "start" });
    const browser = await staffClient(t, "staff_refused", "html");
    const audits = (await auditRows(t.deps.db)).length;
    const ledger = await ledgerCount();

    const api = await staff.post(`/admin/users/${id}/adjust/`, {
      direction: "remove",
      amount: "3.01",
      reason: "too much",
    });
    assert.equal(api.statusCode, 400);
    assert.deepEqual(api.json(), {
      amount: ["Cannot remove $3.01: the balance is only $3.00, and it can never go below zero."],
    });

    const page = await browser.post(`/admin/users/${id}/adjust/`, {
      direction: "remove",
      amount: "50",
      reason: "too much <b>again</b>",
    });
    assert.equal(page.statusCode, 400);
    assert.match(
      page.body,
      /Cannot remove \$50\.00: the balance is only \$3\.00, and it can never go below zero\./,
    );
    assert.match(
      page.body,
      /too much &lt;b&gt;again&lt;\/b&gt;<\/textarea>/,
      "the form keeps what was typed, escaped",
    );

    assert.equal((await person.dashboard()).balance_cents, 300);
    assert.equal(await ledgerCount(), ledger);
    assert.equal((await auditRows(t.deps.db)).length, audits);

    const exact = await staff.post(`/admin/users/${id}/adjust/`, {
      direction: "remove",
      amount: "3",
      reason: "all of it",
    });
    assert.equal(exact.statusCode, 200);
    assert.equal(exact.json().balance_cents, 0);
  });

  test(`concurrent removals never take the balance below zero (${onPostgres ? "PostgreSQL" : "PGlite"})`, async () => {
    const person = new Client(t.app);
    await person.signUp("contested");
    const id = await userIdOf(t.deps.db, "contested");
    await staff.post(`/admin/users/${id}/adjust/`, { direction: "add", amount: "10", reason: "start" });
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        staff.post(`/admin/users/${id}/adjust/`, { direction: "remove", amount: "3", reason: `race ${i}` }),
      ),
    );
    const codes = responses.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [200, 200, 200, 400, 400, 400]);
    assert.equal((await person.dashboard()).balance_cents, 100);
    assert.deepEqual(await balanceMismatches(t.deps.db), []);
  });

  test("the form is checked: direction, a positive amount in dollars, and a reason", async () => {
    const cases: [Record<string, string>, Record<string, string[]>][] = [
      [{ direction: "add", amount: "5" }, { reason: ["This field is required."] }],
      [{ direction: "add", amount: "5", reason: "   " }, { reason: ["This field is required."] }],
      [{ direction: "add", reason: "x" }, { amount: ["This field is required."] }],
      [
        { direction: "add", amount: "abc", reason: "x" },
        { amount: ["Enter an amount in dollars, such as 10 or 12.50."] },
      ],
      [
        { direction: "add", amount: "-5", reason: "x" },
        { amount: ["Enter an amount in dollars, such as 10 or 12.50."] },
      ],
      [
        { direction: "add", amount: "1.234", reason: "x" },
        { amount: ["Enter an amount in dollars, such as 10 or 12.50."] },
      ],
      [{ direction: "add", amount: "0", reason: "x" }, { amount: ["The amount must be more than $0.00."] }],
      [
        { direction: "add", amount: "1000000.01", reason: "x" },
        { amount: ["One adjustment can move at most $1,000,000.00."] },
      ],
      [{ direction: "steal", amount: "1", reason: "x" }, { direction: ['Choose "add" or "remove".'] }],
      [
        { direction: "add", amount: "1", reason: "r".repeat(501) },
        { reason: ["Ensure this value has at most 500 characters (it has 501)."] },
      ],
    ];
    const ledger = await ledgerCount();
    for (const [form, errors] of cases) {
      const response = await staff.post(`/admin/users/${memberId}/adjust/`, form);
      assert.equal(response.statusCode, 400, JSON.stringify(form));
      assert.deepEqual(response.json(), errors, JSON.stringify(form));
    }
    assert.equal(await ledgerCount(), ledger);
  });

  test("in HTML mode a successful adjustment redirects to the user page, which shows it with its reason", async () => {
    const person = new Client(t.app);
    await person.signUp("html_credit");
    const id = await userIdOf(t.deps.db, "html_credit");
    const browser = await staffClient(t, "staff_html_adjust", "html");
    const response = await browser.post(`/admin/users/${id}/adjust/`, {
      direction: "add",
      amount: "7.25",
      reason: "Prize <script>alert(1)</script>",
    });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, `/admin/users/${id}/?notice=adjusted`);
    const page = await browser.get(String(response.headers.location));
    assert.match(page.body, /The adjustment was recorded\./);
    const odd = await browser.get(`/admin/users/${id}/?notice=toString`);
    assert.equal(odd.statusCode, 200);
    assert.doesNotMatch(odd.body, /role="status"/, "only known notices are shown");
    assert.match(page.body, /id="balance">\$7\.25</);
    assert.match(page.body, /Prize &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(page.body, /<script>alert/);
  });
});

describe("deactivation", () => {
  test("a deactivated user is logged out everywhere, cannot log in, and their link stops paying; reactivation undoes it", async () => {
    const inviter = new Client(t.app);
    await inviter.signUp("soon_inactive");
    const otherDevice = new Client(t.app);
    await otherDevice.logIn("soon_inactive");
    const token = tokenOf((await inviter.dashboard()).referral_link);
    await new Client(t.app).signUp("before_deactivation", "correct horse battery", token);
    const id = await userIdOf(t.deps.db, "soon_inactive");

    const response = await staff.post(`/admin/users/${id}/deactivate/`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { is_active: false, changed: true, sessions_ended: 2 });
    const sessions = await queryRows<{ n: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS n FROM sessions WHERE user_id = ${id}`,
    );
    assert.equal(sessions[0]?.n, 0);
    assert.equal((await inviter.get("/")).statusCode, 401);
    assert.equal((await otherDevice.get("/")).statusCode, 401);
    const login = await new Client(t.app).logIn("soon_inactive");
    assert.equal(login.statusCode, 400);

    // The link no longer pays: the newcomer gets nothing and is not counted.
    const page = await new Client(t.app, "html").get(`/signup/?ref=${token}`);
    assert.doesNotMatch(page.body, /soon_inactive/);
    const late = new Client(t.app);
    await late.signUp("after_deactivation", "correct horse battery", token);
    assert.equal((await late.dashboard()).balance_cents, 0);
    const detail = (await staff.get(`/admin/users/${id}/`)).json();
    assert.equal(detail.user.referred_count, 1);
    assert.equal(detail.user.is_active, false);

    const audit = (await auditRows(t.deps.db)).filter((a) => a.target === "soon_inactive");
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action, a.details]),
      [["admin_boss", "user_deactivated", { sessions_ended: 2 }]],
    );

    const again = await staff.post(`/admin/users/${id}/reactivate/`);
    assert.deepEqual(again.json(), { is_active: true, changed: true, sessions_ended: 0 });
    assert.equal((await new Client(t.app).logIn("soon_inactive")).statusCode, 200);
    const paid = new Client(t.app);
    await paid.signUp("after_reactivation", "correct horse battery", token);
    assert.equal((await paid.dashboard()).balance_cents, 1000);
    const actions = (await auditRows(t.deps.db))
      .filter((a) => a.target === "soon_inactive")
      .map((a) => a.action);
    assert.deepEqual(actions, ["user_deactivated", "user_reactivated"]);
  });

  test("deactivating twice changes nothing and audits nothing the second time", async () => {
    await new Client(t.app).signUp("twice_inactive");
    const id = await userIdOf(t.deps.db, "twice_inactive");
    await staff.post(`/admin/users/${id}/deactivate/`);
    const second = await staff.post(`/admin/users/${id}/deactivate/`);
    assert.deepEqual(second.json(), { is_active: false, changed: false, sessions_ended: 0 });
    const actions = (await auditRows(t.deps.db)).filter((a) => a.target === "twice_inactive");
    assert.equal(actions.length, 1);
  });

  test("staff cannot deactivate themselves", async () => {
    const self = await staffClient(t, "self_deactivator", "html");
    const id = await userIdOf(t.deps.db, "self_deactivator");
    const response = await self.post(`/admin/users/${id}/deactivate/`, { confirm: "yes" });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /You cannot deactivate yourself/);
    assert.equal((await self.get("/admin/")).statusCode, 200);
  });

  test("in HTML mode deactivation redirects back with a notice", async () => {
    await new Client(t.app).signUp("html_inactive");
    const id = await userIdOf(t.deps.db, "html_inactive");
    const browser = await staffClient(t, "staff_html_deactivate", "html");
    const response = await browser.post(`/admin/users/${id}/deactivate/`, { confirm: "yes" });
    assert.equal(response.statusCode, 303);
    const page = await browser.get(String(response.headers.location));
    assert.match(page.body, /The user was deactivated and their sessions ended\./);
    assert.match(page.body, /Reactivate<\/button>/);
  });
});

describe("the users list", () => {
  let list: TestApp;
  let listStaff: Client;
  before(async () => {
    list = await createTestApp();
    listStaff = await staffClient(list, "zz_staff");
    const inviter = new Client(list.app);
    await inviter.signUp("Mallory");
    const token = tokenOf((await inviter.dashboard()).referral_link);
    for (const name of ["mal_one", "mal_two", "bob", "MAL%X"]) {
      await new Client(list.app).signUp(name.replace("%", "_"), "correct horse battery", token);
    }
    await new Client(list.app).signUp("m_l_literal");
  });
  after(async () => list.close());

  const names = async (url: string) =>
    ((await listStaff.get(url)).json().users as { username: string }[]).map((u) => u.username);

  test("search matches the start of usernames, ignoring case", async () => {
    assert.deepEqual(
      (await names("/admin/users/?q=MAL&sort=username")).sort(),
      ["MAL_X", "mal_one", "mal_two", "Mallory"].sort(),
    );
    assert.deepEqual(await names("/admin/users/?q=bo"), ["bob"]);
    assert.deepEqual(await names("/admin/users/?q=nobody"), []);
  });

  test("LIKE wildcards typed in the search box match literally", async () => {
    assert.deepEqual(await names("/admin/users/?q=m_l"), ["m_l_literal"]);
    assert.deepEqual(await names("/admin/users/?q=%25"), []);
  });

  test("every sortable column sorts both ways, and an unknown column falls back to the join date", async () => {
    const byUsername = await names("/admin/users/?sort=username&dir=asc");
    assert.deepEqual(
      byUsername,
      [...byUsername].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    );
    const referred = (await listStaff.get("/admin/users/?sort=referred&dir=desc")).json().users;
    assert.equal(referred[0].username, "Mallory");
    assert.equal(referred[0].referred_count, 4);
    const balanceAsc = (await listStaff.get("/admin/users/?sort=balance&dir=asc")).json().users;
    const balances = balanceAsc.map((u: { balance_cents: number }) => u.balance_cents);
    assert.deepEqual(
      balances,
      [...balances].sort((a, b) => a - b),
    );
    const joined = await names("/admin/users/?sort=joined&dir=desc");
    assert.equal(joined[0], "m_l_literal");
    for (const hostile of [
      "password_hash",
      "balance_cents;DROP TABLE users",
      "id desc, (select 1)",
      "toString",
      "__proto__",
    ]) {
      const response = await listStaff.get(`/admin/users/?sort=${encodeURIComponent(hostile)}&dir=sideways`);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(
        response.json().users.map((u: { username: string }) => u.username),
        joined,
      );
    }
  });

  test("each row names who invited the user, and the HTML list links to the user pages", async () => {
    const rows = (await listStaff.get("/admin/users/?q=mal_one")).json().users;
    assert.equal(rows[0].invited_by, "Mallory");
    assert.equal(rows[0].balance_cents, 1000);
    const html = await listStaff.get("/admin/users/?q=mal", { accept: "text/html" });
    assert.match(html.body, /<a href="\/admin\/users\/\d+\/">mal_one<\/a>/);
    assert.match(html.body, /aria-sort="descending"/);
  });

  test("the list pages by 50", async () => {
    const values = Array.from(
      { length: 60 },
      (_, i) => sql`(${`bulk_${i}`}, ${`bulk_${i}`}, 'x', ${`bulk-token-${i}`})`,
    );
    await list.deps.db.execute(
      sql`INSERT INTO users (username, username_key, password_hash, referral_token) VALUES ${sql.join(values, sql`, `)}`,
    );
    const first = (await listStaff.get("/admin/users/?q=bulk_&sort=username")).json();
    assert.deepEqual(Object.keys(first).sort(), ["next_cursor", "users"]);
    assert.equal(first.users.length, 50);
    assert.equal(typeof first.next_cursor, "string");
    const second = (
      await listStaff.get(
        `/admin/users/?q=bulk_&sort=username&cursor=${encodeURIComponent(first.next_cursor)}`,
      )
    ).json();
    assert.equal(second.users.length, 10);
    assert.equal(second.next_cursor, null);
    const small = (await listStaff.get("/admin/users/?q=bulk_&sort=username&limit=7")).json();
    assert.equal(small.users.length, 7);

    const browser = new Client(list.app, "html");
    browser.cookies.set("sessionid", listStaff.cookies.get("sessionid") ?? "");
    const page = (await browser.get("/admin/users/?q=bulk_&sort=username&dir=asc")).body;
    const next = /href="(\/admin\/users\/\?cursor=[^"]+)" rel="next"/.exec(page);
    assert.ok(next, "the first page links to the next");
    const nextUrl = (next[1] as string).replace(/&amp;/g, "&");
    assert.match(nextUrl, /&q=bulk_&sort=username&dir=asc$/, "the next page keeps the search and the order");
    const secondHtml = (await browser.get(nextUrl)).body;
    assert.match(secondHtml, />bulk_9</);
    assert.doesNotMatch(secondHtml, /rel="next"/, "the last page links to no next page");
    assert.match(secondHtml, /href="\/admin\/users\/\?q=bulk_&amp;sort=username&amp;dir=asc">First page</);
  });

  test("following next_cursor under every order and direction lists each user exactly once, in order", async () => {
    // Ties everywhere: three balances, four referred counts, and five join times that differ only in
    // microseconds (one millisecond holds them all, as a JavaScript Date would see them).
    const values = Array.from({ length: 23 }, (_, i) => {
      const name = `${i % 2 ? "Page" : "page"}_${String(i).padStart(2, "0")}`;
      const joined = `2030-01-01T00:00:00.00000${i % 5}Z`;
      return sql`(${name}, ${name.toLowerCase()}, 'x', ${`page-token-${i}`}, ${(i % 3) * 500}, ${i % 4}, ${joined}::timestamptz)`;
    });
    await list.deps.db.execute(
      sql`INSERT INTO users (username, username_key, password_hash, referral_token, balance_cents, referred_count, created_at)
          VALUES ${sql.join(values, sql`, `)}`,
    );
    const columns = {
      joined: "created_at",
      username: "username_key",
      balance: "balance_cents",
      referred: "referred_count",
    };
    for (const [sort, column] of Object.entries(columns)) {
      for (const dir of ["asc", "desc"]) {
        const expected = await queryRows<{ id: number }>(
          list.deps.db,
          sql`SELECT id::int AS id FROM users WHERE username_key LIKE 'page\_%'
              ORDER BY ${sql.raw(column)} ${sql.raw(dir)}, id ${sql.raw(dir)}`,
        );
        const seen: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const url: string = `/admin/users/?q=page_&sort=${sort}&dir=${dir}&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
          const response = await listStaff.get(url);
          assert.equal(response.statusCode, 200, url);
          const body = response.json() as { users: { id: number }[]; next_cursor: string | null };
          assert.ok(body.users.length <= 4);
          seen.push(...body.users.map((u) => u.id));
          cursor = body.next_cursor;
          pages++;
        } while (cursor !== null && pages < 20);
        assert.equal(pages, 6, `${sort} ${dir}`);
        assert.deepEqual(
          seen,
          expected.map((r) => r.id),
          `${sort} ${dir}: every user once, in order`,
        );
      }
    }
  });

  test("a cursor is good only for the order it was made in, and a forged one is a 400, never a 500", async () => {
    const first = (await listStaff.get("/admin/users/?q=page_&sort=balance&limit=2")).json();
    const cursor = encodeURIComponent(first.next_cursor);
    assert.equal(
      (await listStaff.get(`/admin/users/?q=page_&sort=balance&limit=2&cursor=${cursor}`)).statusCode,
      200,
    );
    assert.equal(
      (await listStaff.get(`/admin/users/?q=bob&sort=balance&cursor=${cursor}`)).statusCode,
      200,
      "the search may change: the position still holds",
    );
    for (const other of ["sort=referred", "sort=balance&dir=asc", "sort=joined"]) {
      const response = await listStaff.get(`/admin/users/?${other}&cursor=${cursor}`);
      assert.equal(response.statusCode, 400, other);
      assert.deepEqual(response.json(), { error: "bad_cursor", message: "The cursor is not valid." });
    }
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    for (const [query, bad] of [
      ["sort=joined", "abc"],
      ["sort=joined", "%00"],
      ["sort=joined", forged({ sort: "joined" })],
      ["sort=joined", forged(["joined", "desc", "2026-13-01T00:00:00.000000Z", 1])],
      ["sort=joined", forged(["joined", "desc", "2026-02-30T00:00:00.000000Z", 1])],
      ["sort=joined", forged(["joined", "desc", "yesterday", 1])],
      ["sort=joined", forged(["joined", "desc", "2026-01-01T00:00:00.000000Z", 0])],
      ["sort=joined", forged(["joined", "desc", "2026-01-01T00:00:00.000000Z", 1e16])],
      ["sort=joined", forged(["joined", "desc", "2026-01-01T00:00:00.000000Z", "1"])],
      ["sort=username", forged(["username", "asc", "a\u0000b", 1])],
      ["sort=username", forged(["username", "asc", "\ud800", 1])],
      ["sort=username", forged(["username", "asc", 5, 1])],
      ["sort=referred", forged(["referred", "desc", 2 ** 40, 1])],
      ["sort=referred", forged(["referred", "desc", 1.5, 1])],
      ["sort=balance", forged(["balance", "desc", "100", 1])],
      ["sort=balance", forged(["balance", "desc", 100, 1, 1])],
    ]) {
      const url = `/admin/users/?${query}&cursor=${encodeURIComponent(bad as string)}`;
      const response = await listStaff.get(url);
      assert.equal(response.statusCode, 400, url);
      assert.equal(response.json().error, "bad_cursor", url);
    }
    const page = await listStaff.get(`/admin/users/?sort=referred&cursor=${cursor}`, { accept: "text/html" });
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /The cursor is not valid\./);
  });

  test("the user page lists their ledger, the people they invited, and their sessions", async () => {
    const id = await userIdOf(list.deps.db, "Mallory");
    const detail = (await listStaff.get(`/admin/users/${id}/`)).json();
    assert.deepEqual(
      detail.invitees.map((i: { username: string }) => i.username).sort(),
      ["MAL_X", "bob", "mal_one", "mal_two"].sort(),
    );
    assert.equal(detail.invitee_count, 4);
    assert.equal(detail.sessions.length, 1);
    assert.equal(detail.sessions[0].client_address, "127.0.0.1");
    assert.deepEqual(detail.ledger, []);
    const inviteeId = await userIdOf(list.deps.db, "bob");
    const invitee = (await listStaff.get(`/admin/users/${inviteeId}/`)).json();
    assert.equal(invitee.user.invited_by, "Mallory");
    assert.deepEqual(
      invitee.ledger.map((l: { kind: string; amount_cents: number }) => [l.kind, l.amount_cents]),
      [["invitee_bonus", 1000]],
    );
    const html = await listStaff.get(`/admin/users/${id}/`, { accept: "text/html" });
    assert.match(html.body, /People they invited \(4\)/);
    assert.match(html.body, /Sessions \(1\)/);
  });
});

describe("the ledger on the user page", () => {
  test("shows the newest 50 entries and pages back through older ones without gaps or repeats", async () => {
    await new Client(t.app).signUp("long_ledger");
    const id = await userIdOf(t.deps.db, "long_ledger");
    await t.deps.db.execute(sql`
      INSERT INTO ledger_entries (user_id, amount_cents, kind, reason, created_at)
      SELECT ${id}, i, 'adjustment', 'entry ' || i, now() - make_interval(mins => 100 - i)
      FROM generate_series(1, 60) AS i`);
    const first = (await staff.get(`/admin/users/${id}/`)).json();
    assert.equal(first.ledger.length, 50);
    assert.equal(first.ledger[0].reason, "entry 60");
    assert.equal(typeof first.next_cursor, "string");
    const second = (await staff.get(`/admin/users/${id}/?cursor=${first.next_cursor}`)).json();
    assert.equal(second.next_cursor, null);
    const reasons = [...first.ledger, ...second.ledger].map((l: { reason: string }) => l.reason);
    assert.deepEqual(
      reasons,
      Array.from({ length: 60 }, (_, i) => `entry ${60 - i}`),
    );
    const small = (await staff.get(`/admin/users/${id}/?limit=25`)).json();
    assert.deepEqual(
      small.ledger.map((l: { reason: string }) => l.reason),
      reasons.slice(0, 25),
    );

    const browser = await staffClient(t, "staff_ledger_pages", "html");
    const page = (await browser.get(`/admin/users/${id}/?limit=25`)).body;
    const older = /href="(\/admin\/users\/\d+\/\?cursor=\d+&amp;limit=25)" rel="next">Older entries</.exec(
      page,
    );
    assert.ok(older, "the user page links to older ledger entries, keeping the limit");
    const olderPage = (await browser.get((older[1] as string).replace(/&amp;/g, "&"))).body;
    assert.match(olderPage, /entry 35</);
    assert.match(olderPage, new RegExp(`href="/admin/users/${id}/">Newest entries<`));

    const otherUser = await userIdOf(t.deps.db, "plain_member");
    const elsewhere = (await staff.get(`/admin/users/${otherUser}/?cursor=${first.next_cursor}`)).json();
    assert.deepEqual(elsewhere.ledger, [], "a cursor from another user's ledger shows nothing of theirs");
  });
});

describe("exports", () => {
  test("the users CSV has every user, correct quoting, and guards against spreadsheet formulas", async () => {
    await new Client(t.app).signUp("@SUM");
    await new Client(t.app).signUp("-minus");
    const id = await userIdOf(t.deps.db, "-minus");
    await staff.post(`/admin/users/${id}/adjust/`, {
      direction: "add",
      amount: "1",
      reason: 'He said "hi", then\nleft',
    });
    const response = await staff.get("/admin/export/users.csv");
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers["content-type"], "text/csv; charset=utf-8");
    assert.match(
      String(response.headers["content-disposition"]),
      /^attachment; filename="users-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const rows = parseCsv(response.body);
    assert.deepEqual(rows[0], [
      "id",
      "username",
      "joined_at",
      "invited_by",
      "referred_count",
      "balance",
      "balance_cents",
      "is_active",
      "is_staff",
    ]);
    const users = await queryRows<{ n: number }>(t.deps.db, sql`SELECT count(*)::int AS n FROM users`);
    assert.equal(rows.length - 1, users[0]?.n);
    const usernames = rows.map((r) => r[1]);
    assert.ok(usernames.includes("'@SUM"));
    assert.ok(usernames.includes("'-minus"));
    const minus = rows.find((r) => r[1] === "'-minus");
    assert.deepEqual(minus?.slice(5, 7), ["1.00", "100"]);
    assert.ok(response.body.endsWith("\r\n"));
  });

  test("the ledger CSV quotes reasons with quotes, commas and newlines, and guards formulas", async () => {
    await new Client(t.app).signUp("csv_target");
    const id = await userIdOf(t.deps.db, "csv_target");
    await staff.post(`/admin/users/${id}/adjust/`, {
      direction: "add",
      amount: "5",
      reason: '=HYPERLINK("http://x.example","click")',
    });
    await staff.post(`/admin/users/${id}/adjust/`, {
      direction: "remove",
      amount: "2.5",
      reason: 'a "quoted", multi\r\nline reason',
    });
    const response = await staff.get("/admin/export/ledger.csv");
    const rows = parseCsv(response.body);
    const mine = rows.filter((r) => r[3] === "csv_target");
    assert.deepEqual(
      mine.map((r) => [r[4], r[5], r[6], r[9], r[10], r[11], r[12]]),
      [
        ["adjustment", "5.00", "500", `'=HYPERLINK("http://x.example","click")`, "admin_boss", "posted", ""],
        ["adjustment", "-2.50", "-250", 'a "quoted", multi\r\nline reason', "admin_boss", "posted", ""],
      ],
      "negative amounts stay numbers; only text is guarded",
    );
    assert.match(response.body, /"'=HYPERLINK\(""http:\/\/x\.example"",""click""\)"/);
  });

  test("exports are audited", async () => {
    const browser = await staffClient(t, "staff_exporter");
    await browser.get("/admin/export/users.csv");
    await browser.get("/admin/export/ledger.csv");
    const audit = (await auditRows(t.deps.db)).filter((a) => a.actor === "staff_exporter");
    assert.deepEqual(
      audit.map((a) => a.action),
      ["users_exported", "ledger_exported"],
    );
  });
});

describe("the audit log page", () => {
  test("lists actions newest first with who did them", async () => {
    const home = await staff.get("/admin/");
    const audit = home.json().audit as { action: string; actor: string | null; created_at: string }[];
    assert.ok(audit.length > 0);
    const times = audit.map((a) => a.created_at);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.ok(audit.some((a) => a.action === "balance_adjusted" && a.actor === "admin_boss"));
    const page = await staff.get("/admin/", { accept: "text/html" });
    assert.match(page.body, /Balance adjusted/);
    assert.match(
      page.body,
      /command line/,
      "createsuperuser's promotions are shown as done from the command line",
    );
  });

  test("orders entries by their times, not by the order they were written, and pages without gaps", async () => {
    // A transaction that waited on a lock writes its entry after one that started later: here, 60
    // entries whose ids run the other way from their times.
    await t.deps.db.execute(sql`
      INSERT INTO audit_log (actor_id, action, created_at)
      SELECT NULL, 'staff_created', timestamptz '2001-01-01' - make_interval(secs => i)
      FROM generate_series(1, 60) AS i`);
    const seen: { id: number; created_at: string }[] = [];
    let url: string | null = "/admin/";
    while (url) {
      const body: { audit: { id: number; created_at: string }[]; next_cursor: string | null } = (
        await staff.get(url)
      ).json();
      assert.deepEqual(Object.keys(body).sort(), ["audit", "next_cursor"]);
      seen.push(...body.audit);
      url = body.next_cursor === null ? null : `/admin/?limit=40&cursor=${body.next_cursor}`;
    }
    const total = await queryRows<{ n: number }>(t.deps.db, sql`SELECT count(*)::int AS n FROM audit_log`);
    assert.equal(seen.length, total[0]?.n, "every entry once");
    assert.equal(new Set(seen.map((a) => a.id)).size, seen.length, "no entry twice");
    const times = seen.map((a) => a.created_at);
    assert.deepEqual(times, [...times].sort().reverse());
  });
});
