// The job queue: pg-boss, on the service's own database (PostgreSQL or PGlite), in its own schema.
//
// pg-boss takes a small adapter instead of a connection string, so it shares the service's pool (on
// PGlite, its one client of the in-process database): nothing else to run. Its tables are created
// with the service's migrations (migrateJobQueue), so starting it later creates nothing.
import PgBoss from "pg-boss";
import { type DatabaseHandle, preparedStatementName } from "../db/connection.js";

export const JOB_SCHEMA = "pgboss";

/**
 * pg-boss's view of the database: one function that runs SQL with optional parameters, through the
 * service's pool (PGlite's one connection included). A text without parameters (pg-boss's schema
 * changes, many statements in one) goes by the simple protocol, which takes several.
 */
export function jobQueueAdapter(handle: DatabaseHandle): PgBoss.Db {
  const { pool } = handle;
  const names = preparedNames();
  return {
    executeSql: (text, values) => {
      // A statement with parameters is one statement: it can be prepared.
      const name = values && values.length > 0 ? names.nameFor(text) : undefined;
      return name ? pool.query({ name, text, values }) : pool.query(text, values);
    },
  };
}

/** Distinct statement texts that may be prepared; the rest run as they come. */
const MAX_PREPARED = 64;

/**
 * Names for pg-boss's statements that repeat (fetching, inserting and completing jobs: several a
 * second under load), so that PostgreSQL parses and plans each once per connection, not on every
 * call: its planning was most of the queue's cost per hand-over (bench/README.md). A text is named
 * from its second use, at most MAX_PREPARED of them: each stays prepared on every connection of the
 * pool for the connection's life.
 */
export function preparedNames(): { nameFor(text: string): string | undefined } {
  const seen = new Map<string, string | null>();
  return {
    nameFor(text) {
      const name = seen.get(text);
      if (name !== undefined) {
        if (name !== null) return name;
        const prepared = preparedStatementName("pgboss", text);
        seen.set(text, prepared);
        return prepared;
      }
      if (seen.size < MAX_PREPARED) seen.set(text, null);
      return undefined;
    },
  };
}

/** Creates or upgrades pg-boss's tables; run with the migrations, several processes taking turns. */
export async function migrateJobQueue(handle: DatabaseHandle): Promise<void> {
  const boss = new PgBoss({
    db: jobQueueAdapter(handle),
    schema: JOB_SCHEMA,
    supervise: false,
    schedule: false,
  });
  boss.on("error", () => {});
  // start() creates or migrates the schema under an advisory lock; stop() leaves the database open.
  await boss.start();
  await boss.stop({ graceful: false, close: false, wait: true });
}

/** The part of the app's logger the workers use. */
export interface WorkerLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface JobQueueOptions {
  /** How often expired leases are retried and old jobs archived. */
  maintenanceSeconds: number;
  onError(error: unknown): void;
}

export async function startJobQueue(handle: DatabaseHandle, options: JobQueueOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    db: jobQueueAdapter(handle),
    schema: JOB_SCHEMA,
    migrate: false,
    maintenanceIntervalSeconds: options.maintenanceSeconds,
    monitorStateIntervalSeconds: Math.max(options.maintenanceSeconds, 60),
  });
  boss.on("error", options.onError);
  await boss.start();
  return boss;
}
