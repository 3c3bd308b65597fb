// Backups of the embedded database (PGlite in DATA_DIR) as plain SQL, and their restore.
//
// The file is what pg_dump writes (@electric-sql/pglite-tools runs pg_dump, compiled to WebAssembly,
// against PGlite): SQL that `npm run restore` loads into a new PGlite folder, and that psql loads
// into any PostgreSQL server. Unlike a copy of the folder (PGlite's dumpDataDir), it does not tie the
// backup to the PostgreSQL version of the PGlite that made it, and it is the way to move to a
// PostgreSQL server. A header line adds what the database held (users, ledger entries, balances),
// which a restore compares with what it loaded before it puts anything in place.
//
// A restore never writes into DATA_DIR: it builds the database in a new folder beside it, migrates
// and checks it, and only then moves DATA_DIR aside (kept, never deleted) and the new folder in.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pgDump } from "@electric-sql/pglite-tools/pg_dump";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { ConfigError } from "../config.js";
import {
  type DatabaseHandle,
  migrateDatabase,
  openDatabase,
  pgliteOf,
  type Queryable,
  queryRows,
} from "../db/connection.js";
import { DataDirInUseError, lockDataDir, lockFileName } from "../db/data-dir-lock.js";

/** A refusal or a failure to explain in one sentence (a folder in use is a DataDirInUseError). */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

/** What a database holds, compared between a backup and its restore. */
export interface DatabaseSummary {
  users: number;
  ledgerEntries: number;
  /** The sum of every balance, in cents (a string: it may pass 2^53). */
  balanceCents: string;
}

const summaryPrefix = "-- referral-service backup: ";
/** The last lines pg_dump writes: a file without them was cut short. */
const dumpComplete = /\n-- PostgreSQL database dump complete\n--\s*$/;

export async function summarize(db: Queryable): Promise<DatabaseSummary> {
  const [tables] = await queryRows<{ present: boolean }>(
    db,
    sql`SELECT to_regclass('public.users') IS NOT NULL AND to_regclass('public.ledger_entries') IS NOT NULL AS present`,
  );
  // A folder whose migrations never ran holds none of the service's data.
  if (!tables?.present) return { users: 0, ledgerEntries: 0, balanceCents: "0" };
  const [row] = await queryRows<DatabaseSummary>(
    db,
    sql`SELECT (SELECT count(*) FROM users)::int AS "users",
               (SELECT count(*) FROM ledger_entries)::int AS "ledgerEntries",
               (SELECT coalesce(sum(balance_cents), 0) FROM users)::text AS "balanceCents"`,
  );
  return row ?? { users: 0, ledgerEntries: 0, balanceCents: "0" };
}

export function describeSummary(summary: DatabaseSummary): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${plural(summary.users, "user", "users")}, ${plural(summary.ledgerEntries, "ledger entry", "ledger entries")}, balances ${summary.balanceCents} cents in all`;
}

/** The lines put before pg_dump's output: what it is, how to restore it, and what it holds. */
export function backupHeader(summary: DatabaseSummary, dataDir: string, takenAt: Date): string {
  return [
    `-- A backup of the referral service's embedded database (DATA_DIR ${dataDir}), ${takenAt.toISOString()}.`,
    "-- Plain SQL from pg_dump. Restore it with `npm run restore -- FILE` (a new DATA_DIR), or into",
    '-- PostgreSQL with psql (docs/deploy.md, "Backups and restore").',
    `${summaryPrefix}${JSON.stringify(summary)}`,
    "",
  ].join("\n");
}

/** The summary a backup's header gives; undefined for a dump made by something else. */
export function summaryInHeader(text: string): DatabaseSummary | undefined {
  const start = text.indexOf(summaryPrefix);
  if (start === -1 || start > 2000) return undefined;
  const end = text.indexOf("\n", start);
  try {
    return JSON.parse(
      text.slice(start + summaryPrefix.length, end === -1 ? undefined : end),
    ) as DatabaseSummary;
  } catch {
    return undefined;
  }
}

