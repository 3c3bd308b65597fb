// A real PostgreSQL outage during a load run. A throwaway PostgreSQL server (its own data folder and
// port; the machine's main server is never touched) is stopped as if it crashed while sign-ups pour
// in, then started again. Requests during the outage must get a quick 503 (JSON or a page), never
// hang or 500; the service must recover by itself; and nothing that was answered 200 may be lost.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import pg from "pg";
import { openDatabase, queryRows } from "../../src/db/connection.js";
import { oneAddressSignals } from "../support/app.js";
import { onPostgres } from "../support/database.js";
import { balanceMismatches, ledgerOf } from "../support/ledger.js";
import { freePort, type ServerProcess, startServerProcess } from "../support/server-process.js";

/** The newest installed PostgreSQL's programs, or undefined. */
function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((x, y) => Number(y) - Number(x));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

const bin = postgresBin();
const asRoot = process.getuid?.() === 0;
const owner = asRoot ? postgresUser() : undefined;
// This test found a crash: a pooled connection that died while a request held it emitted an 'error'
// nobody listened to, and the server exited (3 runs in 8 before the fix in db/connection.ts, 0 in 11
// after; test/ops/connection-loss.test.ts pins the cause down deterministically).
const skip = !onPostgres
  ? "runs in the PostgreSQL pass (set DATABASE_URL); it starts its own throwaway PostgreSQL server"
  : !bin
    ? "initdb not found under /usr/lib/postgresql: cannot start a throwaway PostgreSQL server"
    : asRoot && !owner
      ? "running as root and there is no postgres user to run a throwaway server as"
      : false;

