import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { countRows } from "../support/ledger.js";

let t: TestApp;
let client: Client;
before(async () => {
  t = await createTestApp();
  client = new Client(t.app);
  await client.get("/login/");
});
after(async () => t.close());

function post(
  url: string,
  contentType: string | undefined,
  payload: string | Buffer,
  accept = "application/json",
) {
  const headers: Record<string, string> = {
    accept,
    cookie: `csrftoken=${client.csrfToken}`,
    "x-csrftoken": client.csrfToken ?? "",
  };
  if (contentType) headers["content-type"] = contentType;
  return t.app.inject({ method: "POST", url, headers, payload });
}

describe("bad bodies get clear 4xx answers and write nothing", () => {
  test("an oversized body is 413", async () => {
    const before = await countRows(t.deps.db);
    const response = await post(
      "/signup/",
      "application/x-www-form-urlencoded",
      `username=${"a".repeat(70_000)}`,
    );
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().message, "The request body is too large.");
    assert.deepEqual(await countRows(t.deps.db), before);
  });

  test("an unsupported content type is 415 with what to send instead", async () => {
    const response = await post("/signup/", "text/plain", "username=a");
    assert.equal(response.statusCode, 415);
    assert.match(response.json().message, /application\/x-www-form-urlencoded or application\/json/);
    const multipart = await post(
      "/signup/",
      "multipart/form-data; boundary=x",
      '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\na\r\n--x--\r\n',
    );
    assert.equal(multipart.statusCode, 415);
  });

  test("malformed JSON, a JSON array, and invalid UTF-8 are 400", async () => {
    for (const [type, payload] of [
      ["application/json", "{"],
      ["application/json", "[1,2]"],
      ["application/json", Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
      ["application/x-www-form-urlencoded", Buffer.from([0x61, 0x3d, 0xc3])],
      ["application/x-www-form-urlencoded", "username=%E0%A4%A"],
      ["application/x-www-form-urlencoded", "username=a%00b"],
    ] as const) {
      const response = await post("/signup/", type, payload);
      assert.equal(response.statusCode, 400, String(payload));
      assert.equal(typeof response.json().message, "string");
    }
  });

  test("JSON with a charset parameter is accepted", async () => {
    const response = await post(
      "/signup/",
      "application/json; charset=utf-8",
      JSON.stringify({
        username: "charset_user",
        password1: "correct horse battery",
        password2: "correct horse battery",
      }),
    );
    assert.equal(response.statusCode, 200);
  });

  test("SQL and HTML in every field are just text", async () => {
    const evil = `'); DROP TABLE users; --<img src=x onerror=alert(1)>`;
    const before = await countRows(t.deps.db);
    const response = await post(
      "/login/",
      "application/x-www-form-urlencoded",
      new URLSearchParams({ username: evil, password: evil }).toString(),
      "text/html",
    );
    assert.equal(response.statusCode, 400);
    assert.ok(!response.body.includes("<img src=x"));
    assert.deepEqual(await countRows(t.deps.db), before);
  });

  test("HTML-mode errors are pages, not JSON", async () => {
    const response = await post("/signup/", "application/json", "{", "text/html");
    assert.equal(response.statusCode, 400);
    assert.match(response.headers["content-type"] as string, /text\/html/);
    assert.match(response.body, /Bad request/);
  });

  test("an unknown path is 404 in both modes", async () => {
    const json = await t.app.inject({ method: "GET", url: "/nope", headers: { accept: "application/json" } });
    assert.equal(json.statusCode, 404);
    assert.equal(json.json().error, "not_found");
    const page = await t.app.inject({ method: "GET", url: "/nope" });
    assert.equal(page.statusCode, 404);
    assert.match(page.body, /Page not found/);
  });
});

describe("paths work with and without the trailing slash, for every method", () => {
  test("GET, HEAD and POST on each path answer the same either way, with no redirect", async () => {
    for (const path of ["/signup", "/login", "/logout"]) {
      for (const url of [path, `${path}/`]) {
        const get = await t.app.inject({ method: "GET", url, headers: { accept: "application/json" } });
        assert.equal(get.statusCode, 200, `GET ${url}`);
        const head = await t.app.inject({ method: "HEAD", url });
        assert.equal(head.statusCode, 200, `HEAD ${url}`);
        const postResponse = await post(url, "application/x-www-form-urlencoded", "");
        assert.ok([200, 400].includes(postResponse.statusCode), `POST ${url}: ${postResponse.statusCode}`);
      }
    }
  });
});
