// The earlier Django version's database, read for `npm run import:django`: auth_user with its
// referral_sample_profile and referral_sample_referral, in batches by id, all in one read-only
// snapshot, so the checks, the copy and the reconciliation see the same rows even while Django runs.
import pg from "pg";
import type { DjangoUser } from "./plan.js";

export interface SourceTotals {
  users: bigint;
  staff: bigint;
  active: bigint;
  balanceCents: bigint;
  carriedReferrals: bigint;
}

export interface DjangoSource {
  /** The users with an id above `afterId`, oldest first, at most `limit`. */
  usersAfter(afterId: number, limit: number): Promise<DjangoUser[]>;
  /** How many users, staff, active users, cents and progress the Django users not in `except` hold. */
  totals(except: readonly number[]): Promise<SourceTotals>;
  /** How many Django users are not among `ids`. */
  countMissing(ids: readonly number[]): Promise<number>;
  close(): Promise<void>;
}

interface Row {
  id: number;
  username: string;
  password: string;
  is_staff: boolean;
  is_active: boolean;
  date_joined: string;
  balance: number | null;
  people_invited: number | null;
  token: string | null;
}

export async function openDjangoSource(url: string): Promise<DjangoSource> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  } catch (error) {
    await client.end();
    throw error;
  }
  return {
    async usersAfter(afterId, limit) {
      // date_joined as text in UTC with its microseconds, whatever the server's DateStyle and TimeZone.
      const { rows } = await client.query<Row>(
        `SELECT u.id, u.username, u.password, u.is_staff, u.is_active,
                to_char(u.date_joined AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS date_joined,
                p.balance, p.people_invited, r.token
         FROM auth_user u
         LEFT JOIN referral_sample_profile p ON p.user_id = u.id
         LEFT JOIN referral_sample_referral r ON r.id = p.referral_id
         WHERE u.id > $1 ORDER BY u.id LIMIT $2`,
        [afterId, limit],
      );
      return rows.map((row) => ({
        id: row.id,
        username: row.username,
        password: row.password,
        isStaff: row.is_staff,
        isActive: row.is_active,
        dateJoined: row.date_joined,
        balance: row.balance,
        peopleInvited: row.people_invited,
        token: row.token,
      }));
    },
    async totals(except) {
      const { rows } = await client.query<Record<keyof SourceTotals, string>>(
        `SELECT count(*)::text AS users,
                count(*) FILTER (WHERE u.is_staff)::text AS staff,
                count(*) FILTER (WHERE u.is_active)::text AS active,
                (COALESCE(sum(p.balance::bigint), 0) * 100)::text AS "balanceCents",
                COALESCE(sum(p.people_invited::bigint), 0)::text AS "carriedReferrals"
         FROM auth_user u LEFT JOIN referral_sample_profile p ON p.user_id = u.id
         WHERE NOT (u.id = ANY($1::int[]))`,
        [except],
      );
      const row = rows[0] as Record<keyof SourceTotals, string>;
      return {
        users: BigInt(row.users),
        staff: BigInt(row.staff),
        active: BigInt(row.active),
        balanceCents: BigInt(row.balanceCents),
        carriedReferrals: BigInt(row.carriedReferrals),
      };
    },
    async countMissing(ids) {
      const { rows } = await client.query<{ missing: string }>(
        "SELECT count(*)::text AS missing FROM auth_user WHERE NOT (id = ANY($1::int[]))",
        [ids],
      );
      return Number(rows[0]?.missing ?? 0);
    },
    async close() {
      await client.query("ROLLBACK").catch(() => {});
      await client.end();
    },
  };
}