/** A PostgreSQL server of our own, in a temporary folder, on a free port. */
class ThrowawayPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), "referral-outage-pg-"));
  readonly data = join(this.dir, "data");
  port = 0;

  private pg(program: string, args: string[]): string {
    const command = join(bin as string, program);
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    return execFileSync(file, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  }

  async init(): Promise<void> {
    if (owner) chownSync(this.dir, owner.uid, owner.gid);
    this.port = await freePort();
    this.pg("initdb", [
      "-D",
      this.data,
      "-U",
      "postgres",
      "--auth=trust",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
  }

  start(): void {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=50`;
    this.pg("pg_ctl", [
      "-D",
      this.data,
      "-l",
      join(this.dir, "log"),
      "-o",
      options,
      "-w",
      "-t",
      "60",
      "start",
    ]);
  }

  /** Stops it as a crash would: no clean shutdown, in-flight transactions lost, WAL replayed at start. */
  crash(): void {
    this.pg("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]);
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  remove(): void {
    try {
      this.pg("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // Not running.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A cookie jar over fetch, talking JSON (or HTML) to the service. */
class Jar {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly accept = "application/json",
  ) {}
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("accept", this.accept);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(`${this.base}${path}`, {
      ...init,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const value = pair.slice(eq + 1).trim();
      if (value !== "" && !/max-age=0/i.test(line)) this.cookies.set(pair.slice(0, eq).trim(), value);
    }
    return response;
  }
  signUp(username: string, ref: string): Promise<Response> {
    return this.fetch(`/signup/?ref=${ref}`, {
      method: "POST",
      headers: {
        "x-csrftoken": this.cookies.get("csrftoken") ?? "",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        username,
        password1: "correct horse battery",
        password2: "correct horse battery",
      }).toString(),
    });
  }
}

interface Attempt {
  username: string;
  status: number;
  error?: string;
  startedAt: number;
  ms: number;
  body: string;
}

let postgres: ThrowawayPostgres | undefined;
let server: ServerProcess | undefined;
before(async () => {
  if (skip) return;
  postgres = new ThrowawayPostgres();
  await postgres.init();
  postgres.start();
  const admin = new pg.Client({ connectionString: postgres.url("postgres") });
  await admin.connect();
  await admin.query("CREATE DATABASE referrals");
  await admin.end();
});
after(async () => {
  await server?.stop();
  postgres?.remove();
});

test("PostgreSQL crashes during a load run and comes back: quick 503s, recovery without restart, nothing committed lost", {
  skip,
  timeout: 240_000,
}, async (t) => {
  const pgServer = postgres as ThrowawayPostgres;
  server = await startServerProcess(
    {
      SIGNUPS_PER_WINDOW: "100000",
      LOGIN_FAILURES_PER_WINDOW: "100000",
      DATABASE_POOL_SIZE: "5",
      // The load comes from 127.0.0.1 through one link: the signals that would hold it are off.
      ...oneAddressSignals,
    },
    { databaseUrl: pgServer.url("referrals") },
  );
  const base = server.baseUrl;
  const inviter = new Jar(base);
  await inviter.fetch("/login/");
  assert.equal((await inviter.signUp("outage_inviter", "")).status, 200);
  const me = (await (await inviter.fetch("/")).json()) as { referral_link: string };
  const ref = new URL(me.referral_link).searchParams.get("ref") as string;

  const attempts: Attempt[] = [];
  /** Each probe with when it was sent and when it was answered. */
  const readiness: { sentAt: number; at: number; status: number }[] = [];
  let running = true;
  let n = 0;
  const worker = async () => {
    while (running) {
      const jar = new Jar(base);
      const username = `outage_${n++}`;
      const startedAt = Date.now();
      try {
        await jar.fetch("/login/");
        const r = await jar.signUp(username, ref);
        attempts.push({
          username,
          status: r.status,
          startedAt,
          ms: Date.now() - startedAt,
          body: await r.text(),
        });
      } catch (error) {
        const e = error as Error & { cause?: Error };
        attempts.push({
          username,
          status: 0,
          error: `${e.message} ${e.cause?.message ?? ""}`,
          startedAt,
          ms: Date.now() - startedAt,
          body: "",
        });
      }
      // A client that keeps trying, a little slower while things fail.
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const prober = async () => {
    while (running) {
      const sentAt = Date.now();
      const r = await fetch(`${base}/readyz`).catch(() => undefined);
      readiness.push({ sentAt, at: Date.now(), status: r?.status ?? 0 });
      await new Promise((res) => setTimeout(res, 200));
    }
  };
  const load = Promise.all([worker(), worker(), worker(), worker(), prober()]);
  // A failed assertion must not leave the clients hammering a dead server until the test times out.
  t.after(async () => {
    running = false;
    await load;
  });

  await new Promise((r) => setTimeout(r, 4000));
  const crashedAt = Date.now();
  pgServer.crash();
  const stoppedAt = Date.now();

  // While it is down: a page asks too, and gets a page back.
  await new Promise((r) => setTimeout(r, 1500));
  const page = await new Jar(base, "text/html")
    .fetch("/", { headers: { cookie: `sessionid=${"A".repeat(43)}` } })
    .catch((error: Error & { cause?: Error }) => {
      throw new Error(
        `the page request during the outage got no answer (${error.message} ${error.cause?.message ?? ""}); ` +
          `server exit code ${server?.child.exitCode}; its output:\n${server?.output()}`,
      );
    });
  const pageBody = await page.text();
  await new Promise((r) => setTimeout(r, 2500));

  const restartAt = Date.now();
  pgServer.start();
  const restartedAt = Date.now();
  // Wait for the first sign-up that began after the restart to succeed, then a little more load.
  const deadline = Date.now() + 60_000;
  while (!attempts.some((a) => a.startedAt >= restartedAt && a.status === 200)) {
    assert.ok(Date.now() < deadline, "the service did not recover within 60 s of PostgreSQL's return");
    await new Promise((r) => setTimeout(r, 50));
  }
  const firstSuccess = Math.min(
    ...attempts.filter((a) => a.startedAt >= restartedAt && a.status === 200).map((a) => a.startedAt + a.ms),
  );
  await new Promise((r) => setTimeout(r, 2000));
  running = false;
  await load;
  const ourServer = server as ServerProcess;
  assert.equal(ourServer.child.exitCode, null, `the server exited during the outage:\n${ourServer.output()}`);

  // What the clients saw.
  const during = attempts.filter((a) => a.startedAt + a.ms >= crashedAt && a.startedAt <= restartedAt);
  const failures = attempts.filter((a) => a.status !== 200);
  const statusCounts: Record<string, number> = {};
  for (const a of attempts) statusCounts[a.status] = (statusCounts[a.status] ?? 0) + 1;
  const slowestFailure = Math.max(0, ...failures.map((a) => a.ms));
  for (const f of failures) {
    assert.equal(f.status, 503, `${f.username}: ${f.status} ${f.error ?? ""} ${f.body}`);
    assert.equal(JSON.parse(f.body).error, "database_unavailable");
  }
  assert.ok(failures.length > 0, "some requests met the outage");
  assert.ok(
    slowestFailure < 6000,
    `a failure took ${slowestFailure} ms (bounded by the 5 s connection timeout)`,
  );
  assert.equal(page.status, 503);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(pageBody, /Service unavailable/);
  // Probes sent while PostgreSQL was down (one sent just before the crash may still have been answered 200).
  const notReady = readiness.filter((r) => r.sentAt > stoppedAt && r.at < restartAt);
  assert.ok(notReady.length > 0 && notReady.every((r) => r.status === 503), JSON.stringify(notReady));
  assert.equal(readiness.at(-1)?.status, 200);
  assert.ok(
    attempts.filter((a) => a.startedAt > firstSuccess).every((a) => a.status === 200),
    "all well after recovery",
  );

  // What the database kept: every sign-up answered 200 is there, and the ledger adds up.
  const answered200 = new Set(attempts.filter((a) => a.status === 200).map((a) => a.username));
  const check = await openDatabase({ databaseUrl: pgServer.url("referrals"), poolSize: 2 });
  try {
    const rows = await queryRows<{ username: string }>(
      check.db,
      sql`SELECT username FROM users WHERE username LIKE 'outage\\_%' AND username <> 'outage_inviter'`,
    );
    const stored = new Set(rows.map((r) => r.username));
    const lost = [...answered200].filter((u) => !stored.has(u));
    const committedButFailed = [...stored].filter((u) => !answered200.has(u));
    assert.deepEqual(lost, [], "sign-ups answered 200 but missing after the crash");
    assert.deepEqual(await balanceMismatches(check.db), []);
    const [inviterRow] = await queryRows<{ referred: number; balance: number }>(
      check.db,
      sql`SELECT referred_count AS referred, balance_cents::int AS balance FROM users WHERE username = 'outage_inviter'`,
    );
    assert.equal(inviterRow?.referred, stored.size, "the inviter's count matches the invitees stored");
    const rewards = await ledgerOf(check.db, "outage_inviter");
    assert.equal(rewards.length, Math.floor(stored.size / 5));
    assert.equal(inviterRow?.balance, Math.floor(stored.size / 5) * 1000);
    console.log(
      `outage: ${attempts.length} sign-ups attempted (${JSON.stringify(statusCounts)}); ` +
        `${during.length} met the outage of ${((restartedAt - crashedAt) / 1000).toFixed(1)} s; ` +
        `slowest 503 ${slowestFailure} ms; first success ${firstSuccess - restartedAt} ms after PostgreSQL was back; ` +
        `/readyz 503 ${notReady.length}x during the outage; stored ${stored.size} invitees, lost 0 of ${answered200.size} answered 200, ` +
        `${committedButFailed.length} committed though the client saw 503`,
    );
  } finally {
    await check.close();
  }
});
