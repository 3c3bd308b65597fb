// The routes' declared contracts: query strings checked by their schemas (a 400 in the service's own
// error shape, never a 500, and only after the login and staff checks), JSON responses that send
// every field, and paths with or without the trailing slash.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";

let t: TestApp;
let staff: Client;
let member: Client;
let memberId: number;
let adjustmentId: number;

before(async () => {
  t = await createTestApp();
  staff = await staffClient(t, "contract_staff");
  const token = tokenOf((await staff.dashboard()).referral_link);
  member = new Client(t.app);
  await member.signUp("contract_member", "correct horse battery", token);
  memberId = await userIdOf(t.deps.db, "contract_member");
  const adjusted = await staff.post(`/admin/users/${memberId}/adjust/`, {
    direction: "add",
    amount: "2.50",
    reason: "Contract check",
  });
  assert.equal(adjusted.statusCode, 200);
  adjustmentId = adjusted.json().ledger_entry_id;
});
after(async () => t.close());

/** Every route that reads a query string, with the parameters its schema names. */
function queried(): { path: string; params: string[]; client: () => Client }[] {
  return [
    { path: "/history/", params: ["cursor", "limit"], client: () => member },
    { path: "/referrals/", params: ["cursor", "limit"], client: () => member },
    { path: "/admin/", params: ["cursor", "limit"], client: () => staff },
    { path: "/admin/users/", params: ["cursor", "limit", "q", "sort", "dir"], client: () => staff },
    { path: `/admin/users/${memberId}/`, params: ["cursor", "limit", "notice"], client: () => staff },
    { path: "/admin/stats/", params: ["days", "from", "to"], client: () => staff },
    {
      path: "/admin/review/",
      params: ["cursor", "limit", "notice", "decided", "already"],
      client: () => staff,
    },
  ];
}

const withoutSlash = (path: string) => path.replace(/\/$/, "");

