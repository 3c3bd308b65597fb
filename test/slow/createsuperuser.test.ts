// `npm run createsuperuser` as an operator runs it (flags or environment, no terminal), and the
// staff use case behind it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOrPromoteStaff } from "../../src/admin/staff.js";
import { type DatabaseHandle, openDatabase } from "../../src/db/connection.js";
import { ValidationError } from "../../src/errors.js";
import { auditRows } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { spawnTsx } from "../support/server-process.js";

const PASSWORD = "plum tractor sunrise";

describe("createOrPromoteStaff", () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  test("creates a staff user who can log in and open the admin pages", async () => {
    const result = await createOrPromoteStaff(
      t.deps.db,
      { username: "  New_Boss ", password: PASSWORD },
      t.deps.hasher,
    );
    assert.deepEqual(
      { created: result.created, promoted: result.promoted, username: result.username },
      { created: true, promoted: true, username: "New_Boss" },
    );
    const client = new Client(t.app);
    assert.equal((await client.logIn("new_boss", PASSWORD)).statusCode, 200);
    assert.equal((await client.get("/admin/")).statusCode, 200);
    const audit = (await auditRows(t.deps.db)).filter((a) => a.target === "New_Boss");
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action, a.details]),
      [[null, "staff_created", { via: "createsuperuser" }]],
    );
  });

  test("makes an existing user staff and keeps their password unless one is given", async () => {
    const member = new Client(t.app);
    await member.signUp("promote_me");
    assert.equal((await member.get("/admin/")).statusCode, 403);
    const result = await createOrPromoteStaff(t.deps.db, { username: "PROMOTE_ME" }, t.deps.hasher);
    assert.equal(result.created, false);
    assert.equal(result.promoted, true);
    assert.equal(result.passwordChanged, false);
    assert.equal((await member.get("/admin/")).statusCode, 200);
    assert.equal((await new Client(t.app).logIn("promote_me")).statusCode, 200);

    const again = await createOrPromoteStaff(
      t.deps.db,
      { username: "promote_me", password: PASSWORD },
      t.deps.hasher,
    );
    assert.equal(again.promoted, false);
    assert.equal(again.passwordChanged, true);
    assert.equal((await new Client(t.app).logIn("promote_me", PASSWORD)).statusCode, 200);
    const actions = (await auditRows(t.deps.db))
      .filter((a) => a.target === "promote_me")
      .map((a) => a.action);
    assert.deepEqual(actions, ["staff_granted"], "promoting someone already staff records nothing more");
  });

  test("applies the sign-up rules to the username and the password", async () => {
    const cases: [{ username: string; password?: string }, Record<string, string[]>][] = [
      [
        { username: "fresh_one", password: "123" },
        {
          password: [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
          ],
        },
      ],
      [{ username: "fresh_two" }, { password: ["This field is required."] }],
      [
        { username: "bad name!", password: PASSWORD },
        {
          username: [
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
          ],
        },
      ],
      [
        { username: "similar_user", password: "similar_user1" },
        { password: ["The password is too similar to the username."] },
      ],
    ];
    for (const [request, fields] of cases) {
      await assert.rejects(
        createOrPromoteStaff(t.deps.db, request, t.deps.hasher),
        (error: unknown) =>
          error instanceof ValidationError && JSON.stringify(error.fields) === JSON.stringify(fields),
        JSON.stringify(request),
      );
    }
  });
});

describe("npm run createsuperuser", () => {
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: "silent" };
  delete env.SUPERUSER_USERNAME;
  delete env.SUPERUSER_PASSWORD;

  before(async () => {
    if (process.env.DATABASE_URL) {
      database = await createTestDatabase();
      env.DATABASE_URL = database.url;
    } else {
      dataDir = mkdtempSync(join(tmpdir(), "referral-superuser-"));
      env.DATA_DIR = dataDir;
      delete env.DATABASE_URL;
    }
  });
  after(async () => {
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function run(args: string[], extraEnv: Record<string, string> = {}) {
    const script = spawnTsx("src/createsuperuser.ts", args, { ...env, ...extraEnv });
    return { code: await script.closed, output: script.output() };
  }

  async function withDatabase<T>(use: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
    const handle = database ? database.handle : await openDatabase({ dataDir: dataDir as string });
    try {
      return await use(handle);
    } finally {
      if (!database) await handle.close();
    }
  }

  test("creates a staff user from flags, on a fresh database", async () => {
    const result = await run(["--username", "ops_root", "--password", PASSWORD]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Created staff user "ops_root"\./);
    const rows = await withDatabase((h) => auditRows(h.db));
    assert.deepEqual(
      rows.map((r) => [r.action, r.target]),
      [["staff_created", "ops_root"]],
    );
  });

  test("takes the username and password from the environment", async () => {
    const result = await run([], { SUPERUSER_USERNAME: "env_root", SUPERUSER_PASSWORD: PASSWORD });
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Created staff user "env_root"\./);
  });

  test("says so when the user is staff already", async () => {
    const result = await run(["--username", "OPS_ROOT"]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /"ops_root" was staff already\./);
  });

  test("refuses a weak password with the sign-up messages, and creates nothing", async () => {
    const result = await run(["--username", "weak_root", "--password", "password"]);
    assert.equal(result.code, 1);
    assert.match(result.output, /password: This password is too common\./);
    const rows = await withDatabase((h) => auditRows(h.db));
    assert.ok(!rows.some((r) => r.target === "weak_root"));
  });

  test("without a terminal, a missing username or password is a usage error", async () => {
    const noName = await run([]);
    assert.equal(noName.code, 2);
    assert.match(noName.output, /No username: give --username or SUPERUSER_USERNAME\./);
    const noPassword = await run(["--username", "nopass_root"]);
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.output, /No password: give --password or SUPERUSER_PASSWORD\./);
    const unknown = await run(["--bogus"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.output, /Usage: npm run createsuperuser/);
  });
});
