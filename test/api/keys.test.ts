// API keys: made by staff at /admin/api-keys/ and shown once, kept only as a digest with a visible
// prefix, revoked at once; the Bearer header opens /api/v1/ and nothing else, and a session opens
// nothing there. Every /api/v1/ answer is checked against the OpenAPI document (support.ts).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { staffClient } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { ApiClient, type ContractChecker, contractChecker, makeKey } from "./support.js";

let t: TestApp;
let staff: Client;
let contract: ContractChecker;

before(async () => {
  t = await createTestApp();
  staff = await staffClient(t, "keys_boss");
  contract = await contractChecker(t.app);
});
after(async () => t.close());

interface KeyRow {
  id: number;
  name: string;
  prefix: string;
  secret_hash: string;
  scope: string;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

async function keyRow(id: number): Promise<KeyRow> {
  const rows = await queryRows<KeyRow>(t.deps.db, sql`SELECT * FROM api_keys WHERE id = ${id}`);
  assert.ok(rows[0]);
  return rows[0];
}

describe("making a key", () => {
  test("the whole key is answered once; only its SHA-256 and a prefix are stored", async () => {
    const made = await makeKey(staff, "CRM sync", "read");
    assert.match(made.key, /^rk_[A-Za-z0-9_-]{43}$/);
    assert.equal(made.prefix, made.key.slice(0, 11));
    const row = await keyRow(made.id);
    assert.equal(row.secret_hash, createHash("sha256").update(made.key).digest("hex"));
    assert.equal(row.prefix, made.prefix);
    assert.equal(row.scope, "read");
    // The key itself is nowhere in the table.
    const stored = await queryRows<{ text: string }>(
      t.deps.db,
      sql`SELECT api_keys::text AS text FROM api_keys`,
    );
    assert.ok(stored.every((r) => !r.text.includes(made.key.slice(3))));

    const listed = await staff.get("/admin/api-keys/");
    assert.equal(listed.statusCode, 200);
    const key = listed.json().api_keys.find((k: { id: number }) => k.id === made.id);
    assert.deepEqual(Object.keys(key).sort(), [
      "created_at",
      "created_by",
      "id",
      "last_used_at",
      "name",
      "prefix",
      "revoked_at",
      "revoked_by",
      "scope",
    ]);
    assert.equal(key.prefix, made.prefix);
    assert.equal(key.created_by, "keys_boss");
    assert.ok(!listed.body.includes(made.key));
  });

  test("in HTML mode the key is on the page that made it, and never again", async () => {
    const page = new Client(t.app, "html");
    await page.logIn("keys_boss");
    const made = await page.post("/admin/api-keys/", { name: "Finance <export>", scope: "write" });
    assert.equal(made.statusCode, 200);
    assert.equal(made.headers["cache-control"], "no-store");
    const key = /id="new-key-value"[^>]*>(rk_[A-Za-z0-9_-]{43})</.exec(made.body)?.[1];
    assert.ok(key, "the page shows the new key");
    assert.match(made.body, /Key “Finance &lt;export&gt;” made/);
    const list = await page.get("/admin/api-keys/");
    assert.ok(!list.body.includes(key));
    assert.match(list.body, new RegExp(`<code>${key.slice(0, 11)}…</code>`));
    assert.equal((await new ApiClient(t.app, key, contract).get("/api/v1/users")).statusCode, 200);
  });

  test("a name and a scope are required", async () => {
    const response = await staff.postJson("/admin/api-keys/", { name: "  ", scope: "admin" });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      name: ["This field is required."],
      scope: ['Choose "read" or "write".'],
    });
    const page = new Client(t.app, "html");
    await page.logIn("keys_boss");
    const form = await page.post("/admin/api-keys/", { name: "", scope: "write" });
    assert.equal(form.statusCode, 400);
    assert.match(form.body, /id="key-name-errors"><div>This field is required\.<\/div>/);
    assert.match(form.body, /id="key-scope-write" value="write" checked/, "the scope chosen is kept");
  });

