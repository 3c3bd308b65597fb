// The embedded database's upkeep. PostgreSQL's autovacuum runs in background processes that PGlite
// does not have: there, nothing would ever remove the rows that updates and deletes leave behind
// (the job queue's, the deliveries', the sessions' and the counters'), so their tables and indexes
// would grow for ever and the statements that read them slow down; the planner would plan from the
// sizes it saw when the tables were made; and after some 200 million transactions PostgreSQL
// would stop accepting writes to protect itself from transaction-id wraparound. With PGlite, the
// service does autovacuum's work itself, by autovacuum's rule (upkeepDue), once a minute (app.ts).
// Each VACUUM or ANALYZE runs on the event loop's thread, as every PGlite statement does: its time
// is logged.
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "./connection.js";

/** What the statistics say of a table since it was last vacuumed and analysed. */
export interface TableActivity {
  schema: string;
  table: string;
  liveRows: number;
  deadRows: number;
  insertedSinceVacuum: number;
  modifiedSinceAnalyze: number;
  /** Transactions since its rows were last frozen (age of relfrozenxid). */
  xidAge: number;
}

export type Upkeep = "vacuum" | "analyze";

/** PostgreSQL's own autovacuum settings, at their defaults. */
export const AUTOVACUUM = {
  vacuumThreshold: 50,
  vacuumScaleFactor: 0.2,
  insertThreshold: 1000,
  insertScaleFactor: 0.2,
  analyzeThreshold: 50,
  analyzeScaleFactor: 0.1,
  freezeMaxAge: 200_000_000,
} as const;

/**
 * What a table is due, by autovacuum's rule: a VACUUM (with ANALYZE) once its dead rows, or the rows
 * inserted since the last one, pass a threshold plus a share of its live rows, or once its oldest
 * unfrozen rows come near wraparound; otherwise an ANALYZE once enough rows changed since the last.
 */
export function upkeepDue(activity: TableActivity, settings = AUTOVACUUM): Upkeep | null {
  const live = Math.max(0, activity.liveRows);
  if (activity.xidAge > settings.freezeMaxAge) return "vacuum";
  if (activity.deadRows > settings.vacuumThreshold + settings.vacuumScaleFactor * live) return "vacuum";
  if (activity.insertedSinceVacuum > settings.insertThreshold + settings.insertScaleFactor * live) {
    return "vacuum";
  }
  if (activity.modifiedSinceAnalyze > settings.analyzeThreshold + settings.analyzeScaleFactor * live) {
    return "analyze";
  }
  return null;
}

/** Every table of the database (the system catalogs and the job queue's included). */
export async function tableActivity(db: Queryable): Promise<TableActivity[]> {
  const rows = await queryRows<Record<keyof TableActivity, string | number>>(
    db,
    sql`SELECT s.schemaname AS schema, s.relname AS "table", s.n_live_tup AS "liveRows",
        s.n_dead_tup AS "deadRows", s.n_ins_since_vacuum AS "insertedSinceVacuum",
        s.n_mod_since_analyze AS "modifiedSinceAnalyze", age(c.relfrozenxid) AS "xidAge"
      FROM pg_stat_all_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE c.relkind IN ('r', 'm')
      ORDER BY s.schemaname, s.relname`,
  );
  return rows.map((row) => ({
    schema: String(row.schema),
    table: String(row.table),
    liveRows: Number(row.liveRows),
    deadRows: Number(row.deadRows),
    insertedSinceVacuum: Number(row.insertedSinceVacuum),
    modifiedSinceAnalyze: Number(row.modifiedSinceAnalyze),
    xidAge: Number(row.xidAge),
  }));
}

/** Vacuums or analyses each table that is due (upkeepDue); returns what it did and how long it took. */
export async function upkeepWhereDue(
  db: Queryable,
): Promise<{ schema: string; table: string; upkeep: Upkeep; ms: number }[]> {
  const done: { schema: string; table: string; upkeep: Upkeep; ms: number }[] = [];
  for (const activity of await tableActivity(db)) {
    const upkeep = upkeepDue(activity);
    if (!upkeep) continue;
    const table = sql`${sql.identifier(activity.schema)}.${sql.identifier(activity.table)}`;
    const started = performance.now();
    // Never in a transaction: VACUUM cannot run in one.
    await db.execute(upkeep === "vacuum" ? sql`VACUUM (ANALYZE) ${table}` : sql`ANALYZE ${table}`);
    done.push({ schema: activity.schema, table: activity.table, upkeep, ms: performance.now() - started });
  }
  return done;
}
