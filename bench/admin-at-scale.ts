// How the admin console's queries behave at scale: seeds a fresh PostgreSQL database with N users
// (default 1,000,000) over a year, with referrals and their ledger entries, then times each admin
// read and prints its plan (EXPLAIN ANALYZE, the exact SQL the code sends). Drops the database after.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/admin-at-scale.ts [users]
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import {
  LEDGER_LINES_PER_PAGE,
  listUsers,
  parseUserListQuery,
  USERS_PER_PAGE,
  userDetail,
} from "../src/admin/directory.js";
import { usersCsvLines } from "../src/admin/export.js";
import { parsePeriod, programmeStats } from "../src/admin/stats.js";
import { type Database, migrateDatabase, openDatabase, queryRows } from "../src/db/connection.js";
import * as schema from "../src/db/schema.js";

const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) {
  console.error("Set DATABASE_URL to a PostgreSQL server (a database is created and dropped there).");
  process.exit(2);
}
const userCount = Number(process.argv[2] ?? 1_000_000);
const name = `referral_bench_admin_${randomBytes(4).toString("hex")}`;

const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(baseUrl);
url.pathname = `/${name}`;

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

try {
  const handle = await openDatabase({ databaseUrl: url.toString(), poolSize: 2 });
  await migrateDatabase(handle);
  const db = handle.db;
  let start = process.hrtime.bigint();
  // Users over the last 365 days; 60% came through a link, inviters skewed towards early users.
  await db.execute(sql`
    INSERT INTO users (username, username_key, password_hash, referral_token, invited_by_id, created_at)
    SELECT 'user_' || i, 'user_' || i, 'x', md5(i::text),
           CASE WHEN i > 1000 AND i % 5 < 3 THEN 1 + floor((i - 1) * random() ^ 3)::bigint END,
           now() - interval '365 days' + (i::float8 / ${userCount}) * interval '365 days'
    FROM generate_series(1, ${userCount}) AS i`);
  console.log(`seeded ${userCount.toLocaleString()} users in ${seconds(start).toFixed(1)} s`);
  start = process.hrtime.bigint();
  await db.execute(sql`
    UPDATE users u SET referred_count = c.n FROM
      (SELECT invited_by_id, count(*)::int AS n FROM users WHERE invited_by_id IS NOT NULL GROUP BY 1) c
    WHERE u.id = c.invited_by_id`);
  await db.execute(sql`
    INSERT INTO ledger_entries (user_id, amount_cents, kind, signup_user_id, created_at)
    SELECT id, 1000, 'invitee_bonus', id, created_at FROM users WHERE invited_by_id IS NOT NULL`);
  await db.execute(sql`
    INSERT INTO ledger_entries (user_id, amount_cents, kind, referral_count, created_at)
    SELECT invited_by_id, 1000, 'inviter_reward', n * 5, max(created_at) FROM
      (SELECT invited_by_id, created_at, (row_number() OVER (PARTITION BY invited_by_id ORDER BY id)) AS k
       FROM users WHERE invited_by_id IS NOT NULL) r
    CROSS JOIN LATERAL (SELECT r.k / 5 AS n) x WHERE r.k % 5 = 0 GROUP BY invited_by_id, n`);
  await db.execute(sql`UPDATE users u SET balance_cents = s.total FROM
      (SELECT user_id, sum(amount_cents) AS total FROM ledger_entries GROUP BY 1) s WHERE u.id = s.user_id`);
  await db.execute(sql`VACUUM ANALYZE`);
  const counts = await queryRows<{ users: number; ledger: number }>(
    db,
    sql`SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM ledger_entries)::int AS ledger`,
  );
  console.log(`ledger and balances in ${seconds(start).toFixed(1)} s:`, counts[0]);

  // A second drizzle over its own pool that records the SQL each admin function sends.
  const captured: { query: string; params: unknown[] }[] = [];
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  const traced = drizzle({
    client: pool,
    schema,
    logger: { logQuery: (query, params) => captured.push({ query, params }) },
  }) as unknown as Database;

  async function measure(label: string, run: (db: Database) => Promise<unknown>) {
    await run(traced); // warm the cache, as a busy server would have it
    captured.length = 0;
    const t0 = process.hrtime.bigint();
    await run(traced);
    const total = seconds(t0) * 1000;
    console.log(`\n## ${label}: ${total.toFixed(1)} ms (${captured.length} queries)`);
    const queries = [...captured];
    for (const { query, params } of queries) {
      const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${query}`, params as unknown[]);
      const lines = plan.rows.map((r: Record<string, string>) => String(r["QUERY PLAN"]));
      console.log(`-- ${query.replace(/\s+/g, " ").slice(0, 160)}`);
      for (const line of lines) {
        if (/Scan|Join|Sort|Aggregate|Limit|Execution Time|Rows Removed/.test(line))
          console.log(`   ${line}`);
      }
    }
  }

  const topInviter = (
    await queryRows<{ id: number }>(
      db,
      sql`SELECT id::int AS id FROM users ORDER BY referred_count DESC LIMIT 1`,
    )
  )[0]?.id as number;

  await measure("stats, last 30 days", (d) => programmeStats(d, parsePeriod({ days: "30" })));
  await measure("stats, last 365 days", (d) => programmeStats(d, parsePeriod({ days: "365" })));
  const firstPage = { cursor: null, size: USERS_PER_PAGE };
  for (const sort of ["joined", "username", "balance", "referred"]) {
    await measure(`users list sorted by ${sort}`, (d) =>
      listUsers(d, parseUserListQuery({ sort }), firstPage),
    );
  }
  // Keyset pages: the 100th page, reached by following the cursors, costs what the first does.
  const byJoinDate = parseUserListQuery({});
  let cursor: string | null = null;
  for (let page = 1; page < 100; page++) {
    cursor = (await listUsers(db, byJoinDate, { cursor, size: USERS_PER_PAGE })).nextCursor;
  }
  const hundredth = { cursor, size: USERS_PER_PAGE };
  await measure("users list, page 100 by join date", (d) => listUsers(d, byJoinDate, hundredth));
  await measure("username search 'user_12345'", (d) =>
    listUsers(d, parseUserListQuery({ q: "user_12345" }), firstPage),
  );
  await measure("user page of the top inviter", (d) =>
    userDetail(d, topInviter, { cursor: null, size: LEDGER_LINES_PER_PAGE }),
  );
  await measure("users CSV, first batch", async (d) => {
    const lines = usersCsvLines(d);
    await lines.next();
    await lines.next();
    await lines.return(undefined);
  });
  start = process.hrtime.bigint();
  let bytes = 0;
  for await (const chunk of usersCsvLines(db)) bytes += chunk.length;
  console.log(
    `\nusers CSV, whole export: ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${seconds(start).toFixed(1)} s`,
  );
  await pool.end();
  await handle.close();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
