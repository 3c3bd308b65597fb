// The job queue: pg-boss, on the service's own database (PostgreSQL or PGlite), in its own schema.
//
// pg-boss takes a small adapter instead of a connection string, so it shares the service's pool on
// PostgreSQL and the one in-process PGlite by default: nothing else to run. Its tables are created
// with the service's migrations (migrateJobQueue), so starting it later creates nothing.
import type { PGlite } from "@electric-sql/pglite";
import PgBoss from "pg-boss";
import type { DatabaseHandle } from "../db/connection.js";

export const JOB_SCHEMA = "pgboss";

/** pg-boss's view of the database: one function that runs SQL with optional parameters. */
export function jobQueueAdapter(handle: DatabaseHandle): PgBoss.Db {
  if (handle.kind === "postgres") {
    const pool = handle.pool;
    if (!pool) throw new Error("a PostgreSQL handle without its pool");
    return { executeSql: (text, values) => pool.query(text, values) };
  }
  const pglite = (handle.db as unknown as { $client: PGlite }).$client;
  return {
    async executeSql(text, values) {
      // pg-boss sends its schema changes as one text of many statements, which only the simple
      // protocol (exec) accepts; everything with parameters is one statement.
      if (!values || values.length === 0) {
        const results = await pglite.exec(text);
        const last = results.at(-1);
        return { rows: last?.rows ?? [], rowCount: last?.affectedRows ?? 0 };
      }
      const result = await pglite.query(text, values);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
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
