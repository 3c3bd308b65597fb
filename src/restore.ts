// `npm run restore -- FILE`: makes a backup written by `npm run backup` the embedded database in
// DATA_DIR. It builds the database in a new folder beside DATA_DIR and swaps it in only once it is
// loaded, migrated and matches the backup; a DATA_DIR that holds users is replaced only with --force,
// and is then kept beside the new one. Refused while the server runs.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig } from "./config.js";
import {
  BackupError,
  describeSummary,
  fromCallerFolder,
  restoreDataDir,
  runBackupCli,
  UsageError,
} from "./ops/backup.js";

const usage = `Usage: npm run restore -- FILE [--force]
  Restores FILE, written by npm run backup, as the embedded database in DATA_DIR.
  A DATA_DIR that already holds users is replaced only with --force; it is then kept beside the
  new one as DATA_DIR.before-restore-<time>. Stop the server first.
  With DATABASE_URL set, restore PostgreSQL with pg_restore or psql (docs/deploy.md, "Backups and restore").`;

function readBackup(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new BackupError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { force: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("Give the backup file to restore.");
  const config = loadConfig();
  if (config.databaseUrl) {
    throw new BackupError(
      'DATABASE_URL is set, so the data is in PostgreSQL: restore it with pg_restore (a custom-format pg_dump) or psql (this command\'s SQL backups) into an empty database (docs/deploy.md, "Backups and restore")',
    );
  }
  const file = fromCallerFolder(positionals[0] as string);
  const result = await restoreDataDir(config.dataDir, readBackup(file), {
    file,
    force: values.force ?? false,
    now: new Date(),
  });
  console.log(`Restored ${file} into DATA_DIR (${config.dataDir}): ${describeSummary(result.restored)}.`);
  if (result.keptAt && result.replaced) {
    console.log(
      `The database it replaced (${describeSummary(result.replaced)}) is kept in ${result.keptAt}; delete it when you no longer need it.`,
    );
  }
  return 0;
}

runBackupCli("restore", usage, main);
