// One JSON log line per request (request id, route, status, duration, user id), and never a
// password, cookie, CSRF token, session id or referral token in the logs, whatever the request.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { buildApp, loggerOptions } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/connection.js";
import { Client, cheapHasher, createTestApp, generousLimits, type TestApp, tokenOf } from "../support/app.js";
import { freePort } from "../support/server-process.js";

let t: TestApp;
let app: Awaited<ReturnType<typeof buildApp>>;
const lines: string[] = [];

function capture(): Writable {
  let pending = "";
  return new Writable({
    write(chunk, _encoding, done) {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      lines.push(...parts.filter((l) => l !== ""));
      done();
    },
  });
}

/** The service's own logger settings (redaction included), writing to the test's stream. */
function loggerTo(stream: Writable) {
  return { ...(loggerOptions("trace") as Record<string, unknown>), stream };
}

before(async () => {
  t = await createTestApp();
  await t.app.close();
  app = await buildApp(t.deps, { logger: loggerTo(capture()) });
  await app.ready();
});
after(async () => {
  await app.close();
  await t.close();
});

const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const requestLines = () => parsed().filter((l) => l.msg === "request");

test("logs hold no password, cookie, CSRF token, session id or referral token, whatever is sent", async () => {
  const secrets: string[] = [];
  const password = "Zebra-Quartz-Pelican-8841";
  secrets.push(password, "Wrong-Horse-Battery-0077", "Another-Secret-Password-55");

  const alice = new Client(app);
  assert.equal((await alice.signUp("log_alice", password)).statusCode, 200);
  const link = (await alice.dashboard()).referral_link;
  const referralToken = tokenOf(link);
  secrets.push(referralToken);

  const bob = new Client(app, "html");
  await bob.get(`/signup/?ref=${referralToken}`);
  const bobSignup = await bob.post(`/signup/?ref=${referralToken}`, {
    username: "log_bob",
    password1: "Another-Secret-Password-55",
    password2: "Another-Secret-Password-55",
    ref: referralToken,
  });
  assert.equal(bobSignup.statusCode, 302);

  // A failed login, a JSON login, a CSRF failure, a password in the query string, a 400 form.
  await new Client(app).logIn("log_alice", "Wrong-Horse-Battery-0077");
  const carol = new Client(app);
  assert.equal((await carol.postJson("/login/", { username: "log_alice", password })).statusCode, 200);
  const forged = await carol.post(
    "/logout/",
    {},
    { "x-csrftoken": "Forged-Token-Value-1234567890abcdefghijkl" },
  );
  assert.equal(forged.statusCode, 403);
  secrets.push("Forged-Token-Value-1234567890abcdefghijkl");
  await carol.get(`/login/?password=${encodeURIComponent(password)}&next=/`);
  await carol.post("/signup/", { username: "", password1: password, password2: "mismatch-Secret-9911" });
  secrets.push("mismatch-Secret-9911");
  await carol.get("/", { authorization: "Bearer Authorization-Secret-4242" });
  secrets.push("Authorization-Secret-4242");
  await carol.post("/logout/everywhere/");

  for (const client of [alice, bob, carol]) {
    for (const value of client.cookies.values()) secrets.push(value);
  }
  // Every cookie value and token seen on the way, including those since rotated.
  assert.ok(secrets.length >= 12);

  const output = lines.join("\n");
  assert.ok(requestLines().length >= 12, output);
  for (const secret of secrets) {
    assert.ok(!output.includes(secret), `the logs contain a secret: ${secret}`);
    assert.ok(!output.includes(encodeURIComponent(secret)), `the logs contain a secret: ${secret}`);
  }
  assert.ok(!/password=/i.test(output));
  assert.ok(!/sessionid=|csrftoken=/i.test(output));
});

test("one line per request with its id, route, path without query, status, duration and the user id when known", async () => {
  lines.length = 0;
  const dave = new Client(app);
  await dave.signUp("log_dave");
  await dave.get("/", { "x-request-id": "trace-dave-1" });
  await dave.get("/signup/?ref=SomeReferralTokenValue");

  const records = requestLines();
  assert.equal(records.length, 4, JSON.stringify(records));
  const dashboard = records.find((r) => r.reqId === "trace-dave-1");
  assert.ok(dashboard);
  assert.equal(dashboard.route, "/");
  assert.equal(dashboard.method, "GET");
  assert.equal(dashboard.status, 200);
  assert.equal(typeof dashboard.durationMs, "number");
  assert.equal(dashboard.severity, "INFO", "Cloud Logging's severity beside pino's level");
  assert.equal(dashboard.level, 30);
  assert.equal(typeof dashboard.userId, "number");
  const form = records.find((r) => r.route === "/signup/" && r.method === "GET" && r.path === "/signup/");
  assert.ok(form, "the query string (a referral token) is not logged");
  assert.ok(!lines.join("\n").includes("SomeReferralTokenValue"));
  // Every line of a request carries that request's id: the "signed up" line included.
  const signup = records.find((r) => r.method === "POST");
  assert.ok(signup);
  const signedUp = parsed().find((l) => l.msg === "signed up");
  assert.equal(signedUp?.reqId, signup.reqId);
  // Each request's id is echoed in X-Request-Id too (see operations.test.ts); ids differ per request.
  assert.equal(new Set(records.map((r) => r.reqId)).size, 4);
});

test("a database error is logged without the query's parameters", async () => {
  lines.length = 0;
  const url = `postgres://dbuser:Db-Password-771@127.0.0.1:${await freePort()}/nowhere`;
  const database = await openDatabase({ databaseUrl: url, poolSize: 1 });
  const config = loadConfig({ NODE_ENV: "test", ...generousLimits, DATABASE_URL: url });
  const down = await buildApp(
    { db: database.db, config, database, hasher: cheapHasher() },
    { logger: loggerTo(capture()) },
  );
  try {
    const r = await new Client(down).signUp("Parameter-Username-3141", "Zebra-Quartz-Pelican-8841");
    assert.equal(r.statusCode, 503);
  } finally {
    await down.close();
    await database.close();
  }
  const output = lines.join("\n");
  assert.match(output, /database unavailable/);
  assert.ok(!output.toLowerCase().includes("parameter-username-3141"), output);
  assert.ok(!output.includes("Db-Password-771"), output);
  assert.ok(!output.includes("Zebra-Quartz-Pelican-8841"), output);
});
