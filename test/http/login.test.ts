import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { hashSessionId } from "../../src/accounts/sessions.js";
import { queryRows } from "../../src/db/connection.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
before(async () => {
  t = await createTestApp();
  await new Client(t.app).signUp("login_user");
});
after(async () => t.close());

async function sessionRows(userName: string) {
  return queryRows<{ id_hash: string }>(
    t.deps.db,
    sql`SELECT s.id_hash FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = ${userName}`,
  );
}

describe("login in JSON mode", () => {
  test("the right password answers 200 {} and a session that sees the dashboard", async () => {
    const client = new Client(t.app);
    const response = await client.logIn("login_user");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {});
    assert.equal((await client.get("/")).statusCode, 200);
  });

  test("usernames match whatever their case or width", async () => {
    assert.equal((await new Client(t.app).logIn("LOGIN_USER")).statusCode, 200);
    assert.equal((await new Client(t.app).logIn("ｌｏｇｉｎ_ｕｓｅｒ")).statusCode, 200);
  });

  test("a wrong password and an unknown username give the same message under __all__", async () => {
    const wrong = await new Client(t.app).logIn("login_user", "not the password");
    const unknown = await new Client(t.app).logIn("nobody_here", "not the password");
    const expected = {
      __all__: ["Please enter a correct username and password. Note that both fields may be case-sensitive."],
    };
    assert.equal(wrong.statusCode, 400);
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual(wrong.json(), expected);
    assert.deepEqual(unknown.json(), expected);
  });

  test("missing fields are required", async () => {
    const response = await new Client(t.app).post("/login/", {});
    assert.deepEqual(response.json(), {
      username: ["This field is required."],
      password: ["This field is required."],
    });
  });

  test("a password over the cap is refused without hashing", async () => {
    const response = await new Client(t.app).logIn("login_user", "x".repeat(5000));
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      password: ["Ensure this value has at most 1024 characters (it has 5000)."],
    });
  });
});

describe("sessions", () => {
  test("the session cookie is HttpOnly, SameSite=Lax, two weeks long, and not Secure over plain HTTP", async () => {
    const response = await new Client(t.app).logIn("login_user");
    const cookie = response.cookies.find((c) => c.name === "sessionid");
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Lax");
    assert.equal(cookie.maxAge, 14 * 24 * 3600);
    assert.equal(cookie.path, "/");
    assert.notEqual(cookie.secure, true);
  });

  test("behind HTTPS (X-Forwarded-Proto with TRUST_PROXY) the cookies are Secure", async () => {
    const proxied = await createTestApp({ TRUST_PROXY: "true" });
    try {
      const client = new Client(proxied.app);
      await client.signUp("secure_user");
      const https = await proxied.app.inject({
        method: "POST",
        url: "/login/",
        headers: {
          accept: "application/json",
          "content-type": "application/x-www-form-urlencoded",
          "x-forwarded-proto": "https",
          referer: "https://localhost:80/login/",
          cookie: `csrftoken=${client.csrfToken}`,
          "x-csrftoken": client.csrfToken ?? "",
        },
        payload: "username=secure_user&password=correct+horse+battery",
      });
      assert.equal(https.statusCode, 200);
      for (const name of ["sessionid", "csrftoken", "deviceid"]) {
        assert.equal(https.cookies.find((c) => c.name === name)?.secure, true, name);
      }
    } finally {
      await proxied.close();
    }
  });

  test("login issues a new session id, and the old one stops working", async () => {
    const client = new Client(t.app);
    await client.logIn("login_user");
    const first = client.cookies.get("sessionid");
    await client.logIn("login_user");
    const second = client.cookies.get("sessionid");
    assert.ok(first && second);
    assert.notEqual(first, second);
    const stale = await t.app.inject({
      method: "GET",
      url: "/",
      headers: { accept: "application/json", cookie: `sessionid=${first}` },
    });
    assert.equal(stale.statusCode, 401);
  });

  test("the database stores only a hash of the session id", async () => {
    const client = new Client(t.app);
    await client.logIn("login_user");
    const id = client.cookies.get("sessionid") as string;
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    const rows = await sessionRows("login_user");
    assert.ok(rows.some((r) => r.id_hash === hashSessionId(id)));
    assert.ok(rows.every((r) => r.id_hash !== id));
  });

  test("logout deletes the session: the cookie no longer works", async () => {
    const client = new Client(t.app);
    await client.logIn("login_user");
    const id = client.cookies.get("sessionid") as string;
    const response = await client.post("/logout/");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {});
    const rows = await sessionRows("login_user");
    assert.ok(rows.every((r) => r.id_hash !== hashSessionId(id)));
    const after = await t.app.inject({
      method: "GET",
      url: "/",
      headers: { accept: "application/json", cookie: `sessionid=${id}` },
    });
    assert.equal(after.statusCode, 401);
  });

  test("GET /logout works too, in JSON and HTML mode", async () => {
    const client = new Client(t.app);
    await client.logIn("login_user");
    assert.deepEqual((await client.get("/logout")).json(), {});
    assert.equal((await client.get("/")).statusCode, 401);
    const html = await new Client(t.app, "html").get("/logout/");
    assert.equal(html.statusCode, 200);
    assert.match(html.body, /You are logged out/);
    assert.match(html.body, /href="\/login\/"/);
  });
});

