// Property-based tests: random and hostile methods, paths, query strings, headers and bodies at every
// route. Whatever arrives, the answer is never a 5xx, a rejected request writes nothing, and the
// server keeps answering.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { countRows } from "../support/ledger.js";

let t: TestApp;
let csrf: string;
let session: string;
let generated = 0;
const statuses = new Map<number, number>();

before(async () => {
  t = await createTestApp();
  const c = new Client(t.app);
  await c.signUp("fuzz_owner");
  csrf = c.csrfToken as string;
  session = c.cookies.get("sessionid") as string;
});
after(async () => {
  console.log(
    `hostile-input: ${generated} generated requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
  );
  await t.close();
});

const routes = [
  "/",
  "/signup",
  "/signup/",
  "/login",
  "/login/",
  "/logout",
  "/logout/",
  "/logout/everywhere/",
  "/history/",
  "/referrals/",
];
const hostileStrings = [
  "",
  "\u0000",
  "%00",
  "%FF%FE",
  "%",
  "%E0%A4%A",
  "'; DROP TABLE users; --",
  "<script>alert(1)</script>",
  "\u202e\u0301",
  "\ud83d\ude00",
  "a".repeat(5000),
  "../../etc/passwd",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal log4shell probe, not a template
  "${jndi:ldap://x}",
  "{{7*7}}",
  "\r\n",
  "__proto__",
  "constructor",
];
const text = fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.constantFrom(...hostileStrings));
// Header values a client can put on the wire (HTTP forbids CR, LF and NUL there).
const headerText = fc
  .string({ unit: "grapheme-ascii", maxLength: 300 })
  .map((s) => s.replace(/[\r\n\0]/g, ""));
const fieldNames = fc.oneof(
  fc.constantFrom(
    "username",
    "password",
    "password1",
    "password2",
    "csrfmiddlewaretoken",
    "ref",
    "next",
    "__proto__",
  ),
  fc.string({ maxLength: 20 }),
);

const formBody = fc
  .array(fc.tuple(fieldNames, text), { maxLength: 8 })
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"));
const rawFormBody = fc
  .array(fc.tuple(fieldNames, fc.constantFrom(...hostileStrings)), { maxLength: 6 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&"));
const jsonBody = fc.oneof(
  fc
    .dictionary(
      fieldNames,
      fc.oneof(text, fc.integer(), fc.constant(null), fc.array(text, { maxLength: 3 }), fc.object()),
    )
    .map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constantFrom("{", "[", '{"a":', "null", '"x"', '{"__proto__":{"polluted":1}}', "1e999999"),
);
const bytesBody = fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a));

const contentTypes = fc.constantFrom(
  undefined,
  "application/x-www-form-urlencoded",
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/x-www-form-urlencoded; charset=utf-8",
  "",
  "*/*",
  "application/",
);

const request = fc.record({
  method: fc.constantFrom("GET", "POST", "POST", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"),
  path: fc.oneof(
    fc.constantFrom(...routes),
    fc.constantFrom(...routes).chain((r) => text.map((s) => `${r}${encodeURIComponent(s)}`)),
  ),
  query: fc.oneof(
    fc.constant(""),
    fc
      .array(fc.tuple(fieldNames, text), { maxLength: 4 })
      .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")),
    fc.constantFrom(
      "ref=%FF",
      "next=//evil.example",
      "next=%0d%0aSet-Cookie:x=1",
      "ref=%00",
      "a[b]=1&a[c]=2",
      "%%%",
    ),
  ),
  contentType: contentTypes,
  body: fc.oneof(formBody, rawFormBody, jsonBody, bytesBody, fc.constant("")),
  accept: fc.constantFrom("application/json", "text/html", "*/*", "", "application/json;q=0.1, text/html"),
  withCsrf: fc.boolean(),
  withSession: fc.boolean(),
  extraCookie: headerText,
  origin: fc.option(
    fc.oneof(fc.constantFrom("null", "https://evil.example", "http://localhost:80"), headerText),
  ),
  csrfHeader: fc.option(headerText),
});

test("no request, however hostile, gets a 5xx or leaves a partial write, and the server keeps answering", async () => {
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      generated++;
      const before = await countRows(t.deps.db);
      const headers: Record<string, string> = {};
      if (r.accept) headers.accept = r.accept;
      if (r.contentType !== undefined) headers["content-type"] = r.contentType;
      const cookies = [`x=${encodeURIComponent(r.extraCookie)}`];
      if (r.withCsrf) cookies.push(`csrftoken=${csrf}`);
      if (r.withSession) cookies.push(`sessionid=${session}`);
      headers.cookie = cookies.join("; ");
      if (r.withCsrf) headers["x-csrftoken"] = csrf;
      else if (r.csrfHeader !== null) headers["x-csrftoken"] = r.csrfHeader;
      if (r.origin !== null) headers.origin = r.origin;
      const hasBody = !["GET", "HEAD"].includes(r.method);
      const response = await t.app.inject({
        method: r.method as "GET",
        url: r.query ? `${r.path}?${r.query}` : r.path,
        headers,
        ...(hasBody ? { payload: r.body } : {}),
      });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      assert.ok(
        response.statusCode < 500,
        `${response.statusCode} for ${r.method} ${r.path}?${r.query}: ${response.body.slice(0, 300)}`,
      );
      // Logging out deletes a session; anything else that is refused must write nothing.
      if (response.statusCode >= 400) assert.deepEqual(await countRows(t.deps.db), before);
      if (r.withSession && /\/logout/.test(r.path) && response.statusCode < 400) {
        const again = new Client(t.app);
        await again.logIn("fuzz_owner");
        session = again.cookies.get("sessionid") as string;
        csrf = again.csrfToken as string;
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 600) },
  );
  const alive = await t.app.inject({ method: "GET", url: "/login/" });
  assert.equal(alive.statusCode, 200);
});

test("sign-up and login forms with random field values never 5xx and stay consistent", async () => {
  await fc.assert(
    fc.asyncProperty(
      text,
      text,
      text,
      fc.constantFrom("form", "json"),
      async (username, password1, password2, kind) => {
        generated++;
        const before = await countRows(t.deps.db);
        const client = new Client(t.app);
        const body = { username, password1, password2 };
        const r =
          kind === "json" ? await client.postJson("/signup/", body) : await client.post("/signup/", body);
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        assert.ok(r.statusCode < 500, `${r.statusCode}: ${r.body.slice(0, 200)}`);
        const after = await countRows(t.deps.db);
        if (r.statusCode === 200) {
          assert.equal(after.users, before.users + 1);
          const login = await new Client(t.app).post("/login/", { username, password: password1 });
          assert.equal(login.statusCode, 200, "whoever signed up can log in with the same password");
        } else {
          assert.equal(r.statusCode, r.statusCode === 413 ? 413 : 400);
          assert.deepEqual(after, before);
        }
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});
