// The OpenAPI 3.1 document (GET /api/v1/openapi.json): valid by an independent validator, generated
// from the routes' own schemas and holding the API's routes only, each operation fully described;
// a tour of every operation whose every answer validates against it (support.ts); and the reference
// page drawn from it at /api/docs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { OpenApiDocument } from "../../src/api/docs-page.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { ApiClient, type ContractChecker, contractChecker, makeKey } from "./support.js";

let t: TestApp;
let contract: ContractChecker;
let document: OpenApiDocument;
let staff: Client;

before(async () => {
  t = await createTestApp();
  staff = await staffClient(t, "openapi_boss");
  contract = await contractChecker(t.app);
  document = contract.document;
});
after(async () => t.close());

const operations = () =>
  Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );

describe("the document", () => {
  test("holds exactly the API's operations, under /api/v1/", () => {
    assert.deepEqual(
      operations()
        .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
        .sort(),
      [
        "GET /api/v1/users",
        "GET /api/v1/users/{id}",
        "GET /api/v1/users/{id}/ledger",
        "GET /api/v1/users/{id}/referrals",
        "POST /api/v1/users/{id}/adjustments",
        "POST /api/v1/users/{id}/deactivate",
        "POST /api/v1/users/{id}/reactivate",
      ],
    );
  });

  test("every operation has an id, a summary, tags, a security requirement and described parameters", () => {
    const ids = new Set<string>();
    for (const { method, path, operation } of operations()) {
      const name = `${method} ${path}`;
      assert.ok(operation.operationId, name);
      assert.ok(!ids.has(operation.operationId), `${operation.operationId} is unique`);
      ids.add(operation.operationId);
      assert.ok(operation.summary && operation.description, name);
      assert.ok(operation.tags?.length, name);
      assert.deepEqual(
        operation.security,
        [{ bearerAuth: method === "post" ? ["write"] : [] }],
        `${name}: writes need the write scope`,
      );
      for (const parameter of operation.parameters ?? []) {
        assert.ok(parameter.schema && parameter.description, `${name} ${parameter.name}`);
      }
      if (path.includes("{id}"))
        assert.ok(operation.parameters?.some((p) => p.in === "path" && p.name === "id"));
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        assert.ok(response.description, `${name} ${status}`);
        assert.ok(response.content?.["application/json"]?.schema, `${name} ${status} has a body schema`);
      }
      // Every error any key can meet is documented.
      for (const status of ["401", "429", "500", "503"])
        assert.ok(operation.responses?.[status], `${name} ${status}`);
      if (method === "post") assert.ok(operation.responses?.["403"], `${name} 403`);
    }
    const adjust = document.paths?.["/api/v1/users/{id}/adjustments"]?.post;
    assert.deepEqual(
      adjust?.parameters?.map((p) => [p.in, p.name, p.required]),
      [
        ["path", "id", true],
        ["header", "Idempotency-Key", true],
      ],
    );
    assert.deepEqual(adjust?.requestBody?.content?.["application/json"]?.schema?.required, [
      "amount_cents",
      "reason",
    ]);
    assert.ok(adjust?.responses?.["422"]);
    assert.ok(adjust?.responses?.["201"]?.headers?.["Idempotent-Replayed"]);
    assert.ok(document.paths?.["/api/v1/users"]?.get?.responses?.["429"]?.headers?.["Retry-After"]);
    assert.ok(document.paths?.["/api/v1/users"]?.get?.responses?.["401"]?.headers?.["WWW-Authenticate"]);
  });

  test("names its shared objects and the Bearer scheme", () => {
    assert.deepEqual(Object.keys(document.components?.schemas ?? {}).sort(), [
      "Adjustment",
      "Error",
      "LedgerEntry",
      "LedgerEntryList",
      "Referral",
      "ReferralList",
      "StatusChange",
      "User",
      "UserList",
    ]);
    assert.deepEqual(
      { ...document.components?.securitySchemes?.bearerAuth, description: undefined },
      { type: "http", scheme: "bearer", description: undefined },
    );
    assert.deepEqual(document.security, [{ bearerAuth: [] }]);
    // The user never shows how a password is kept.
    assert.ok(
      !Object.keys(document.components?.schemas?.User?.properties ?? {}).some((k) =>
        /password|token|hash/.test(k),
      ),
    );
  });
});

