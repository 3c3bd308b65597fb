// Opens the database: a node-postgres pool when DATABASE_URL is set, embedded PGlite otherwise.
// Both are reached the same way, through a node-postgres pool (on PGlite, one client at a time,
// src/db/pglite-connection.ts), so both speak the same SQL, return the same types, run the same
// migrations and keep the same named prepared statements.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { type PgDatabase, PgDialect, type PgQueryResultHKT, type PgTransaction } from "drizzle-orm/pg-core";
import pg from "pg";
import { migrateJobQueue } from "../jobs/queue.js";
import { lockDataDir } from "./data-dir-lock.js";
import { pglitePool } from "./pglite-connection.js";
import * as schema from "./schema.js";

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that runs queries: the database or an open transaction. */
export type Queryable = Database | Transaction;

export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

export interface DatabaseHandle {
  db: Database;
  kind: "pglite" | "postgres";
  /** The node-postgres pool the queries go through (one connection on PGlite). */
  pool: pg.Pool;
  /** The embedded database itself, for what only it does (a dump of its folder, say). */
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Unset: PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite's folder; "memory://" keeps everything in memory (tests). */
  dataDir?: string;
  /**
   * What this process is ("the server"), named to any other process that tries the same PGlite
   * folder while this one holds it.
   */
  command?: string;
  /** PostgreSQL's pool size; PGlite is one session, so its pool always has one client. */
  poolSize?: number;
  /** Milliseconds to wait for a PostgreSQL connection before failing the request. */
  connectionTimeoutMs?: number;
  /** An in-memory PGlite starts from this dump of another's data folder instead of an empty one. */
  loadDataDir?: Blob;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
    });
    // A client that loses its server must not crash the process. The pool hears an idle client's
    // 'error' and replaces it; a checked-out client's 'error' has no listener of the pool's (it is
    // removed at checkout), so Node would throw it. Every client gets a listener of its own for its
    // whole life: the query in flight, or the next one, fails on its own and the request that
    // holds the client answers 503 (test/ops/connection-loss.test.ts).
    pool.on("error", () => {});
    pool.on("connect", (client) => {
      client.on("error", () => {});
    });
    const db = drizzlePg({ client: pool, schema }) as unknown as Database;
    return { db, kind: "postgres", pool, close: () => pool.end() };
  }
  const dataDir = options.dataDir ?? "./data";
  if (dataDir.startsWith("memory://")) return openPglite(dataDir, () => {}, options.loadDataDir);
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataDir(dataDir, options.command ?? `node ${basename(process.argv[1] ?? "")}`);
  try {
    return await openPglite(dataDir, () => lock.release());
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function openPglite(
  dataDir: string,
  afterClose: () => void,
  loadDataDir?: Blob,
): Promise<DatabaseHandle> {
  const client = loadDataDir ? new PGlite({ dataDir, loadDataDir }) : new PGlite(dataDir);
  await client.waitReady;
  // Through node-postgres, as PostgreSQL is (src/db/pglite-connection.ts): a statement named by
  // queryPreparedRows is parsed and planned once, where PGlite's own query() does both on every call
  // (bench/README.md: 190 against 370-440 µs of CPU for a small SELECT through drizzle).
  const pool = pglitePool(client);
  const db = drizzlePg({ client: pool, schema }) as unknown as Database;
  const close = async () => {
    try {
      await pool.end();
      await client.close();
    } finally {
      afterClose();
    }
  };
  return { db, kind: "pglite", pool, pglite: client, close };
}

/** The PGlite under a handle opened on it, for what only PGlite does (its dump, its data folder). */
export function pgliteOf(handle: DatabaseHandle): PGlite {
  if (!handle.pglite) throw new Error("not the embedded database (PGlite)");
  return handle.pglite;
}

/** Applies the committed migrations; several processes starting at once take turns. */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  await migrateTables(handle);
  // The job queue's own tables (pg-boss), which it creates and upgrades itself under its own lock.
  await migrateJobQueue(handle);
}

async function migrateTables(handle: DatabaseHandle): Promise<void> {
  const client = await handle.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(727274)");
    await migratePg(drizzlePg({ client, schema }) as never, { migrationsFolder });
  } finally {
    await client.query("SELECT pg_advisory_unlock(727274)").catch(() => {});
    client.release();
  }
}

/** Runs raw SQL and returns its rows, the same way on both drivers. */
export async function queryRows<T>(db: Queryable, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

const dialect = new PgDialect();

/**
 * queryRows for a statement on a hot path whose text is one of a few fixed shapes (values are
 * parameters, never spliced in). It runs as a named prepared statement, named after its text: each
 * connection (PGlite's one session included) parses and plans it once instead of on every call.
 * Never for text that varies with the input (an IN list, say): every new text stays prepared on
 * each connection for the connection's life.
 */
export async function queryPreparedRows<T>(db: Queryable, query: SQL): Promise<T[]> {
  const built = dialect.sqlToQuery(query);
  const name = preparedStatementName("q", built.sql);
  const result = (await db._.session.prepareQuery(built, undefined, name, false).execute()) as { rows: T[] };
  return result.rows;
}

/** A named prepared statement's name: `prefix` and a digest of its text, one name for one text. */
export function preparedStatementName(prefix: string, text: string): string {
  return `${prefix}_${createHash("sha256").update(text).digest("base64url").slice(0, 24)}`;
}

/**
 * Lists as one array parameter each, PostgreSQL's array literal cast in the statement, so that its
 * text does not vary with their length (it can be prepared). Both drivers pass the literal through
 * as it is; PGlite's serializer takes its type from the cast.
 */
export function bigintArray(values: readonly number[]): SQL {
  return sql`${`{${values.map((v) => String(Math.trunc(v))).join(",")}}`}::bigint[]`;
}

export function intArray(values: readonly (number | null)[]): SQL {
  return sql`${`{${values.map((v) => (v === null ? "NULL" : String(Math.trunc(v)))).join(",")}}`}::int[]`;
}

export function textArray(values: readonly string[]): SQL {
  return sql`${`{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(",")}}`}::text[]`;
}

/** A nullable timestamp column of a raw row (a Date or text, by the statement) as a Date. */
export function dateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : new Date(value);
}

export async function ping(db: Queryable): Promise<void> {
  await db.execute(sql`SELECT 1`);
}
