// A Django 3.x database of the earlier version for `npm run import:django`'s benchmark: N users with
// PBKDF2 hashes in Django's format (a low iteration count: the import copies hashes, it never checks
// them), about 1 in 20 without a profile, 1 in 100 with an unusable password, 1 in 50 staff,
// balances of $0–$199 and progress of 0–4, on the local PostgreSQL server.
//
//   npx tsx bench/django-seed.ts --users 100000 --database django_bench [--server postgres://…]
//
// It replaces the database if it exists, and prints its URL, for:
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/referral_import_bench \
//     npm run import:django -- --from postgres://postgres@127.0.0.1:5432/django_bench
import { pbkdf2Sync } from "node:crypto";
import pg from "pg";
import { addDjangoUsers, type DjangoUserSeed, djangoSchema } from "../test/support/django.js";
import { argValue } from "./support.js";

const users = Number(argValue("--users") ?? 100_000);
const name = argValue("--database") ?? "django_bench";
const server = argValue("--server") ?? "postgres://postgres@127.0.0.1:5432/postgres";
if (!Number.isInteger(users) || users < 1 || !/^[a-z_][a-z0-9_]*$/.test(name)) {
  console.error("Usage: npx tsx bench/django-seed.ts --users N --database NAME [--server URL]");
  process.exit(2);
}

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${name}`);
await admin.end();
const url = new URL(server);
url.pathname = `/${name}`;

const client = new pg.Client({ connectionString: url.toString() });
await client.connect();
await client.query(djangoSchema);
const started = performance.now();
const CHUNK = 10_000;
for (let first = 0; first < users; first += CHUNK) {
  const seeds: DjangoUserSeed[] = [];
  for (let i = first; i < Math.min(users, first + CHUNK); i++) {
    const salt = `salt${i.toString(36)}`;
    const key = pbkdf2Sync(`password-${i}`, salt, 10, 32, "sha256").toString("base64");
    seeds.push({
      username: `django_user_${i}`,
      password: i % 100 === 7 ? `!unusable${i}` : `pbkdf2_sha256$10$${salt}$${key}`,
      isStaff: i % 50 === 0,
      isActive: i % 40 !== 3,
      dateJoined: new Date(Date.UTC(2018, 0, 1) + i * 60_000).toISOString(),
      profile:
        i % 20 === 11
          ? null
          : {
              balance: (i * 37) % 200,
              peopleInvited: i % 5,
              token: pbkdf2Sync(`token-${i}`, "t", 1, 16, "sha256").toString("hex"),
            },
    });
  }
  await addDjangoUsers(client, seeds);
  process.stderr.write(`\r${Math.min(users, first + CHUNK)} of ${users} users`);
}
await client.query("ANALYZE");
const [totals] = (
  await client.query<{ users: string; staff: string; cents: string }>(
    `SELECT count(*)::text AS users, count(*) FILTER (WHERE is_staff)::text AS staff,
            (SELECT sum(balance)::bigint * 100 FROM referral_sample_profile)::text AS cents FROM auth_user`,
  )
).rows;
await client.end();
process.stderr.write("\n");
console.log(
  `Seeded ${totals?.users} Django users (${totals?.staff} staff, ${totals?.cents} cents in balances) in ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s: ${url.toString()}`,
);
