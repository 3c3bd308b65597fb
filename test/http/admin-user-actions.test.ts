// The admin user page's actions: an adjustment's staff note (staff only), ending one session,
// a new referral link, and deactivation's confirmation step.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { hashSessionId } from "../../src/accounts/sessions.js";
import { queryRows } from "../../src/db/connection.js";
import { auditRows, staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";

let t: TestApp;
let staff: Client;
let staffPage: Client;
before(async () => {
  t = await createTestApp();
  staff = await staffClient(t, "actions_staff");
  staffPage = await staffClient(t, "actions_staff_html", "html");
});
after(async () => t.close());

const NOTE = "Ticket 4471: goodwill agreed with the team lead";

describe("an adjustment's reason and staff note", () => {
  let member: Client;
  let memberPage: Client;
  let memberId: number;
  before(async () => {
    member = new Client(t.app);
    await member.signUp("noted_member");
    memberPage = new Client(t.app, "html");
    await memberPage.logIn("noted_member");
    memberId = await userIdOf(t.deps.db, "noted_member");
  });

  test("JSON takes a note; staff see it in the ledger and the audit entry", async () => {
    const response = await staff.postJson(`/admin/users/${memberId}/adjust/`, {
      direction: "add",
      amount: "7.50",
      reason: "Sorry for the delay",
      note: NOTE,
    });
    assert.equal(response.statusCode, 200);
    const detail = (await staff.get(`/admin/users/${memberId}/`)).json();
    assert.equal(detail.ledger[0].reason, "Sorry for the delay");
    assert.equal(detail.ledger[0].staff_note, NOTE);
    const audit = (await auditRows(t.deps.db)).find(
      (a) => a.target === "noted_member" && a.action === "balance_adjusted",
    );
    assert.equal(audit?.details.staff_note, NOTE);
    assert.equal(audit?.details.reason, "Sorry for the delay");
    const stored = await queryRows<{ staff_note: string | null }>(
      t.deps.db,
      sql`SELECT staff_note FROM ledger_entries WHERE user_id = ${memberId}`,
    );
    assert.deepEqual(stored, [{ staff_note: NOTE }]);

    const page = await staffPage.get(`/admin/users/${memberId}/`);
    const ledger = page.body.slice(page.body.indexOf('id="ledger"'));
    assert.match(ledger, /Sorry for the delay/);
    assert.match(ledger, /Staff note:<\/span> Ticket 4471: goodwill agreed with the team lead/);
    assert.match(
      page.body,
      /\(staff note: Ticket 4471: goodwill agreed with the team lead\)/,
      "in the audit log",
    );
    const home = await staffPage.get("/admin/");
    assert.match(home.body, /staff note: Ticket 4471/);
  });

  test("the user sees the reason and never the note, on any page or in any JSON", async () => {
    const seen: string[] = [];
    for (const url of ["/", "/history/", "/referrals/", "/history/?limit=1", "/no-such-page/"]) {
      const json = await member.get(url);
      const page = await memberPage.get(url);
      seen.push(json.body, page.body);
    }
    const history = await member.get("/history/");
    assert.match(history.json().entries[0].reason, /Sorry for the delay/);
    for (const body of seen) {
      assert.doesNotMatch(body, /Ticket 4471/);
      assert.doesNotMatch(body, /staff_note|Staff note/i);
    }
  });

  test("the note is optional and at most 2000 characters; the form keeps what was typed", async () => {
    const plain = await staff.post(`/admin/users/${memberId}/adjust/`, {
      direction: "add",
      amount: "1",
      reason: "No note",
    });
    assert.equal(plain.statusCode, 200);
    const detail = (await staff.get(`/admin/users/${memberId}/`)).json();
    assert.equal(detail.ledger[0].staff_note, null);
    const long = await staff.post(`/admin/users/${memberId}/adjust/`, {
      direction: "add",
      amount: "1",
      reason: "Too long a note",
      note: "n".repeat(2001),
    });
    assert.equal(long.statusCode, 400);
    assert.deepEqual(long.json(), { note: ["Ensure this value has at most 2000 characters (it has 2001)."] });
    const page = await staffPage.post(`/admin/users/${memberId}/adjust/`, {
      direction: "add",
      amount: "",
      reason: "Kept reason",
      note: "Kept <note>",
    });
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /<textarea[^>]*id="adjust-note"[^>]*>Kept &lt;note&gt;<\/textarea>/);
    assert.match(page.body, /<label for="adjust-note"/);
  });
});

