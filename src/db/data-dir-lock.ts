// One process at a time on a PGlite folder: PGlite has no locking of its own, and two processes on
// the same files corrupt them. A lock file in the folder names the process holding it; a lock whose
// process is no longer running (killed, crashed) is taken over.
import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export const lockFileName = "referral-service.lock";

/** What the lock file holds. */
export interface LockHolder {
  pid: number;
  /** What the process is: "the server", "npm run createsuperuser". */
  command: string;
  startedAt: string;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `the embedded database in DATA_DIR (${dataDir}) is in use by another process ` +
        `(pid ${holder.pid}, ${holder.command}). Stop it first, or set DATA_DIR to another folder.`,
    );
    this.name = "DataDirInUseError";
  }
}

export interface DataDirLock {
  /** Removes the lock file if it is still this lock's; a second call does nothing. */
  release(): void;
}

/** The lock files this process holds, by path, with the exact text each was written with. */
const held = new Map<string, string>();
let releasedAtExit = false;

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined;
    throw error;
  }
}

/** The holder a lock file names; undefined for text this module did not write. */
function parse(text: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isInteger(holder.pid) || (holder.pid as number) <= 0 || typeof holder.command !== "string") {
      return undefined;
    }
    return holder as LockHolder;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number, path: string): boolean {
  // Our own pid on a lock we do not hold: left by an earlier process that had the same pid, as the
  // server restarted in a container (always pid 1) has.
  if (pid === process.pid) return held.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: running, as another user.
    return codeOf(error) !== "ESRCH";
  }
}

function removeIfMine(path: string, text: string): void {
  if (read(path) === text) rmSync(path, { force: true });
}

/**
 * Removes a lock whose holder is gone. It is first moved aside, then checked: if another process
 * took the lock over between our reading and our move, the lock moved is theirs and goes back.
 */
function takeOver(path: string, staleText: string): void {
  const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return;
    throw error;
  }
  try {
    if (read(aside) !== staleText) linkSync(aside, path);
  } catch (error) {
    if (codeOf(error) !== "EEXIST") throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

/**
 * Takes the lock on a PGlite folder (which must exist) for this process, or throws a
 * DataDirInUseError naming the process that holds it. `pid` is this process's but for tests that
 * play another process.
 */
export function lockDataDir(dataDir: string, command: string, pid = process.pid): DataDirLock {
  const path = resolve(dataDir, lockFileName);
  const text = JSON.stringify({ pid, command, startedAt: new Date().toISOString() } satisfies LockHolder);
  // Written whole beside the lock and then linked to its name, which fails if the name exists: the
  // lock appears at once with its content, so no one ever reads a lock that is half written.
  const draft = `${path}.${randomBytes(6).toString("hex")}`;
  writeFileSync(draft, text);
  try {
    for (;;) {
      try {
        linkSync(draft, path);
        break;
      } catch (error) {
        if (codeOf(error) !== "EEXIST") throw error;
      }
      const found = read(path);
      if (found === undefined) continue;
      const holder = parse(found);
      if (holder && isRunning(holder.pid, path)) throw new DataDirInUseError(dataDir, holder);
      takeOver(path, found);
    }
  } finally {
    rmSync(draft, { force: true });
  }
  held.set(path, text);
  if (!releasedAtExit) {
    releasedAtExit = true;
    // A process that ends without closing the database (an uncaught error, process.exit) frees the
    // folder too; one killed by a signal leaves a lock that the next process takes over.
    process.on("exit", () => {
      for (const [lockPath, lockText] of held) removeIfMine(lockPath, lockText);
    });
  }
  return {
    release() {
      if (held.get(path) !== text) return;
      held.delete(path);
      removeIfMine(path, text);
    },
  };
}
