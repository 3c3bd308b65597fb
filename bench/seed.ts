// Bulk seeding: users with referrals, their ledger entries and one session each, in a handful of
// INSERT … SELECT statements (a million users in about a minute on PostgreSQL). Every seeded user
// has the same password (one precomputed hash), a referral token and a session cookie that the
// benchmark can recompute from the user's id.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/referral_bench npm run bench:seed -- --users 1000000
//   DATA_DIR=./data npm run bench:seed -- --users 10000          (PGlite, with the server stopped)
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { createPasswordHasher } from "../src/accounts/password-hasher.js";
import { defaultProgram } from "../src/referrals/rules.js";

/** The password of every seeded user. */
export const SEED_PASSWORD = "seeded-Lantern-47-orbit";

/** Runs one parameterised statement and returns its rows (pg and PGlite both fit). */
export type Run = (text: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

/** The session cookie of seeded user `id`: base64url(SHA-256("seed-session-<id>")), 43 characters. */
export function seedSessionCookie(id: number): string {
  return createHash("sha256").update(`seed-session-${id}`).digest("base64url");
}

/** The referral token of seeded user `id`: 22 characters, as real tokens. */
export function seedReferralToken(id: number): string {
  return createHash("sha256").update(`seed-token-${id}`).digest("base64url").slice(0, 22);
}

// SQL twins of the two functions above (PostgreSQL 11+ has sha256()).
const b64url = (bytes: string) => `rtrim(translate(encode(${bytes}, 'base64'), '+/', '-_'), '=')`;
const cookieSql = (id: string) => b64url(`sha256(convert_to('seed-session-' || ${id}, 'UTF8'))`);
const tokenSql = (id: string) => `left(${b64url(`sha256(convert_to('seed-token-' || ${id}, 'UTF8'))`)}, 22)`;

export interface SeedResult {
  firstId: number;
  lastId: number;
  users: number;
  ledgerEntries: number;
  seconds: number;
}

/**
 * Adds `count` users after the highest existing id. About 4 in 5 are referred by an earlier seeded
 * user (picked by a fixed hash, so a few early users have many referrals); the ledger gets each
 * invitee's bonus and each inviter's reward per `referralsPerInviterReward` referrals, with the
 * default programme amounts, and balances equal the ledger sums. Sessions last two weeks and were
 * last seen an hour ago, so each one's first request also writes its last_seen_at, at any size.
 */
export async function seedUsers(
  run: Run,
  count: number,
  passwordHash: string,
  program = defaultProgram,
): Promise<SeedResult> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`--users must be a positive integer: ${count}`);
  const started = Date.now();
  const maxRow = await run("SELECT coalesce(max(id), 0)::bigint AS max FROM users");
  const base = Number(maxRow.rows[0]?.max ?? 0);
  const first = base + 1;
  const last = base + count;
  const { inviteeRewardCents, inviterRewardCents, referralsPerInviterReward: every } = program;

  await run("BEGIN");
  try {
    await run("CREATE TEMP TABLE seed_plan (id bigint PRIMARY KEY, inviter bigint) ON COMMIT DROP");
    // User g is referred unless g is the first or a multiple of 5; its inviter is a hashed earlier id.
    await run(
      `INSERT INTO seed_plan (id, inviter)
       SELECT g, CASE WHEN g > $1::bigint AND g % 5 <> 0
                      THEN $1::bigint + (g * 2654435761) % (g - $1::bigint) END
       FROM generate_series($1::bigint, $2::bigint) AS g`,
      [first, last],
    );
    await run("CREATE TEMP TABLE seed_referred (id bigint PRIMARY KEY, n int) ON COMMIT DROP");
    await run(
      "INSERT INTO seed_referred SELECT inviter, count(*) FROM seed_plan WHERE inviter IS NOT NULL GROUP BY inviter",
    );
    await run(
      `INSERT INTO users (id, username, username_key, password_hash, referral_token, invited_by_id,
                          referred_count, balance_cents, created_at)
       SELECT p.id, 'seed' || p.id, 'seed' || p.id, $1::text, ${tokenSql("p.id")}, p.inviter,
              coalesce(r.n, 0),
              CASE WHEN p.inviter IS NULL THEN 0 ELSE $2::bigint END + (coalesce(r.n, 0) / $4::int) * $3::bigint,
              now() - make_interval(secs => ($5::bigint - p.id)::double precision)
       FROM seed_plan p LEFT JOIN seed_referred r ON r.id = p.id
       ORDER BY p.id`,
      [passwordHash, inviteeRewardCents, inviterRewardCents, every, last],
    );
    await run(
      `INSERT INTO ledger_entries (user_id, amount_cents, kind, signup_user_id, created_at)
       SELECT p.id, $1::bigint, 'invitee_bonus', p.id, u.created_at
       FROM seed_plan p JOIN users u ON u.id = p.id
       WHERE p.inviter IS NOT NULL AND $1::bigint > 0`,
      [inviteeRewardCents],
    );
    await run(
      `INSERT INTO ledger_entries (user_id, amount_cents, kind, signup_user_id, referral_count, created_at)
       SELECT r.inviter, $1::bigint, 'inviter_reward', r.id, r.nth, u.created_at
       FROM (SELECT id, inviter, row_number() OVER (PARTITION BY inviter ORDER BY id) AS nth
             FROM seed_plan WHERE inviter IS NOT NULL) AS r
       JOIN users u ON u.id = r.id
       WHERE r.nth % $2::int = 0 AND $1::bigint > 0`,
      [inviterRewardCents, every],
    );
    await run(
      `INSERT INTO sessions (id_hash, user_id, expires_at, last_seen_at)
       SELECT ${b64url(`sha256(convert_to(${cookieSql("g")}, 'UTF8'))`)}, g,
              now() + interval '14 days', now() - interval '1 hour'
       FROM generate_series($1::bigint, $2::bigint) AS g`,
      [first, last],
    );
    // Ids were given explicitly: move the sequence past them so real sign-ups do not collide.
    await run("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))");
    await run("COMMIT");
  } catch (error) {
    await run("ROLLBACK").catch(() => {});
    throw error;
  }
  // Measure a settled database, not one still being vacuumed and flushed after a bulk load.
  for (const table of ["users", "ledger_entries", "sessions"]) await run(`VACUUM ANALYZE ${table}`);
  await run("CHECKPOINT").catch(() => {});
  const ledger = await run("SELECT count(*)::bigint AS n FROM ledger_entries WHERE user_id >= $1", [first]);
  return {
    firstId: first,
    lastId: last,
    users: count,
    ledgerEntries: Number(ledger.rows[0]?.n ?? 0),
    seconds: (Date.now() - started) / 1000,
  };
}

