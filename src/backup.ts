// `npm run backup`: writes the embedded database (PGlite in DATA_DIR) to a new file as plain SQL,
// which `npm run restore` (or psql, into PostgreSQL) loads back. Refused while the server runs: the
// folder takes one process at a time, and a backup taken with the server stopped is consistent.
import { parseArgs } from "node:util";
import { loadConfig } from "./config.js";
import { openDatabase } from "./db/connection.js";
import {
  BackupError,
  defaultBackupFile,
  describeSummary,
  dumpDatabase,
  fromCallerFolder,
  inspectDataDir,
  runBackupCli,
  summaryInHeader,
  UsageError,
  writeNewFile,
} from "./ops/backup.js";

const usage = `Usage: npm run backup [-- FILE]
  Writes the embedded database in DATA_DIR to FILE (a new file; by default
  referral-backup-<time>.sql in the current folder) as plain SQL, for npm run restore or psql.
  Stop the server first: DATA_DIR is used by one process at a time.
  With DATABASE_URL set, back up PostgreSQL with pg_dump (docs/deploy.md, "Backups and restore").`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError("Give one file name at most.");
  const config = loadConfig();
  if (config.databaseUrl) {
    throw new BackupError(
      'DATABASE_URL is set, so the data is in PostgreSQL: back it up with pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" --file=referral.dump (docs/deploy.md, "Backups and restore")',
    );
  }
  if (inspectDataDir(config.dataDir) !== "database") {
    throw new BackupError(
      `there is no embedded database in DATA_DIR (${config.dataDir}): nothing to back up`,
    );
  }
  const now = new Date();
  const file = fromCallerFolder(positionals[0] ?? defaultBackupFile(now));
  const database = await openDatabase({ dataDir: config.dataDir, command: "npm run backup" });
  let text: string;
  try {
    text = await dumpDatabase(database, config.dataDir, now);
  } finally {
    await database.close();
  }
  writeNewFile(file, text);
  const summary = summaryInHeader(text);
  console.log(
    `Backed up the embedded database in DATA_DIR (${config.dataDir}) to ${file}` +
      `${summary ? `: ${describeSummary(summary)}` : ""} (${Buffer.byteLength(text)} bytes).`,
  );
  return 0;
}

runBackupCli("backup", usage, main);
