// `npm run backup` and `npm run restore` (src/backup.ts, src/restore.ts, run as child processes as an
// operator runs them) on the embedded database: users with balances are backed up, the folder is
// wiped, the restore brings back the same balances and logins; both are refused while the server
// holds the folder; a restore never replaces a database with users without --force and changes
// nothing when its file is cut short or fails to load. The PGlite part runs whether or not
// DATABASE_URL is set (the CLIs get no DATABASE_URL). With DATABASE_URL: the CLIs point to pg_dump,
// the pg_dump/pg_restore round trip of docs/deploy.md keeps balances and logins, and a PGlite backup
// loads into PostgreSQL with psql as docs/deploy.md says.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import pg from "pg";
import { openDatabase } from "../../src/db/connection.js";
import { summarize } from "../../src/ops/backup.js";
import { oneAddressSignals } from "../support/app.js";
import {
  createScratchDatabase,
  createTestDatabase,
  migratedDataDir,
  onPostgres,
} from "../support/database.js";
import { FetchClient, type ServerProcess, spawnTsx, startServerProcess } from "../support/server-process.js";

const run = promisify(execFile);
const PASSWORD = "correct horse battery";
const json = { accept: "application/json" };

async function signUp(baseUrl: string, username: string, ref?: string): Promise<FetchClient> {
  const client = new FetchClient(baseUrl);
  await client.fetch("/login/", { headers: json });
  const response = await client.fetch(ref ? `/signup/?ref=${ref}` : "/signup/", {
    method: "POST",
    headers: {
      ...json,
      "content-type": "application/json",
      "x-csrftoken": client.getCookie("csrftoken") ?? "",
    },
    body: JSON.stringify({ username, password1: PASSWORD, password2: PASSWORD }),
  });
  assert.equal(response.status, 200, `sign-up of ${username}: ${await response.text()}`);
  return client;
}