/** Refuses a file that is not a whole plain-SQL dump, with what to do instead. */
export function checkDumpText(text: string, file: string): void {
  if (text.startsWith("PGDMP")) {
    throw new BackupError(
      `${file} is a pg_dump archive (custom format): restore it into PostgreSQL with pg_restore; npm run restore reads the plain SQL that npm run backup writes`,
    );
  }
  if (!text.includes("-- PostgreSQL database dump")) {
    throw new BackupError(`${file} is not a backup written by npm run backup (or pg_dump's plain SQL)`);
  }
  if (!dumpComplete.test(text)) {
    throw new BackupError(
      `${file} is incomplete: it does not end with pg_dump's last line, so it was cut short`,
    );
  }
}

/** The database as plain SQL with its header. The caller holds the folder, so nothing writes meanwhile. */
export async function dumpDatabase(handle: DatabaseHandle, dataDir: string, takenAt: Date): Promise<string> {
  const summary = await summarize(handle.db);
  // No owners or grants: the restore's user owns everything, on PGlite as on any PostgreSQL server.
  // Rows as INSERTs (pglite-tools always asks for them: PGlite's exec cannot take COPY … FROM stdin)
  // naming their columns, a thousand rows a statement rather than one each, which loads faster.
  const dump = await pgDump({
    pg: pgliteOf(handle),
    args: ["--no-owner", "--no-privileges", "--column-inserts", "--rows-per-insert=1000"],
  });
  return backupHeader(summary, dataDir, takenAt) + (await dump.text());
}

/**
 * Writes `text` to `file` whole or not at all: a temporary file beside it, flushed to disk, then
 * linked to its name, which fails if the name exists (a backup never replaces another file).
 */
export function writeNewFile(file: string, text: string): void {
  if (existsSync(file)) throw new BackupError(`${file} already exists; give another file name`);
  const partial = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.partial`);
  const fd = openSync(partial, "wx");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(partial, file);
  } catch (error) {
    if ((error as { code?: unknown }).code === "EEXIST") {
      throw new BackupError(`${file} already exists; give another file name`);
    }
    throw error;
  } finally {
    rmSync(partial, { force: true });
  }
}

/** What DATA_DIR is now: not there, an empty folder, a PGlite database, or something else. */
export function inspectDataDir(dataDir: string): "missing" | "empty" | "database" | "other" {
  if (!existsSync(dataDir)) return "missing";
  if (existsSync(join(dataDir, "PG_VERSION"))) return "database";
  // A lock file left by a process that never created the database is not data.
  return readdirSync(dataDir).every((name) => name.startsWith(lockFileName)) ? "empty" : "other";
}

export interface RestoreResult {
  restored: DatabaseSummary;
  /** What DATA_DIR held before, now in `keptAt`; undefined when it held no database. */
  replaced?: DatabaseSummary;
  keptAt?: string;
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * Restores a plain-SQL backup as DATA_DIR. Refuses while another process holds DATA_DIR
 * (DataDirInUseError), and when DATA_DIR holds users unless `force`; then DATA_DIR is kept beside
 * the new one as DATA_DIR.before-restore-<time>.
 */
export async function restoreDataDir(
  dataDir: string,
  text: string,
  options: { file: string; force: boolean; now: Date },
): Promise<RestoreResult> {
  checkDumpText(text, options.file);
  const target = resolve(dataDir);
  const state = inspectDataDir(target);
  if (state === "other") {
    throw new BackupError(
      `DATA_DIR (${dataDir}) holds files but no embedded database; restore into an empty or new folder`,
    );
  }
  // Held from the check of what DATA_DIR holds until the new folder is in its place: a server that
  // starts meanwhile is refused, and nothing changes DATA_DIR between the check and the swap.
  const lock = state === "database" ? lockDataDir(target, "npm run restore") : undefined;
  const staging = `${target}.restoring-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    let replaced: DatabaseSummary | undefined;
    if (state === "database") {
      // Opened without openDatabase, which would take the lock this process already holds.
      const current = new PGlite(target);
      try {
        replaced = await summarize(drizzle({ client: current }) as unknown as Queryable);
      } finally {
        await current.close();
      }
      if (replaced.users > 0 && !options.force) {
        throw new BackupError(
          `DATA_DIR (${dataDir}) already holds a database with ${describeSummary(replaced)}. ` +
            "Give --force to replace it (it is kept beside the new one), or restore into another DATA_DIR",
        );
      }
    }
    try {
      mkdirSync(dirname(staging), { recursive: true });
      mkdirSync(staging);
    } catch (error) {
      throw new BackupError(
        `cannot create ${staging} (${codeOf(error)}): a restore builds the new database in a folder beside DATA_DIR, so DATA_DIR's parent folder must be writable`,
      );
    }
    const restored = await loadInto(staging, text, options.file);
    const keptAt = state === "database" ? `${target}.before-restore-${stamp(options.now)}` : undefined;
    swapIn(staging, target, keptAt);
    if (keptAt) removeOwnLock(keptAt);
    return keptAt ? { restored, replaced, keptAt } : { restored };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    lock?.release();
  }
}

