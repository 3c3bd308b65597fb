// `npm run createsuperuser`: creates a staff user, or makes an existing user staff. Asks for the
// username and password on a terminal; otherwise takes --username/--password or the environment
// (SUPERUSER_USERNAME, SUPERUSER_PASSWORD). The sign-up rules apply to both.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { messages } from "./accounts/messages.js";
import { createPasswordHasher } from "./accounts/password-hasher.js";
import { createOrPromoteStaff, findUserByUsername, staffRequestProblems } from "./admin/staff.js";
import { ConfigError, loadConfig } from "./config.js";
import { migrateDatabase, openDatabase } from "./db/connection.js";
import { DataDirInUseError } from "./db/data-dir-lock.js";
import { ValidationError } from "./errors.js";

class UsageError extends Error {}

const usage = `Usage: npm run createsuperuser [-- --username NAME --password PASSWORD]
  Without flags on a terminal, asks for both. Elsewhere, give them as flags or as
  SUPERUSER_USERNAME and SUPERUSER_PASSWORD (the environment keeps the password out of ps).
  An existing user is made staff; their password changes only when one is given.`;

/** Questions on the terminal through one readline, so type-ahead is never lost between them. */
function terminalPrompter() {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const internal = rl as unknown as { _writeToOutput(text: string): void };
  const write = internal._writeToOutput.bind(rl);
  let muted = false;
  // Echo nothing of a password as it is typed, as passwd does; only the line break.
  internal._writeToOutput = (text: string) => {
    if (!muted) write(text);
    else if (text.includes("\n") || text.includes("\r")) write("\r\n");
  };
  return {
    ask(question: string, hidden: boolean): Promise<string> {
      return new Promise((resolve) => {
        muted = false;
        rl.question(question, (answer) => {
          muted = false;
          resolve(answer);
        });
        muted = hidden;
      });
    },
    close: () => rl.close(),
  };
}

type Prompter = ReturnType<typeof terminalPrompter>;

function printErrors(error: ValidationError): void {
  for (const [field, list] of Object.entries(error.fields)) {
    for (const message of list) console.error(`${field === "__all__" ? "Error" : field}: ${message}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      username: { type: "string" },
      password: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const prompter = interactive ? terminalPrompter() : null;
  try {
    return await run(values, prompter);
  } finally {
    prompter?.close();
  }
}

async function run(
  values: { username?: string | undefined; password?: string | undefined },
  prompter: Prompter | null,
): Promise<number> {
  let username = values.username ?? process.env.SUPERUSER_USERNAME;
  let password = values.password ?? process.env.SUPERUSER_PASSWORD;
  if (!username && !prompter) throw new UsageError("No username: give --username or SUPERUSER_USERNAME.");

  const config = loadConfig();
  // Opened before any question, so that a PGlite folder in use is refused before anything is typed.
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
    command: "npm run createsuperuser",
  });
  try {
    // Without a username there is a prompter: checked above.
    if (!username) username = (await (prompter as Prompter).ask("Username: ", false)).trim();
    await migrateDatabase(database);
    const existing = await findUserByUsername(database.db, username);
    if (!existing && !password) {
      if (!prompter) throw new UsageError("No password: give --password or SUPERUSER_PASSWORD.");
      for (let attempt = 1; ; attempt++) {
        const first = await prompter.ask("Password: ", true);
        const second = await prompter.ask("Password (again): ", true);
        const problems =
          first !== second
            ? new ValidationError({ password: [messages.passwordMismatch] })
            : new ValidationError(staffRequestProblems({ username, password: first }, true).fields);
        if (Object.keys(problems.fields).length === 0) {
          password = first;
          break;
        }
        printErrors(problems);
        if (attempt === 3) return 1;
      }
    }
    const hasher = createPasswordHasher();
    const result = await createOrPromoteStaff(database.db, { username, password }, hasher).finally(() =>
      hasher.close(),
    );
    if (result.created) console.log(`Created staff user "${result.username}".`);
    else if (result.promoted) console.log(`"${result.username}" is now staff.`);
    else console.log(`"${result.username}" was staff already.`);
    if (!result.created && result.passwordChanged) console.log("Their password was changed.");
    if (!result.isActive) console.log("Note: this user is deactivated; reactivate them to let them log in.");
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ValidationError) printErrors(error);
    else if (error instanceof UsageError) console.error(`${error.message}\n\n${usage}`);
    else if (error instanceof ConfigError) console.error(`Configuration error: ${error.message}`);
    else if (error instanceof Error && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${error.message}\n\n${usage}`);
      process.exit(2);
    } else console.error(`createsuperuser failed: ${error instanceof Error ? error.message : String(error)}`);
    // A folder in use is a refusal, as a weak password is, not a misuse of the command.
    process.exit(error instanceof ValidationError || error instanceof DataDirInUseError ? 1 : 2);
  },
);
