// npm run bench:scale: GET / and a referred sign-up at 1,000 and at 1,000,000 seeded users, each
// on its own fresh database, then EXPLAIN (ANALYZE, BUFFERS) of every query those requests make.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:scale
//   options: --sizes 1000,1000000,1000   --duration SECONDS (default 10)   --skip-build
// The first size is measured again at the end and every size is compared with the mean of its runs:
// this machine's speed drifts within minutes, and a size measured once, before the other, would
// carry the drift into the comparison (one run put 1M users at 76% of 1k, the other order at 105%).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { authenticate } from "../src/accounts/login.js";
import { createPasswordHasher } from "../src/accounts/password-hasher.js";
import { hashSessionId, loadSession } from "../src/accounts/sessions.js";
import { loadConfig } from "../src/config.js";
import type { Database, DatabaseHandle } from "../src/db/connection.js";
import * as schema from "../src/db/schema.js";
import { keptMail } from "../src/email/outbox.js";
import { noEventWake } from "../src/events/events.js";
import { addressHasher } from "../src/referrals/addresses.js";
import { defaultProgram } from "../src/referrals/rules.js";
import { signUp } from "../src/referrals/signup.js";
import { type BenchResult, formatResult, runBench, saveResult } from "./run.js";
import { type Run, SEED_PASSWORD, seedPasswordHash, seedSessionCookie } from "./seed.js";
import { argValue, build, root, table } from "./support.js";

interface Captured {
  label: string;
  query: string;
  params: unknown[];
}

/** A drizzle instance over the same connection that records every statement it sends. */
function capturingDb(handle: DatabaseHandle, into: Captured[], label: { current: string }): Database {
  const logger = {
    logQuery(query: string, params: unknown[]) {
      into.push({ label: label.current, query, params });
    },
  };
  return drizzlePg({ client: handle.pool, schema, logger }) as unknown as Database;
}

/** Runs the real code paths of GET /, a referred sign-up and a login, and explains each statement. */
async function explainHotQueries(handle: DatabaseHandle, run: Run, sessionId: number): Promise<string> {
  const captured: Captured[] = [];
  const label = { current: "" };
  const db = capturingDb(handle, captured, label);
  const config = loadConfig({});

  label.current = "GET /: the session and its user (loadSession)";
  const session = await loadSession(db, seedSessionCookie(sessionId), config.session);
  if (!session) throw new Error("seeded session not found");

  // An inviter whose next referral pays the inviter reward, so every statement of the use case runs.
  const inviter = await run(
    "SELECT referral_token FROM users WHERE referred_count % 5 = 4 AND is_active ORDER BY id DESC LIMIT 1",
  );
  const token = String(inviter.rows[0]?.referral_token);
  const username = `explain_${Date.now().toString(36)}`;
  const passwordHash = await seedPasswordHash();
  label.current =
    "POST /signup/: the throttle reservation, the name and the inviter (before the hash), then the transaction that writes the sign-up and its session (signUp)";
  const hasher = createPasswordHasher({ threads: 1 });
  const deps = {
    db,
    hasher: { ...hasher, hash: async () => passwordHash },
    program: defaultProgram,
    integrity: config.integrity,
    addresses: addressHasher(db),
    throttle: { ...config.throttle, signupsPerWindow: 1_000_000 },
    session: config.session,
    clock: Date.now,
    mail: keptMail,
    webhooks: noEventWake,
  };
  const client = { address: "127.0.0.1", sessionIdHash: null, deviceIdHash: null };
  const result = await signUp(
    deps,
    { username, password: "plum-Orbit-74-lantern", referralToken: token },
    client,
  );
  label.current = "POST /login/: the user and the throttle counters, then the session (authenticate)";
  const login = await authenticate(deps, { username: `seed${sessionId}`, password: SEED_PASSWORD }, client);
  await hasher.close();

  // Replay in one transaction, rolled back, with the new user's name and the sign-up's and the
  // login's sessions swapped for unused ones so every INSERT takes its normal path, not a conflict.
  const created = await run("SELECT referral_token FROM users WHERE id = $1", [result.userId]);
  const swaps = new Map<unknown, unknown>([
    [username, `${username}_x`],
    [created.rows[0]?.referral_token, "explainExplainExplainX"],
    [hashSessionId(result.sessionId), hashSessionId(`${result.sessionId.slice(0, -1)}x`)],
    [hashSessionId(login.sessionId), hashSessionId(`${login.sessionId.slice(0, -1)}x`)],
  ]);
  const out: string[] = [];
  let lastLabel = "";
  await run("BEGIN");
  try {
    for (const { label: name, query, params } of captured) {
      if (!/^\s*(select|insert|update|delete|with)\b/i.test(query)) continue;
      if (name !== lastLabel) {
        out.push(`#### ${name}`);
        lastLabel = name;
      }
      const plan = await run(
        `EXPLAIN (ANALYZE, BUFFERS) ${query}`,
        params.map((p) => swaps.get(p) ?? p),
      );
      const lines = plan.rows.map((r) => String(Object.values(r)[0]));
      out.push("```sql", query, "```", "```", ...lines, "```", "");
    }
  } finally {
    await run("ROLLBACK");
  }
  return out.join("\n");
}

