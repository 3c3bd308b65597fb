// GET /healthz, /readyz and /metrics, the X-Request-Id header, and 503s when the database is away.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/connection.js";
import { Client, cheapHasher, createTestApp, generousLimits, type TestApp, tokenOf } from "../support/app.js";
import { migrationCount, onPostgres } from "../support/database.js";
import { freePort } from "../support/server-process.js";

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

/** The value of one sample in Prometheus text, e.g. metric(text, 'referral_signups_total'). */
function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `no sample ${name} in:\n${text.slice(0, 2000)}`);
  return Number(line.slice(name.length + 1));
}

describe("health", () => {
  test("GET /healthz answers 200 {status: ok} with no cookie, no session and no database", async () => {
    const r = await t.app.inject({
      method: "GET",
      url: "/healthz",
      headers: { cookie: "sessionid=whatever" },
    });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { status: "ok" });
    assert.equal(r.headers["set-cookie"], undefined);
    assert.equal(r.headers["cache-control"], "no-store");
  });

  test("GET /readyz answers 200 when the database answers and every migration is applied", async () => {
    const r = await t.app.inject({ method: "GET", url: "/readyz" });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), {
      status: "ready",
      database: onPostgres ? "postgres" : "pglite",
      migrations: migrationCount(),
    });
    assert.equal(r.headers["set-cookie"], undefined);
  });

  test("GET /readyz answers 503 migrations_pending when the migrations are not applied", async () => {
    await t.deps.db.execute(
      sql`ALTER TABLE drizzle.__drizzle_migrations RENAME TO __drizzle_migrations_away`,
    );
    try {
      const r = await t.app.inject({ method: "GET", url: "/readyz" });
      assert.equal(r.statusCode, 503);
      assert.deepEqual(r.json(), {
        status: "unavailable",
        reason: "migrations_pending",
        applied: 0,
        expected: migrationCount(),
      });
    } finally {
      await t.deps.db.execute(
        sql`ALTER TABLE drizzle.__drizzle_migrations_away RENAME TO __drizzle_migrations`,
      );
    }
    assert.equal((await t.app.inject({ method: "GET", url: "/readyz" })).statusCode, 200);
  });

  test("probes are never throttled and never need a CSRF token", async () => {
    const limited = await createTestApp({ SIGNUPS_PER_WINDOW: "1", LOGIN_FAILURES_PER_WINDOW: "1" });
    try {
      const statuses = new Set<number>();
      for (let i = 0; i < 10; i++) {
        for (const url of ["/healthz", "/readyz", "/metrics"]) {
          statuses.add(
            (await limited.app.inject({ method: "GET", url, remoteAddress: "192.0.2.9" })).statusCode,
          );
        }
      }
      assert.deepEqual([...statuses], [200]);
    } finally {
      await limited.close();
    }
  });
});

describe("request ids", () => {
  test("a sane X-Request-Id is used and echoed back", async () => {
    const r = await t.app.inject({
      method: "GET",
      url: "/login/",
      headers: { "x-request-id": "lb-7f3a.19:2" },
    });
    assert.equal(r.headers["x-request-id"], "lb-7f3a.19:2");
  });

  test("without one, or with a strange one, a fresh UUID is generated and echoed", async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const plain = await t.app.inject({ method: "GET", url: "/healthz" });
    assert.match(String(plain.headers["x-request-id"]), uuid);
    for (const strange of ["has spaces", "x".repeat(200), "<script>", "a\u00e9b", ""]) {
      const r = await t.app.inject({ method: "GET", url: "/healthz", headers: { "x-request-id": strange } });
      assert.match(String(r.headers["x-request-id"]), uuid, strange);
    }
    const again = await t.app.inject({ method: "GET", url: "/healthz" });
    assert.notEqual(again.headers["x-request-id"], plain.headers["x-request-id"]);
  });
});