describe("login in HTML mode", () => {
  test("not logged in, the dashboard redirects to /login/?next=/", async () => {
    const response = await new Client(t.app, "html").get("/");
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, "/login/?next=/");
  });

  test("a successful login follows a same-site next", async () => {
    const client = new Client(t.app, "html");
    await client.get("/login/?next=/history/");
    const response = await client.post("/login/?next=/history/", {
      username: "login_user",
      password: "correct horse battery",
    });
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, "/history/");
  });

  test("an off-site next is ignored in favour of /", async () => {
    for (const next of ["//evil.example", "https://evil.example/", "/\\evil.example", "%2F%2Fevil.example"]) {
      const client = new Client(t.app, "html");
      const response = await client.post(`/login/?next=${encodeURIComponent(next)}`, {
        username: "login_user",
        password: "correct horse battery",
      });
      assert.equal(response.statusCode, 302, next);
      assert.equal(response.headers.location, "/", next);
    }
  });

  test("a next with non-ASCII or look-alike characters redirects safely, never a 500", async () => {
    const cases: [query: string, location: string][] = [
      // A fullwidth solidus: NFKC makes it "//example.com".
      ["/%EF%BC%8Fexample.com", "/"],
      ["%2F%EF%BC%8Fexample.com", "/"],
      ["/%EF%BC%BCexample.com", "/"],
      ["/%EF%BC%85%32%46%EF%BC%85%32%46evil.example", "/"],
      // Other non-ASCII characters are percent-encoded as Django's iri_to_uri does.
      ["/%C3%A9", "/%C3%A9"],
      ["/history/%E2%9C%93?q=%C3%A9t%C3%A9", "/history/%E2%9C%93?q=%C3%A9t%C3%A9"],
      ["/%F0%9F%98%80", "/%F0%9F%98%80"],
      ["/%22%3Cx%3E", "/%22%3Cx%3E"],
    ];
    for (const [query, location] of cases) {
      for (const where of ["query", "body"] as const) {
        const client = new Client(t.app, "html");
        const form = { username: "login_user", password: "correct horse battery" };
        const response =
          where === "query"
            ? await client.post(`/login/?next=${query}`, form)
            : await client.post("/login/", { ...form, next: decodeURIComponent(query) });
        const label = `${where}: ${query}`;
        assert.equal(response.statusCode, 302, label);
        assert.equal(response.headers.location, location, label);
        assert.ok(response.headers["content-security-policy"], label);
      }
    }
  });

  test("a failed login shows the form again with the error and keeps the username", async () => {
    const client = new Client(t.app, "html");
    const response = await client.post("/login/", { username: "login_user", password: "wrong password" });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /Please enter a correct username and password/);
    assert.match(response.body, /value="login_user"/);
  });
});