/**
 * Loads the SQL into a new PGlite folder, checks it holds what the backup's header says, brings it
 * to this version's migrations, and summarizes it.
 */
async function loadInto(folder: string, text: string, file: string): Promise<DatabaseSummary> {
  let handle: DatabaseHandle | undefined;
  try {
    handle = await openDatabase({ dataDir: folder, command: "npm run restore" });
    try {
      await pgliteOf(handle).exec(text);
    } catch (error) {
      throw new BackupError(
        `${file} could not be loaded: ${(error as Error).message}; DATA_DIR is unchanged`,
      );
    }
    // pg_dump's SQL empties search_path for its own session; the queries below need it back.
    await pgliteOf(handle).exec("RESET ALL");
    // Compared before the migrations, on the schema the backup was taken with.
    const loaded = await summarize(handle.db);
    const expected = summaryInHeader(text);
    if (expected && JSON.stringify(expected) !== JSON.stringify(loaded)) {
      throw new BackupError(
        `the restored database differs from the backup's header (backup: ${describeSummary(expected)}; restored: ${describeSummary(loaded)}); DATA_DIR is unchanged`,
      );
    }
    // A backup from an earlier version gets the migrations it lacks, as the server would give it.
    await migrateDatabase(handle);
    return await summarize(handle.db);
  } finally {
    await handle?.close();
  }
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

/** Puts `staging` at `target`, moving an existing `target` to `keptAt` first (and back on failure). */
function swapIn(staging: string, target: string, keptAt: string | undefined): void {
  try {
    if (keptAt) renameSync(target, keptAt);
    else if (existsSync(target)) rmSync(target, { recursive: true, force: true });
  } catch (error) {
    if (["EBUSY", "EXDEV", "EPERM", "EACCES"].includes(codeOf(error) as string)) {
      throw new BackupError(
        `cannot move DATA_DIR (${target}) aside (${codeOf(error)}): a restore puts a new folder in its place, so DATA_DIR must not be a mount point and its parent folder must be writable. Restore into a new DATA_DIR inside the mounted folder instead`,
      );
    }
    throw error;
  }
  try {
    renameSync(staging, target);
  } catch (error) {
    if (keptAt) renameSync(keptAt, target);
    throw error;
  }
}

/** The lock file that moved aside with the old folder is this process's: it would only confuse. */
function removeOwnLock(folder: string): void {
  const path = join(folder, lockFileName);
  try {
    if ((JSON.parse(readFileSync(path, "utf8")) as { pid?: unknown }).pid === process.pid) rmSync(path);
  } catch {}
}

/** npm runs scripts in the package's folder; a relative FILE means the folder npm was run from. */
/** A command line the CLI cannot read: its message is printed above the usage. */
export class UsageError extends Error {}

/**
 * Runs backup's or restore's main and exits: 0 as main says, 1 for a refusal (the folder in use,
 * DATABASE_URL set, a file or database in the way, a bad file), 2 for anything else.
 */
export function runBackupCli(
  command: "backup" | "restore",
  usage: string,
  main: () => Promise<number>,
): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) console.error(`${error.message}\n\n${usage}`);
      else if (error instanceof ConfigError) console.error(`Configuration error: ${error.message}`);
      else if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
        console.error(`${(error as Error).message}\n\n${usage}`);
      } else console.error(`${command} failed: ${error instanceof Error ? error.message : String(error)}`);
      const refused = error instanceof BackupError || error instanceof DataDirInUseError;
      process.exit(refused ? 1 : 2);
    },
  );
}

export function fromCallerFolder(file: string): string {
  return isAbsolute(file) ? file : resolve(process.env.INIT_CWD ?? process.cwd(), file);
}

/** Where a backup goes by default: a new file named after the time, in the folder npm was run from. */
export function defaultBackupFile(now: Date): string {
  return `referral-backup-${stamp(now)}.sql`;
}
