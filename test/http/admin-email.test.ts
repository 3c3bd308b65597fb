// Staff and email addresses: a user's address and its state on their page, searching users by an
// address (verified, or waiting for confirmation), and sending the confirmation link again.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { auditRows, staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { outboxCount, outboxToken } from "../support/email.js";
import { type TestClock, testClock } from "../support/referrals.js";

const PASSWORD = "correct horse battery";

let t: TestApp;
let clock: TestClock;
let staff: Client;
let staffPage: Client;

before(async () => {
  clock = testClock();
  t = await createTestApp({}, { clock });
  staff = await staffClient(t, "mail_staff");
  staffPage = new Client(t.app, "html");
  await staffPage.post("/login/", { username: "mail_staff", password: PASSWORD });
});
after(async () => t.close());

async function signUpWith(username: string, email: string): Promise<Client> {
  const client = new Client(t.app);
  const response = await client.postJson("/signup/", {
    username,
    password1: PASSWORD,
    password2: PASSWORD,
    email,
  });
  assert.equal(response.statusCode, 200);
  return client;
}

async function verify(client: Client, email: string): Promise<void> {
  const token = await outboxToken(t.deps.db, email);
  assert.equal((await client.postJson("/email/verify/", { token })).statusCode, 200);
}

function found(body: { users: { username: string }[] }): string[] {
  return body.users.map((u) => u.username).sort();
}

test("a user's page shows the verified address and the one waiting, with its link's times", async () => {
  const client = await signUpWith("shown_sue", "sue@example.com");
  await verify(client, "sue@example.com");
  await client.postJson("/email/", { email: "sue@new.example" });
  const id = await userIdOf(t.deps.db, "shown_sue");
  const json = (await staff.get(`/admin/users/${id}/`)).json();
  assert.equal(json.user.email, "sue@example.com");
  assert.equal(json.user.email_pending, "sue@new.example");
  assert.equal(json.user.deleted_at, null);
  const page = (await staffPage.get(`/admin/users/${id}/`)).body;
  assert.match(page, /id="email-verified">sue@example\.com <span class="badge text-bg-success">verified/);
  assert.match(page, /Waiting for confirmation: sue@new\.example/);
  assert.match(page, /link sent \d{4}-\d{2}-\d{2}/);
  assert.match(page, /action="\/admin\/users\/\d+\/email\/resend\/"/);
  // Without an address: said so, and nothing to resend.
  await new Client(t.app).signUp("bare_ben");
  const bare = (await staffPage.get(`/admin/users/${await userIdOf(t.deps.db, "bare_ben")}/`)).body;
  assert.match(bare, /No verified address\./);
  assert.doesNotMatch(bare, /email\/resend/);
});

test("searching by an address finds its verified owner (the domain's case ignored) and anyone waiting on it", async () => {
  const owner = await signUpWith("find_fay", "Fay@find.example");
  await verify(owner, "Fay@find.example");
  await signUpWith("find_fox", "fox@find.example");
  // Usernames may hold "@": a name that looks like an address is found by its prefix too.
  await new Client(t.app).signUp("fox@find.example.name");
  const search = async (q: string) =>
    found((await staff.get(`/admin/users/?q=${encodeURIComponent(q)}`)).json());
  assert.deepEqual(await search("Fay@FIND.example"), ["find_fay"]);
  assert.deepEqual(await search("fay@find.example"), [], "the part before @ is compared as typed");
  assert.deepEqual(await search("fox@find.example"), ["find_fox", "fox@find.example.name"]);
  assert.deepEqual(await search("find_f"), ["find_fay", "find_fox"]);
  // A part of an address is a username prefix only.
  assert.deepEqual(await search("@find.example"), []);
  const page = (await staffPage.get("/admin/users/?q=Fay%40find.example")).body;
  assert.match(page, /href="\/admin\/users\/\d+\/">find_fay<\/a>/);
  assert.match(page, /Username starts with, or email address/);
});

test("staff send the confirmation link again: a new link, the old one dead, an audit entry", async () => {
  const client = await signUpWith("resend_rex", "rex@example.com");
  const id = await userIdOf(t.deps.db, "resend_rex");
  const oldToken = await outboxToken(t.deps.db, "rex@example.com");
  const response = await staff.postJson(`/admin/users/${id}/email/resend/`, {});
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { email_pending: "rex@example.com" });
  assert.equal(await outboxCount(t.deps.db, "rex@example.com", "verify_email"), 2);
  const newToken = await outboxToken(t.deps.db, "rex@example.com");
  assert.notEqual(newToken, oldToken);
  assert.deepEqual((await client.get(`/email/verify/?token=${oldToken}`)).json(), { valid: false });
  const audit = (await auditRows(t.deps.db)).at(-1);
  assert.equal(audit?.action, "email_verification_resent");
  assert.equal(audit?.actor, "mail_staff");
  assert.equal(audit?.target, "resend_rex");
  // From the page: back to the user's page with a notice.
  const page = await staffPage.post(`/admin/users/${id}/email/resend/`);
  assert.equal(page.statusCode, 303);
  assert.match(page.headers.location ?? "", /notice=verification-resent/);
  assert.match((await staffPage.get(page.headers.location ?? "")).body, /A new confirmation link was sent/);
  // The new link confirms.
  assert.equal(
    (await client.postJson("/email/verify/", { token: await outboxToken(t.deps.db, "rex@example.com") }))
      .statusCode,
    200,
  );
  // Nothing waiting: refused with a reason.
  const nothing = await staff.postJson(`/admin/users/${id}/email/resend/`, {});
  assert.equal(nothing.statusCode, 400);
  assert.deepEqual(nothing.json(), { __all__: ["There is no address waiting for confirmation."] });
  assert.equal((await staff.postJson("/admin/users/999999/email/resend/", {})).statusCode, 404);
});

test("resending is for staff only, needs the CSRF token, and respects the limits on one address", async () => {
  await signUpWith("guarded_gia", "gia@example.com");
  const id = await userIdOf(t.deps.db, "guarded_gia");
  const before = await outboxCount(t.deps.db, "gia@example.com", "verify_email");
  const member = new Client(t.app);
  await member.signUp("not_staff_nat");
  assert.equal((await member.postJson(`/admin/users/${id}/email/resend/`, {})).statusCode, 403);
  assert.equal((await new Client(t.app).postJson(`/admin/users/${id}/email/resend/`, {})).statusCode, 401);
  const forged = await t.app.inject({
    method: "POST",
    url: `/admin/users/${id}/email/resend/`,
    headers: {
      accept: "application/json",
      "content-type": "application/json",
      cookie: [...staff.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
    },
    payload: "{}",
  });
  assert.equal(forged.statusCode, 403);
  assert.equal(await outboxCount(t.deps.db, "gia@example.com", "verify_email"), before);
  // In a window of their own, five links fit, then 429.
  clock.nextHour();
  for (let i = 0; i < 5; i++) {
    assert.equal((await staff.postJson(`/admin/users/${id}/email/resend/`, {})).statusCode, 200, `#${i + 1}`);
  }
  const refused = await staff.postJson(`/admin/users/${id}/email/resend/`, {});
  assert.equal(refused.statusCode, 429);
  const page = await staffPage.post(`/admin/users/${id}/email/resend/`);
  assert.equal(page.statusCode, 429);
  assert.match(page.body, /Too many confirmation links/);
});
