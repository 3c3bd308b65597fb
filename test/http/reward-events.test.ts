// Rewards as events: the dashboard says once that a reward came, shows what was earned since
// joining, and shows what staff say credit can be used for.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { takeRewardNews } from "../../src/referrals/reward-news.js";
import { auditRows, staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";

let t: TestApp;
before(async () => {
  t = await createTestApp({ REFERRAL_SHARED_ADDRESS_DAYS: "0" });
});
after(async () => t.close());

let addresses = 0;
/** A browser of its own, on an address of its own: a clean referral. */
function newcomer(mode: "json" | "html" = "json"): Client {
  addresses += 1;
  return new Client(t.app, mode, `198.51.100.${addresses}`);
}

/** The same session in HTML mode, to read the dashboard page. */
function pageOf(client: Client): Client {
  const page = new Client(t.app, "html");
  page.cookies.set("sessionid", client.cookies.get("sessionid") as string);
  return page;
}

async function inviterWithLink(name: string): Promise<{ client: Client; token: string }> {
  const client = newcomer();
  assert.equal((await client.signUp(name)).statusCode, 200);
  return { client, token: tokenOf((await client.dashboard()).referral_link) };
}

function newsOf(body: string): string[] {
  const block = /<div class="alert alert-success" role="status" id="reward-news">([\s\S]*?)<\/div>/.exec(
    body,
  );
  if (!block) return [];
  return [...(block[1] ?? "").matchAll(/<p class="mb-0">([\s\S]*?)<\/p>/g)].map((m) => (m[1] ?? "").trim());
}

test("the fifth friend's sign-up is announced on the inviter's next visit, once", async () => {
  const alice = await inviterWithLink("ev_alice");
  const page = pageOf(alice.client);
  assert.deepEqual(newsOf((await page.get("/")).body), [], "nothing to announce yet");
  for (let i = 0; i < 5; i++) {
    assert.equal(
      (await newcomer().signUp(`ev_friend_${i}`, "correct horse battery", alice.token)).statusCode,
      200,
    );
  }
  const first = (await page.get("/")).body;
  assert.deepEqual(newsOf(first), ["Five friends joined through your link: you earned $10.00."]);
  assert.match(first, /Earned since you joined: <strong>\$10\.00<\/strong>/);
  assert.deepEqual(newsOf((await page.get("/")).body), [], "said once");
  assert.match((await page.get("/")).body, /Earned since you joined: <strong>\$10\.00<\/strong>/);
});

test("a newcomer through a link is welcomed once, with whose link it was", async () => {
  const bob = await inviterWithLink("ev_bob");
  const carol = newcomer();
  await carol.signUp("ev_carol", "correct horse battery", bob.token);
  const page = pageOf(carol);
  const first = (await page.get("/")).body;
  assert.deepEqual(newsOf(first), ["Welcome! You got $10.00 for joining through ev_bob&#39;s link."]);
  assert.match(first, /Earned since you joined: <strong>\$10\.00<\/strong>/);
  assert.deepEqual(newsOf((await page.get("/")).body), []);
});

test("a held welcome bonus is not announced while pending, and is once approved", async () => {
  const dan = await inviterWithLink("ev_dan");
  // Dan's own browser signs Erin up: held (self-referral).
  await dan.client.post("/logout/");
  await dan.client.signUp("ev_erin", "correct horse battery", dan.token);
  const page = pageOf(dan.client);
  const pending = (await page.get("/")).body;
  assert.deepEqual(newsOf(pending), []);
  assert.match(pending, /Earned since you joined: <strong>\$0\.00<\/strong>/);
  const staff = await staffClient(t, "ev_staff");
  const [held] = (await staff.get("/admin/review/")).json().referrals;
  assert.deepEqual(
    (await staff.postJson("/admin/review/", { action: "approve", ids: [held.id] })).json().decided,
    [held.id],
  );
  assert.deepEqual(newsOf((await page.get("/")).body), [
    "Welcome! You got $10.00 for joining through ev_dan&#39;s link.",
  ]);
  assert.deepEqual(newsOf((await page.get("/")).body), []);
});

test("visits at once announce a reward on one of them only", async () => {
  const fay = await inviterWithLink("ev_fay");
  for (let i = 0; i < 5; i++)
    await newcomer().signUp(`ev_fay_friend_${i}`, "correct horse battery", fay.token);
  const fayId = await userIdOf(t.deps.db, "ev_fay");
  const seen = await Promise.all(Array.from({ length: 20 }, () => takeRewardNews(t.deps.db, fayId)));
  assert.deepEqual(
    seen.flatMap((visit) => visit.news.map((news) => [news.kind, news.amountCents])),
    [["inviter_reward", 1000]],
  );
  assert.ok(seen.every((visit) => visit.earnedCents === 1000));
  assert.deepEqual(newsOf((await pageOf(fay.client).get("/")).body), []);
});

test("a reward over the monthly limit is announced as such", async () => {
  const capped = await createTestApp({ REFERRAL_SHARED_ADDRESS_DAYS: "0", REFERRAL_MONTHLY_CAP_CENTS: "0" });
  try {
    const inviter = new Client(capped.app, "json", "203.0.113.1");
    await inviter.signUp("cap_gus");
    const token = tokenOf((await inviter.dashboard()).referral_link);
    for (let i = 0; i < 5; i++) {
      await new Client(capped.app, "json", `203.0.113.${10 + i}`).signUp(
        `cap_f${i}`,
        "correct horse battery",
        token,
      );
    }
    const page = new Client(capped.app, "html");
    page.cookies.set("sessionid", inviter.cookies.get("sessionid") as string);
    assert.deepEqual(newsOf((await page.get("/")).body), [
      "Five friends joined through your link. You reached this month&#39;s limit on rewards, so no credit was added.",
    ]);
  } finally {
    await capped.close();
  }
});

test("staff say what credit can be used for; the dashboard shows it, and nothing when it is empty", async () => {
  const hal = await inviterWithLink("ev_hal");
  const page = pageOf(hal.client);
  assert.doesNotMatch((await page.get("/")).body, /id="credit-use"/);

  const staff = await staffClient(t, "ev_text_staff");
  const saved = await staff.postJson("/admin/settings/credit-text/", {
    text: "  Credit pays for <b>your</b> next order,\n at checkout. ",
  });
  assert.equal(saved.statusCode, 200);
  assert.deepEqual(saved.json(), { text: "Credit pays for <b>your</b> next order, at checkout." });
  const shown = (await page.get("/")).body;
  assert.match(
    shown,
    /id="credit-use">Credit pays for &lt;b&gt;your&lt;\/b&gt; next order, at checkout\.<\/p>/,
  );
  const audit = (await auditRows(t.deps.db)).find((a) => a.action === "credit_text_changed");
  assert.equal(audit?.actor, "ev_text_staff");

  const signupPage = (await new Client(t.app, "html").get(`/signup/?ref=${hal.token}`)).body;
  assert.match(
    signupPage,
    /id="credit-use">Credit pays for &lt;b&gt;your&lt;\/b&gt; next order, at checkout\.<\/p>/,
  );
  const staffPage = pageOf(staff);
  const home = (await staffPage.get("/admin/")).body;
  assert.match(
    home,
    /<textarea[^>]*name="text"[^>]*>Credit pays for &lt;b&gt;your&lt;\/b&gt; next order, at checkout\.<\/textarea>/,
  );

  const tooLong = await staff.postJson("/admin/settings/credit-text/", { text: "x".repeat(501) });
  assert.equal(tooLong.statusCode, 400);
  assert.match(tooLong.json().text[0], /at most 500 characters \(it has 501\)/);
  const refusedPage = await staffPage.post("/admin/settings/credit-text/", { text: "y".repeat(501) });
  assert.equal(refusedPage.statusCode, 400);
  assert.match(refusedPage.body, /aria-invalid="true"/);

  assert.equal((await hal.client.postJson("/admin/settings/credit-text/", { text: "mine" })).statusCode, 403);
  const cleared = await staffPage.post("/admin/settings/credit-text/", { text: "" });
  assert.equal(cleared.statusCode, 303);
  assert.doesNotMatch((await page.get("/")).body, /id="credit-use"/);
  assert.doesNotMatch((await new Client(t.app, "html").get("/signup/")).body, /id="credit-use"/);
});
