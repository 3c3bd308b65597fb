// Notifications by email, end to end over HTTP and a real SMTP server: a friend joined, a reward
// earned, a held referral approved or rejected; each kind can be turned off, by the settings page or
// by the one-click unsubscribe link in the message itself (RFC 8058), which needs no login.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { approveReferral, rejectReferral } from "../../src/referrals/review.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { freshClient, inviter, reviewDeps, signUpThrough } from "../support/referrals.js";
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from "../support/smtp.js";

let smtp: TestSmtpServer;

before(async () => {
  smtp = await startSmtpServer();
});

after(async () => {
  await smtp.close();
});

/** A verified address, set directly: verification itself is tested on its own. */
async function verify(t: TestApp, username: string, address: string): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    t.deps.db,
    sql`UPDATE users SET email = ${address}, email_key = ${address} WHERE username = ${username} RETURNING id`,
  );
  return Number(rows[0]?.id);
}

async function messagesTo(t: TestApp, address: string): Promise<{ kind: string }[]> {
  return queryRows<{ kind: string }>(
    t.deps.db,
    sql`SELECT kind FROM outbox_messages WHERE to_address = ${address} ORDER BY id`,
  );
}

/** The one-click POST a mail provider sends: no cookie, no CSRF token, the RFC's body. */
async function oneClick(t: TestApp, mail: ReceivedMail, contentType: "urlencoded" | "multipart") {
  const url = new URL((mail.header("list-unsubscribe") ?? "").replace(/^<|>$/g, ""));
  const boundary = "xyzzy";
  return t.app.inject({
    method: "POST",
    url: `${url.pathname}${url.search}`,
    headers:
      contentType === "urlencoded"
        ? { "content-type": "application/x-www-form-urlencoded" }
        : { "content-type": `multipart/form-data; boundary=${boundary}` },
    payload:
      contentType === "urlencoded"
        ? "List-Unsubscribe=One-Click"
        : `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
  });
}

describe("notifications to an inviter", () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ SMTP_URL: smtp.url, PUBLIC_ORIGIN: "http://refer.test" });
  });
  after(async () => {
    await t.close();
  });

  test("a friend joined, then a reward: each arrives; one-click unsubscribe stops only its kind", async () => {
    const alice = await inviter(t, "alice_n");
    await verify(t, "alice_n", "alice@example.com");
    await signUpThrough(freshClient(t), "friend_1", alice.token);
    await t.app.sendPendingEmail();
    const joined = await smtp.waitFor(
      (m) => m.to === "alice@example.com" && /friend_1/.test(m.parsed.subject ?? ""),
    );
    assert.equal(joined.parsed.subject, "friend_1 joined through your link");
    assert.equal(joined.header("list-unsubscribe-post"), "List-Unsubscribe=One-Click");

    const response = await oneClick(t, joined, "urlencoded");
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers["set-cookie"], undefined, "no session or CSRF cookie on one-click");

    for (const name of ["friend_2", "friend_3", "friend_4", "friend_5"]) {
      await signUpThrough(freshClient(t), name, alice.token);
    }
    await t.app.sendPendingEmail();
    const reward = await smtp.waitFor(
      (m) => m.to === "alice@example.com" && /earned/.test(m.parsed.subject ?? ""),
    );
    assert.equal(reward.parsed.subject, "You earned $10.00");
    assert.match(reward.parsed.text ?? "", /http:\/\/refer\.test\//);
    // After the unsubscribe, friends 2 to 5 wrote no "joined" message; the reward still came.
    assert.deepEqual(
      (await messagesTo(t, "alice@example.com")).map((m) => m.kind),
      ["friend_joined", "reward_earned"],
    );

    // The reward's own link turns rewards off, here as multipart/form-data.
    assert.equal((await oneClick(t, reward, "multipart")).statusCode, 200);
    const settings = await alice.client.get("/email/preferences/", { accept: "application/json" });
    assert.deepEqual(settings.json(), {
      notify_friend_joined: false,
      notify_rewards: false,
      notify_review: true,
      email: "alice@example.com",
    });
  });

  test("the settings page turns kinds back on; no address, no message", async () => {
    const bob = await inviter(t, "bob_n");
    const saved = await bob.client.post("/email/preferences/", { notify_friend_joined: "on" });
    assert.equal(saved.statusCode, 200);
    await signUpThrough(freshClient(t), "friend_of_bob", bob.token);
    const rows = await queryRows<{ n: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS n FROM outbox_messages o JOIN users u ON u.id = o.user_id WHERE u.username = 'bob_n'`,
    );
    assert.equal(Number(rows[0]?.n), 0, "bob has no verified address: nothing is written");
    const html = await new Client(t.app, "html").get("/email/preferences/");
    assert.equal(html.statusCode, 302, "the settings need a login");
  });

  test("a forged or altered unsubscribe link changes nothing", async () => {
    const carol = await inviter(t, "carol_n");
    const id = await verify(t, "carol_n", "carol@example.com");
    for (const token of [
      `${id}.notify_rewards.${"A".repeat(32)}`,
      "garbage",
      `${id}.is_staff.${"A".repeat(32)}`,
    ]) {
      const response = await t.app.inject({
        method: "POST",
        url: `/email/unsubscribe/?token=${encodeURIComponent(token)}`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: "List-Unsubscribe=One-Click",
      });
      assert.equal(response.statusCode, 404, token);
    }
    const prefs = await carol.client.get("/email/preferences/", { accept: "application/json" });
    assert.equal(prefs.json().notify_rewards, true);
  });
});

describe("notifications of a review", () => {
  let t: TestApp;
  before(async () => {
    // Every referral is held for a day: staff decide.
    t = await createTestApp({ SMTP_URL: smtp.url, REFERRAL_HOLD_HOURS: "24" });
  });
  after(async () => {
    await t.close();
  });

  test("the invitee hears that a held referral was approved, or rejected with the reason", async () => {
    const dora = await inviter(t, "dora_n");
    await signUpThrough(freshClient(t), "held_yes", dora.token);
    await signUpThrough(freshClient(t), "held_no", dora.token);
    await verify(t, "held_yes", "yes@example.com");
    await verify(t, "held_no", "no@example.com");
    const held = await queryRows<{ id: number; username: string }>(
      t.deps.db,
      sql`SELECT r.id, u.username FROM referrals r JOIN users u ON u.id = r.invitee_id ORDER BY r.id`,
    );
    const deps = { ...reviewDeps(t), mail: { initialStatus: "pending" as const, wake: () => {} } };
    const idOf = (name: string) => Number(held.find((r) => r.username === name)?.id);
    await approveReferral(deps, {
      referralId: idOf("held_yes"),
      staffId: null,
      reason: null,
      staffNote: null,
    });
    await rejectReferral(deps, {
      referralId: idOf("held_no"),
      staffId: null,
      reason: "Signed up twice <from one device>",
      staffNote: "farm",
    });
    await t.app.sendPendingEmail();
    const yes = await smtp.waitFor((m) => m.to === "yes@example.com");
    assert.equal(yes.parsed.subject, "Your held credit is approved");
    assert.match(yes.parsed.text ?? "", /\$10\.00 of credit is now yours/);
    const no = await smtp.waitFor((m) => m.to === "no@example.com");
    assert.equal(no.parsed.subject, "A held referral was not approved");
    assert.match(String(no.parsed.html), /Signed up twice &lt;from one device&gt;/);
    assert.doesNotMatch(`${no.parsed.text}${no.parsed.html}`, /farm/, "the staff note stays with staff");
  });
});
