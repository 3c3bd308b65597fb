// Two separate server processes on two ports over one PostgreSQL database, as behind a load
// balancer: a session, a CSRF token and throttling counters made on one hold on the other, and
// concurrent referred sign-ups spread over both keep the ledger exact.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { oneAddressSignals } from "../support/app.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";
import { balanceMismatches, ledgerOf } from "../support/ledger.js";
import { rememberSetCookies, type ServerProcess, startServerProcess } from "../support/server-process.js";

const skip = onPostgres
  ? false
  : "several instances need PostgreSQL (set DATABASE_URL); PGlite is one process";

/** One browser's cookie jar, sending each request to whichever instance the test names. */
class Jar {
  readonly cookies = new Map<string, string>();

  async fetch(base: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("accept", "application/json");
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(`${base}${path}`, { ...init, headers, redirect: "manual" });
    rememberSetCookies(this.cookies, response.headers.getSetCookie());
    return response;
  }

  post(
    base: string,
    path: string,
    fields: Record<string, string>,
    csrf = this.cookies.get("csrftoken") ?? "",
  ) {
    return this.fetch(base, path, {
      method: "POST",
      headers: { "x-csrftoken": csrf, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
  }

  signUp(base: string, username: string, ref = "") {
    const path = ref ? `/signup/?ref=${ref}` : "/signup/";
    return this.post(base, path, {
      username,
      password1: "correct horse battery",
      password2: "correct horse battery",
    });
  }
}

describe("two instances over one database", { skip }, () => {
  let database: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  before(async () => {
    database = await createTestDatabase();
    // Every client is on 127.0.0.1, as the inviters are: the signals that would hold them are off.
    const env = { LOGIN_FAILURES_PER_WINDOW: "3", SIGNUPS_PER_WINDOW: "100000", ...oneAddressSignals };
    [a, b] = await Promise.all([
      startServerProcess(env, { databaseUrl: database.url }),
      startServerProcess(env, { databaseUrl: database.url }),
    ]);
    assert.notEqual(a.baseUrl, b.baseUrl);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  test("a session started on one instance is valid on the other, and logging out on one ends it on both", async () => {
    const jar = new Jar();
    await jar.fetch(a.baseUrl, "/login/");
    assert.equal((await jar.signUp(a.baseUrl, "roaming")).status, 200);
    const jarSession = jar.cookies.get("sessionid") as string;
    assert.ok(jarSession);
    const onB = await jar.fetch(b.baseUrl, "/");
    assert.equal(onB.status, 200);
    assert.equal(((await onB.json()) as { balance_cents: number }).balance_cents, 0);
    assert.equal((await jar.post(b.baseUrl, "/logout/", {})).status, 200);
    // The cookie from before, replayed to the first instance: the session is gone there too.
    const stale = new Jar();
    const sessionId = jarSession;
    stale.cookies.set("sessionid", sessionId);
    assert.equal((await stale.fetch(a.baseUrl, "/")).status, 401);
  });

  test("a CSRF token handed out by one instance is accepted by the other; a wrong one is refused by both", async () => {
    const jar = new Jar();
    await jar.fetch(a.baseUrl, "/login/");
    const token = jar.cookies.get("csrftoken");
    assert.ok(token);
    assert.equal((await jar.signUp(b.baseUrl, "csrf_roamer")).status, 200);
    const wrong = "A".repeat(43);
    for (const base of [a.baseUrl, b.baseUrl]) {
      const r = await jar.post(base, "/logout/", {}, wrong);
      assert.equal(r.status, 403);
      assert.equal(((await r.json()) as { error: string }).error, "csrf_failed");
    }
  });

  test("failed logins counted on both instances add up: the limit holds across them", async () => {
    const victim = new Jar();
    await victim.fetch(a.baseUrl, "/login/");
    assert.equal((await victim.signUp(a.baseUrl, "throttled_victim")).status, 200);
    const attacker = new Jar();
    await attacker.fetch(a.baseUrl, "/login/");
    const statuses: number[] = [];
    for (const base of [a.baseUrl, b.baseUrl, a.baseUrl]) {
      statuses.push(
        (await attacker.post(base, "/login/", { username: "throttled_victim", password: "wrong guess" }))
          .status,
      );
    }
    assert.deepEqual(statuses, [400, 400, 400]);
    for (const base of [b.baseUrl, a.baseUrl]) {
      const r = await attacker.post(base, "/login/", {
        username: "throttled_victim",
        password: "correct horse battery",
      });
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers.get("retry-after")) > 0);
    }
  });

  test("30 concurrent referred sign-ups, alternating between the instances, pay exactly once per 5th", async () => {
    const inviter = new Jar();
    await inviter.fetch(a.baseUrl, "/login/");
    assert.equal((await inviter.signUp(a.baseUrl, "shared_inviter")).status, 200);
    const me = (await (await inviter.fetch(b.baseUrl, "/")).json()) as { referral_link: string };
    const ref = new URL(me.referral_link).searchParams.get("ref") as string;

    const invitees = Array.from({ length: 30 }, () => new Jar());
    const bases = invitees.map((_, i) => (i % 2 === 0 ? a.baseUrl : b.baseUrl));
    await Promise.all(invitees.map((jar, i) => jar.fetch(bases[i] as string, "/login/")));
    const statuses = await Promise.all(
      invitees.map((jar, i) => jar.signUp(bases[i] as string, `shared_${i}`, ref).then((r) => r.status)),
    );
    assert.deepEqual(statuses, Array(30).fill(200));

    const after = (await (await inviter.fetch(a.baseUrl, "/")).json()) as {
      balance_cents: number;
      referred_count: number;
    };
    assert.equal(after.referred_count, 30);
    assert.equal(after.balance_cents, 6000);
    const rewards = await ledgerOf(database.handle.db, "shared_inviter");
    assert.deepEqual(
      rewards.map((r) => r.referralCount),
      [5, 10, 15, 20, 25, 30],
    );
    assert.deepEqual(await balanceMismatches(database.handle.db), []);
  });
});
