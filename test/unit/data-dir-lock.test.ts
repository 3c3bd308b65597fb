// The lock on a PGlite folder: one process at a time, a lock whose process is gone taken over, and
// the folder freed when the database closes or the process ends.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { openDatabase } from "../../src/db/connection.js";
import { DataDirInUseError, type LockHolder, lockDataDir, lockFileName } from "../../src/db/data-dir-lock.js";
import { migratedDataDir, migratedTemplate } from "../support/database.js";

/** The pid of a process that has exited. */
async function pidOfAFinishedProcess(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

describe("the lock on DATA_DIR", () => {
  let dataDir: string;
  let lockFile: string;
  const holder = (): LockHolder => JSON.parse(readFileSync(lockFile, "utf8"));

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "referral-lock-"));
    lockFile = join(dataDir, lockFileName);
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  test("a second process is refused with the folder, and the pid and command of the one holding it", () => {
    // The test runner, our parent, plays the server: a pid that is running and not ours.
    const server = lockDataDir(dataDir, "the server", process.ppid);
    try {
      assert.throws(
        () => lockDataDir(dataDir, "npm run createsuperuser"),
        (error: unknown) =>
          error instanceof DataDirInUseError &&
          error.message ===
            `the embedded database in DATA_DIR (${dataDir}) is in use by another process ` +
              `(pid ${process.ppid}, the server). Stop it first, or set DATA_DIR to another folder.`,
      );
      assert.equal(holder().pid, process.ppid, "the refused process leaves the lock as it was");
      assert.equal(holder().command, "the server");
    } finally {
      server.release();
    }
  });

  test("the process that holds the folder cannot take it a second time", () => {
    const first = lockDataDir(dataDir, "the server");
    try {
      assert.throws(() => lockDataDir(dataDir, "the server"), DataDirInUseError);
    } finally {
      first.release();
    }
  });

  test("a lock left by a process that is no longer running is taken over", async () => {
    const gone = await pidOfAFinishedProcess();
    writeFileSync(
      lockFile,
      JSON.stringify({ pid: gone, command: "the server", startedAt: new Date().toISOString() }),
    );
    const lock = lockDataDir(dataDir, "npm run migrate");
    assert.deepEqual([holder().pid, holder().command], [process.pid, "npm run migrate"]);
    lock.release();
  });

  test("a lock with this process's pid that it does not hold (a restarted container's) is taken over", () => {
    writeFileSync(
      lockFile,
      JSON.stringify({ pid: process.pid, command: "the server", startedAt: new Date().toISOString() }),
    );
    const lock = lockDataDir(dataDir, "the server");
    lock.release();
    assert.equal(existsSync(lockFile), false);
  });

  test("a lock file that names no process is taken over", () => {
    writeFileSync(lockFile, "");
    const lock = lockDataDir(dataDir, "the server");
    assert.equal(holder().pid, process.pid);
    lock.release();
  });

  test("release removes the lock file, once, and then the folder can be taken again", () => {
    const lock = lockDataDir(dataDir, "the server");
    assert.ok(existsSync(lockFile));
    lock.release();
    assert.equal(existsSync(lockFile), false);
    const again = lockDataDir(dataDir, "npm run createsuperuser");
    lock.release();
    assert.equal(holder().command, "npm run createsuperuser", "a second release leaves the next lock alone");
    again.release();
    assert.deepEqual(readdirSync(dataDir), [], "nothing is left in the folder: no lock, no draft beside it");
  });

  test("release leaves alone a lock that is no longer its own", () => {
    const lock = lockDataDir(dataDir, "the server");
    const other = JSON.stringify({ pid: process.ppid, command: "the server", startedAt: "" });
    writeFileSync(lockFile, other);
    lock.release();
    assert.equal(readFileSync(lockFile, "utf8"), other);
  });

  test("a process that ends without closing the database frees the folder", async () => {
    const script = `
      import { lockDataDir } from ${JSON.stringify(new URL("../../src/db/data-dir-lock.ts", import.meta.url).pathname)};
      lockDataDir(${JSON.stringify(dataDir)}, "a crashing process");
      throw new Error("crash");
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise((resolve) => child.once("close", resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /Error: crash/);
    assert.equal(existsSync(lockFile), false, stderr);
  });

  test("openDatabase takes the lock on a folder and close() frees it; memory:// takes none", async () => {
    // A migrated folder, copied: what a server finds at its second start, without initdb's seconds.
    rmSync(dataDir, { recursive: true, force: true });
    dataDir = await migratedDataDir("referral-lock-");
    lockFile = join(dataDir, lockFileName);
    const first = await openDatabase({ dataDir, command: "the server" });
    try {
      assert.equal(holder().command, "the server");
      await assert.rejects(openDatabase({ dataDir, command: "npm run migrate" }), DataDirInUseError);
    } finally {
      await first.close();
    }
    assert.equal(existsSync(lockFile), false);
    const inMemory = await openDatabase({ dataDir: "memory://", loadDataDir: await migratedTemplate() });
    await inMemory.close();
  });
});
