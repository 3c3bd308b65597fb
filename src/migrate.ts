// `npm run migrate`: applies the committed migrations to DATABASE_URL (or PGlite in DATA_DIR) and
// exits, without starting the service. Safe to run while instances are up, and to run twice.
import { ConfigError, loadConfig } from "./config.js";
import { expectedMigrations } from "./db/readiness.js";
import { openDatabaseOrExplain, StartupError } from "./ops/startup.js";

async function migrate(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabaseOrExplain(config, { migrate: true });
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