async function main(): Promise<void> {
  const sizes = (argValue("--sizes") ?? "1000,1000000,1000").split(",").map(Number);
  const duration = Number(argValue("--duration") ?? 10);
  if (!process.argv.includes("--skip-build")) build();
  const results: { size: number; result: BenchResult; explain: string }[] = [];
  for (const size of sizes) {
    let explain = "";
    const result = await runBench({
      users: size,
      duration,
      only: ["get", "signup"],
      references: false,
      rounds: 1,
      label: `scale${size}`,
      afterRun: async (db, { sessionIds }) => {
        explain = await explainHotQueries(db.handle, db.run, sessionIds[sessionIds.length - 1] ?? 1);
      },
    });
    console.log(
      `\n## ${size.toLocaleString("en-US")} users (seeded in ${result.seedSeconds.toFixed(1)} s)\n`,
    );
    console.log(formatResult(result));
    const file = join(root, "bench", "results", `explain-${size}.md`);
    writeFileSync(file, `${explain}\n`);
    process.stderr.write(`[bench] EXPLAIN plans for ${size} users in ${file}\n`);
    saveResult(result, `scale-${size}`);
    results.push({ size, result, explain });
  }

  const first = results[0];
  if (!first) return;
  const pick = (r: BenchResult, prefix: string) => r.rows.find((row) => row.scenario.startsWith(prefix));
  /** A size's mean rate over all its runs. */
  const meanRate = (size: number, prefix: string) => {
    const rates = results
      .filter((r) => r.size === size)
      .flatMap((r) => pick(r.result, prefix)?.figures.requestsPerSecond ?? []);
    return rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null;
  };
  const rows: (string | number)[][] = [];
  const summary: string[] = [];
  for (const prefix of ["GET /", "POST /signup/"]) {
    const base = meanRate(first.size, prefix);
    for (const { size, result } of results) {
      const row = pick(result, prefix);
      if (!row || !base) continue;
      rows.push([
        row.scenario,
        size.toLocaleString("en-US"),
        row.figures.requestsPerSecond.toFixed(1),
        `${row.figures.p50} ms`,
        `${row.figures.p99} ms`,
        row.figures.errors,
        `${((row.figures.requestsPerSecond / base) * 100).toFixed(0)}%`,
      ]);
    }
    for (const size of new Set(sizes)) {
      const rate = meanRate(size, prefix);
      if (size === first.size || !rate || !base) continue;
      summary.push(
        `${prefix}: ${size.toLocaleString("en-US")} users at ${((rate / base) * 100).toFixed(0)}% of ` +
          `${first.size.toLocaleString("en-US")} (means over each size's runs)`,
      );
    }
  }
  const baseRuns = results.filter((r) => r.size === first.size).length;
  console.log("\n## Scale\n");
  console.log(
    table(
      [
        "scenario",
        "users",
        "req/s",
        "p50",
        "p99",
        "errors",
        `req/s vs ${first.size} (mean of ${baseRuns} runs)`,
      ],
      rows,
    ),
  );
  console.log(`\n${summary.join("\n")}`);
  const largest = results.reduce((a, b) => (b.size > a.size ? b : a));
  console.log(`\n## EXPLAIN at ${largest.size.toLocaleString("en-US")} users\n\n${largest.explain}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