async function logIn(baseUrl: string, username: string): Promise<FetchClient> {
  const client = new FetchClient(baseUrl);
  await client.fetch("/login/", { headers: json });
  const response = await client.fetch("/login/", {
    method: "POST",
    headers: {
      ...json,
      "content-type": "application/json",
      "x-csrftoken": client.getCookie("csrftoken") ?? "",
    },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(response.status, 200, `login of ${username}: ${await response.text()}`);
  return client;
}

interface Dashboard {
  balance_cents: number;
  referral_link: string;
}

async function dashboard(client: FetchClient): Promise<Dashboard> {
  const response = await client.fetch("/", { headers: json });
  assert.equal(response.status, 200);
  const seen = (await response.json()) as Dashboard;
  // Each server listens on a port of its own: the link is compared without its origin.
  const link = new URL(seen.referral_link);
  return { ...seen, referral_link: `${link.pathname}${link.search}` };
}

/**
 * An inviter, five people through their link (the fifth pays the inviter), and one without a link:
 * what each one's dashboard says.
 */
async function makeUsers(baseUrl: string, prefix: string): Promise<Map<string, Dashboard>> {
  const inviter = await signUp(baseUrl, `${prefix}_ada`);
  const ref = new URL((await dashboard(inviter)).referral_link, baseUrl).searchParams.get("ref") as string;
  for (let i = 1; i <= 5; i++) await signUp(baseUrl, `${prefix}_friend_${i}`, ref);
  await signUp(baseUrl, `${prefix}_solo`);
  const seen = new Map<string, Dashboard>();
  for (const name of [
    `${prefix}_ada`,
    ...[1, 2, 3, 4, 5].map((i) => `${prefix}_friend_${i}`),
    `${prefix}_solo`,
  ]) {
    seen.set(name, await dashboard(await logIn(baseUrl, name)));
  }
  // The reward rule ran: $10 to each newcomer through the link, $10 to the inviter on the fifth.
  assert.equal(seen.get(`${prefix}_ada`)?.balance_cents, 1000);
  assert.equal(seen.get(`${prefix}_friend_5`)?.balance_cents, 1000);
  assert.equal(seen.get(`${prefix}_solo`)?.balance_cents, 0);
  return seen;
}

/** Every user logs in on the server and sees the dashboard they saw before. */
async function assertSameAccounts(baseUrl: string, expected: Map<string, Dashboard>): Promise<void> {
  for (const [name, before] of expected) {
    assert.deepEqual(await dashboard(await logIn(baseUrl, name)), before, name);
  }
}

describe("npm run backup and npm run restore on the embedded database", () => {
  let dataDir: string;
  let work: string;
  let backup: string;
  let server: ServerProcess | undefined;
  let expected: Map<string, Dashboard>;
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: "warn" };
  delete env.DATABASE_URL;

  before(async () => {
    dataDir = await migratedDataDir("referral-backup-");
    work = mkdtempSync(join(tmpdir(), "referral-backups-"));
    backup = join(work, "nightly.sql");
    env.DATA_DIR = dataDir;
  });
  after(async () => {
    await server?.stop();
    // The restores' folders beside DATA_DIR (…before-restore-…) go too.
    for (const name of readdirSync(dirname(dataDir))) {
      if (name.startsWith(basename(dataDir)))
        rmSync(join(dirname(dataDir), name), { recursive: true, force: true });
    }
    rmSync(work, { recursive: true, force: true });
  });

  async function cli(script: "src/backup.ts" | "src/restore.ts", args: string[]) {
    const child = spawnTsx(script, args, env);
    return { code: await child.closed, output: child.output().trim() };
  }

  function inUseBy(pid: number | undefined): string {
    return (
      `the embedded database in DATA_DIR (${dataDir}) is in use by another process (pid ${pid}, the server). ` +
      "Stop it first, or set DATA_DIR to another folder."
    );
  }

  /** The folders a restore leaves beside DATA_DIR. */
  function besideDataDir(kind: "before-restore" | "restoring"): string[] {
    return readdirSync(dirname(dataDir)).filter((name) => name.startsWith(`${basename(dataDir)}.${kind}-`));
  }

  async function summaryOfDataDir() {
    const handle = await openDatabase({ dataDir, command: "the tests" });
    try {
      return await summarize(handle.db);
    } finally {
      await handle.close();
    }
  }

  test("while the server holds DATA_DIR, a backup is refused with the server's pid and writes no file", async () => {
    server = await startServerProcess(oneAddressSignals, { dataDir });
    expected = await makeUsers(server.baseUrl, "b");
    const refused = await cli("src/backup.ts", [backup]);
    assert.equal(refused.code, 1, refused.output);
    assert.equal(refused.output, `backup failed: ${inUseBy(server.child.pid)}`);
    assert.equal(existsSync(backup), false);
    assert.deepEqual(readdirSync(work), [], "no partial file is left either");
  });

  test("with the server stopped, the backup is plain SQL that names what it holds, and never overwrites a file", async () => {
    const running = server as ServerProcess;
    running.child.kill("SIGTERM");
    assert.equal(await running.exited, 0, running.output());
    server = undefined;

    const made = await cli("src/backup.ts", [backup]);
    assert.equal(made.code, 0, made.output);
    assert.equal(
      made.output,
      `Backed up the embedded database in DATA_DIR (${dataDir}) to ${backup}: 7 users, 6 ledger entries, ` +
        `balances 6000 cents in all (${readFileSync(backup).length} bytes).`,
    );
    const text = readFileSync(backup, "utf8");
    assert.match(text, /^-- A backup of the referral service's embedded database/);
    assert.match(text, /\nINSERT INTO public\.users \(id, username, /);
    assert.match(text, /\n-- PostgreSQL database dump complete\n/);

    const again = await cli("src/backup.ts", [backup]);
    assert.equal(again.code, 1, again.output);
    assert.equal(again.output, `backup failed: ${backup} already exists; give another file name`);
    assert.equal(readFileSync(backup, "utf8"), text);
  });

  test("after DATA_DIR is wiped, the restore brings back every balance and login, and sign-ups go on", async () => {
    rmSync(dataDir, { recursive: true, force: true });
    const restored = await cli("src/restore.ts", [backup]);
    assert.equal(restored.code, 0, restored.output);
    assert.equal(
      restored.output,
      `Restored ${backup} into DATA_DIR (${dataDir}): 7 users, 6 ledger entries, balances 6000 cents in all.`,
    );
    assert.deepEqual(besideDataDir("restoring"), []);

    server = await startServerProcess(oneAddressSignals, { dataDir });
    await assertSameAccounts(server.baseUrl, expected);
    // The sequences came back too: new rows get new ids, and the inviter's count goes on from 5.
    const ref = new URL(expected.get("b_ada")?.referral_link as string, server.baseUrl).searchParams.get(
      "ref",
    ) as string;
    await signUp(server.baseUrl, "b_friend_6", ref);
    assert.equal((await dashboard(await logIn(server.baseUrl, "b_friend_6"))).balance_cents, 1000);
  });

  test("while the server holds DATA_DIR, a restore is refused, even with --force, and the server keeps its data", async () => {
    const running = server as ServerProcess;
    const refused = await cli("src/restore.ts", [backup, "--force"]);
    assert.equal(refused.code, 1, refused.output);
    assert.equal(refused.output, `restore failed: ${inUseBy(running.child.pid)}`);
    assert.deepEqual(besideDataDir("restoring"), []);
    await logIn(running.baseUrl, "b_friend_6");
    running.child.kill("SIGTERM");
    assert.equal(await running.exited, 0, running.output());
    server = undefined;
  });

  test("a DATA_DIR that holds users is replaced only with --force, and is then kept beside the new one", async () => {
    const refused = await cli("src/restore.ts", [backup]);
    assert.equal(refused.code, 1, refused.output);
    assert.equal(
      refused.output,
      `restore failed: DATA_DIR (${dataDir}) already holds a database with 8 users, 7 ledger entries, ` +
        "balances 7000 cents in all. Give --force to replace it (it is kept beside the new one), or restore into another DATA_DIR",
    );
    assert.equal((await summaryOfDataDir()).users, 8);

    const forced = await cli("src/restore.ts", [backup, "--force"]);
    assert.equal(forced.code, 0, forced.output);
    const [kept, ...more] = besideDataDir("before-restore");
    assert.ok(kept && more.length === 0, `one folder kept: ${besideDataDir("before-restore")}`);
    const keptAt = join(dirname(dataDir), kept);
    assert.equal(
      forced.output,
      `Restored ${backup} into DATA_DIR (${dataDir}): 7 users, 6 ledger entries, balances 6000 cents in all.\n` +
        `The database it replaced (8 users, 7 ledger entries, balances 7000 cents in all) is kept in ${keptAt}; ` +
        "delete it when you no longer need it.",
    );
    assert.deepEqual(await summaryOfDataDir(), { users: 7, ledgerEntries: 6, balanceCents: "6000" });
    assert.equal(existsSync(join(keptAt, "referral-service.lock")), false, "the kept folder is not locked");
    const keptHandle = await openDatabase({ dataDir: keptAt, command: "the tests" });
    assert.equal((await summarize(keptHandle.db)).users, 8);
    await keptHandle.close();
  });

  test("a backup cut short, one that fails to load or differs from its header, or a pg_dump archive changes nothing", async () => {
    const before = await summaryOfDataDir();
    const kept = besideDataDir("before-restore");
    const text = readFileSync(backup, "utf8");

    const cut = join(work, "cut.sql");
    // Cut at the end of a statement, as a full disk or a killed copy may leave it.
    writeFileSync(cut, text.slice(0, text.indexOf(";\n", text.length / 2) + 2));
    const short = await cli("src/restore.ts", [cut, "--force"]);
    assert.equal(short.code, 1, short.output);
    assert.equal(
      short.output,
      `restore failed: ${cut} is incomplete: it does not end with pg_dump's last line, so it was cut short`,
    );

    const broken = join(work, "broken.sql");
    writeFileSync(
      broken,
      text.replace("INSERT INTO public.ledger_entries", "INSERT INTO public.no_such_table"),
    );
    const failed = await cli("src/restore.ts", [broken, "--force"]);
    assert.equal(failed.code, 1, failed.output);
    assert.match(
      failed.output,
      /^restore failed: .*broken\.sql could not be loaded: .*no_such_table.*; DATA_DIR is unchanged$/,
    );

    const tampered = join(work, "tampered.sql");
    // Loads cleanly, but holds other than what its header says it held when it was taken.
    writeFileSync(tampered, text.replace('{"users":7,', '{"users":99,'));
    const differs = await cli("src/restore.ts", [tampered, "--force"]);
    assert.equal(differs.code, 1, differs.output);
    assert.equal(
      differs.output,
      "restore failed: the restored database differs from the backup's header (backup: 99 users, 6 ledger entries, " +
        "balances 6000 cents in all; restored: 7 users, 6 ledger entries, balances 6000 cents in all); DATA_DIR is unchanged",
    );

    const archive = join(work, "archive.dump");
    writeFileSync(archive, "PGDMP\u0001\u000e\u0000");
    const wrongKind = await cli("src/restore.ts", [archive, "--force"]);
    assert.equal(wrongKind.code, 1, wrongKind.output);
    assert.match(
      wrongKind.output,
      /is a pg_dump archive \(custom format\): restore it into PostgreSQL with pg_restore/,
    );

    assert.deepEqual(await summaryOfDataDir(), before);
    assert.deepEqual(besideDataDir("before-restore"), kept, "no folder moved aside");
    assert.deepEqual(besideDataDir("restoring"), [], "no half-built folder left");
  });

  test("the backup loads into PostgreSQL with psql, as docs/deploy.md says, and the service runs on it", {
    skip: onPostgres ? false : "needs PostgreSQL (set DATABASE_URL)",
  }, async () => {
    const target = await createScratchDatabase(
      process.env.DATABASE_URL as string,
      "referral_test_from_pglite",
    );
    let onPg: ServerProcess | undefined;
    try {
      await psqlLoad(target.url, backup);
      onPg = await startServerProcess(oneAddressSignals, { databaseUrl: target.url });
      await assertSameAccounts(onPg.baseUrl, expected);
    } finally {
      await onPg?.stop();
      await target.drop();
    }
  });
});

/**
 * docs/deploy.md's command: psql stops at the first error, in one transaction. Servers before
 * PostgreSQL 17 lack the transaction_timeout setting that pg_dump 17 and later write, so its line is
 * left out there, as the docs say.
 */
async function psqlLoad(url: string, file: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ v: number }>(
    "SELECT current_setting('server_version_num')::int AS v",
  );
  await client.end();
  const text = readFileSync(file, "utf8");
  const sqlText = (rows[0]?.v ?? 0) >= 170000 ? text : text.replace(/^SET transaction_timeout = 0;\n/m, "");
  const stripped = join(dirname(file), "for-psql.sql");
  writeFileSync(stripped, sqlText);
  await run("psql", [
    "-v",
    "ON_ERROR_STOP=1",
    "--single-transaction",
    "--quiet",
    `--dbname=${url}`,
    "-f",
    stripped,
  ]);
}

describe("with DATABASE_URL set", {
  skip: onPostgres ? false : "needs PostgreSQL (set DATABASE_URL)",
}, () => {
  test("npm run backup and npm run restore point to pg_dump, pg_restore and psql", async () => {
    const env = { ...process.env, LOG_LEVEL: "warn" };
    const backup = spawnTsx("src/backup.ts", [], env);
    assert.equal(await backup.closed, 1, backup.output());
    assert.match(
      backup.output(),
      /^backup failed: DATABASE_URL is set, so the data is in PostgreSQL: back it up with pg_dump --format=custom/,
    );
    const restore = spawnTsx("src/restore.ts", ["whatever.sql"], env);
    assert.equal(await restore.closed, 1, restore.output());
    assert.match(
      restore.output(),
      /^restore failed: DATABASE_URL is set, so the data is in PostgreSQL: restore it with pg_restore/,
    );
  });

  test("docs/deploy.md's pg_dump and pg_restore keep every balance and login", async () => {
    const source = await createTestDatabase();
    const target = await createScratchDatabase(process.env.DATABASE_URL as string, "referral_test_restored");
    const work = mkdtempSync(join(tmpdir(), "referral-pgdump-"));
    let server: ServerProcess | undefined;
    try {
      server = await startServerProcess(oneAddressSignals, { databaseUrl: source.url as string });
      const expected = await makeUsers(server.baseUrl, "p");
      await server.stop();
      const file = join(work, "referral.dump");
      await run("pg_dump", ["--format=custom", "--no-owner", `--dbname=${source.url}`, `--file=${file}`]);
      await run("pg_restore", [
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        `--dbname=${target.url}`,
        file,
      ]);
      server = await startServerProcess(oneAddressSignals, { databaseUrl: target.url });
      await assertSameAccounts(server.baseUrl, expected);
    } finally {
      await server?.stop();
      await source.drop();
      await target.drop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
