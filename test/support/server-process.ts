// Starts the real server as a child process on a free port, for black-box tests over a socket.
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { createTestDatabase, migratedDataDir, type TestDatabase } from "./database.js";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A script of the service run under tsx, its stdout and stderr collected together. */
export interface TsxProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves with the exit code once the process has exited and its output streams are closed. */
  closed: Promise<number | null>;
  /**
   * Resolves once the output holds `count` matches of `pattern` (a global regex is not needed);
   * rejects, with the output, if the process exits first.
   */
  waitForOutput(pattern: RegExp, count?: number): Promise<void>;
}

export function spawnTsx(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
  /** A process group of its own, which process.kill(-pid, signal) signals as a whole. */
  ownProcessGroup = false,
): TsxProcess {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: ownProcessGroup,
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  let streamsClosed = false;
  child.once("close", () => {
    streamsClosed = true;
  });
  const matches = (pattern: RegExp) =>
    output.match(new RegExp(pattern.source, `${pattern.flags.replace("g", "")}g`))?.length ?? 0;
  return {
    child,
    output: () => output,
    exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
    closed: new Promise((resolve) => child.once("close", (code) => resolve(code))),
    waitForOutput(pattern, count = 1) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (matches(pattern) < count) return;
          stop();
          resolve();
        };
        const exited = () => {
          stop();
          if (matches(pattern) >= count) return resolve();
          reject(new Error(`exited before ${count} × ${pattern}:\n${output}`));
        };
        const stop = () => {
          child.stdout?.off("data", check);
          child.stderr?.off("data", check);
          child.off("close", exited);
        };
        child.stdout?.on("data", check);
        child.stderr?.on("data", check);
        child.once("close", exited);
        check();
        if (streamsClosed) exited();
      });
    },
  };
}

export interface ServerProcess {
  baseUrl: string;
  child: ChildProcess;
  output: () => string;
  /** The server's PostgreSQL database (a fresh one, or the one passed in); undefined on PGlite. */
  databaseUrl: string | undefined;
  /** The test's own connection to a fresh PostgreSQL database it created; undefined otherwise. */
  database: TestDatabase | undefined;
  /** PGlite's folder (read it once the process has exited); undefined on PostgreSQL. */
  dataDir: string | undefined;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves with the exit code once the process has exited and its output is all in output(). */
  closed: Promise<number | null>;
  waitForOutput: TsxProcess["waitForOutput"];
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Serve this PostgreSQL database (not dropped at stop) instead of a fresh one. */
  databaseUrl?: string;
  /** Serve PGlite from this folder (not deleted at stop) instead of a fresh one. */
  dataDir?: string;
  /** Run in a process group of its own (with WEB_CONCURRENCY, the workers are in it too). */
  ownProcessGroup?: boolean;
}

export async function startServerProcess(
  env: Record<string, string> = {},
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const port = await freePort();
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    ...env,
  };
  if (options.databaseUrl) {
    childEnv.DATABASE_URL = options.databaseUrl;
  } else if (options.dataDir) {
    childEnv.DATA_DIR = options.dataDir;
    delete childEnv.DATABASE_URL;
  } else if (process.env.DATABASE_URL) {
    database = await createTestDatabase();
    childEnv.DATABASE_URL = database.url;
  } else {
    dataDir = await migratedDataDir("referral-blackbox-");
    childEnv.DATA_DIR = dataDir;
    delete childEnv.DATABASE_URL;
  }
  const {
    child,
    output: outputOf,
    exited,
    closed,
    waitForOutput,
  } = spawnTsx("src/main.ts", [], childEnv, options.ownProcessGroup);
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${outputOf()}`);
    try {
      await fetch(`${baseUrl}/login/`);
      break;
    } catch {
      if (Date.now() > deadline) {
        // A server left running would keep this test file's process alive for ever.
        child.kill("SIGKILL");
        await database?.drop().catch(() => {});
        throw new Error(`server did not start within 90 s:\n${outputOf()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    baseUrl,
    child,
    output: outputOf,
    databaseUrl: childEnv.DATABASE_URL,
    database,
    dataDir: childEnv.DATABASE_URL ? undefined : childEnv.DATA_DIR,
    exited,
    closed,
    waitForOutput,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A cookie jar over fetch, like a browser-side script of the earlier version. */
/** Keeps the cookies a response's Set-Cookie lines give, and drops those they expire, as a browser does. */
export function rememberSetCookies(cookies: Map<string, string>, lines: readonly string[]): void {
  for (const line of lines) {
    const [pair = ""] = line.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === "") cookies.delete(name);
    else cookies.set(name, value);
  }
}

export class FetchClient {
  readonly cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  getCookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(`${this.baseUrl}${path}`, { ...init, headers, redirect: "manual" });
    rememberSetCookies(this.cookies, response.headers.getSetCookie());
    return response;
  }

  /** Signs up over JSON (fetching the CSRF cookie first if it has none); the response as it came. */
  async signUp(username: string, password = "correct horse battery"): Promise<Response> {
    if (!this.getCookie("csrftoken"))
      await this.fetch("/login/", { headers: { accept: "application/json" } });
    return this.fetch("/signup/", {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "x-csrftoken": this.getCookie("csrftoken") ?? "",
      },
      body: JSON.stringify({ username, password1: password, password2: password }),
    });
  }
}
