// A fresh, migrated database per test file: PGlite in memory, or, when DATABASE_URL is set, a new
// database on that PostgreSQL server, dropped afterwards.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { type DatabaseHandle, migrateDatabase, openDatabase } from "../../src/db/connection.js";

export interface TestDatabase {
  handle: DatabaseHandle;
  /** The URL of the fresh PostgreSQL database (undefined on PGlite). */
  url: string | undefined;
  drop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const handle = await openDatabase({ dataDir: "memory://", loadDataDir: await migratedTemplate() });
    // The template was migrated when it was made; this only confirms nothing is pending.
    await migrateDatabase(handle);
    return { handle, url: undefined, drop: () => handle.close() };
  }
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
 * A dump of a freshly migrated in-memory PGlite, made once for every test process of a run (kept in
 * the temporary folder under a name that changes with the migrations): starting from it skips
 * initdb, about half of what a new PGlite costs.
 */
let template: Promise<Blob> | undefined;
function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const migrations = fileURLToPath(new URL("../../drizzle", import.meta.url));
    const digest = createHash("sha256");
    for (const name of readdirSync(migrations, { recursive: true }).map(String).sort()) {
      const path = join(migrations, name);
      if (statSync(path).isFile()) digest.update(name).update(readFileSync(path));
    }
    const file = join(tmpdir(), `referral-test-pglite-${digest.digest("hex").slice(0, 16)}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const fresh = await openDatabase({ dataDir: "memory://" });
    await migrateDatabase(fresh);
    const dump = await (fresh.db as unknown as { $client: PGlite }).$client.dumpDataDir("none");
    await fresh.close();
    // Written aside and renamed: a process reading it never sees half a file.
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
    return dump;
  })();
  return template;
}

/** A new, empty database on the PostgreSQL server at baseUrl (tests, benchmarks): its URL, and its removal. */
export async function createScratchDatabase(
  baseUrl: string,
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
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