/** The hash every seeded user shares, made once with the production parameters. */
export async function seedPasswordHash(): Promise<string> {
  const hasher = createPasswordHasher({ threads: 1 });
  try {
    return await hasher.hash(SEED_PASSWORD);
  } finally {
    await hasher.close();
  }
}

async function main(): Promise<void> {
  const { migrateDatabase, openDatabase } = await import("../src/db/connection.js");
  const usersArg = process.argv.indexOf("--users");
  const count = usersArg >= 0 ? Number(process.argv[usersArg + 1]) : 1_000_000;
  const databaseUrl = process.env.DATABASE_URL;
  const handle = await openDatabase({ databaseUrl, dataDir: process.env.DATA_DIR ?? "./data", poolSize: 1 });
  await migrateDatabase(handle);
  const run = await runnerFor(handle);
  const result = await seedUsers(run.run, count, await seedPasswordHash());
  await run.release();
  await handle.close();
  console.log(
    `seeded ${result.users} users (ids ${result.firstId}–${result.lastId}), ${result.ledgerEntries} ledger entries, ` +
      `${result.users} sessions in ${result.seconds.toFixed(1)} s on ${handle.kind}`,
  );
}

/** One connection to run the seed's statements on (a transaction needs one connection). */
export async function runnerFor(
  handle: import("../src/db/connection.js").DatabaseHandle,
): Promise<{ run: Run; release(): Promise<void> }> {
  const { pool } = handle;
  if (handle.kind === "postgres") {
    const client = await pool.connect();
    return {
      run: (text, params) => client.query(text, params as unknown[]),
      release: async () => client.release(),
    };
  }
  // PGlite: its pool's one connection is not held, so the service's own queries can share it.
  return {
    run: (text, params) => pool.query(text, params as unknown[]),
    release: async () => {},
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
