// /admin/review/: the queue of held referrals and the staff decisions on them, over HTTP: who may see
// and decide, what the queue lists, what approving and rejecting write (once only), the form's
// checks, the metrics, and the analytics' counts of held, approved and rejected referrals.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { signalWords } from "../../src/referrals/integrity.js";
import { auditRows, staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";

/** An inviter and the browser they signed up in (which keeps their device cookie after logging out). */
interface Inviter {
  name: string;
  token: string;
  browser: Client;
}

async function newInviter(t: TestApp, name: string): Promise<Inviter> {
  const browser = new Client(t.app);
  const response = await browser.signUp(name);
  assert.equal(response.statusCode, 200, response.body);
  const token = tokenOf((await browser.dashboard()).referral_link);
  return { name, token, browser };
}

/**
 * A referral held by the self-referral signal: the inviter's own browser logs out and signs the
 * invitee up through the inviter's link (its device cookie is the inviter's). Returns its id.
 */
async function selfReferral(t: TestApp, inviter: Inviter, invitee: string): Promise<number> {
  assert.equal((await inviter.browser.post("/logout/")).statusCode, 200);
  const response = await inviter.browser.signUp(invitee, "correct horse battery", inviter.token);
  assert.equal(response.statusCode, 200, response.body);
  const referral = await referralOf(t, invitee);
  assert.equal(referral.status, "held", `${invitee}'s referral is held`);
  return referral.id;
}

/** A sign-up through the link from a browser of its own: approved at once (with the signals that fire here off). */
async function freshReferral(t: TestApp, inviter: Inviter, invitee: string): Promise<number> {
  const response = await new Client(t.app).signUp(invitee, "correct horse battery", inviter.token);
  assert.equal(response.statusCode, 200, response.body);
  return (await referralOf(t, invitee)).id;
}

interface ReferralRow {
  id: number;
  status: string;
  reason: string | null;
  staff_note: string | null;
  decided_by: string | null;
  signals: string[];
}

async function referralOf(t: TestApp, invitee: string): Promise<ReferralRow> {
  const [row] = await queryRows<ReferralRow>(
    t.deps.db,
    sql`SELECT r.id::int AS id, r.status, r.reason, r.staff_note, d.username AS decided_by, r.signals
        FROM referrals r JOIN users e ON e.id = r.invitee_id LEFT JOIN users d ON d.id = r.decided_by_id
        WHERE e.username = ${invitee}`,
  );
  if (!row) throw new Error(`no referral for ${invitee}`);
  return row;
}

async function moneyOf(t: TestApp, username: string): Promise<{ balance: number; pending: number }> {
  const [row] = await queryRows<{ balance: number; pending: number }>(
    t.deps.db,
    sql`SELECT balance_cents::int AS balance, pending_cents::int AS pending FROM users WHERE username = ${username}`,
  );
  if (!row) throw new Error(`no user ${username}`);
  return row;
}

async function referredCountOf(t: TestApp, username: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT referred_count AS n FROM users WHERE username = ${username}`,
  );
  return Number(row?.n);
}

async function bonusStatusOf(t: TestApp, username: string): Promise<string[]> {
  const rows = await queryRows<{ status: string }>(
    t.deps.db,
    sql`SELECT l.status FROM ledger_entries l JOIN users u ON u.id = l.user_id
        WHERE u.username = ${username} AND l.kind = 'invitee_bonus' ORDER BY l.id`,
  );
  return rows.map((r) => r.status);
}

/** Users whose cached balance or pending total differs from their posted or pending ledger entries. */
async function cacheMismatches(t: TestApp): Promise<string[]> {
  const rows = await queryRows<{ username: string }>(
    t.deps.db,
    sql`SELECT u.username FROM users u LEFT JOIN ledger_entries l ON l.user_id = u.id
        GROUP BY u.id
        HAVING u.balance_cents <> COALESCE(SUM(l.amount_cents) FILTER (WHERE l.status = 'posted'), 0)
            OR u.pending_cents <> COALESCE(SUM(l.amount_cents) FILTER (WHERE l.status = 'pending'), 0)`,
  );
  return rows.map((r) => r.username);
}

async function ledgerCount(t: TestApp): Promise<number> {
  const rows = await queryRows<{ n: number }>(t.deps.db, sql`SELECT count(*)::int AS n FROM ledger_entries`);
  return rows[0]?.n ?? 0;
}

/**
 * A form body sent as a browser sends it, with repeated fields (Client.post takes one value a name),
 * the client's cookies, and the CSRF token in the form as a page's form carries it.
 */
async function postForm(t: TestApp, client: Client, url: string, fields: [string, string][]) {
  const body = new URLSearchParams([["csrfmiddlewaretoken", client.csrfToken ?? ""], ...fields]);
  return t.app.inject({
    method: "POST",
    url,
    remoteAddress: "127.0.0.1",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
    },
    payload: body.toString(),
  });
}

describe("the review queue", () => {
  let t: TestApp;
  let staff: Client;
  let staffHtml: Client;

  before(async () => {
    t = await createTestApp();
    staff = await staffClient(t, "queue_staff");
    staffHtml = await staffClient(t, "queue_staff_html", "html");
  });
  after(async () => t.close());

  test("anonymous people are sent to log in (401 in JSON), and nobody else but staff may see or decide", async () => {
    const alice = await newInviter(t, "gate_alice");
    const id = await selfReferral(t, alice, "gate_bob");
    const form = { action: "approve", ids: String(id), reason: "ok" };

    const anonymousPage = await new Client(t.app, "html").get("/admin/review/");
    assert.equal(anonymousPage.statusCode, 302);
    assert.equal(anonymousPage.headers.location, "/login/?next=/admin/review/");
    assert.equal((await new Client(t.app).get("/admin/review/")).statusCode, 401);
    const anonymousPost = await new Client(t.app, "html").post("/admin/review/", form);
    assert.equal(anonymousPost.statusCode, 302);
    assert.equal(anonymousPost.headers.location, "/login/?next=/admin/review/");
    assert.equal((await new Client(t.app).post("/admin/review/", form)).statusCode, 401);

    const member = new Client(t.app);
    await member.signUp("gate_member");
    const memberHtml = new Client(t.app, "html");
    await memberHtml.signUp("gate_member_html");
    assert.equal((await member.get("/admin/review/")).statusCode, 403);
    const page = await memberHtml.get("/admin/review/");
    assert.equal(page.statusCode, 403);
    assert.doesNotMatch(page.body, /gate_bob/);
    const refused = await member.post("/admin/review/", form);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error, "forbidden");
    assert.equal((await memberHtml.post("/admin/review/", form)).statusCode, 403);

    assert.equal((await referralOf(t, "gate_bob")).status, "held", "nobody decided it");
    assert.deepEqual(await moneyOf(t, "gate_bob"), { balance: 0, pending: 1000 });
    assert.equal((await auditRows(t.deps.db)).filter((r) => r.action.startsWith("referral_")).length, 0);
    // Clean up for the tests that count what the queue holds.
    assert.deepEqual((await staff.postJson("/admin/review/", { action: "approve", ids: [id] })).json(), {
      decided: [id],
      already_decided: [],
    });
  });

  test("an empty queue says so, and the navigation shows no count", async () => {
    assert.deepEqual((await staff.get("/admin/review/")).json(), { referrals: [], next_cursor: null });
    const page = await staffHtml.get("/admin/review/");
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /id="review-empty"/);
    assert.match(page.body, /Nothing to review/);
    assert.doesNotMatch(page.body, /<form method="post" action="\/admin\/review\/"/);
    assert.match(
      page.body,
      /<a class="nav-link active" href="\/admin\/review\/" aria-current="page">Review queue<\/a>/,
    );
    assert.match((await staffHtml.get("/admin/")).body, /No referral is waiting for review\./);
  });

  test("held referrals are listed newest first, with their signals in words and the inviter's other referrals", async () => {
    const alice = await newInviter(t, "list_alice");
    const approvedId = await freshReferral(t, alice, "list_dave");
    const bobId = await selfReferral(t, alice, "list_bob");
    const carolId = await selfReferral(t, alice, "list_carol");
    const zed = await newInviter(t, "list_zed");
    const yanId = await selfReferral(t, zed, "list_yan");
    assert.equal((await referralOf(t, "list_dave")).status, "approved");

    const queue = (await staff.get("/admin/review/")).json();
    assert.deepEqual(
      queue.referrals.map((r: { id: number }) => r.id),
      [yanId, carolId, bobId],
      "newest first; the approved referral is not there",
    );
    assert.equal(queue.next_cursor, null);
    const bob = queue.referrals[2];
    assert.deepEqual(
      { ...bob, created_at: undefined },
      {
        id: bobId,
        invitee: { id: await userIdOf(t.deps.db, "list_bob"), username: "list_bob" },
        inviter: { id: await userIdOf(t.deps.db, "list_alice"), username: "list_alice" },
        created_at: undefined,
        signals: ["self_referral"],
        signal_words: [signalWords.self_referral],
        hold_until: null,
        pending_cents: 1000,
        inviter_referrals: { approved: 1, held: 1, rejected: 0 },
        inviter_latest: [
          {
            referral_id: carolId,
            invitee: { id: await userIdOf(t.deps.db, "list_carol"), username: "list_carol" },
            status: "held",
          },
          {
            referral_id: approvedId,
            invitee: { id: await userIdOf(t.deps.db, "list_dave"), username: "list_dave" },
            status: "approved",
          },
        ],
      },
    );
    assert.match(bob.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.deepEqual(queue.referrals[0].inviter_referrals, { approved: 0, held: 0, rejected: 0 });
    assert.deepEqual(queue.referrals[0].inviter_latest, []);

    const page = await staffHtml.get("/admin/review/");
    assert.equal(page.statusCode, 200);
    const body = page.body;
    const positions = ["list_yan", "list_carol", "list_bob"].map((name) =>
      body.indexOf(`>${name}</a></td>\n<td data-label="Inviter">`),
    );
    assert.ok(
      positions.every((p) => p > 0),
      String(positions),
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
      "newest first on the page too",
    );
    assert.match(body, /Signed up from a browser the inviter uses \(their session or device cookie\)\./);
    assert.match(
      body,
      new RegExp(
        `<input class="form-check-input" type="checkbox" name="ids" value="${bobId}" id="select-${bobId}">`,
      ),
    );
    assert.match(body, /<a href="\/admin\/users\/\d+\/">list_alice<\/a>/);
    assert.match(body, /1 approved · 1 held · 0 rejected/);
    assert.match(body, /\$10\.00/);
    assert.match(body, /name="csrfmiddlewaretoken"/);
    assert.doesNotMatch(body, /\sstyle=|<script(?! src)/i, "the CSP forbids inline styles and scripts");
    assert.match(
      body,
      /Review queue <span class="badge rounded-pill text-bg-warning">3<span class="visually-hidden"> held<\/span><\/span>/,
    );
    const home = (await staffHtml.get("/admin/")).body;
    assert.match(home, /3 referrals are held for review\./);
    assert.match(
      home,
      /<a class="btn btn-sm btn-dark ms-sm-auto" href="\/admin\/review\/">Open the review queue<\/a>/,
    );

    // Paged: two at a time, then the rest, in the same order; a malformed cursor is a 400.
    const first = (await staff.get("/admin/review/?limit=2")).json();
    assert.deepEqual(
      first.referrals.map((r: { id: number }) => r.id),
      [yanId, carolId],
    );
    assert.equal(first.next_cursor, String(carolId));
    const second = (await staff.get(`/admin/review/?limit=2&cursor=${first.next_cursor}`)).json();
    assert.deepEqual(
      second.referrals.map((r: { id: number }) => r.id),
      [bobId],
    );
    assert.equal(second.next_cursor, null);
    const secondPage = await staffHtml.get(`/admin/review/?limit=2&cursor=${first.next_cursor}`);
    assert.match(secondPage.body, /<input type="hidden" name="cursor" value="\d+">/);
    assert.match(secondPage.body, /href="\/admin\/review\/">Newest<\/a>/);
    assert.equal((await staff.get("/admin/review/?cursor=abc")).statusCode, 400);

    // Leave the queue empty for the next tests.
    await staff.postJson("/admin/review/", { action: "approve", ids: [yanId, carolId, bobId] });
  });

  test("approving one posts the invitee's bonus, counts it for the inviter, and audits it", async () => {
    const alice = await newInviter(t, "ok_alice");
    const id = await selfReferral(t, alice, "ok_bob");
    assert.deepEqual(await moneyOf(t, "ok_bob"), { balance: 0, pending: 1000 });
    const auditBefore = (await auditRows(t.deps.db)).length;

    const response = await staff.postJson("/admin/review/", {
      action: "approve",
      ids: [id],
      reason: "Checked with the family",
      note: "Same flat, two people",
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { decided: [id], already_decided: [] });

    assert.deepEqual(await moneyOf(t, "ok_bob"), { balance: 1000, pending: 0 });
    assert.deepEqual(await bonusStatusOf(t, "ok_bob"), ["posted"]);
    assert.deepEqual(await referralOf(t, "ok_bob"), {
      id,
      status: "approved",
      reason: "Checked with the family",
      staff_note: "Same flat, two people",
      decided_by: "queue_staff",
      signals: ["self_referral"],
    });
    assert.equal(await referredCountOf(t, "ok_alice"), 1, "it counts toward the inviter's five");
    const audit = await auditRows(t.deps.db);
    assert.equal(audit.length, auditBefore + 1);
    const entry = audit.at(-1);
    assert.equal(entry?.action, "referral_approved");
    assert.equal(entry?.actor, "queue_staff");
    assert.equal(entry?.target, "ok_bob");
    assert.equal(entry?.details.referral_id, id);
    assert.equal(entry?.details.amount_cents, 1000);
    assert.equal(entry?.details.staff_note, "Same flat, two people");
    assert.deepEqual(await cacheMismatches(t), []);
    assert.deepEqual((await staff.get("/admin/review/")).json().referrals, [], "it left the queue");
    const home = (await staffHtml.get("/admin/")).body;
    assert.match(home, /Referral approved/);
    assert.match(home, new RegExp(`Referral #${id}: \\$10\\.00 posted — Checked with the family`));
  });

  test("rejecting one voids the pending bonus and keeps the reason and the staff note apart", async () => {
    const alice = await newInviter(t, "no_alice");
    const id = await selfReferral(t, alice, "no_bob");
    const response = await staff.postJson("/admin/review/", {
      action: "reject",
      ids: [String(id)],
      reason: "  Signed up from the inviter's own browser  ",
      note: "Second account, same device",
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { decided: [id], already_decided: [] });
    assert.deepEqual(await moneyOf(t, "no_bob"), { balance: 0, pending: 0 });
    assert.deepEqual(await bonusStatusOf(t, "no_bob"), ["void"]);
    const referral = await referralOf(t, "no_bob");
    assert.equal(referral.status, "rejected");
    assert.equal(referral.reason, "Signed up from the inviter's own browser", "trimmed");
    assert.equal(referral.staff_note, "Second account, same device");
    assert.equal(referral.decided_by, "queue_staff");
    assert.equal(await referredCountOf(t, "no_alice"), 0, "a rejected referral never counts");
    const entry = (await auditRows(t.deps.db)).at(-1);
    assert.equal(entry?.action, "referral_rejected");
    assert.equal(entry?.target, "no_bob");
    assert.equal(entry?.details.reason, "Signed up from the inviter's own browser");
    assert.equal(entry?.details.amount_cents, 1000);
    assert.deepEqual(await cacheMismatches(t), []);
  });

  test("many at once from the page's checkboxes: each decided, the notice says how many", async () => {
    const alice = await newInviter(t, "many_alice");
    const ids = [
      await selfReferral(t, alice, "many_one"),
      await selfReferral(t, alice, "many_two"),
      await selfReferral(t, alice, "many_three"),
    ];
    await staffHtml.get("/admin/review/");
    const response = await postForm(t, staffHtml, "/admin/review/", [
      ["ids", String(ids[0])],
      ["ids", String(ids[2])],
      ["action", "approve"],
      ["reason", ""],
      ["note", ""],
    ]);
    assert.equal(response.statusCode, 303, response.body);
    assert.equal(response.headers.location, "/admin/review/?notice=approved&decided=2&already=0");
    for (const name of ["many_one", "many_three"]) {
      assert.deepEqual(await moneyOf(t, name), { balance: 1000, pending: 0 }, name);
      const referral = await referralOf(t, name);
      assert.equal(referral.status, "approved");
      assert.equal(referral.reason, null, "an empty reason is none");
      assert.equal(referral.staff_note, null);
    }
    assert.equal((await referralOf(t, "many_two")).status, "held", "the box not ticked is left alone");
    const page = await staffHtml.get(String(response.headers.location));
    assert.match(
      page.body,
      /<div class="alert alert-success" role="status" id="review-notice">2 referrals approved\.<\/div>/,
    );
    assert.match(page.body, new RegExp(`<tr id="referral-${ids[1]}">`));
    assert.doesNotMatch(page.body, new RegExp(`<tr id="referral-(${ids[0]}|${ids[2]})">`));
    const approved = (await auditRows(t.deps.db)).filter(
      (r) => r.action === "referral_approved" && ["many_one", "many_three"].includes(r.target ?? ""),
    );
    assert.equal(approved.length, 2, "one audit entry each");

    const rest = await postForm(t, staffHtml, "/admin/review/", [
      ["ids", String(ids[1])],
      ["action", "reject"],
      ["reason", "Duplicate account"],
    ]);
    assert.equal(rest.headers.location, "/admin/review/?notice=rejected&decided=1&already=0");
    assert.match((await staffHtml.get(String(rest.headers.location))).body, /1 referral rejected\./);
    assert.equal((await referralOf(t, "many_two")).status, "rejected");
  });

  test("a referral decided already is reported as such, and a second decision changes nothing", async () => {
    const alice = await newInviter(t, "twice_alice");
    const first = await selfReferral(t, alice, "twice_bob");
    const second = await selfReferral(t, alice, "twice_carol");
    assert.deepEqual((await staff.postJson("/admin/review/", { action: "approve", ids: [first] })).json(), {
      decided: [first],
      already_decided: [],
    });
    const before = {
      ledger: await ledgerCount(t),
      audit: (await auditRows(t.deps.db)).length,
      bob: await moneyOf(t, "twice_bob"),
      referral: await referralOf(t, "twice_bob"),
    };

    const again = await staff.postJson("/admin/review/", {
      action: "reject",
      ids: [first],
      reason: "Changed my mind",
    });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), { decided: [], already_decided: [first] });
    assert.equal(await ledgerCount(t), before.ledger);
    assert.equal((await auditRows(t.deps.db)).length, before.audit);
    assert.deepEqual(await moneyOf(t, "twice_bob"), before.bob);
    assert.deepEqual(await referralOf(t, "twice_bob"), before.referral, "still approved, no reason added");

    // Mixed: the one still held is decided, the other reported; an unknown id is not held either.
    const mixed = await postForm(t, staffHtml, "/admin/review/", [
      ["ids", String(first)],
      ["ids", String(second)],
      ["ids", "999999"],
      ["action", "reject"],
      ["reason", "Same person"],
    ]);
    assert.equal(mixed.statusCode, 303);
    assert.equal(mixed.headers.location, "/admin/review/?notice=rejected&decided=1&already=2");
    assert.match(
      (await staffHtml.get(String(mixed.headers.location))).body,
      /1 referral rejected\. 2 were already decided and were left as they were\./,
    );
    assert.equal((await referralOf(t, "twice_bob")).status, "approved");
    assert.equal((await referralOf(t, "twice_carol")).status, "rejected");
    assert.deepEqual(await cacheMismatches(t), []);
  });

  test("the same id twice in one request is decided once", async () => {
    const alice = await newInviter(t, "dup_alice");
    const id = await selfReferral(t, alice, "dup_bob");
    const response = await staff.postJson("/admin/review/", { action: "approve", ids: [id, String(id), id] });
    assert.deepEqual(response.json(), { decided: [id], already_decided: [] });
    assert.deepEqual(await moneyOf(t, "dup_bob"), { balance: 1000, pending: 0 });
  });

  test("the form is checked: a reason to reject, lengths, an action and some ids; nothing is decided otherwise", async () => {
    const alice = await newInviter(t, "bad_alice");
    const id = await selfReferral(t, alice, "bad_bob");
    const before = { ledger: await ledgerCount(t), audit: (await auditRows(t.deps.db)).length };
    const cases: [Record<string, unknown>, Record<string, string[]>][] = [
      [{ action: "reject", ids: [id] }, { reason: ["This field is required."] }],
      [{ action: "reject", ids: [id], reason: "   " }, { reason: ["This field is required."] }],
      [
        { action: "reject", ids: [id], reason: "x".repeat(501) },
        { reason: ["Ensure this value has at most 500 characters (it has 501)."] },
      ],
      [
        { action: "approve", ids: [id], note: "n".repeat(2001) },
        { note: ["Ensure this value has at most 2000 characters (it has 2001)."] },
      ],
      [{ action: "delete", ids: [id] }, { action: ['Choose "approve" or "reject".'] }],
      [{ action: "approve" }, { ids: ["Select at least one referral."] }],
      [{ action: "approve", ids: [] }, { ids: ["Select at least one referral."] }],
      [{ action: "approve", ids: ["1; DROP"] }, { ids: ["Give the referrals as a list of their numbers."] }],
      [{ action: "approve", ids: [{ id }] }, { ids: ["Give the referrals as a list of their numbers."] }],
      [{ action: "approve", ids: [-id] }, { ids: ["Give the referrals as a list of their numbers."] }],
      [
        { action: "approve", ids: Array.from({ length: 101 }, (_, i) => i + 1) },
        { ids: ["Decide at most 100 referrals at once (101 selected)."] },
      ],
      [{ action: "approve", ids: [id], reason: 5 }, { reason: ["Enter the reason as text."] }],
    ];
    for (const [body, errors] of cases) {
      const response = await staff.postJson("/admin/review/", body);
      assert.equal(response.statusCode, 400, JSON.stringify(body).slice(0, 80));
      assert.deepEqual(response.json(), errors, JSON.stringify(body).slice(0, 80));
    }
    // The page shows the queue again with the errors, the box still ticked and the note kept.
    await staffHtml.get("/admin/review/");
    const page = await postForm(t, staffHtml, "/admin/review/", [
      ["ids", String(id)],
      ["action", "reject"],
      ["reason", ""],
      ["note", "Looks like a <b>bot</b>"],
    ]);
    assert.equal(page.statusCode, 400);
    assert.match(
      page.body,
      /<div class="alert alert-danger" role="alert" id="review-errors"><div class="fw-semibold">Nothing was decided\.<\/div><div><a href="#review-reason" class="alert-link">Reason<\/a>: This field is required\.<\/div><\/div>/,
    );
    assert.match(page.body, /id="review-reason-errors"><div>This field is required\.<\/div>/);
    assert.match(page.body, new RegExp(`value="${id}" id="select-${id}" checked`));
    assert.match(page.body, /Looks like a &lt;b&gt;bot&lt;\/b&gt;<\/textarea>/);
    assert.match(page.body, /aria-invalid="true"/);
    const none = await postForm(t, staffHtml, "/admin/review/", [["action", "approve"]]);
    assert.equal(none.statusCode, 400);
    assert.match(none.body, /Select at least one referral\./);

    assert.equal((await referralOf(t, "bad_bob")).status, "held");
    assert.equal(await ledgerCount(t), before.ledger);
    assert.equal((await auditRows(t.deps.db)).length, before.audit);
  });

  test("a decision without the CSRF token is refused with 403 and decides nothing", async () => {
    const alice = await newInviter(t, "csrf_alice");
    const id = await selfReferral(t, alice, "csrf_bob");
    const missing = await staff.postJson(
      "/admin/review/",
      { action: "approve", ids: [id] },
      { "x-csrftoken": "" },
    );
    assert.equal(missing.statusCode, 403);
    assert.equal(missing.json().error, "csrf_failed");
    const html = await postForm(t, new Client(t.app, "html"), "/admin/review/", [
      ["ids", String(id)],
      ["action", "approve"],
    ]);
    assert.equal(html.statusCode, 403);
    const noToken = await t.app.inject({
      method: "POST",
      url: "/admin/review/",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: [...staffHtml.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      },
      payload: `ids=${id}&action=approve`,
    });
    assert.equal(noToken.statusCode, 403);
    assert.equal((await referralOf(t, "csrf_bob")).status, "held");
    assert.deepEqual(await moneyOf(t, "csrf_bob"), { balance: 0, pending: 1000 });
  });

  test("a user's admin page shows the pending credit and each ledger entry's status", async () => {
    const alice = await newInviter(t, "page_alice");
    await selfReferral(t, alice, "page_held");
    const voidId = await selfReferral(t, alice, "page_void");
    await staff.postJson("/admin/review/", { action: "reject", ids: [voidId], reason: "duplicate" });
    const held = (await staff.get(`/admin/users/${await userIdOf(t.deps.db, "page_held")}/`)).json();
    assert.equal(held.user.pending_cents, 1000);
    assert.deepEqual(
      held.ledger.map((l: { kind: string; status: string }) => [l.kind, l.status]),
      [["invitee_bonus", "pending"]],
    );
    const voidId2 = await userIdOf(t.deps.db, "page_void");
    const voided = (await staff.get(`/admin/users/${voidId2}/`)).json();
    assert.deepEqual([voided.user.pending_cents, voided.ledger[0].status], [0, "void"]);
    const page = (await staffHtml.get(`/admin/users/${await userIdOf(t.deps.db, "page_held")}/`)).body;
    assert.match(page, /id="pending"/);
    assert.match(page, /\$10\.00<\/a> held for review/);
  });

  test("staff cannot decide a referral they are part of, as inviter or as invitee", async () => {
    const boss = await newInviter(t, "own_boss");
    const id = await selfReferral(t, boss, "own_friend");
    await t.deps.db.execute(
      sql`UPDATE users SET is_staff = true WHERE username IN ('own_boss', 'own_friend')`,
    );
    for (const who of ["own_boss", "own_friend"]) {
      const member = new Client(t.app);
      await member.logIn(who);
      const refused = await member.postJson("/admin/review/", { action: "approve", ids: [id] });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.json().ids[0], /You cannot decide a referral you are part of/);
    }
    assert.equal((await referralOf(t, "own_friend")).status, "held");
    assert.deepEqual(await moneyOf(t, "own_friend"), { balance: 0, pending: 1000 });
    const other = await staff.postJson("/admin/review/", { action: "approve", ids: [id] });
    assert.deepEqual(other.json().decided, [id]);
  });
});

