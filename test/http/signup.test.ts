import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import { balanceMismatches, countRows, ledgerOf } from "../support/ledger.js";

const password = "correct horse battery";
let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

describe("sign-up in JSON mode", () => {
  test("a sign-up without a link answers 200 {} and logs the newcomer in with $0", async () => {
    const client = new Client(t.app);
    const response = await client.signUp("plain_user");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {});
    const me = await client.dashboard();
    assert.equal(me.balance, 0);
    assert.equal(me.balance_cents, 0);
    assert.match(me.referral_link, /^http:\/\/localhost(:\d+)?\/signup\/\?ref=[A-Za-z0-9_-]{22}$/);
  });

  test("a sign-up through a link gives the newcomer $10 and counts for the inviter", async () => {
    const inviter = new Client(t.app);
    await inviter.signUp("inviter_one");
    const token = tokenOf((await inviter.dashboard()).referral_link);
    const invitee = new Client(t.app);
    assert.equal((await invitee.signUp("invitee_one", password, token)).statusCode, 200);
    assert.equal((await invitee.dashboard()).balance, 10);
    const me = await inviter.dashboard();
    assert.equal(me.balance, 0);
    assert.equal(me.referred_count, 1);
    assert.deepEqual(await ledgerOf(t.deps.db, "invitee_one"), [
      { kind: "invitee_bonus", amountCents: 1000, signupUsername: "invitee_one", referralCount: null },
    ]);
  });

  test("every 5th sign-up through a link pays the inviter $10: 4 give nothing, 5 give $10, 10 give $20", async () => {
    const inviter = new Client(t.app);
    await inviter.signUp("fifth_inviter");
    const token = tokenOf((await inviter.dashboard()).referral_link);
    const balances: number[] = [];
    for (let i = 1; i <= 10; i++) {
      await new Client(t.app).signUp(`fifth_friend_${i}`, password, token);
      balances.push((await inviter.dashboard()).balance);
    }
    assert.deepEqual(balances, [0, 0, 0, 0, 10, 10, 10, 10, 10, 20]);
    const entries = await ledgerOf(t.deps.db, "fifth_inviter");
    assert.deepEqual(entries, [
      { kind: "inviter_reward", amountCents: 1000, signupUsername: "fifth_friend_5", referralCount: 5 },
      { kind: "inviter_reward", amountCents: 1000, signupUsername: "fifth_friend_10", referralCount: 10 },
    ]);
  });

  test("an unknown, malformed or empty token is ignored: the sign-up succeeds and nobody gets credit", async () => {
    for (const [i, ref] of [
      "AAAAAAAAAAAAAAAAAAAAAA",
      "not a token",
      "",
      "'; DROP TABLE users;--",
      "%00",
    ].entries()) {
      const client = new Client(t.app);
      const response = await client.post(`/signup/?ref=${encodeURIComponent(ref)}`, {
        username: `ignored_token_${i}`,
        password1: password,
        password2: password,
      });
      assert.equal(response.statusCode, 200, ref);
      assert.deepEqual(response.json(), {});
      assert.equal((await client.dashboard()).balance, 0);
    }
  });

  test("the balance column always equals the sum of the ledger", async () => {
    assert.deepEqual(await balanceMismatches(t.deps.db), []);
  });

  test("JSON bodies work as well as form bodies", async () => {
    const client = new Client(t.app);
    const response = await client.postJson("/signup", {
      username: "json_body",
      password1: password,
      password2: password,
    });
    assert.equal(response.statusCode, 200);
    assert.equal((await client.dashboard()).balance, 0);
  });
});

