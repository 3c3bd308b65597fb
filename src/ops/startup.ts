// Opening the database at start, with a readable reason when it cannot be reached (no stack trace,
// never the password).
import type { Config } from "../config.js";
import { type DatabaseHandle, migrateDatabase, openDatabase, ping } from "../db/connection.js";
import { DataDirInUseError } from "../db/data-dir-lock.js";
import { summarizeError } from "../db/errors.js";

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** DATABASE_URL as it may be shown: user, host, port and database, never the password. */
export function describeDatabaseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const user = url.username ? `${decodeURIComponent(url.username)}@` : "";
    const socket = url.searchParams.get("host");
    return `${url.protocol}//${user}${url.host}${url.pathname}${socket ? `?host=${socket}` : ""}`;
  } catch {
    return "(unparsable URL)";
  }
}

function codeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let i = 0; i < 6 && current; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    const inner = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) current = inner[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why the database could not be used, in a sentence. */
export function explainDatabaseError(error: unknown, databaseUrl: string): string {
  let host = "";
  try {
    const url = new URL(databaseUrl);
    host = url.searchParams.get("host") ?? `${url.hostname}:${url.port || "5432"}`;
  } catch {}
  const reason = summarizeError(error).message;
  switch (codeOf(error)) {
    case "ECONNREFUSED":
      return `nothing is listening at ${host} (is PostgreSQL running there? are the host and port right?)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host in ${host} cannot be found`;
    case "ENOENT":
      return `there is no socket at ${host}`;
    case "28P01":
    case "28000":
      return `PostgreSQL refused the login: ${reason}`;
    case "3D000":
      return `${reason}; create it first (CREATE DATABASE …)`;
    default:
      return /timeout/i.test(reason) ? `no answer from ${host} in time (${reason})` : reason;
  }
}

/**
 * Opens the database and checks it answers (PostgreSQL) or opens and locks its folder (PGlite,
 * `command` saying what this process is to any other that finds the folder locked); with `migrate`,
 * applies the migrations too. Failure throws a StartupError that names DATABASE_URL or DATA_DIR.
 */
export async function openDatabaseOrExplain(
  config: Config,
  options: { migrate?: boolean; command?: string } = {},
): Promise<DatabaseHandle> {
  let handle: DatabaseHandle | undefined;
  try {
    handle = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: config.poolSize,
      command: options.command,
    });
    await ping(handle.db);
    if (options.migrate) await migrateDatabase(handle);
    return handle;
  } catch (error) {
    await handle?.close().catch(() => {});
    if (error instanceof DataDirInUseError) throw new StartupError(error.message);
    if (config.databaseUrl) {
      throw new StartupError(
        `cannot use the database in DATABASE_URL (${describeDatabaseUrl(config.databaseUrl)}): ` +
          explainDatabaseError(error, config.databaseUrl),
      );
    }
    throw new StartupError(
      `cannot open the embedded database in DATA_DIR (${config.dataDir}): ${summarizeError(error).message}`,
    );
  }
}