test("a tour of every operation: each answer matches the document", async () => {
  const writeKey = await makeKey(staff, "Tour", "write");
  const writer = new ApiClient(t.app, writeKey.key, contract);
  const reader = new ApiClient(t.app, (await makeKey(staff, "Tour reader", "read")).key, contract);
  const anonymous = new ApiClient(t.app, null, contract);
  const member = new Client(t.app);
  await member.signUp("tour_member");
  const id = await userIdOf(t.deps.db, "tour_member");

  assert.equal((await reader.get("/api/v1/users?limit=1")).statusCode, 200);
  assert.equal((await reader.get("/api/v1/users?limit=500")).statusCode, 400);
  assert.equal((await reader.get(`/api/v1/users/${id}`)).statusCode, 200);
  assert.equal((await reader.get("/api/v1/users/424242")).statusCode, 404);
  assert.equal((await reader.get(`/api/v1/users/${id}/ledger`)).statusCode, 200);
  assert.equal((await reader.get(`/api/v1/users/${id}/ledger?cursor=..`)).statusCode, 400);
  assert.equal((await reader.get(`/api/v1/users/${id}/referrals`)).statusCode, 200);
  assert.equal((await writer.adjust(id, { amount_cents: 100, reason: "Tour" }, "tour-1")).statusCode, 201);
  assert.equal((await writer.adjust(id, { amount_cents: 100, reason: "Tour" }, "tour-1")).statusCode, 201);
  assert.equal((await writer.adjust(id, { amount_cents: 101, reason: "Tour" }, "tour-1")).statusCode, 422);
  assert.equal((await writer.adjust(id, { amount_cents: 0, reason: "Tour" }, "tour-2")).statusCode, 400);
  assert.equal((await reader.adjust(id, { amount_cents: 1, reason: "Tour" }, "tour-3")).statusCode, 403);
  assert.equal((await writer.adjust(424242, { amount_cents: 1, reason: "Tour" }, "tour-4")).statusCode, 404);
  assert.equal((await writer.post(`/api/v1/users/${id}/deactivate`)).statusCode, 200);
  assert.equal((await writer.post(`/api/v1/users/${id}/reactivate`)).statusCode, 200);
  for (const { method, path } of operations()) {
    const url = path.replace("{id}", String(id));
    const response = method === "get" ? await anonymous.get(url) : await anonymous.post(url);
    assert.equal(response.statusCode, 401, url);
  }

  const seen = contract.seen;
  for (const { operation } of operations()) {
    const success = Object.keys(operation.responses ?? {}).find((status) => status.startsWith("2"));
    assert.ok(
      seen.has(`${operation.operationId} ${success}`),
      `${operation.operationId} ${success} was exercised`,
    );
    assert.ok(seen.has(`${operation.operationId} 401`), `${operation.operationId} 401 was exercised`);
  }
  for (const answer of [
    "listUsers 400",
    "getUser 404",
    "listLedgerEntries 400",
    "createAdjustment 422",
    "createAdjustment 403",
  ]) {
    assert.ok(seen.has(answer), answer);
  }
});

describe("the reference page, /api/docs", () => {
  test("is drawn from the document: every operation, parameter and schema, no script", async () => {
    const response = await t.app.inject({ method: "GET", url: "/api/docs" });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-type"]), /^text\/html/);
    assert.match(String(response.headers["content-security-policy"]), /script-src 'self'/);
    assert.equal(
      response.headers["set-cookie"],
      undefined,
      "outside the pages' scope: no session, no CSRF cookie",
    );
    const page = response.body;
    assert.doesNotMatch(page, /<script/i);
    assert.doesNotMatch(page, /https?:\/\/(?!localhost)/, "nothing from another site");
    assert.match(page, /<a href="\/api\/v1\/openapi.json">/);
    for (const { method, path, operation } of operations()) {
      assert.match(page, new RegExp(`id="${operation.operationId}"`));
      assert.ok(
        page.includes(`>${method.toUpperCase()}</span> <code class="text-break">${path}</code>`),
        path,
      );
      for (const parameter of operation.parameters ?? [])
        assert.ok(page.includes(`<code>${parameter.name}</code>`));
    }
    for (const name of Object.keys(document.components?.schemas ?? {})) {
      assert.match(page, new RegExp(`id="schema-${name}"`));
    }
    assert.match(page, /<code>bearerAuth<\/code>: http, scheme <code>bearer<\/code>/);
    assert.match(page, /a <strong>read-write<\/strong> key/);
    // The rules a field follows, in words.
    assert.match(page, /not 0; -100000000 to 100000000/);
    assert.match(page, /1 to 200; default 50/);
  });
});