describe("ending one session", () => {
  test("staff end one session by its public id: that device is logged out, the others stay, and it is audited", async () => {
    const laptop = new Client(t.app);
    await laptop.signUp("two_devices");
    const phone = new Client(t.app);
    await phone.logIn("two_devices");
    const id = await userIdOf(t.deps.db, "two_devices");
    const sessions = (await staff.get(`/admin/users/${id}/`)).json().sessions as { id: string }[];
    assert.equal(sessions.length, 2);
    const phoneHash = hashSessionId(phone.cookies.get("sessionid") ?? "");
    const phoneSession = sessions.find((s) => phoneHash.startsWith(s.id));
    assert.ok(phoneSession, "each session has a public id");
    assert.match(phoneSession.id, /^[A-Za-z0-9_-]{16}$/);
    assert.notEqual(phoneSession.id, phone.cookies.get("sessionid"), "not the cookie");
    assert.notEqual(phoneSession.id, phoneHash, "not the stored hash either");

    const ended = await staff.post(`/admin/users/${id}/sessions/end/`, { session: phoneSession.id });
    assert.equal(ended.statusCode, 200);
    assert.deepEqual(ended.json(), { ended: true });
    assert.equal((await phone.get("/")).statusCode, 401);
    assert.equal((await laptop.get("/")).statusCode, 200);
    const audit = (await auditRows(t.deps.db)).filter((a) => a.target === "two_devices");
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action, a.details.session]),
      [["actions_staff", "session_ended", phoneSession.id]],
    );

    const again = await staff.post(`/admin/users/${id}/sessions/end/`, { session: phoneSession.id });
    assert.deepEqual(again.json(), { ended: false });
    assert.equal((await auditRows(t.deps.db)).filter((a) => a.target === "two_devices").length, 1);
    const missing = await staff.post(`/admin/users/${id}/sessions/end/`, {});
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(missing.json(), { session: ["This field is required."] });
    assert.equal(
      (await staff.post("/admin/users/999999/sessions/end/", { session: phoneSession.id })).statusCode,
      404,
    );
  });

  test("another user's session is not ended through this user's page", async () => {
    const victim = new Client(t.app);
    await victim.signUp("other_user_session");
    const bystanderId = await userIdOf(t.deps.db, "noted_member");
    const victimId = await userIdOf(t.deps.db, "other_user_session");
    const victimSession = (
      (await staff.get(`/admin/users/${victimId}/`)).json().sessions as { id: string }[]
    )[0];
    assert.ok(victimSession);
    const response = await staff.post(`/admin/users/${bystanderId}/sessions/end/`, {
      session: victimSession.id,
    });
    assert.deepEqual(response.json(), { ended: false });
    assert.equal((await victim.get("/")).statusCode, 200);
  });

  test("the page has an End button per session, which needs the CSRF token and returns with a notice", async () => {
    const device = new Client(t.app);
    await device.signUp("button_user");
    await new Client(t.app).logIn("button_user");
    const id = await userIdOf(t.deps.db, "button_user");
    const page = await staffPage.get(`/admin/users/${id}/`);
    const forms = [
      ...page.body.matchAll(
        /<form method="post" action="\/admin\/users\/\d+\/sessions\/end\/">[\s\S]*?name="session" value="([^"]+)"/g,
      ),
    ];
    assert.equal(forms.length, 2);
    const sessionId = forms[0]?.[1] ?? "";
    const forged = await staffPage.post(
      `/admin/users/${id}/sessions/end/`,
      { session: sessionId },
      { "x-csrftoken": "" },
    );
    assert.equal(forged.statusCode, 403);
    const response = await staffPage.post(`/admin/users/${id}/sessions/end/`, { session: sessionId });
    assert.equal(response.statusCode, 303);
    assert.match(
      String(response.headers.location),
      new RegExp(`^/admin/users/${id}/\\?notice=session-ended`),
    );
    const after = await staffPage.get(String(response.headers.location));
    assert.match(after.body, /The session was ended: that device is logged out\./);
    assert.match(after.body, /Sessions \(1\)/);
  });
});