describe("referrals held for everyone", () => {
  let t: TestApp;
  let staff: Client;
  before(async () => {
    t = await createTestApp({ REFERRAL_HOLD_HOURS: "24" });
    staff = await staffClient(t, "hold_staff");
  });
  after(async () => t.close());

  test("are listed with the end of their hold in words, and staff may decide them early", async () => {
    const alice = await newInviter(t, "hold_alice");
    await new Client(t.app).signUp("hold_bob", "correct horse battery", alice.token);
    const queue = (await staff.get("/admin/review/")).json();
    assert.equal(queue.referrals.length, 1);
    const held = queue.referrals[0];
    assert.deepEqual(held.signals, []);
    const holdUntil = new Date(held.hold_until);
    const expected = Date.now() + 24 * 3_600_000;
    assert.ok(Math.abs(holdUntil.getTime() - expected) < 60_000, held.hold_until);
    const minute = `${holdUntil.toISOString().slice(0, 16).replace("T", " ")} UTC`;
    assert.deepEqual(held.signal_words, [`Held for everyone until ${minute}.`]);
    const html = await staff.get("/admin/review/", { accept: "text/html" });
    assert.match(html.body, new RegExp(`<li>Held for everyone until ${minute}\\.</li>`));

    const decided = await staff.postJson("/admin/review/", { action: "approve", ids: [held.id] });
    assert.deepEqual(decided.json(), { decided: [held.id], already_decided: [] });
    assert.deepEqual(await moneyOf(t, "hold_bob"), { balance: 1000, pending: 0 });
  });
});

