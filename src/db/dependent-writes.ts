// Writes that belong to another write's statement: a new account's first session and its throttle
// count are written by the sign-up's own statement, so they commit with the account or not at all.
// And checks that ride on another statement's read: the sign-up and login limits are read by the
// use case's own read before the hash, so they cost no round trip of their own.
import { type SQL, sql } from "drizzle-orm";
import { type Queryable, queryPreparedRows } from "./connection.js";

/**
 * Given `created`, a FROM item aliased `created` whose `id` column holds the row just made (one row,
 * or none when nothing was made), a statement that writes from it: `INSERT … SELECT … FROM created`,
 * or a DELETE guarded by `EXISTS (SELECT 1 FROM created)`. So it takes effect only with that row.
 */
export type DependentWrite = (created: SQL) => SQL;

/**
 * A check read beside another statement's own columns: `value` is a scalar expression (a subquery,
 * say) whose result goes to `enforce`, which throws when it refuses the request, or else returns
 * what the caller wants to know of it.
 */
export interface DependentCheck<Verdict = void> {
  value: SQL;
  enforce(value: unknown): Verdict;
}

/** The check's value as the column `checked` of the statement that reads it (NULL without one). */
export function asCheckedColumn(check: DependentCheck<unknown> | undefined): SQL {
  return sql`${check ? check.value : sql`NULL`} AS checked`;
}

/** The writes as common table expressions of one statement: `name0 AS (…), name1 AS (…)`. */
export function asCommonTableExpressions(
  writes: readonly DependentWrite[],
  created: SQL,
  prefix: string,
): SQL {
  return sql.join(
    writes.map((write, i) => sql`${sql.identifier(`${prefix}${i}`)} AS (${write(created)})`),
    sql`, `,
  );
}

/** Runs the writes for an existing row (a login's new session, say), all in one statement. */
export async function runDependentWrites(
  db: Queryable,
  id: number,
  writes: readonly DependentWrite[],
): Promise<void> {
  if (writes.length === 0) return;
  const created = sql`(SELECT ${id}::bigint AS id) AS created`;
  // A login's writes come in two shapes (a new session, or one replacing the old): prepared.
  await queryPreparedRows(db, sql`WITH ${asCommonTableExpressions(writes, created, "write")} SELECT 1`);
}