describe("a new referral link", () => {
  test("staff see the link; a new one replaces it, the old one stops working, and it is audited", async () => {
    const owner = new Client(t.app);
    await owner.signUp("relinked");
    const oldLink = (await owner.dashboard()).referral_link;
    const id = await userIdOf(t.deps.db, "relinked");
    assert.equal((await staff.get(`/admin/users/${id}/`)).json().referral_link, oldLink);
    const page = await staffPage.get(`/admin/users/${id}/`);
    assert.match(page.body, new RegExp(`id="referral-link"[^>]*value="${oldLink.replace(/[?.]/g, "\\$&")}"`));

    const response = await staff.post(`/admin/users/${id}/referral-link/`);
    assert.equal(response.statusCode, 200);
    const newLink = response.json().referral_link as string;
    assert.notEqual(newLink, oldLink);
    assert.equal((await owner.dashboard()).referral_link, newLink);
    const anyone = new Client(t.app);
    assert.deepEqual((await anyone.get(`/signup/?ref=${tokenOf(oldLink)}`)).json(), {
      referral: { valid: false },
    });
    assert.equal((await anyone.get(`/signup/?ref=${tokenOf(newLink)}`)).json().referral.valid, true);
    const late = new Client(t.app);
    await late.signUp("through_old_link", "correct horse battery", tokenOf(oldLink));
    assert.equal((await late.dashboard()).balance_cents, 0, "the old link pays nobody");

    const audit = (await auditRows(t.deps.db)).filter((a) => a.target === "relinked");
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action]),
      [["actions_staff", "referral_link_regenerated"]],
    );
    assert.equal((await staff.post("/admin/users/999999/referral-link/")).statusCode, 404);
  });

  test("in HTML it asks first: the confirmation page, then the change", async () => {
    const owner = new Client(t.app);
    await owner.signUp("relinked_html");
    const oldLink = (await owner.dashboard()).referral_link;
    const id = await userIdOf(t.deps.db, "relinked_html");
    const userPage = await staffPage.get(`/admin/users/${id}/`);
    assert.match(userPage.body, new RegExp(`href="/admin/users/${id}/referral-link/"`));

    const confirm = await staffPage.get(`/admin/users/${id}/referral-link/`);
    assert.equal(confirm.statusCode, 200);
    assert.match(confirm.body, /Give relinked_html a new referral link\?/);
    assert.match(confirm.body, /<input type="hidden" name="confirm" value="yes">/);
    // A form posted without the answer only shows the question again.
    const unconfirmed = await staffPage.post(`/admin/users/${id}/referral-link/`);
    assert.equal(unconfirmed.statusCode, 200);
    assert.match(unconfirmed.body, /id="confirm-form"/);
    assert.equal((await owner.dashboard()).referral_link, oldLink);

    const done = await staffPage.post(`/admin/users/${id}/referral-link/`, { confirm: "yes" });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, `/admin/users/${id}/?notice=link-regenerated`);
    assert.notEqual((await owner.dashboard()).referral_link, oldLink);
    const forged = await staffPage.post(
      `/admin/users/${id}/referral-link/`,
      { confirm: "yes" },
      { "x-csrftoken": "x" },
    );
    assert.equal(forged.statusCode, 403);
  });
});

describe("deactivation asks for confirmation in HTML", () => {
  test("the button leads to a confirmation page; only its form deactivates", async () => {
    await new Client(t.app).signUp("confirm_me");
    const id = await userIdOf(t.deps.db, "confirm_me");
    const userPage = await staffPage.get(`/admin/users/${id}/`);
    assert.match(
      userPage.body,
      new RegExp(`<a class="btn btn-outline-danger btn-sm" href="/admin/users/${id}/deactivate/"`),
    );
    assert.doesNotMatch(
      userPage.body,
      new RegExp(`<form method="post" action="/admin/users/${id}/deactivate/"`),
    );

    const confirm = await staffPage.get(`/admin/users/${id}/deactivate/`);
    assert.equal(confirm.statusCode, 200);
    assert.match(confirm.body, /Deactivate confirm_me\?/);
    assert.match(confirm.body, new RegExp(`<form method="post" action="/admin/users/${id}/deactivate/"`));

    const unconfirmed = await staffPage.post(`/admin/users/${id}/deactivate/`);
    assert.equal(unconfirmed.statusCode, 200);
    assert.match(unconfirmed.body, /id="confirm-form"/);
    const still = (await staff.get(`/admin/users/${id}/`)).json();
    assert.equal(still.user.is_active, true);

    const done = await staffPage.post(`/admin/users/${id}/deactivate/`, { confirm: "yes" });
    assert.equal(done.statusCode, 303);
    assert.equal((await staff.get(`/admin/users/${id}/`)).json().user.is_active, false);
    assert.equal((await staffPage.get("/admin/users/999999/deactivate/")).statusCode, 404);
  });
});

describe("who may use the new actions", () => {
  test("anonymous people and members are refused, and nothing changes", async () => {
    await new Client(t.app).signUp("guarded_user");
    const id = await userIdOf(t.deps.db, "guarded_user");
    const member = new Client(t.app);
    await member.signUp("not_staff_member");
    const before = (await auditRows(t.deps.db)).length;
    for (const url of [`/admin/users/${id}/sessions/end/`, `/admin/users/${id}/referral-link/`]) {
      assert.equal(
        (await new Client(t.app).post(url, { session: "A".repeat(16), confirm: "yes" })).statusCode,
        401,
      );
      assert.equal((await member.post(url, { session: "A".repeat(16), confirm: "yes" })).statusCode, 403);
    }
    for (const url of [`/admin/users/${id}/deactivate/`, `/admin/users/${id}/referral-link/`]) {
      const page = await new Client(t.app, "html").get(url);
      assert.equal(page.statusCode, 302);
      assert.equal((await member.get(url)).statusCode, 403);
    }
    assert.equal((await auditRows(t.deps.db)).length, before);
  });
});
