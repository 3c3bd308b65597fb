// /admin/outbox/ without SMTP_URL: every message is kept, and staff read it there, link and all, so
// the zero-setup start shows the whole flow. Only staff may look. A reset link on its way to
// someone's inbox (pending) is not staff's to read: it would let them set that person's password.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { enqueueEmail } from "../../src/email/outbox.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

describe("the outbox for staff", () => {
  test("lists kept messages by status and shows one as it reads, escaped", async () => {
    const staff = await staffClient(t, "postmaster");
    const html = await staffClient(t, "postmaster_html", "html");
    const member = new Client(t.app, "json");
    await member.signUp("member_o");
    const id = await userIdOf(t.deps.db, "member_o");
    const messageId = await enqueueEmail(t.deps.db, t.app.mailDeps(), {
      kind: "password_reset",
      userId: id,
      to: "member@example.com",
      params: { username: "<member>", token: "reset-token-1", origin: "http://refer.test" },
    });

    const list = await staff.get("/admin/outbox/?status=kept", { accept: "application/json" });
    assert.equal(list.statusCode, 200);
    const body = list.json();
    assert.equal(body.counts.kept, 1);
    assert.deepEqual(
      body.messages.map((m: { id: number; status: string; to: string }) => [m.id, m.status, m.to]),
      [[messageId, "kept", "member@example.com"]],
    );
    const one = await staff.get(`/admin/outbox/${messageId}/`, { accept: "application/json" });
    assert.equal(one.json().subject, "Reset your password");
    assert.match(one.json().text, /http:\/\/refer\.test\/password\/reset\/\?token=reset-token-1/);
    assert.equal(one.json().link_hidden, false);

    const page = await html.get(`/admin/outbox/${messageId}/`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Hello &lt;member&gt;,/);
    assert.match(page.body, /No SMTP server|Outbox/);
    const listPage = await html.get("/admin/outbox/");
    assert.match(listPage.body, /No SMTP server is configured/);

    assert.equal((await member.get("/admin/outbox/", { accept: "application/json" })).statusCode, 403);
    assert.equal((await staff.get("/admin/outbox/999999/")).statusCode, 404);
  });

  test("a reset link on its way to an inbox is hidden from staff", async () => {
    const staff = await staffClient(t, "postmaster_pending");
    const html = await staffClient(t, "postmaster_pending_html", "html");
    const member = new Client(t.app, "json");
    await member.signUp("member_p");
    const id = await userIdOf(t.deps.db, "member_p");
    // What an instance with an SMTP server writes: pending until the worker sends it.
    const sending = { initialStatus: "pending" as const, wake: () => {} };
    const messageId = await enqueueEmail(t.deps.db, sending, {
      kind: "password_reset",
      userId: id,
      to: "pending@example.com",
      params: { username: "member_p", token: "live-reset-token", origin: "http://refer.test" },
    });
    const one = await staff.get(`/admin/outbox/${messageId}/`, { accept: "application/json" });
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().link_hidden, true);
    assert.match(one.json().text, /password\/reset\/\?token=\(hidden\)/);
    assert.doesNotMatch(one.body, /live-reset-token/);
    const page = await html.get(`/admin/outbox/${messageId}/`);
    assert.doesNotMatch(page.body, /live-reset-token/);
    assert.match(page.body, /The reset link is hidden/);
  });
});
