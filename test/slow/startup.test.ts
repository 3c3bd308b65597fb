// Start-up as an operator meets it: a bad DATABASE_URL fails fast with a readable message (no stack
// trace, no password), WEB_CONCURRENCY is refused on PGlite and runs N workers on PostgreSQL, and
// `npm run migrate` applies the migrations without starting the service.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { openDatabase, queryRows } from "../../src/db/connection.js";
import {
  createScratchDatabase,
  createTestDatabase,
  migrationCount,
  onPostgres,
} from "../support/database.js";
import { freePort, spawnTsx } from "../support/server-process.js";

interface Run {
  code: number | null;
  output: string;
  ms: number;
}

/** Runs a script of the service (src/main.ts, src/migrate.ts) to its end, as `npm start` would. */
function run(script: string, env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<Run> {
  const started = Date.now();
  const childEnv: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: "warn", ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const { child, closed, output } = spawnTsx(script, [], childEnv);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return closed.then((code) => {
    clearTimeout(timer);
    return { code, output: output(), ms: Date.now() - started };
  });
}

const noStackTrace = (output: string) => assert.ok(!/^\s+at /m.test(output), `a stack trace:\n${output}`);

describe("a bad DATABASE_URL", () => {
  test("nothing listening there: exits 1 within seconds, naming DATABASE_URL, without the password or a stack trace", async () => {
    const port = await freePort();
    const r = await run("src/main.ts", {
      DATABASE_URL: `postgres://appuser:Very-Secret-Pw@127.0.0.1:${port}/referrals`,
    });
    assert.equal(r.code, 1, r.output);
    assert.equal(
      r.output.trim(),
      `Could not start: cannot use the database in DATABASE_URL (postgres://appuser@127.0.0.1:${port}/referrals): ` +
        `nothing is listening at 127.0.0.1:${port} (is PostgreSQL running there? are the host and port right?)`,
    );
    assert.ok(!r.output.includes("Very-Secret-Pw"));
    noStackTrace(r.output);
    // Node and tsx start-up included; the connection itself is refused at once.
    assert.ok(r.ms < 20_000, `${r.ms} ms`);
  });

  test("not a postgres URL: a configuration error naming the variable", async () => {
    const r = await run("src/main.ts", { DATABASE_URL: "mysql://root@localhost/referrals" });
    assert.equal(r.code, 1);
    assert.equal(
      r.output.trim(),
      'Configuration error: DATABASE_URL: must start with postgres:// or postgresql://, got "mysql://"',
    );
  });

  test("a database that does not exist on a running server: says so", {
    skip: onPostgres ? false : "needs PostgreSQL (set DATABASE_URL)",
  }, async () => {
    const url = new URL(process.env.DATABASE_URL as string);
    url.pathname = "/referral_no_such_database";
    const r = await run("src/main.ts", { DATABASE_URL: url.toString() });
    assert.equal(r.code, 1, r.output);
    assert.match(
      r.output,
      /^Could not start: cannot use the database in DATABASE_URL \(.*\/referral_no_such_database\): database "referral_no_such_database" does not exist; create it first/,
    );
    noStackTrace(r.output);
  });
});

describe("WEB_CONCURRENCY", () => {
  test("above 1 without DATABASE_URL is refused: PGlite belongs to one process", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "referral-cluster-"));
    try {
      const r = await run("src/main.ts", {
        WEB_CONCURRENCY: "2",
        DATABASE_URL: undefined,
        DATA_DIR: dataDir,
      });
      assert.equal(r.code, 1);
      assert.match(
        r.output,
        /^Configuration error: WEB_CONCURRENCY: is 2, but several worker processes need PostgreSQL/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("WEB_CONCURRENCY=2 on PostgreSQL: two workers answer on one port, /metrics sums both, SIGTERM stops all with exit 0", {
    skip: onPostgres ? false : "needs PostgreSQL (set DATABASE_URL)",
  }, async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    const server = spawnTsx("src/main.ts", [], {
      ...process.env,
      DATABASE_URL: database.url,
      PORT: String(port),
      HOST: "127.0.0.1",
      WEB_CONCURRENCY: "2",
      LOG_LEVEL: "info",
    });
    const { child } = server;
    try {
      const deadline = Date.now() + 60_000;
      while ((server.output().match(/referral service ready/g) ?? []).length < 2) {
        assert.ok(Date.now() < deadline, `workers did not start:\n${server.output()}`);
        assert.equal(child.exitCode, null, server.output());
        await new Promise((r) => setTimeout(r, 100));
      }
      const pids = new Set(
        server
          .output()
          .split("\n")
          .filter((l) => l.includes("referral service ready"))
          .map((l) => JSON.parse(l).pid),
      );
      assert.equal(pids.size, 2);
      assert.ok(!pids.has(child.pid), "the primary serves nothing itself");
      for (let i = 0; i < 6; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        assert.equal(r.status, 200);
      }
      // The two workers share the cores for hashing: together no more threads than cores (or one each).
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const threads = Number(/^password_hashing_threads (\d+)$/m.exec(metrics)?.[1]);
      assert.equal(threads, 2 * Math.max(1, Math.floor(availableParallelism() / 2)), metrics);
      child.kill("SIGTERM");
      assert.equal(await server.closed, 0, server.output());
      assert.match(server.output(), /all workers stopped/);
      assert.equal((server.output().match(/stopped cleanly/g) ?? []).length, 2, server.output());
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await database.drop();
    }
  });
});

describe("npm run migrate", () => {
  test("applies the migrations and exits without serving; running it again changes nothing", async () => {
    let env: Record<string, string | undefined>;
    let dataDir: string | undefined;
    const database = onPostgres
      ? await createScratchDatabase(process.env.DATABASE_URL as string, "referral_test_bare")
      : undefined;
    if (database) env = { DATABASE_URL: database.url };
    else {
      dataDir = mkdtempSync(join(tmpdir(), "referral-migrate-"));
      env = { DATABASE_URL: undefined, DATA_DIR: dataDir };
    }
    try {
      for (let i = 0; i < 2; i++) {
        const r = await run("src/migrate.ts", env);
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, new RegExp(`^Migrations applied \\(${migrationCount()} in total\\)`));
      }
      const handle = await openDatabase({ databaseUrl: database?.url, dataDir });
      try {
        const tables = await queryRows<{ name: string }>(
          handle.db,
          sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
        );
        // The job queue's tables are made with the migrations too, in a schema of their own.
        const [queue] = await queryRows<{ version: number }>(
          handle.db,
          sql`SELECT version FROM pgboss.version`,
        );
        assert.ok(queue && Number(queue.version) > 0, "pg-boss's tables exist");
        assert.deepEqual(
          tables.map((t) => t.name),
          [
            "address_sightings",
            "api_idempotency_keys",
            "api_keys",
            "audit_log",
            "django_imports",
            "email_tokens",
            "events",
            "known_devices",
            "ledger_entries",
            "link_open_counts",
            "outbox_messages",
            "programme_settings",
            "referrals",
            "service_secrets",
            "sessions",
            "signal_counters",
            "throttle_counters",
            "users",
            "webhook_attempts",
            "webhook_deliveries",
            "webhook_endpoints",
          ],
        );
      } finally {
        await handle.close();
      }
    } finally {
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
