// What the benchmark scripts share: a throw-away database, the production server as a child
// process, its memory, autocannon runs summarised, and the ledger check.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon, { type Options, type Result } from "autocannon";
import { type DatabaseHandle, migrateDatabase, openDatabase } from "../src/db/connection.js";
import { defaultProgram } from "../src/referrals/rules.js";
import { createScratchDatabase } from "../test/support/database.js";
import { freePort } from "../test/support/server-process.js";
import { type Run, runnerFor } from "./seed.js";

export const root = new URL("..", import.meta.url).pathname;

export function build(): void {
  const result = spawnSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) throw new Error("npm run build failed");
}

/** A free loopback port: the tests' own helper. */
export { freePort };

// ---------------------------------------------------------------------------------------------
// The database of one run: a fresh PostgreSQL database (DATABASE_URL) or a temporary PGlite folder.

export interface BenchDatabase {
  kind: "postgres" | "pglite";
  /** What the server's environment needs: DATABASE_URL or DATA_DIR. */
  serverEnv: Record<string, string>;
  /** Opens it from this process (PGlite: only while the server is stopped). */
  open(): Promise<{ handle: DatabaseHandle; run: Run; close(): Promise<void> }>;
  drop(): Promise<void>;
}

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const baseUrl = process.env.DATABASE_URL;
  const open = async (options: { databaseUrl?: string; dataDir?: string }) => {
    const handle = await openDatabase({ ...options, poolSize: 2 });
    await migrateDatabase(handle);
    const runner = await runnerFor(handle);
    return {
      handle,
      run: runner.run,
      close: async () => {
        await runner.release();
        await handle.close();
      },
    };
  };
  if (baseUrl) {
    const scratch = await createScratchDatabase(baseUrl, `referral_bench_${label}`);
    return {
      kind: "postgres",
      serverEnv: { DATABASE_URL: scratch.url },
      open: () => open({ databaseUrl: scratch.url }),
      drop: scratch.drop,
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), `referral-bench-${label}-`));
  return {
    kind: "pglite",
    serverEnv: { DATA_DIR: dataDir },
    open: () => open({ dataDir }),
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes: the production server, and the bare node:http reference.

export interface Child {
  pid: number;
  baseUrl: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function startChild(
  args: string[],
  env: Record<string, string | undefined>,
  readyPath: string,
): Promise<Child> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(" ")} exited early:\n${output}`);
    try {
      await fetch(`${baseUrl}${readyPath}`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${args.join(" ")} did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    pid: child.pid as number,
    baseUrl,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The production build with limits that never throttle a benchmark. */
export function startServer(databaseEnv: Record<string, string>): Promise<Child> {
  // For profiling the server alone, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof",
  // and for comparing two builds, BENCH_SERVER_ENTRY=other-build/main.js.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  return startChild(
    [...nodeArgs, process.env.BENCH_SERVER_ENTRY ?? "dist/main.js"],
    {
      NODE_ENV: "production",
      ALLOWED_HOSTS: "127.0.0.1,localhost",
      LOG_LEVEL: "warn",
      SIGNUPS_PER_WINDOW: "1000000",
      LOGIN_FAILURES_PER_WINDOW: "1000000",
      DATABASE_URL: undefined,
      DATA_DIR: undefined,
      ...databaseEnv,
    },
    "/login/",
  );
}

// ---------------------------------------------------------------------------------------------
// Memory: resident set of a process and its descendants (cluster workers), sampled every 100 ms.

function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      if (text) found.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // The process has gone.
  }
  return found;
}

function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i] as number));
  return all;
}

/** The middle value (the mean of the two middle ones for an even count; 0 for none). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = (sorted.length - 1) / 2;
  return ((sorted[Math.floor(middle)] ?? 0) + (sorted[Math.ceil(middle)] ?? 0)) / 2;
}

/** Clock ticks per second of /proc's CPU figures (USER_HZ: 100 on Linux everywhere). */
const TICKS_PER_SECOND = 100;

function cpuTicks(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the command's name (which may hold spaces) in its parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime, every thread's
  } catch {
    return 0; // The process has gone.
  }
}

function postgresPids(): string[] {
  const pids: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "postgres") pids.push(entry);
    } catch {
      // The process has gone.
    }
  }
  return pids;
}

/**
 * The whole machine's busy CPU time, every core (/proc/stat: user, nice, system, irq and softirq;
 * not idle, waiting for I/O, or stolen by the VM's host).
 */
function machineBusyTicks(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number);
  if (!fields) return 0;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return user + nice + system + irq + softirq;
}

/**
 * CPU-seconds used by a process and its descendants, plus every PostgreSQL server process on the
 * machine (the bench's database; none on PGlite), from a start until each read() (read as often as
 * wanted). A backend that exits in between loses its share: the service's pool keeps its connections.
 * With `otherPid`, that process's too (the bench's webhook receiver), and always the whole machine's.
 */
export function cpuMeter(
  pid: number,
  otherPid?: number,
): {
  read(): { service: number; postgres: number; mainThread: number; other: number; machine: number };
} {
  const read = () => ({
    service: processTree(pid).reduce((sum, p) => sum + cpuTicks(p), 0),
    postgres: postgresPids().reduce((sum, p) => sum + cpuTicks(p), 0),
    // The first process's event-loop thread alone (PGlite runs every statement on it).
    mainThread: cpuTicks(`${pid}/task/${pid}`),
    other: otherPid === undefined ? 0 : cpuTicks(otherPid),
    machine: machineBusyTicks(),
  });
  const start = read();
  return {
    read() {
      const end = read();
      const seconds = (key: keyof typeof end) => (end[key] - start[key]) / TICKS_PER_SECOND;
      return {
        service: seconds("service"),
        postgres: seconds("postgres"),
        mainThread: seconds("mainThread"),
        other: seconds("other"),
        machine: seconds("machine"),
      };
    },
  };
}

export interface MemoryPeak {
  /** Highest sum over the process and its descendants, MiB. */
  totalMiB: number;
  /** Highest single process, MiB. */
  largestMiB: number;
  processes: number;
}

export function sampleMemory(pid: number): { stop(): MemoryPeak } {
  const peak: MemoryPeak = { totalMiB: 0, largestMiB: 0, processes: 1 };
  const sample = () => {
    const tree = processTree(pid);
    const each = tree.map(rssKiB);
    const total = each.reduce((a, b) => a + b, 0) / 1024;
    peak.totalMiB = Math.max(peak.totalMiB, total);
    peak.largestMiB = Math.max(peak.largestMiB, Math.max(...each) / 1024);
    peak.processes = Math.max(peak.processes, tree.length);
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load.

export interface LoadFigures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  ok: number;
  errors: number;
  statusCodes: Record<string, number>;
}

export function summarise(result: Result): LoadFigures {
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count;
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    ok: result["2xx"],
    errors: result.errors + result.timeouts + result.non2xx,
    statusCodes,
  };
}

export async function load(options: Options): Promise<LoadFigures> {
  return summarise(await autocannon({ timeout: 30, ...options }));
}

/** A CSRF token of the right shape, sent as both cookie and header (double submit, as a browser). */
export const benchCsrfToken = "benchcsrftokenbenchcsrftokenbenchcsrf00";

export const jsonHeaders = {
  accept: "application/json",
  "content-type": "application/json",
};

// ---------------------------------------------------------------------------------------------
// The ledger, checked after sign-ups: every balance is the sum of its posted entries and every
// pending total the sum of its pending ones, every referred count is the number of approved invitees
// (a held referral counts once approved; seeded invitees have no referral row and count), every
// inviter has exactly floor(n / 5) rewards (no duplicates), and every invitee has exactly one bonus,
// posted or pending.

export interface LedgerReport {
  users: number;
  /** Referrals held for review (by the signals, or the hold for everyone). */
  held: number;
  balanceMismatches: number;
  referredCountMismatches: number;
  inviterRewardMismatches: number;
  inviteeBonusMismatches: number;
}

export async function checkLedger(run: Run, program = defaultProgram): Promise<LedgerReport> {
  const result = await run(
    `WITH l AS (
       SELECT user_id,
              coalesce(sum(amount_cents) FILTER (WHERE status = 'posted'), 0) AS total,
              coalesce(sum(amount_cents) FILTER (WHERE status = 'pending'), 0) AS pending,
              count(*) FILTER (WHERE kind = 'inviter_reward') AS rewards,
              count(DISTINCT referral_count) FILTER (WHERE kind = 'inviter_reward') AS distinct_rewards,
              coalesce(sum(amount_cents) FILTER (WHERE kind = 'inviter_reward'), 0) AS reward_cents,
              count(*) FILTER (WHERE kind = 'invitee_bonus') AS bonuses,
              coalesce(sum(amount_cents) FILTER (WHERE kind = 'invitee_bonus'), 0) AS bonus_cents
       FROM ledger_entries GROUP BY user_id),
     i AS (SELECT u.invited_by_id AS id, count(*) AS n FROM users u LEFT JOIN referrals r ON r.invitee_id = u.id
           WHERE u.invited_by_id IS NOT NULL AND coalesce(r.status, 'approved') = 'approved' GROUP BY 1)
     SELECT count(*)::int AS users,
       (SELECT count(*) FROM referrals WHERE status = 'held')::int AS held,
       count(*) FILTER (WHERE u.balance_cents <> coalesce(l.total, 0)
                           OR u.pending_cents <> coalesce(l.pending, 0))::int AS balance,
       count(*) FILTER (WHERE u.referred_count <> coalesce(i.n, 0))::int AS referred,
       count(*) FILTER (WHERE coalesce(l.rewards, 0) <> u.referred_count / $1::int
                           OR coalesce(l.distinct_rewards, 0) <> coalesce(l.rewards, 0)
                           OR coalesce(l.reward_cents, 0) <> (u.referred_count / $1::int) * $2::bigint)::int AS rewards,
       count(*) FILTER (WHERE coalesce(l.bonuses, 0) <> (u.invited_by_id IS NOT NULL)::int
                           OR coalesce(l.bonus_cents, 0) <> (u.invited_by_id IS NOT NULL)::int * $3::bigint)::int AS bonuses
     FROM users u LEFT JOIN l ON l.user_id = u.id LEFT JOIN i ON i.id = u.id`,
    [program.referralsPerInviterReward, program.inviterRewardCents, program.inviteeRewardCents],
  );
  const row = result.rows[0] ?? {};
  return {
    users: Number(row.users),
    held: Number(row.held),
    balanceMismatches: Number(row.balance),
    referredCountMismatches: Number(row.referred),
    inviterRewardMismatches: Number(row.rewards),
    inviteeBonusMismatches: Number(row.bonuses),
  };
}

export function ledgerExact(report: LedgerReport): boolean {
  return (
    report.balanceMismatches === 0 &&
    report.referredCountMismatches === 0 &&
    report.inviterRewardMismatches === 0 &&
    report.inviteeBonusMismatches === 0
  );
}

// ---------------------------------------------------------------------------------------------
// Output.

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(headers),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