  test("only staff reach /admin/api-keys/", async () => {
    const member = new Client(t.app);
    await member.signUp("keys_member");
    assert.equal((await member.get("/admin/api-keys/")).statusCode, 403);
    assert.equal((await member.postJson("/admin/api-keys/", { name: "x", scope: "write" })).statusCode, 403);
    assert.equal((await new Client(t.app).get("/admin/api-keys/")).statusCode, 401);
  });

  test("making and revoking keys are in the audit log", async () => {
    const made = await makeKey(staff, "Audited key", "read");
    assert.equal((await staff.postJson(`/admin/api-keys/${made.id}/revoke/`, {})).statusCode, 200);
    const rows = await queryRows<{ action: string; actor: string; details: string }>(
      t.deps.db,
      sql`SELECT l.action, u.username AS actor, l.details FROM audit_log l JOIN users u ON u.id = l.actor_id
          WHERE l.action LIKE 'api_key_%' ORDER BY l.id`,
    );
    const mine = rows.filter((r) => JSON.parse(r.details).api_key_id === made.id);
    assert.deepEqual(
      mine.map((r) => [r.action, r.actor]),
      [
        ["api_key_created", "keys_boss"],
        ["api_key_revoked", "keys_boss"],
      ],
    );
    assert.deepEqual(JSON.parse(mine[0]?.details ?? "{}"), {
      api_key_id: made.id,
      name: "Audited key",
      prefix: made.prefix,
      scope: "read",
    });
    // The audit page names them, with the key's name, prefix and scope (never the key itself).
    const page = new Client(t.app, "html");
    await page.logIn("keys_boss");
    const body = (await page.get("/admin/")).body;
    assert.match(body, /API key made<\/td>/);
    assert.match(body, new RegExp(`<q>Audited key</q> \\(<code>${made.prefix}</code>, read\\)`));
    assert.match(body, /API key revoked<\/td>/);
  });
});

describe("revoking a key", () => {
  test("the next request with it is refused with 401", async () => {
    const made = await makeKey(staff, "Soon revoked", "write");
    const api = new ApiClient(t.app, made.key, contract);
    assert.equal((await api.get("/api/v1/users")).statusCode, 200);
    const revoked = await staff.postJson(`/admin/api-keys/${made.id}/revoke/`, {});
    assert.deepEqual(revoked.json(), { revoked: true, changed: true });
    const refused = await api.get("/api/v1/users");
    assert.equal(refused.statusCode, 401);
    assert.deepEqual(refused.json(), { error: "unauthorized", message: "This API key was revoked." });
    assert.equal(refused.headers["www-authenticate"], 'Bearer realm="api", error="invalid_token"');
    assert.notEqual((await keyRow(made.id)).revoked_at, null);
    // Again: nothing changes.
    assert.deepEqual((await staff.postJson(`/admin/api-keys/${made.id}/revoke/`, {})).json(), {
      revoked: true,
      changed: false,
    });
    assert.equal((await staff.postJson("/admin/api-keys/999999/revoke/", {})).statusCode, 404);
  });

  test("in HTML mode revoking asks first", async () => {
    const made = await makeKey(staff, "Asked first", "read");
    const page = new Client(t.app, "html");
    await page.logIn("keys_boss");
    const confirm = await page.get(`/admin/api-keys/${made.id}/revoke/`);
    assert.equal(confirm.statusCode, 200);
    assert.match(confirm.body, /Revoke the key “Asked first”\?/);
    // A form without the confirmation shows the question again and changes nothing.
    const unconfirmed = await page.post(`/admin/api-keys/${made.id}/revoke/`, {});
    assert.equal(unconfirmed.statusCode, 200);
    assert.equal((await keyRow(made.id)).revoked_at, null);
    const done = await page.post(`/admin/api-keys/${made.id}/revoke/`, { confirm: "yes" });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, "/admin/api-keys/?notice=revoked");
    assert.notEqual((await keyRow(made.id)).revoked_at, null);
    assert.match((await page.get("/admin/api-keys/?notice=revoked")).body, /The key is revoked/);
  });
});

