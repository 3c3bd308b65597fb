import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Algorithm, hash as argon2Hash } from "@node-rs/argon2";
import { sql } from "drizzle-orm";
import { DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_SECONDS, hashDeviceId } from "../../src/accounts/devices.js";
import { cleanUpExpired } from "../../src/accounts/housekeeping.js";
import { queryRows } from "../../src/db/connection.js";
import { Client, cheapHasher, createTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
before(async () => {
  t = await createTestApp();
  await new Client(t.app).signUp("sec_user");
});
after(async () => t.close());

async function storedHash(username: string): Promise<string> {
  const rows = await queryRows<{ password_hash: string }>(
    t.deps.db,
    sql`SELECT password_hash FROM users WHERE username = ${username}`,
  );
  return rows[0]?.password_hash as string;
}

describe("passwords", () => {
  test("a hash made with weaker parameters is re-hashed at the next successful login", async () => {
    const weak = await argon2Hash("correct horse battery", {
      algorithm: Algorithm.Argon2id,
      memoryCost: 32,
      timeCost: 1,
    });
    assert.ok(t.deps.hasher.needsRehash(weak));
    await t.deps.db.execute(sql`UPDATE users SET password_hash = ${weak} WHERE username = 'sec_user'`);
    assert.equal((await new Client(t.app).logIn("sec_user", "wrong password")).statusCode, 400);
    assert.equal(await storedHash("sec_user"), weak, "a failed login changes nothing");
    assert.equal((await new Client(t.app).logIn("sec_user")).statusCode, 200);
    const upgraded = await storedHash("sec_user");
    assert.notEqual(upgraded, weak);
    assert.equal(t.deps.hasher.needsRehash(upgraded), false);
    assert.equal((await new Client(t.app).logIn("sec_user")).statusCode, 200);
  });
});

describe("no user enumeration", () => {
  test("an unknown username is verified against the dummy hash, as a known one against its own", async () => {
    const verified: string[] = [];
    const hasher = cheapHasher();
    const spy = createTestApp(
      {},
      {
        hasher: {
          ...hasher,
          verify(encoded, password) {
            verified.push(encoded);
            return hasher.verify(encoded, password);
          },
        },
      },
    );
    const s = await spy;
    try {
      await new Client(s.app).signUp("enum_user");
      const known = await new Client(s.app).logIn("enum_user", "definitely wrong");
      const unknown = await new Client(s.app).logIn("no_such_user", "definitely wrong");
      assert.deepEqual([known.statusCode, unknown.statusCode], [400, 400]);
      assert.deepEqual(unknown.json(), known.json(), "the same answer either way");
      const [ownHash] = await queryRows<{ password_hash: string }>(
        s.deps.db,
        sql`SELECT password_hash FROM users WHERE username = 'enum_user'`,
      );
      assert.deepEqual(verified, [ownHash?.password_hash, await hasher.dummyHash()]);
    } finally {
      await s.close();
    }
  });
});

describe("sessions", () => {
  async function loggedIn(): Promise<Client> {
    const c = new Client(t.app);
    assert.equal((await c.logIn("sec_user")).statusCode, 200);
    return c;
  }

  test("a session idle for longer than the idle limit ends", async () => {
    const c = await loggedIn();
    assert.equal((await c.get("/")).statusCode, 200);
    await t.deps.db.execute(
      sql`UPDATE sessions SET last_seen_at = now() - make_interval(secs => ${t.config.session.idleSeconds + 5})`,
    );
    assert.equal((await c.get("/")).statusCode, 401);
  });

  test("a session past its absolute expiry ends, however active", async () => {
    const c = await loggedIn();
    await t.deps.db.execute(sql`UPDATE sessions SET expires_at = now() - interval '1 second'`);
    assert.equal((await c.get("/")).statusCode, 401);
  });

  test("expired sessions are deleted by the clean-up", async () => {
    await loggedIn();
    await t.deps.db.execute(sql`UPDATE sessions SET expires_at = now() - interval '1 second'`);
    const fresh = await loggedIn();
    const result = await cleanUpExpired(t.deps.db, t.config, Date.now());
    assert.ok(result.sessions >= 1);
    const left = await queryRows<{ n: number }>(t.deps.db, sql`SELECT count(*)::int AS n FROM sessions`);
    assert.equal(left[0]?.n, 1);
    assert.equal((await fresh.get("/")).statusCode, 200);
  });

  test("the clean-up forgets browsers unseen for longer than their device cookie lives", async () => {
    const stale = await loggedIn();
    const recent = await loggedIn();
    const staleDevice = hashDeviceId(stale.cookies.get(DEVICE_COOKIE) as string);
    await t.deps.db.execute(
      sql`UPDATE known_devices SET last_seen_at = now() - make_interval(secs => ${DEVICE_COOKIE_MAX_AGE_SECONDS + 60})
        WHERE device_hash = ${staleDevice}`,
    );
    const result = await cleanUpExpired(t.deps.db, t.config, Date.now());
    assert.equal(result.devices, 1);
    const left = await queryRows<{ device_hash: string }>(
      t.deps.db,
      sql`SELECT device_hash FROM known_devices`,
    );
    assert.ok(!left.some((row) => row.device_hash === staleDevice), "the stale browser is forgotten");
    const recentDevice = hashDeviceId(recent.cookies.get(DEVICE_COOKIE) as string);
    assert.ok(
      left.some((row) => row.device_hash === recentDevice),
      "a recent browser is kept",
    );
  });

  test("logout everywhere ends every session of the user", async () => {
    const phone = await loggedIn();
    const laptop = await loggedIn();
    const response = await laptop.post("/logout/everywhere/");
    assert.equal(response.statusCode, 200);
    assert.ok(response.json().sessions_ended >= 2);
    assert.equal((await phone.get("/")).statusCode, 401);
    assert.equal((await laptop.get("/")).statusCode, 401);
  });

  test("logout everywhere needs a session", async () => {
    const anonymous = new Client(t.app);
    assert.equal((await anonymous.post("/logout/everywhere/")).statusCode, 401);
  });
});

describe("headers", () => {
  test("a strict Content-Security-Policy, no framing, nosniff and a Referrer-Policy on every page", async () => {
    for (const url of ["/login/", "/signup/", "/", "/logout/", "/nope"]) {
      const r = await t.app.inject({ method: "GET", url });
      const csp = r.headers["content-security-policy"] as string;
      assert.match(csp, /default-src 'self'/, url);
      assert.match(csp, /script-src 'self'(;|$)/, url);
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, url);
      assert.equal(r.headers["x-content-type-options"], "nosniff", url);
      assert.equal(r.headers["x-frame-options"], "DENY", url);
      assert.equal(r.headers["referrer-policy"], "same-origin", url);
      assert.equal(r.headers["strict-transport-security"], undefined, `${url}: no HSTS over plain HTTP`);
    }
  });

  test("pages carry no inline script and no style attributes", async () => {
    const c = await (async () => {
      const c = new Client(t.app, "html");
      await c.logIn("sec_user");
      return c;
    })();
    for (const url of ["/", "/login/", "/signup/", "/logout/"]) {
      const page = await c.get(url);
      for (const tag of page.body.match(/<script\b[^>]*>/g) ?? [])
        assert.match(tag, /\bsrc="/, `${url}: ${tag}`);
      assert.doesNotMatch(page.body, /\sstyle="/, url);
      assert.doesNotMatch(page.body, /\son[a-z]+="/, url);
    }
  });

  test("HSTS is sent over HTTPS behind a trusted proxy", async () => {
    const proxied = await createTestApp({ TRUST_PROXY: "true" });
    try {
      const r = await proxied.app.inject({
        method: "GET",
        url: "/login/",
        headers: { "x-forwarded-proto": "https" },
      });
      assert.match(r.headers["strict-transport-security"] as string, /max-age=\d{7,}/);
      const untrusted = await t.app.inject({
        method: "GET",
        url: "/login/",
        headers: { "x-forwarded-proto": "https" },
      });
      assert.equal(
        untrusted.headers["strict-transport-security"],
        undefined,
        "X-Forwarded-Proto is ignored without TRUST_PROXY",
      );
    } finally {
      await proxied.close();
    }
  });
});
