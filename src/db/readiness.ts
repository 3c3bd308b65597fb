// Is the database reachable, and are all committed migrations applied? For GET /readyz.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { type Database, migrationsFolder, queryRows } from "./connection.js";
import { summarizeError } from "./errors.js";

export type Readiness =
  | { ready: true; migrations: number }
  | { ready: false; reason: "database_unreachable"; message: string }
  | { ready: false; reason: "migrations_pending"; applied: number; expected: number };

/** How many migrations the code ships (drizzle's journal). */
export function expectedMigrations(folder = migrationsFolder): number {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function appliedMigrations(db: Database): Promise<number> {
  const [table] = await queryRows<{ present: boolean }>(
    db,
    sql`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`,
  );
  if (!table?.present) return 0;
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
  );
  return row?.n ?? 0;
}

export async function checkReadiness(db: Database, expected: number, timeoutMs = 2000): Promise<Readiness> {
  let applied: number;
  try {
    applied = await withTimeout(appliedMigrations(db), timeoutMs);
  } catch (error) {
    return { ready: false, reason: "database_unreachable", message: summarizeError(error).message };
  }
  if (applied < expected) return { ready: false, reason: "migrations_pending", applied, expected };
  return { ready: true, migrations: applied };
}