describe("metrics and analytics", () => {
  let t: TestApp;
  let staff: Client;
  let heldId: number;
  before(async () => {
    t = await createTestApp();
    staff = await staffClient(t, "figures_staff");
    const alice = await newInviter(t, "fig_alice");
    const approve = await selfReferral(t, alice, "fig_approved");
    const reject = await selfReferral(t, alice, "fig_rejected");
    heldId = await selfReferral(t, alice, "fig_held");
    await freshReferral(t, await newInviter(t, "fig_zed"), "fig_direct");
    await staff.postJson("/admin/review/", { action: "approve", ids: [approve] });
    await staff.postJson("/admin/review/", { action: "reject", ids: [reject], reason: "No" });
  });
  after(async () => t.close());

  test("each staff decision is counted at GET /metrics, with the credit it settled", async () => {
    const text = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
    assert.match(text, /^referral_decisions_total\{decision="approved",by="staff"\} 1$/m);
    assert.match(text, /^referral_decisions_total\{decision="rejected",by="staff"\} 1$/m);
    assert.match(text, /^referral_decisions_total\{decision="approved",by="hold"\} 0$/m);
    assert.match(text, /^referral_decisions_cents_total\{decision="approved"\} 1000$/m);
    assert.match(text, /^referral_decisions_cents_total\{decision="rejected"\} 1000$/m);
    // One direct sign-up's bonus and one approved bonus: paid.
    assert.match(text, /^referral_rewards_paid_cents_total\{kind="invitee_bonus"\} 2000$/m);
  });

  test("the analytics count today's referrals as held, approved and rejected, with their bonuses", async () => {
    const stats = (await staff.get("/admin/stats/?days=7")).json();
    const today = stats.days.at(-1);
    assert.equal(today.day, new Date().toISOString().slice(0, 10));
    const figures = (d: Record<string, number>) => ({
      held: d.held_referrals,
      approved: d.approved_referrals,
      rejected: d.rejected_referrals,
      heldCents: d.held_cents,
      approvedCents: d.approved_cents,
      rejectedCents: d.rejected_cents,
    });
    const expected = {
      held: 1,
      approved: 2,
      rejected: 1,
      heldCents: 1000,
      approvedCents: 2000,
      rejectedCents: 1000,
    };
    assert.deepEqual(figures(today), expected);
    assert.deepEqual(figures(stats), expected, "the period's totals");
    assert.deepEqual(figures(stats.days[0]), {
      held: 0,
      approved: 0,
      rejected: 0,
      heldCents: 0,
      approvedCents: 0,
      rejectedCents: 0,
    });
    // Only posted bonuses were paid: the pending and the void ones are not.
    assert.equal(today.invitee_bonus_cents, 2000);
    assert.equal(stats.rewards_paid_cents, 2000);

    const page = (await staff.get("/admin/stats/?days=7", { accept: "text/html" })).body;
    assert.match(page, /id="referrals-chart"/);
    assert.match(page, /id="referrals-table"/);
    assert.match(page, /id="total-held">1 <span class="small text-body-secondary">\$10\.00<\/span>/);
    assert.match(page, /id="total-approved">2 <span class="small text-body-secondary">\$20\.00<\/span>/);
    assert.match(page, /id="total-rejected">1 <span class="small text-body-secondary">\$10\.00<\/span>/);
    assert.match(page, /<a href="\/admin\/review\/">Review the held ones<\/a>/);
    const queue = (await staff.get("/admin/review/")).json();
    assert.deepEqual(
      queue.referrals.map((r: { id: number }) => r.id),
      [heldId],
      "the one held is the one in the queue",
    );
  });
});
