// `npm run import:django -- --from postgres://…`: copies the earlier Django version's users into this
// service's database (DATABASE_URL, or the PGlite in DATA_DIR, as the service opens it). See
// docs/deploy.md, "Moving from the Django version".
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./config.js";
import { migrateDatabase, openDatabase } from "./db/connection.js";
import { DataDirInUseError } from "./db/data-dir-lock.js";
import { checkReadiness, expectedMigrations } from "./db/readiness.js";
import { ImportRefused, importFromDjango, ReconciliationFailed } from "./django-import/import.js";
import { progressOn } from "./django-import/progress.js";
import { describeReport } from "./django-import/report.js";
import { openDjangoSource } from "./django-import/source.js";

class UsageError extends Error {}
/** A dry run found a database it would have to create or migrate first: it writes nothing, so it stops. */
class NotMigrated extends Error {}

const usage = `Usage: npm run import:django -- --from postgres://USER:PASSWORD@HOST/DJANGO_DB [options]
  Copies the Django version's users (auth_user with their profile and referral link) into this
  service's database: DATABASE_URL when set, else the PGlite folder DATA_DIR (stop the server first),
  migrated first.
  DJANGO_DATABASE_URL may stand for --from (it keeps the password out of ps).
  Options:
    --dry-run             do everything, print the report, then roll back: nothing is written
                          (the database here must be migrated already)
    --rename-collisions   rename users whose names are one name here (the oldest id keeps it,
                          the others become NAME-<django id>) instead of refusing
    --batch-size N        users written per statement (default 1000)
  Safe to run again: users imported before are skipped. Exit status: 0 done, 1 refused or the
  reconciliation differs, the PGlite folder is in use, or a dry run finds the database here not
  migrated (nothing written), 2 a usage or connection error.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      from: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "rename-collisions": { type: "boolean", default: false },
      "batch-size": { type: "string", default: "1000" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const from = values.from ?? process.env.DJANGO_DATABASE_URL;
  if (!from) throw new UsageError("No Django database: give --from or DJANGO_DATABASE_URL.");
  const batchSize = Number(values["batch-size"]);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new UsageError("--batch-size must be a whole number from 1 to 10000.");
  }

  const config = loadConfig();
  const dryRun = values["dry-run"];
  if (dryRun && !config.databaseUrl && !existsSync(config.dataDir)) {
    throw new NotMigrated(`DATA_DIR (${config.dataDir}) does not exist yet: run npm run migrate first.`);
  }
  const target = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
    command: "npm run import:django",
  });
  try {
    if (dryRun) {
      const readiness = await checkReadiness(target.db, expectedMigrations(), 10_000);
      if (!readiness.ready) {
        throw new NotMigrated(
          readiness.reason === "migrations_pending"
            ? `the database here has ${readiness.applied} of ${readiness.expected} migrations: run npm run migrate first.`
            : `the database here does not answer: ${readiness.message}`,
        );
      }
    } else {
      await migrateDatabase(target);
    }
    const source = await openDjangoSource(from);
    try {
      const started = performance.now();
      const report = await importFromDjango(
        source,
        target.db,
        { dryRun, renameCollisions: values["rename-collisions"], batchSize },
        progressOn(process.stderr),
      );
      for (const line of describeReport(report)) console.log(line);
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `${report.dryRun ? "Dry run done" : "Done"} in ${seconds.toFixed(1)} s` +
          (report.imported > 0 ? ` (${Math.round(report.imported / seconds)} users/s).` : "."),
      );
      return 0;
    } finally {
      await source.close();
    }
  } finally {
    await target.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ImportRefused || error instanceof ReconciliationFailed) {
      for (const line of describeReport(error.report)) console.log(line);
      console.error(`import:django: ${error.message}.`);
      process.exit(1);
    }
    // A folder in use is a refusal, as in createsuperuser: nothing was read or written.
    if (error instanceof NotMigrated) {
      console.error(`import:django: a dry run writes nothing, and ${error.message}`);
      process.exit(1);
    }
    if (error instanceof DataDirInUseError) {
      console.error(`import:django: ${error.message}`);
      process.exit(1);
    }
    if (error instanceof UsageError) console.error(`${error.message}\n\n${usage}`);
    else if (error instanceof ConfigError) console.error(`Configuration error: ${error.message}`);
    else if (error instanceof Error && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${error.message}\n\n${usage}`);
    } else console.error(`import:django failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