describe("query strings", () => {
  test("a parameter given twice is a 400 in the service's error shape, for every parameter of every route", async () => {
    for (const { path, params, client } of queried()) {
      for (const param of params) {
        for (const url of [`${path}?${param}=1&${param}=2`, `${withoutSlash(path)}?${param}=a&${param}=b`]) {
          const response = await client().get(url);
          assert.equal(response.statusCode, 400, url);
          assert.deepEqual(
            response.json(),
            { error: "bad_query", message: "Give each query parameter once." },
            url,
          );
        }
      }
    }
  });

  test("a malformed limit or cursor is a 400 naming it, on every list", async () => {
    const lists = queried().filter((r) => r.params.includes("cursor"));
    for (const { path, client } of lists) {
      for (const limit of ["0", "101", "x", "1e1", "0x10", "%205", "5%20", "-1", "1.5", "0100", "1000"]) {
        const response = await client().get(`${path}?limit=${limit}`);
        assert.equal(response.statusCode, 400, `${path}?limit=${limit}`);
        assert.deepEqual(response.json(), {
          error: "bad_limit",
          message: "The limit must be a whole number from 1 to 100.",
        });
      }
      for (const cursor of ["abc", "-1", "0", "1e3", "99999999999999999999", "a.b", "a".repeat(4097)]) {
        const response = await client().get(`${withoutSlash(path)}?cursor=${cursor}`);
        assert.equal(response.statusCode, 400, `${path}?cursor=${cursor.slice(0, 20)}`);
        assert.deepEqual(response.json(), { error: "bad_cursor", message: "The cursor is not valid." });
      }
      for (const fine of ["limit=", "cursor=", "limit=1", "limit=007", "limit=100", "unknown=1&a[b]=2"]) {
        assert.equal((await client().get(`${path}?${fine}`)).statusCode, 200, `${path}?${fine}`);
      }
    }
  });

  test("a search for text no username can hold (NUL) is a 400, not a database error", async () => {
    for (const q of ["%00", "a%00b"]) {
      const response = await staff.get(`/admin/users/?q=${q}`);
      assert.equal(response.statusCode, 400, q);
      assert.equal(response.json().error, "bad_query");
    }
  });

  test("in HTML mode a bad query string is the error page with the same message", async () => {
    const browser = await staffClient(t, "page_reader", "html");
    for (const url of ["/admin/users/?limit=0", "/admin/users?sort=a&sort=b", "/admin/?cursor=abc"]) {
      const response = await browser.get(url);
      assert.equal(response.statusCode, 400, url);
      assert.match(String(response.headers["content-type"]), /^text\/html/);
      assert.match(response.body, /<h1[^>]*>Bad request<\/h1>/, url);
    }
    assert.match(
      (await browser.get("/admin/users/?limit=0")).body,
      /The limit must be a whole number from 1 to 100\./,
    );
    assert.match((await browser.get("/admin/?cursor=abc")).body, /The cursor is not valid\./);
  });

  test("people who may not use a route are turned away as before, whatever its query string", async () => {
    const outsider = new Client(t.app);
    await outsider.signUp("contract_outsider");
    for (const { path } of queried()) {
      const url = `${path}?limit=0&cursor=abc&sort=a&sort=b`;
      const anonymous = await new Client(t.app).get(url);
      assert.equal(anonymous.statusCode, 401, url);
      assert.deepEqual(anonymous.json(), { error: "unauthorized" });
      const browser = await new Client(t.app, "html").get(url);
      assert.equal(browser.statusCode, 302, url);
      assert.match(String(browser.headers.location), /^\/login\/\?next=\//);
      if (path.startsWith("/admin/")) {
        const refused = await outsider.get(url);
        assert.equal(refused.statusCode, 403, url);
        assert.equal(refused.json().error, "forbidden");
      }
    }
    assert.equal((await outsider.get("/admin/users/abc/")).statusCode, 403, "not even a 404 for non-staff");
  });

  test("random query strings on every route never get a 5xx", async () => {
    const names = fc.constantFrom(
      "cursor",
      "limit",
      "q",
      "sort",
      "dir",
      "notice",
      "days",
      "from",
      "to",
      "x",
      "a[b]",
    );
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        "",
        "%00",
        "%FF",
        "\u0000",
        "1",
        "-1",
        "1e308",
        "NaN",
        "__proto__",
        "W10",
        "WyJqb2luZWQiXQ",
      ),
    );
    const query = fc
      .array(fc.tuple(names, value), { maxLength: 5 })
      .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"));
    const routes = queried();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), query, fc.boolean(), async (route, q, slash) => {
        const url = `${slash ? route.path : withoutSlash(route.path)}?${q}`;
        const response = await route.client().get(url);
        assert.ok(
          [200, 400].includes(response.statusCode),
          `${response.statusCode} for ${url}: ${response.body}`,
        );
        if (response.statusCode === 400 && !route.path.startsWith("/admin/stats")) {
          assert.deepEqual(Object.keys(response.json()).sort(), ["error", "message"], url);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 200) },
    );
  });
});

describe("paths", () => {
  test("every route answers with and without the trailing slash", async () => {
    for (const { path, client } of queried()) {
      assert.equal((await client().get(path)).statusCode, 200, path);
      assert.equal((await client().get(withoutSlash(path))).statusCode, 200, withoutSlash(path));
    }
    for (const path of ["/", "/logout", "/logout/"]) {
      assert.equal((await new Client(t.app).get(path)).statusCode, path === "/" ? 401 : 200, path);
    }
    assert.equal((await staff.get(`/admin/users/${memberId}`)).statusCode, 200);
    assert.equal((await staff.get("/admin/users/abc")).statusCode, 404);
    const other = new Client(t.app);
    await other.logIn("contract_member");
    assert.equal((await other.post("/logout/everywhere")).statusCode, 200);
    await member.logIn("contract_member");
  });
});