describe("the Bearer header", () => {
  test("without a key, or with a malformed or unknown one: 401 with WWW-Authenticate", async () => {
    const anonymous = new ApiClient(t.app, null, contract);
    const none = await anonymous.get("/api/v1/users");
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers["www-authenticate"], 'Bearer realm="api"');
    assert.equal(none.json().error, "unauthorized");
    for (const header of [
      "Basic a2V5OnNlY3JldA==",
      "Bearer",
      "Bearer not-a-key",
      `Bearer rk_${"A".repeat(43)}`,
    ]) {
      const refused = await anonymous.get("/api/v1/users", { authorization: header });
      assert.equal(refused.statusCode, 401, header);
      assert.equal(refused.headers["www-authenticate"], 'Bearer realm="api", error="invalid_token"', header);
    }
    // The scheme's name in any case, as RFC 7235 has it.
    const made = await makeKey(staff, "Lower-case scheme", "read");
    assert.equal(
      (await anonymous.get("/api/v1/users", { authorization: `bearer ${made.key}` })).statusCode,
      200,
    );
  });

  test("a key opens nothing outside /api/v1/: the pages ignore it", async () => {
    const made = await makeKey(staff, "Not for pages", "write");
    const headers = { authorization: `Bearer ${made.key}`, accept: "application/json" };
    for (const url of ["/", "/history/", "/admin/", "/admin/users/", "/admin/api-keys/"]) {
      const response = await t.app.inject({ method: "GET", url, headers });
      assert.equal(response.statusCode, 401, url);
      assert.deepEqual(response.json(), { error: "unauthorized" }, url);
    }
  });

  test("a session cookie opens nothing in /api/v1/, and the API sets no cookie", async () => {
    const cookie = [...staff.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const response = await t.app.inject({ method: "GET", url: "/api/v1/users", headers: { cookie } });
    contract.check("GET", "/api/v1/users", response);
    assert.equal(response.statusCode, 401);
    const made = await makeKey(staff, "No cookies", "read");
    const ok = await new ApiClient(t.app, made.key, contract).get("/api/v1/users");
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers["set-cookie"], undefined, "no csrftoken or session cookie");
    assert.equal(ok.headers["cache-control"], "no-store");
  });

  test("writes need no CSRF token, and another site's Origin does not matter", async () => {
    const made = await makeKey(staff, "No CSRF", "write");
    const member = new Client(t.app);
    await member.signUp("csrf_free_member");
    const memberId = (await new ApiClient(t.app, made.key, contract).get("/api/v1/users?limit=200"))
      .json()
      .data.find((u: { username: string }) => u.username === "csrf_free_member").id;
    const response = await t.app.inject({
      method: "POST",
      url: `/api/v1/users/${memberId}/deactivate`,
      headers: { authorization: `Bearer ${made.key}`, origin: "https://elsewhere.example" },
    });
    contract.check("POST", `/api/v1/users/${memberId}/deactivate`, response);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().changed, true);
  });

  test("last_used_at is written when the key is used", async () => {
    const made = await makeKey(staff, "Used", "read");
    assert.equal((await keyRow(made.id)).last_used_at, null);
    await new ApiClient(t.app, made.key, contract).get("/api/v1/users");
    assert.notEqual((await keyRow(made.id)).last_used_at, null);
    const listed = (await staff.get("/admin/api-keys/"))
      .json()
      .api_keys.find((k: { id: number }) => k.id === made.id);
    assert.notEqual(listed.last_used_at, null);
  });
});

test("the OpenAPI document needs no key; unknown paths under /api/v1/ are JSON 404s", async () => {
  const document = await t.app.inject({ method: "GET", url: "/api/v1/openapi.json" });
  assert.equal(document.statusCode, 200);
  assert.equal(document.json().openapi, "3.1.0");
  const made = await makeKey(staff, "Lost", "read");
  const missing = await t.app.inject({
    method: "GET",
    url: "/api/v1/nothing-here",
    headers: { authorization: `Bearer ${made.key}` },
  });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: "not_found", message: "There is nothing at this address." });
  // Without a key, a path says nothing about whether it exists.
  const anonymous = await t.app.inject({ method: "GET", url: "/api/v1/nothing-here" });
  assert.equal(anonymous.statusCode, 401);
});
