import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, createTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
before(async () => {
  t = await createTestApp();
  await new Client(t.app).signUp("csrf_user");
});
after(async () => t.close());

const form = "username=csrf_user&password=correct+horse+battery";

describe("the csrftoken cookie", () => {
  test("is set on a GET that lacks one, readable by scripts and SameSite=Lax", async () => {
    for (const url of ["/", "/login/", "/signup/", "/logout/"]) {
      const response = await t.app.inject({ method: "GET", url });
      const cookie = response.cookies.find((c) => c.name === "csrftoken");
      assert.ok(cookie, url);
      assert.equal(cookie.httpOnly, undefined);
      assert.equal(cookie.sameSite, "Lax");
      assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);
    }
  });

  test("is not set again when the request already has one", async () => {
    const client = new Client(t.app);
    await client.get("/login/");
    const again = await client.get("/login/");
    assert.equal(
      again.cookies.find((c) => c.name === "csrftoken"),
      undefined,
    );
  });

  test("is rotated at login", async () => {
    const client = new Client(t.app);
    await client.get("/login/");
    const before = client.csrfToken;
    await client.logIn("csrf_user");
    assert.ok(client.csrfToken);
    assert.notEqual(client.csrfToken, before);
  });
});

describe("unsafe requests", () => {
  test("without a token are refused: 403 {error: csrf_failed} in JSON mode", async () => {
    const response = await t.app.inject({
      method: "POST",
      url: "/login/",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      payload: form,
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error, "csrf_failed");
  });

  test("with a cookie but no header or field are refused, and so is a wrong token", async () => {
    const client = new Client(t.app);
    await client.get("/login/");
    const missing = await client.post(
      "/login/",
      { username: "csrf_user", password: "x" },
      { "x-csrftoken": "" },
    );
    assert.equal(missing.statusCode, 403);
    const wrong = await client.post(
      "/login/",
      { username: "csrf_user", password: "x" },
      { "x-csrftoken": "A".repeat(43) },
    );
    assert.equal(wrong.statusCode, 403);
  });

  test("in HTML mode get a 403 page", async () => {
    const response = await t.app.inject({
      method: "POST",
      url: "/signup/",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "username=x",
    });
    assert.equal(response.statusCode, 403);
    assert.match(response.body, /CSRF verification failed/);
  });

  test("pass with the X-CSRFToken header or with the csrfmiddlewaretoken field", async () => {
    const byHeader = new Client(t.app);
    assert.equal((await byHeader.logIn("csrf_user")).statusCode, 200);
    const byField = new Client(t.app);
    await byField.get("/login/");
    const response = await byField.post(
      "/login/",
      {
        username: "csrf_user",
        password: "correct horse battery",
        csrfmiddlewaretoken: byField.csrfToken ?? "",
      },
      { "x-csrftoken": "" },
    );
    assert.equal(response.statusCode, 200);
  });

  test("from another site's Origin are refused even with a matching token", async () => {
    const client = new Client(t.app);
    await client.get("/login/");
    const foreign = await client.post(
      "/login/",
      { username: "csrf_user", password: "correct horse battery" },
      {
        origin: "https://evil.example",
      },
    );
    assert.equal(foreign.statusCode, 403);
    const nullOrigin = await client.post(
      "/login/",
      { username: "csrf_user", password: "correct horse battery" },
      {
        origin: "null",
      },
    );
    assert.equal(nullOrigin.statusCode, 403);
    const own = await client.post(
      "/login/",
      { username: "csrf_user", password: "correct horse battery" },
      {
        origin: "http://localhost:80",
        host: "localhost:80",
      },
    );
    assert.equal(own.statusCode, 200);
  });

  test("a refused request writes nothing", async () => {
    const response = await t.app.inject({
      method: "POST",
      url: "/signup/",
      headers: { accept: "application/json", "content-type": "application/json" },
      payload: JSON.stringify({
        username: "never_created",
        password1: "correct horse battery",
        password2: "correct horse battery",
      }),
    });
    assert.equal(response.statusCode, 403);
    const login = await new Client(t.app).logIn("never_created");
    assert.equal(login.statusCode, 400);
  });
});