describe("JSON responses send every field", () => {
  const keys = (value: unknown) => Object.keys(value as object).sort();

  test("the dashboard, history and referrals, as clients read them", async () => {
    const dashboard = (await member.get("/")).json();
    assert.deepEqual(keys(dashboard), [
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
    assert.equal(dashboard.balance, 12);
    assert.equal(dashboard.balance_cents, 1250);

    const history = (await member.get("/history/")).json();
    assert.deepEqual(keys(history), ["balance", "balance_cents", "entries", "next_cursor", "pending_cents"]);
    assert.deepEqual(
      history.entries.map((e: object) => keys(e)),
      [0, 1].map(() => [
        "amount_cents",
        "balance_after_cents",
        "created_at",
        "id",
        "kind",
        "reason",
        "status",
      ]),
    );
    assert.equal(typeof history.entries[0].id, "string", "entry ids stay strings");
    assert.equal(history.entries[0].reason, "Adjustment, credit added by staff: Contract check");

    const referrals = (await staff.get("/referrals/")).json();
    assert.deepEqual(keys(referrals), [
      "held_count",
      "joined_count",
      "link_opens",
      "next_cursor",
      "referrals",
      "referred_count",
      "rejected_count",
      "rewards_earned",
    ]);
    assert.deepEqual(
      referrals.referrals.map((r: object) => keys(r)),
      [["capped", "joined_at", "reason", "status", "username"]],
    );
  });

  test("logging out", async () => {
    const device = new Client(t.app);
    await device.logIn("contract_member");
    assert.equal((await device.post("/logout/everywhere/")).body, '{"sessions_ended":2}');
    assert.equal((await device.post("/logout/")).body, "{}");
    assert.equal((await device.get("/logout/")).body, "{}");
    await member.logIn("contract_member");
  });

  test("the admin lists, the user page and the stats", async () => {
    const home = (await staff.get("/admin/?limit=1")).json();
    assert.deepEqual(keys(home), ["audit", "next_cursor"]);
    assert.deepEqual(keys(home.audit[0]), [
      "action",
      "actor",
      "actor_id",
      "api_key",
      "created_at",
      "details",
      "id",
      "target",
      "target_user_id",
    ]);
    const adjustment = (await staff.get("/admin/"))
      .json()
      .audit.find((a: { action: string }) => a.action === "balance_adjusted");
    assert.deepEqual(adjustment.details, {
      amount_cents: 250,
      reason: "Contract check",
      ledger_entry_id: adjustmentId,
      balance_after_cents: 1250,
    });

    const users = (await staff.get("/admin/users/?q=contract_member")).json();
    assert.deepEqual(keys(users), ["next_cursor", "users"]);
    assert.deepEqual(users.users, [
      {
        id: memberId,
        username: "contract_member",
        balance_cents: 1250,
        pending_cents: 0,
        referred_count: 0,
        joined_at: users.users[0].joined_at,
        invited_by: "contract_staff",
        is_active: true,
        is_staff: false,
        email: null,
        email_pending: null,
        deleted_at: null,
      },
    ]);

    const detail = (await staff.get(`/admin/users/${memberId}/`)).json();
    assert.deepEqual(keys(detail), [
      "audit",
      "invitee_count",
      "invitees",
      "ledger",
      "next_cursor",
      "referral_link",
      "sessions",
      "user",
    ]);
    assert.deepEqual(keys(detail.ledger[0]), [
      "amount_cents",
      "capped_cents",
      "created_at",
      "created_by",
      "id",
      "kind",
      "reason",
      "referral_count",
      "signup_username",
      "staff_note",
      "status",
    ]);
    assert.deepEqual(keys(detail.sessions[0]), [
      "client_address",
      "created_at",
      "expires_at",
      "id",
      "last_seen_at",
      "user_agent",
    ]);
    const inviterId = await userIdOf(t.deps.db, "contract_staff");
    const inviter = (await staff.get(`/admin/users/${inviterId}/`)).json();
    assert.deepEqual(keys(inviter.invitees[0]), ["id", "is_active", "joined_at", "username"]);

    const stats = (await staff.get("/admin/stats/?days=7")).json();
    assert.deepEqual(keys(stats), [
      "adjustments_net_cents",
      "approved_cents",
      "approved_referrals",
      "conversion",
      "days",
      "from",
      "held_cents",
      "held_referrals",
      "k_factor",
      "link_opens",
      "referred_share",
      "referred_signups",
      "rejected_cents",
      "rejected_referrals",
      "rewards_paid_cents",
      "signups",
      "to",
      "top_referrers",
      "users_at_start",
    ]);
    assert.deepEqual(keys(stats.days[0]), [
      "approved_cents",
      "approved_referrals",
      "conversion",
      "day",
      "held_cents",
      "held_referrals",
      "invitee_bonus_cents",
      "inviter_reward_cents",
      "link_opens",
      "referred_signups",
      "rejected_cents",
      "rejected_referrals",
      "signups",
    ]);
    assert.deepEqual(keys(stats.top_referrers[0]), [
      "conversion",
      "id",
      "link_opens_in_period",
      "referred_count",
      "referred_in_period",
      "username",
    ]);
    assert.equal(stats.adjustments_net_cents, 250);
    assert.ok(stats.referred_share > 0 && stats.referred_share < 1, "a share stays a fraction");
  });

  test("the review queue and its decisions", async () => {
    // A held referral: the inviter's own browser, logged out, signs someone up through their link.
    const browser = new Client(t.app);
    await browser.signUp("contract_inviter");
    const token = tokenOf((await browser.dashboard()).referral_link);
    await browser.post("/logout/");
    await browser.signUp("contract_held", "correct horse battery", token);
    const queue = (await staff.get("/admin/review/?limit=1")).json();
    assert.deepEqual(keys(queue), ["next_cursor", "referrals"]);
    const held = queue.referrals[0];
    assert.deepEqual(keys(held), [
      "created_at",
      "hold_until",
      "id",
      "invitee",
      "inviter",
      "inviter_latest",
      "inviter_referrals",
      "pending_cents",
      "signal_words",
      "signals",
    ]);
    assert.deepEqual(keys(held.invitee), ["id", "username"]);
    assert.deepEqual(keys(held.inviter_referrals), ["approved", "held", "rejected"]);
    const decided = (
      await staff.postJson("/admin/review/", { action: "reject", ids: [held.id], reason: "x" })
    ).json();
    assert.deepEqual(decided, { decided: [held.id], already_decided: [] });
    assert.deepEqual(keys((await staff.get("/admin/review/")).json()), ["next_cursor", "referrals"]);
  });

  test("the admin actions", async () => {
    const adjusted = await staff.post(`/admin/users/${memberId}/adjust/`, {
      direction: "remove",
      amount: "0.50",
      reason: "Contract check",
    });
    assert.deepEqual(keys(adjusted.json()), ["balance_cents", "ledger_entry_id"]);
    assert.equal(adjusted.json().balance_cents, 1200);
    const deactivated = await staff.post(`/admin/users/${memberId}/deactivate/`);
    assert.deepEqual(deactivated.json(), { is_active: false, changed: true, sessions_ended: 1 });
    const reactivated = await staff.post(`/admin/users/${memberId}/reactivate`);
    assert.deepEqual(reactivated.json(), { is_active: true, changed: true, sessions_ended: 0 });
    await member.logIn("contract_member");
  });
});

describe("the sign-up's ref and the login's next never fail the request", () => {
  test("a repeated ref is ignored like a malformed one; a repeated next falls back to /", async () => {
    const token = tokenOf((await staff.dashboard()).referral_link);
    const form = await new Client(t.app, "html").get(`/signup/?ref=${token}&ref=${token}`);
    assert.equal(form.statusCode, 200);
    const signup = await new Client(t.app).signUp("repeated_ref", "correct horse battery", `${token}&ref=x`);
    assert.equal(signup.statusCode, 200);
    const login = await new Client(t.app, "html").post("/login/?next=/history/&next=/referrals/", {
      username: "repeated_ref",
      password: "correct horse battery",
    });
    assert.equal(login.statusCode, 302);
    assert.equal(login.headers.location, "/");
  });
});
