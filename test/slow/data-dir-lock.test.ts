// One process per PGlite folder, with the real commands: while the server runs on DATA_DIR,
// createsuperuser, migrate and a second server are refused at once and touch nothing; once it has
// stopped (or died), createsuperuser runs and the user it made logs in on the next server.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { lockFileName } from "../../src/db/data-dir-lock.js";
import { onPostgres } from "../support/database.js";
import {
  FetchClient,
  freePort,
  type ServerProcess,
  spawnTsx,
  startServerProcess,
} from "../support/server-process.js";

const PASSWORD = "plum tractor sunrise";

describe("one process per PGlite folder", {
  skip: onPostgres ? "PGlite only (DATABASE_URL is set)" : false,
}, () => {
  let dataDir: string;
  let server: ServerProcess | undefined;
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: "warn" };
  delete env.DATABASE_URL;
  delete env.SUPERUSER_USERNAME;
  delete env.SUPERUSER_PASSWORD;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "referral-lock-"));
    env.DATA_DIR = dataDir;
  });
  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function run(script: string, args: string[] = [], extraEnv: Record<string, string> = {}) {
    const child = spawnTsx(script, args, { ...env, ...extraEnv });
    return { code: await child.closed, output: child.output() };
  }

  function inUseBy(pid: number | undefined, command: string): string {
    return (
      `the embedded database in DATA_DIR (${dataDir}) is in use by another process (pid ${pid}, ${command}). ` +
      "Stop it first, or set DATA_DIR to another folder."
    );
  }

  async function logIn(baseUrl: string, username: string): Promise<FetchClient> {
    const client = new FetchClient(baseUrl);
    await client.fetch("/login/", { headers: { accept: "application/json" } });
    const response = await client.fetch("/login/", {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "x-csrftoken": client.getCookie("csrftoken") ?? "",
      },
      body: JSON.stringify({ username, password: PASSWORD }),
    });
    assert.equal(response.status, 200, await response.text());
    return client;
  }

  test("while the server runs, createsuperuser, migrate and a second server exit 1 naming it", async () => {
    server = await startServerProcess({}, { dataDir });
    const pid = server.child.pid;

    const superuser = await run("src/createsuperuser.ts", [
      "--username",
      "too_early",
      "--password",
      PASSWORD,
    ]);
    assert.equal(superuser.code, 1, superuser.output);
    assert.equal(superuser.output.trim(), `createsuperuser failed: ${inUseBy(pid, "the server")}`);

    const migrate = await run("src/migrate.ts");
    assert.equal(migrate.code, 1, migrate.output);
    assert.equal(migrate.output.trim(), `Could not migrate: ${inUseBy(pid, "the server")}`);

    const second = await run("src/main.ts", [], { PORT: String(await freePort()), HOST: "127.0.0.1" });
    assert.equal(second.code, 1, second.output);
    assert.equal(second.output.trim(), `Could not start: ${inUseBy(pid, "the server")}`);

    // The server kept its folder and still works.
    assert.equal(server.child.exitCode, null);
    assert.equal(JSON.parse(readFileSync(join(dataDir, lockFileName), "utf8")).pid, pid);
    assert.equal((await new FetchClient(server.baseUrl).signUp("still_served")).status, 200);
  });

  test("once the server has stopped, the folder is free and createsuperuser makes a user who logs in", async () => {
    const running = server as ServerProcess;
    running.child.kill("SIGTERM");
    assert.equal(await running.exited, 0, running.output());
    assert.equal(existsSync(join(dataDir, lockFileName)), false, "SIGTERM released the lock");

    const superuser = await run("src/createsuperuser.ts", [
      "--username",
      "lock_root",
      "--password",
      PASSWORD,
    ]);
    assert.equal(superuser.code, 0, superuser.output);
    assert.match(superuser.output, /Created staff user "lock_root"\./);

    server = await startServerProcess({}, { dataDir });
    const staff = await logIn(server.baseUrl, "lock_root");
    assert.equal((await staff.fetch("/admin/", { headers: { accept: "application/json" } })).status, 200);
  });

  test("a server that was killed leaves a lock that createsuperuser takes over", async () => {
    const killed = server as ServerProcess;
    killed.child.kill("SIGKILL");
    await killed.exited;
    const left = JSON.parse(readFileSync(join(dataDir, lockFileName), "utf8"));
    assert.deepEqual([left.pid, left.command], [killed.child.pid, "the server"]);

    const superuser = await run("src/createsuperuser.ts", [
      "--username",
      "after_crash",
      "--password",
      PASSWORD,
    ]);
    assert.equal(superuser.code, 0, superuser.output);
    assert.match(superuser.output, /Created staff user "after_crash"\./);
    assert.equal(existsSync(join(dataDir, lockFileName)), false);
  });
});
