// `npm run migrate`: applies the committed migrations to DATABASE_URL (or PGlite in DATA_DIR) and
// exits, without starting the service. Safe to run twice, and on PostgreSQL while instances are up
// (PGlite's folder takes one process: it is refused while the server holds it).
import { ConfigError, loadConfig } from "./config.js";
import { expectedMigrations } from "./db/readiness.js";
import { openDatabaseOrExplain, StartupError } from "./ops/startup.js";

async function migrate(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabaseOrExplain(config, { migrate: true, command: "npm run migrate" });
  await database.close();
  console.log(
    `Migrations applied (${expectedMigrations()} in total) to the ${database.kind === "postgres" ? "PostgreSQL database" : "embedded database"}.`,
  );
}

migrate().catch((error: unknown) => {
  const prefix = error instanceof ConfigError ? "Configuration error" : "Could not migrate";
  const message =
    error instanceof ConfigError || error instanceof StartupError || error instanceof Error
      ? error.message
      : String(error);
  console.error(`${prefix}: ${message}`);
  process.exit(1);
});