describe("sign-up validation", () => {
  test("missing fields are each required", async () => {
    const response = await new Client(t.app).post("/signup/", {});
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      username: ["This field is required."],
      password1: ["This field is required."],
      password2: ["This field is required."],
    });
  });

  test("a password of 123 gets the last three rules together", async () => {
    const response = await new Client(t.app).post("/signup/", {
      username: "weak",
      password1: "123",
      password2: "123",
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      password2: [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
      ],
    });
  });

  test("Django's common passwords and digits of every kind are refused with Django's messages", async () => {
    const refusals = {
      computer2: ["This password is too common."],
      lonewolf1: ["This password is too common."],
      "①②③④⑤⑥⑦⑧": ["This password is entirely numeric."],
      "²⁷³⁹¹⁴⁵⁶⁸⁰": ["This password is entirely numeric."],
    };
    for (const [weak, messages] of Object.entries(refusals)) {
      const response = await new Client(t.app).post("/signup/", {
        username: "digits_fan",
        password1: weak,
        password2: weak,
      });
      assert.equal(response.statusCode, 400, weak);
      assert.deepEqual(response.json(), { password2: messages }, weak);
    }
  });

  test("a taken username is refused whatever its case or width, with the earlier version's message", async () => {
    await new Client(t.app).signUp("Taken.Name");
    for (const name of ["taken.name", "TAKEN.NAME", "ｔａｋｅｎ.ｎａｍｅ"]) {
      const response = await new Client(t.app).signUp(name);
      assert.equal(response.statusCode, 400, name);
      assert.deepEqual(response.json(), { username: ["A user with that username already exists."] });
    }
  });

  test("a taken username and a weak password are reported together", async () => {
    const response = await new Client(t.app).post("/signup/", {
      username: "taken.name",
      password1: "123",
      password2: "123",
    });
    assert.deepEqual(Object.keys(response.json()).sort(), ["password2", "username"]);
  });

  test("an invalid or over-long username gets Django's messages", async () => {
    const bad = await new Client(t.app).signUp("bad name!");
    assert.deepEqual(bad.json(), {
      username: [
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
      ],
    });
    const long = await new Client(t.app).signUp("a".repeat(151));
    assert.deepEqual(long.json(), {
      username: ["Ensure this value has at most 150 characters (it has 151)."],
    });
  });

  test("mismatched passwords are reported under password2", async () => {
    const response = await new Client(t.app).post("/signup/", {
      username: "mismatch",
      password1: password,
      password2: "something else entirely",
    });
    assert.deepEqual(response.json(), { password2: ["The two password fields didn’t match."] });
  });

  test("a rejected sign-up writes nothing", async () => {
    const before = await countRows(t.deps.db);
    await new Client(t.app).post("/signup/", {
      username: "nothing_written",
      password1: "123",
      password2: "123",
    });
    assert.deepEqual(await countRows(t.deps.db), before);
  });
});

describe("sign-up in HTML mode", () => {
  test("GET shows the form and keeps the token of a valid link", async () => {
    const inviter = new Client(t.app);
    await inviter.signUp("html_inviter");
    const token = tokenOf((await inviter.dashboard()).referral_link);
    const page = await new Client(t.app, "html").get(`/signup/?ref=${token}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.headers["content-type"] as string, /text\/html/);
    assert.match(page.body, new RegExp(`action="/signup/\\?ref=${token}"`));
    assert.match(page.body, /name="csrfmiddlewaretoken"/);
  });

  test("a successful sign-up redirects to the dashboard", async () => {
    const client = new Client(t.app, "html");
    await client.get("/signup/");
    const response = await client.post("/signup/", {
      username: "html_user",
      password1: password,
      password2: password,
      csrfmiddlewaretoken: client.csrfToken ?? "",
    });
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, "/");
    const dashboard = await client.get("/");
    assert.equal(dashboard.statusCode, 200);
    assert.match(dashboard.body, /Hello, html_user!/);
  });

  test("errors come back on the form, next to their fields, with what was typed escaped", async () => {
    const client = new Client(t.app, "html");
    const response = await client.post("/signup/", {
      username: "<script>alert(1)</script>",
      password1: "123",
      password2: "123",
    });
    assert.equal(response.statusCode, 400);
    assert.ok(!response.body.includes("<script>alert(1)</script>"));
    assert.match(response.body, /value="&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    assert.match(response.body, /id="id_username_errors">[\s\S]*Enter a valid username/);
    // People read the password's problems under the Password field (JSON keeps Django's password2).
    assert.match(response.body, /id="id_password1_errors">[\s\S]*This password is entirely numeric/);
  });
});
