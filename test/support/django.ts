// The earlier Django version's database, made for the import's tests and benchmark: a fresh
// database on the local PostgreSQL server with the tables as Django 3.x creates them (auth_user, and
// the referral_sample app's referral and profile), and users written into it.
import { pbkdf2Sync, randomBytes } from "node:crypto";
import pg from "pg";
import { createScratchDatabase } from "./database.js";

/**
 * The PostgreSQL server the Django database is made on: the tests' own server when DATABASE_URL is
 * set, else the local one (there is always one on the machines and in CI; the target may still be
 * PGlite).
 */
export function djangoServerUrl(): string {
  return (
    process.env.DJANGO_TEST_SERVER_URL ??
    process.env.DATABASE_URL ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  );
}

/** The tables as Django 3.2's migrations create them on PostgreSQL (constraints and indexes alike). */
export const djangoSchema = `
CREATE TABLE auth_user (
  id serial PRIMARY KEY,
  password varchar(128) NOT NULL,
  last_login timestamptz NULL,
  is_superuser boolean NOT NULL,
  username varchar(150) NOT NULL UNIQUE,
  first_name varchar(150) NOT NULL,
  last_name varchar(150) NOT NULL,
  email varchar(254) NOT NULL,
  is_staff boolean NOT NULL,
  is_active boolean NOT NULL,
  date_joined timestamptz NOT NULL
);
CREATE INDEX auth_user_username_6821ab7c_like ON auth_user (username varchar_pattern_ops);
CREATE TABLE referral_sample_referral (
  id serial PRIMARY KEY,
  created timestamptz NOT NULL,
  token varchar(32) NOT NULL
);
CREATE TABLE referral_sample_profile (
  id serial PRIMARY KEY,
  user_id integer NOT NULL UNIQUE REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED,
  referral_id integer NULL UNIQUE REFERENCES referral_sample_referral (id) DEFERRABLE INITIALLY DEFERRED,
  balance integer NOT NULL CHECK (balance >= 0),
  people_invited integer NOT NULL CHECK (people_invited >= 0)
);
`;

/** A hash as Django's PBKDF2PasswordHasher writes it (a low iteration count keeps the tests quick). */
export function djangoPbkdf2(
  password: string,
  iterations = 1000,
  salt = randomBytes(9).toString("hex"),
): string {
  const key = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  return `pbkdf2_sha256$${iterations}$${salt}$${key.toString("base64")}`;
}

/** A referral token as the Django version made them: 32 lowercase hex digits. */
export function djangoToken(): string {
  return randomBytes(16).toString("hex");
}

export interface DjangoUserSeed {
  username: string;
  password: string;
  isStaff?: boolean;
  isSuperuser?: boolean;
  isActive?: boolean;
  dateJoined?: string;
  email?: string;
  /** Null: no profile row at all. */
  profile?: {
    balance: number;
    peopleInvited: number;
    /** Null: a profile without a referral link. */
    token: string | null;
  } | null;
}

export interface DjangoDatabase {
  url: string;
  client: pg.Client;
  /** Writes the users (with their profiles and links) in one transaction: their ids. */
  addUsers(users: readonly DjangoUserSeed[]): Promise<number[]>;
  drop(): Promise<void>;
}

export async function createDjangoDatabase(): Promise<DjangoDatabase> {
  const scratch = await createScratchDatabase(djangoServerUrl(), "django_source");
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  await client.query(djangoSchema);
  return {
    url: scratch.url,
    client,
    addUsers: (users) => addDjangoUsers(client, users),
    async drop() {
      await client.end();
      await scratch.drop();
    },
  };
}

/** The users, their links and their profiles, a few statements per thousand users. */
export async function addDjangoUsers(client: pg.Client, users: readonly DjangoUserSeed[]): Promise<number[]> {
  const ids: number[] = [];
  await client.query("BEGIN");
  try {
    for (let i = 0; i < users.length; i += 5000) {
      const chunk = users.slice(i, i + 5000).map((u) => ({
        username: u.username,
        password: u.password,
        is_staff: u.isStaff ?? false,
        is_superuser: u.isSuperuser ?? false,
        is_active: u.isActive ?? true,
        date_joined: u.dateJoined ?? new Date().toISOString(),
        email: u.email ?? "",
        has_profile: u.profile !== null,
        balance: u.profile === null ? 0 : (u.profile?.balance ?? 0),
        people_invited: u.profile === null ? 0 : (u.profile?.peopleInvited ?? 0),
        token: u.profile === null ? null : u.profile === undefined ? djangoToken() : u.profile.token,
      }));
      // The ids are drawn first, so that each user's profile finds its own link even when two links
      // share a token (the input CTE is materialised: one nextval per row).
      const { rows } = await client.query<{ id: number }>(
        `WITH input AS MATERIALIZED (
           SELECT t.*, nextval('auth_user_id_seq')::int AS user_id,
             CASE WHEN t.token IS NULL THEN NULL ELSE nextval('referral_sample_referral_id_seq')::int END AS link_id
           FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
             username text, password text, is_staff boolean, is_superuser boolean, is_active boolean,
             date_joined timestamptz, email text, has_profile boolean, balance integer,
             people_invited integer, token text)) WITH ORDINALITY AS t(
             username, password, is_staff, is_superuser, is_active, date_joined, email, has_profile,
             balance, people_invited, token, n)
           ORDER BY t.n
         ), users AS (
           INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff,
             is_active, date_joined)
           SELECT user_id, password, is_superuser, username, '', '', email, is_staff, is_active, date_joined
           FROM input
         ), links AS (
           INSERT INTO referral_sample_referral (id, created, token)
           SELECT link_id, now(), token FROM input WHERE link_id IS NOT NULL
         ), profiles AS (
           INSERT INTO referral_sample_profile (user_id, referral_id, balance, people_invited)
           SELECT user_id, link_id, balance, people_invited FROM input WHERE has_profile
         )
         SELECT user_id AS id FROM input ORDER BY n`,
        [JSON.stringify(chunk)],
      );
      ids.push(...rows.map((row) => row.id));
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
  return ids;
}