describe("metrics", () => {
  test("GET /metrics counts requests, sign-ups, referred sign-ups, rewards paid, failed logins, throttling and event-loop lag", async () => {
    const m = await createTestApp({ LOGIN_FAILURES_PER_WINDOW: "2" });
    try {
      const inviter = new Client(m.app);
      await inviter.signUp("metered_inviter");
      const token = tokenOf((await inviter.dashboard()).referral_link);
      for (let i = 0; i < 5; i++) {
        assert.equal(
          (await new Client(m.app).signUp(`metered_${i}`, "correct horse battery", token)).statusCode,
          200,
        );
      }
      // The inviter's own browser signs one more up: held (self-referral), so nothing is paid yet.
      await inviter.post("/logout/");
      assert.equal((await inviter.signUp("metered_self", "correct horse battery", token)).statusCode, 200);
      for (let i = 0; i < 3; i++)
        await new Client(m.app, "json", "192.0.2.77").logIn("metered_0", "wrong password");

      const r = await m.app.inject({ method: "GET", url: "/metrics" });
      assert.equal(r.statusCode, 200);
      assert.match(String(r.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
      const text = r.body;
      assert.equal(metric(text, "referral_signups_total"), 7);
      assert.equal(metric(text, "referral_referred_signups_total"), 6);
      assert.equal(metric(text, 'referral_referrals_total{status="approved"}'), 5);
      assert.equal(metric(text, 'referral_referrals_total{status="held"}'), 1);
      assert.equal(metric(text, 'referral_rewards_paid_total{kind="invitee_bonus"}'), 5);
      assert.equal(metric(text, 'referral_rewards_paid_cents_total{kind="invitee_bonus"}'), 5000);
      assert.equal(metric(text, 'referral_rewards_paid_total{kind="inviter_reward"}'), 1);
      assert.equal(metric(text, 'referral_rewards_paid_cents_total{kind="inviter_reward"}'), 1000);
      assert.equal(metric(text, "referral_login_failures_total"), 2);
      assert.equal(metric(text, 'referral_throttled_requests_total{kind="login"}'), 1);
      assert.equal(metric(text, 'http_requests_total{method="POST",route="/signup/",status="200"}'), 7);
      assert.equal(metric(text, 'http_requests_total{method="POST",route="/login/",status="429"}'), 1);
      assert.equal(
        metric(text, 'http_request_duration_seconds_count{method="POST",route="/signup/",status="200"}'),
        7,
      );
      assert.ok(metric(text, "nodejs_eventloop_lag_seconds") >= 0);
      if (onPostgres) {
        assert.ok(metric(text, "db_pool_connections_in_use") >= 0);
        assert.equal(metric(text, "db_pool_waiting_requests"), 0);
        assert.equal(metric(text, "db_pool_max_connections"), 20);
      }
    } finally {
      await m.close();
    }
  });

  test("unknown paths are counted under one label, so a scan cannot blow up the series", async () => {
    for (let i = 0; i < 3; i++) await t.app.inject({ method: "GET", url: `/no/such/page/${i}` });
    const text = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
    assert.equal(metric(text, 'http_requests_total{method="GET",route="(unmatched)",status="404"}'), 3);
    assert.ok(!text.includes("/no/such/page"));
  });

  test("with METRICS_TOKEN set, /metrics needs that bearer token", async () => {
    const guarded = await createTestApp({ METRICS_TOKEN: "s3cret-scrape-token" });
    try {
      const none = await guarded.app.inject({ method: "GET", url: "/metrics" });
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers["www-authenticate"], 'Bearer realm="metrics"');
      const wrong = await guarded.app.inject({
        method: "GET",
        url: "/metrics",
        headers: { authorization: "Bearer s3cret-scrape-tokeX" },
      });
      assert.equal(wrong.statusCode, 401);
      const right = await guarded.app.inject({
        method: "GET",
        url: "/metrics",
        headers: { authorization: "Bearer s3cret-scrape-token" },
      });
      assert.equal(right.statusCode, 200);
      assert.match(right.body, /http_requests_total/);
      // The probes stay open: a load balancer has no token.
      assert.equal((await guarded.app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
    } finally {
      await guarded.close();
    }
  });
});

describe("when the database cannot be reached", () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  let close: () => Promise<void>;
  before(async () => {
    // A PostgreSQL address where nothing listens: every connection attempt is refused.
    const url = `postgres://nobody@127.0.0.1:${await freePort()}/nowhere`;
    const database = await openDatabase({ databaseUrl: url, poolSize: 2, connectionTimeoutMs: 2000 });
    const config = loadConfig({
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      ...generousLimits,
      DATABASE_URL: url,
    });
    app = await buildApp({ db: database.db, config, database, hasher: cheapHasher() });
    close = async () => {
      await app.close();
      await database.close();
    };
  });
  after(async () => close());

  test("GET /healthz still answers 200 (the process is alive) and /readyz answers 503 database_unreachable", async () => {
    assert.equal((await app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
    const r = await app.inject({ method: "GET", url: "/readyz" });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().status, "unavailable");
    assert.equal(r.json().reason, "database_unreachable");
    assert.ok(!JSON.stringify(r.json()).includes("nobody@"), "the reason never shows the connection string");
  });

  test("API requests get a quick 503 {error: database_unavailable} with Retry-After, pages a 503 page", async () => {
    const client = new Client(app);
    const started = Date.now();
    const signup = await client.signUp("nobody_home");
    assert.equal(signup.statusCode, 503);
    assert.deepEqual(Object.keys(signup.json()), ["error", "message"]);
    assert.equal(signup.json().error, "database_unavailable");
    assert.equal(signup.headers["retry-after"], "5");

    const page = await app.inject({
      method: "GET",
      url: "/",
      headers: { cookie: `sessionid=${"A".repeat(43)}` },
    });
    assert.equal(page.statusCode, 503);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(page.body, /Service unavailable/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);

    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    assert.equal(metric(text, "referral_database_unavailable_total"), 2);
  });
});
