// A fresh, migrated database per test file: PGlite in memory, or, when DATABASE_URL is set, a new
// database on that PostgreSQL server, dropped afterwards.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
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
    const handle = await openDatabase({ dataDir: "memory://" });
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
