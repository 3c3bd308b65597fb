// `npm run import:django` as an operator runs it: a real process, a Django database on the local
// PostgreSQL server, and this service's database (a PGlite folder, or PostgreSQL with DATABASE_URL),
// without a terminal: its report, its progress lines, its exit status.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { type DatabaseHandle, openDatabase, queryRows } from "../../src/db/connection.js";
import {
  createScratchDatabase,
  createTestDatabase,
  migratedDataDir,
  type TestDatabase,
} from "../support/database.js";
import { createDjangoDatabase, type DjangoDatabase, djangoPbkdf2, djangoToken } from "../support/django.js";
import { spawnTsx } from "../support/server-process.js";

describe("npm run import:django", () => {
  let django: DjangoDatabase;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: "silent" };
  delete env.DJANGO_DATABASE_URL;

  before(async () => {
    django = await createDjangoDatabase();
    await django.addUsers(
      Array.from({ length: 5 }, (_, i) => ({
        username: `cli_user_${i}`,
        password: djangoPbkdf2(`cli password ${i}`),
        isStaff: i === 0,
        profile: { balance: 10 * i, peopleInvited: i % 5, token: djangoToken() },
      })),
    );
    if (process.env.DATABASE_URL) {
      database = await createTestDatabase();
      env.DATABASE_URL = database.url;
    } else {
      dataDir = await migratedDataDir("referral-import-");
      env.DATA_DIR = dataDir;
      delete env.DATABASE_URL;
    }
  });
  after(async () => {
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await django?.drop();
  });

  async function run(args: string[], extraEnv: Record<string, string> = {}) {
    const script = spawnTsx("src/import-django.ts", args, { ...env, ...extraEnv });
    return { code: await script.closed, output: script.output() };
  }

  async function usersHere(): Promise<number> {
    const count = async (handle: DatabaseHandle) => {
      const [row] = await queryRows<{ n: number }>(handle.db, sql`SELECT count(*)::int AS n FROM users`);
      return row?.n ?? 0;
    };
    if (database) return count(database.handle);
    const handle = await openDatabase({ dataDir: dataDir as string, command: "the tests" });
    try {
      return await count(handle);
    } finally {
      await handle.close();
    }
  }

  test("without a Django database it is a usage error", async () => {
    const result = await run([]);
    assert.equal(result.code, 2);
    assert.match(result.output, /No Django database: give --from or DJANGO_DATABASE_URL\./);
    assert.match(result.output, /Usage: npm run import:django/);
    assert.equal((await run(["--from", django.url, "--batch-size", "0"])).code, 2);
  });

  test("a dry run writes nothing, so it will not create or migrate the database here", async () => {
    if (process.env.DATABASE_URL) {
      const fresh = await createScratchDatabase(process.env.DATABASE_URL, "referral_import_empty");
      try {
        const result = await run(["--from", django.url, "--dry-run"], { DATABASE_URL: fresh.url });
        assert.equal(result.code, 1, result.output);
        assert.match(
          result.output,
          /a dry run writes nothing, and the database here has 0 of \d+ migrations: run npm run migrate first\./,
        );
      } finally {
        await fresh.drop();
      }
    } else {
      const parent = mkdtempSync(join(tmpdir(), "referral-import-none-"));
      const missing = join(parent, "data");
      try {
        const result = await run(["--from", django.url, "--dry-run"], { DATA_DIR: missing });
        assert.equal(result.code, 1, result.output);
        assert.match(result.output, /a dry run writes nothing, and DATA_DIR \(.*\) does not exist yet/);
        assert.equal(existsSync(missing), false);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    }
  });

  test("--dry-run prints the report and the reconciliation, and writes nothing", async () => {
    const result = await run(["--from", django.url, "--dry-run"]);
    assert.equal(result.code, 0, result.output);
    assert.match(
      result.output,
      /Dry run \(nothing was written\): 5 Django users, 0 imported by earlier runs, 5 would be imported\./,
    );
    assert.match(result.output, /balances \(cents\)\s+10000\s+10000\s+ok/);
    assert.equal(await usersHere(), 0);
  });

  test("imports in batches, a line per batch without a terminal, and ends with the reconciliation", async () => {
    // The URL from the environment keeps the password out of ps.
    const result = await run(["--batch-size", "2"], { DJANGO_DATABASE_URL: django.url });
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Checked 5 Django users; importing 5\./);
    const batches = [...result.output.matchAll(/^batch (\d+): (\d+)\/5 users/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(batches, [
      ["1", "2"],
      ["2", "4"],
      ["3", "5"],
    ]);
    assert.match(result.output, /users\s+5\s+5\s+ok/);
    assert.match(result.output, /staff\s+1\s+1\s+ok/);
    assert.match(result.output, /opening ledger entries \(cents\)\s+10000\s+10000\s+ok/);
    assert.match(result.output, /Every Django user has an account here \(5 of 5\)\./);
    assert.match(result.output, /^Done in [\d.]+ s \(\d+ users\/s\)\.$/m);
    assert.equal(await usersHere(), 5);
  });

  test("a second run imports nothing; a collision then refuses (exit 1) until --rename-collisions", async () => {
    const again = await run(["--from", django.url]);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /5 imported by earlier runs, 0 imported now\./);

    const [id] = await django.addUsers([{ username: "CLI_USER_1", password: djangoPbkdf2("shouting") }]);
    const refused = await run(["--from", django.url]);
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.output, /Refused: 1 name\(s\) that several users would share here/);
    assert.match(
      refused.output,
      new RegExp(`"cli_user_1": #${id} "CLI_USER_1"; taken here by user \\d+ "cli_user_1"`),
    );
    assert.match(refused.output, /the import was refused: nothing was written/);
    assert.equal(await usersHere(), 5);

    const renamed = await run(["--from", django.url, "--rename-collisions"]);
    assert.equal(renamed.code, 0, renamed.output);
    assert.match(renamed.output, new RegExp(`#${id} "CLI_USER_1" → "CLI_USER_1-${id}"`));
    assert.equal(await usersHere(), 6);
  });
});
