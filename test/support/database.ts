// A fresh, migrated database per test file: an emptied PGlite in memory, or, when DATABASE_URL is
// set, a new database on that PostgreSQL server, dropped afterwards.
import { createHash, randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { type DatabaseHandle, migrateDatabase, openDatabase, pgliteOf } from "../../src/db/connection.js";

export interface TestDatabase {
  handle: DatabaseHandle;
  /** The URL of the fresh PostgreSQL database (undefined on PGlite). */
  url: string | undefined;
  drop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) return borrowPglite();
  const scratch = await createScratchDatabase(baseUrl, "referral_test");
  const handle = await openDatabase({ databaseUrl: scratch.url, poolSize: options.poolSize ?? 20 });
  await migrateDatabase(handle);
  return {
    handle,
    url: scratch.url,
    async drop() {
      await handle.close();
      await scratch.drop();
    },
  };
}

/**
 * In a process that runs many test files (test/support/shard.ts), in-memory PGlites are lent to one
 * test database at a time: a database that is dropped is emptied (every table truncated, identities
 * restarted: about 70 ms) and lent again, instead of starting a new PGlite (about 900 ms). One whose
 * schema a test changed, or that a test closed, is not lent again. An idle PGlite keeps timers of its
 * own running, so the process closes them at its end through the function this returns.
 */
export function reuseDatabases(): () => Promise<void> {
  reusing = true;
  return async () => {
    reusing = false;
    await Promise.all(idle.splice(0).map((handle) => handle.close()));
  };
}

let reusing = false;
const idle: DatabaseHandle[] = [];
let pristineSchema: string | undefined;

async function borrowPglite(): Promise<TestDatabase> {
  let handle = idle.pop();
  if (!handle) {
    handle = await openDatabase({ dataDir: "memory://", loadDataDir: await migratedTemplate() });
    // The template was migrated when it was made; this only confirms nothing is pending.
    await migrateDatabase(handle);
    pristineSchema ??= await schemaOf(pgliteOf(handle));
  }
  const lent = handle;
  const client = pgliteOf(lent);
  return {
    handle: lent,
    url: undefined,
    async drop() {
      // A test that closed its database (an outage, say) gets no second use of it.
      if (client.closed) return;
      if (!reusing) return lent.close();
      try {
        if ((await schemaOf(client)) !== pristineSchema) throw new Error("schema changed");
        await client.exec(`TRUNCATE ${await tablesOf(client)} RESTART IDENTITY CASCADE`);
        idle.push(lent);
      } catch {
        await lent.close();
      }
    },
  };
}

async function tablesOf(client: PGlite): Promise<string> {
  const { rows } = await client.query<{ tables: string }>(
    `SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') AS tables FROM pg_tables
      WHERE schemaname = 'public' OR (schemaname = 'pgboss' AND tablename <> 'version')`,
  );
  return rows[0]?.tables ?? "";
}

/**
 * What a test could add or remove: relations, functions and triggers of the public schema, and the
 * job queue's relations (a queue created by a test adds a table of its own).
 */
async function schemaOf(client: PGlite): Promise<string> {
  const { rows } = await client.query<{ shape: string }>(`SELECT concat_ws(' ',
      (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'pgboss')),
      (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'),
      (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal),
      (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public')) AS shape`);
  return rows[0]?.shape ?? "";
}

/** A name for the current migrations: the cached templates below are made again when they change. */
function migrationsDigest(): string {
  const migrations = fileURLToPath(new URL("../../drizzle", import.meta.url));
  const digest = createHash("sha256");
  // The job queue's tables come from pg-boss's own migrations, which change with its version.
  digest.update(
    readFileSync(fileURLToPath(new URL("../../node_modules/pg-boss/package.json", import.meta.url))),
  );
  for (const name of readdirSync(migrations, { recursive: true }).map(String).sort()) {
    const path = join(migrations, name);
    if (statSync(path).isFile()) digest.update(name).update(readFileSync(path));
  }
  return digest.digest("hex").slice(0, 16);
}

/**
 * A dump of a freshly migrated in-memory PGlite, made once for every test process of a run (kept in
 * the temporary folder under a name that changes with the migrations): starting from it skips
 * initdb, about half of what a new PGlite costs.
 */
let template: Promise<Blob> | undefined;
export function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const file = join(tmpdir(), `referral-test-pglite-${migrationsDigest()}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const fresh = await openDatabase({ dataDir: "memory://" });
    await migrateDatabase(fresh);
    const dump = await pgliteOf(fresh).dumpDataDir("none");
    await fresh.close();
    // Written aside and renamed: a process reading it never sees half a file.
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
    return dump;
  })();
  return template;
}

/**
 * A new PGlite data folder, already migrated: a copy of one made once per set of migrations (a
 * copy takes a fraction of a second). That one is unpacked from the in-memory template's tarball,
 * already migrated: 2 s where initdb and the migrations on disk took 6.7 s. The caller deletes it.
 */
export async function migratedDataDir(prefix = "referral-data-"): Promise<string> {
  dataDirTemplate ??= (async () => {
    const folder = join(tmpdir(), `referral-test-datadir-${migrationsDigest()}`);
    if (existsSync(folder)) return folder;
    const partial = `${folder}.${process.pid}`;
    const unpacked = new PGlite({ dataDir: partial, loadDataDir: await migratedTemplate() });
    await unpacked.waitReady;
    await unpacked.close();
    try {
      renameSync(partial, folder);
    } catch (error) {
      // Another test process made it first.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(folder)) throw error;
    }
    return folder;
  })();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(await dataDirTemplate, dir, { recursive: true });
  return dir;
}
let dataDirTemplate: Promise<string> | undefined;

/** A new, empty database on the PostgreSQL server at baseUrl (tests, benchmarks): its URL, and its removal. */
export async function createScratchDatabase(
  baseUrl: string,
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, "_")}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString: baseUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

/** How many migrations drizzle/ holds (the journal drizzle-kit writes), for assertions on readiness. */
export function migrationCount(): number {
  const journal = JSON.parse(
    readFileSync(fileURLToPath(new URL("../../drizzle/meta/_journal.json", import.meta.url)), "utf8"),
  ) as { entries: unknown[] };
  return journal.entries.length;
}
