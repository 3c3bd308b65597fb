// Behind a load balancer: TRUST_PROXY as a hop count, `true` or addresses decides which
// X-Forwarded-* hops are believed (Secure cookies, HSTS, the client address the throttle counts);
// the Host header is checked as Django checks it; HTTPS POSTs must say where they come from.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { ConfigError, loadConfig } from "../../src/config.js";
import { queryRows } from "../../src/db/connection.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";

const PASSWORD = "correct horse battery";
/** What the load balancers in front appended: the client's claim, then what the nearest proxy saw. */
const FORWARDED_FOR = "198.51.100.1, 203.0.113.5";

async function signUpBehindProxy(t: TestApp, username: string) {
  const client = new Client(t.app);
  await client.get("/login/");
  return t.app.inject({
    method: "POST",
    url: "/signup/",
    remoteAddress: "127.0.0.1",
    headers: {
      accept: "application/json",
      "content-type": "application/x-www-form-urlencoded",
      "x-forwarded-for": FORWARDED_FOR,
      "x-forwarded-proto": "https",
      referer: "https://localhost:80/signup/",
      cookie: `csrftoken=${client.csrfToken}`,
      "x-csrftoken": client.csrfToken ?? "",
    },
    payload: new URLSearchParams({ username, password1: PASSWORD, password2: PASSWORD }).toString(),
  });
}

describe("TRUST_PROXY", () => {
  const cases: [setting: string, clientAddress: string][] = [
    ["1", "203.0.113.5"],
    ["2", "198.51.100.1"],
    ["true", "198.51.100.1"],
    ["127.0.0.1", "203.0.113.5"],
    ["127.0.0.0/8, ::1", "203.0.113.5"],
  ];
  for (const [setting, clientAddress] of cases) {
    test(`TRUST_PROXY=${setting}: Secure cookies, HSTS, and the throttle counts ${clientAddress}`, async () => {
      const t = await createTestApp({ TRUST_PROXY: setting });
      try {
        const response = await signUpBehindProxy(t, "proxied_user");
        assert.equal(response.statusCode, 200, response.body);
        assert.match(String(response.headers["strict-transport-security"]), /max-age=\d{7,}/);
        for (const name of ["sessionid", "csrftoken", "deviceid"]) {
          assert.equal(response.cookies.find((c) => c.name === name)?.secure, true, name);
        }
        const counted = await queryRows<{ bucket: string }>(
          t.deps.db,
          sql`SELECT bucket FROM throttle_counters WHERE bucket LIKE 'signup:%'`,
        );
        assert.deepEqual(
          counted.map((row) => row.bucket),
          [`signup:addr:${clientAddress}`],
        );
      } finally {
        await t.close();
      }
    });
  }

  test("without TRUST_PROXY nothing forwarded is believed", async () => {
    const t = await createTestApp();
    try {
      const response = await t.app.inject({
        method: "GET",
        url: "/login/",
        headers: { "x-forwarded-proto": "https", "x-forwarded-for": FORWARDED_FOR },
      });
      assert.equal(response.headers["strict-transport-security"], undefined);
      assert.notEqual(response.cookies.find((c) => c.name === "csrftoken")?.secure, true);
    } finally {
      await t.close();
    }
  });
});

describe("the Host header", () => {
  let open: TestApp;
  let restricted: TestApp;
  before(async () => {
    open = await createTestApp();
    restricted = await createTestApp({ ALLOWED_HOSTS: "refer.example.com, .example.org" });
  });
  after(async () => {
    await open.close();
    await restricted.close();
  });

  test("a malformed Host is refused with 400 and never reaches a referral link", async () => {
    const client = new Client(open.app);
    assert.equal((await client.signUp("host_user")).statusCode, 200);
    for (const host of ["evil.example:1/x?", "evil.example@other", "a b", "[::1", "example.com:port"]) {
      const response = await client.get("/", { host });
      assert.equal(response.statusCode, 400, host);
      assert.equal(response.json().error, "bad_host", host);
      assert.doesNotMatch(response.body, /evil|other/, host);
    }
    const fine = await client.get("/", { host: "refer.example.com:8443" });
    assert.equal(fine.statusCode, 200);
    assert.match(fine.json().referral_link, /^http:\/\/refer\.example\.com:8443\/signup\/\?ref=/);
  });

  test("with ALLOWED_HOSTS, other names are refused; a leading dot allows the domain and its subdomains", async () => {
    const statusFor = async (host: string) =>
      (await restricted.app.inject({ method: "GET", url: "/login/", headers: { host } })).statusCode;
    assert.equal(await statusFor("refer.example.com"), 200);
    assert.equal(await statusFor("REFER.example.com:443"), 200);
    assert.equal(await statusFor("example.org"), 200);
    assert.equal(await statusFor("www.example.org"), 200);
    assert.equal(await statusFor("evil.example"), 400);
    assert.equal(await statusFor("example.com"), 400);
    assert.equal(await statusFor("notexample.org"), 400);
  });

  test("production needs ALLOWED_HOSTS unless PUBLIC_ORIGIN is set", () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: "production" }),
      (error: unknown) => {
        return error instanceof ConfigError && error.variable === "ALLOWED_HOSTS";
      },
    );
    assert.deepEqual(loadConfig({ NODE_ENV: "production", ALLOWED_HOSTS: "a.example" }).allowedHosts, [
      "a.example",
    ]);
    assert.deepEqual(
      loadConfig({ NODE_ENV: "production", PUBLIC_ORIGIN: "https://a.example" }).allowedHosts,
      [],
    );
    assert.throws(() => loadConfig({ ALLOWED_HOSTS: "http://a.example" }), ConfigError);
  });
});

describe("HTTPS POSTs", () => {
  test("with neither Origin nor Referer are refused with 403, as Django does", async () => {
    const t = await createTestApp({ TRUST_PROXY: "1" });
    try {
      const client = new Client(t.app);
      await client.get("/login/");
      const post = (extra: Record<string, string>) =>
        t.app.inject({
          method: "POST",
          url: "/login/",
          headers: {
            accept: "application/json",
            "content-type": "application/x-www-form-urlencoded",
            "x-forwarded-proto": "https",
            cookie: `csrftoken=${client.csrfToken}`,
            "x-csrftoken": client.csrfToken ?? "",
            ...extra,
          },
          payload: "username=nobody&password=wrong",
        });
      const bare = await post({});
      assert.equal(bare.statusCode, 403);
      assert.equal(bare.json().error, "csrf_failed");
      assert.equal((await post({ referer: "https://localhost:80/login/" })).statusCode, 400);
      assert.equal((await post({ origin: "https://localhost:80" })).statusCode, 400);
      assert.equal((await post({ referer: "https://evil.example/login/" })).statusCode, 403);
    } finally {
      await t.close();
    }
  });
});
