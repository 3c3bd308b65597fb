// Use case: sign up, with or without a referral token. One statement writes the user, the
// inviter's count, every credit the sign-up causes and the caller's dependent writes (the new
// session, the throttle count), or nothing at all.
import { type SQL, sql } from "drizzle-orm";
import { checkSignupForm, type FormInput } from "../accounts/forms.js";
import { messages } from "../accounts/messages.js";
import { hashPassword } from "../accounts/password-hasher.js";
import { usernameKey } from "../accounts/username.js";
import type { ProgramConfig } from "../config.js";
import { type Database, type Queryable, queryPreparedRows, queryRows } from "../db/connection.js";
import {
  asCheckedColumn,
  asCommonTableExpressions,
  type DependentCheck,
  type DependentWrite,
} from "../db/dependent-writes.js";
import { isUniqueViolation } from "../db/errors.js";
import { ledgerEntries, users } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { rewardSchedule, rewardsFor } from "./rules.js";
import { isWellFormedReferralToken, newReferralToken } from "./token.js";

export interface SignupResult {
  userId: number;
  username: string;
  /** Null when there was no valid token: the sign-up went ahead without a referral. */
  inviterId: number | null;
  inviteeRewardCents: number;
  inviterRewardCents: number;
}

export interface SignupDeps {
  db: Database;
  program: ProgramConfig;
  /** Injected so tests can swap the cost; production uses argon2id at OWASP's parameters. */
  hashPassword?: (password: string) => Promise<string>;
}

/**
 * How many sign-ups through the same link may land between reading the inviter's count and writing
 * ours before ours has to wait its turn under the row lock (see signUp).
 */
export const REFERRAL_COUNT_SPAN = 32;

/** The inviter as read before hashing: whose count the sign-up's statement will move on. */
interface InviterCount {
  id: number;
  referredCount: number;
}

/** Whose link this is: the active user with that referral token (inactive users' links pay nothing). */
function ownerOfLink(token: string | null): SQL {
  return sql`${users.referralToken} = ${token} AND ${users.isActive}`;
}

function inviterCountOf(
  row: { id: string | number | null; referred_count: number | null } | undefined,
): InviterCount | null {
  return row?.id != null ? { id: Number(row.id), referredCount: Number(row.referred_count) } : null;
}

/**
 * One query before the hash: is the name taken (when there is a name to look up), whose link is
 * this, and the value of the caller's check (see DependentCheck).
 */
async function readBeforeHashing(
  db: Database,
  key: string | null,
  token: string | null,
  check: DependentCheck | undefined,
): Promise<{ usernameTaken: boolean; inviter: InviterCount | null; checked: unknown }> {
  const [row] = await queryPreparedRows<{
    taken: boolean;
    id: string | null;
    referred_count: number | null;
    checked: unknown;
  }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM ${users} WHERE username_key = ${key}) AS taken,
               inviter.id, inviter.referred_count, ${asCheckedColumn(check)}
        FROM (SELECT 1) AS one
        LEFT JOIN (SELECT id, referred_count FROM ${users} WHERE ${ownerOfLink(token)}) AS inviter ON true`,
  );
  return {
    usernameTaken: row?.taken === true,
    inviter: inviterCountOf(row),
    checked: Number(row?.checked ?? 0),
  };
}

interface NewAccount {
  username: string;
  usernameKey: string;
  passwordHash: string;
  referralToken: string;
}

/**
 * The sign-up as one statement. With an inviter, it counts the sign-up on the inviter only while
 * their count is still within `span` of the count read before hashing, credits what the rule pays
 * at the count it reaches (from a schedule the rule worked out, so no rule lives in SQL), and
 * creates the account only if that update happened: no row back means the count moved on (or the
 * inviter was deactivated), and nothing was written.
 * A taken name fails the whole statement on the unique index, so nothing is written either.
 */
function signupStatement(
  account: NewAccount,
  referral: { inviter: InviterCount; span: number } | null,
  program: ProgramConfig,
  alsoWrite: readonly DependentWrite[],
): SQL {
  const bonus = referral ? program.inviteeRewardCents : 0;
  const values = sql`${account.username}, ${account.usernameKey}, ${account.passwordHash}, ${account.referralToken}`;
  const invitee = sql`invitee AS (
      INSERT INTO ${users} (username, username_key, password_hash, referral_token, invited_by_id, balance_cents)
      ${referral ? sql`SELECT ${values}, inviter.id, ${bonus} FROM inviter` : sql`VALUES (${values}, NULL, 0)`}
      RETURNING id)`;
  const dependents =
    alsoWrite.length > 0
      ? sql`, ${asCommonTableExpressions(alsoWrite, sql`invitee AS created`, "also")}`
      : sql``;
  if (!referral) {
    return sql`WITH ${invitee}${dependents}
      SELECT invitee.id AS user_id, NULL AS inviter_id, NULL AS referred_count FROM invitee`;
  }

  const { inviter, span } = referral;
  const schedule = rewardSchedule(inviter.referredCount, span, program).map((due) => ({
    at_count: due.atCount,
    amount_cents: due.amountCents,
    referral_count: due.referralCount,
  }));
  const credits = [
    ...(bonus > 0
      ? [sql`SELECT invitee.id, ${bonus}::bigint, 'invitee_bonus', invitee.id, NULL::integer FROM invitee`]
      : []),
    sql`SELECT inviter.id, due.amount_cents, 'inviter_reward', invitee.id, due.referral_count
        FROM inviter JOIN schedule AS due ON due.at_count = inviter.referred_count CROSS JOIN invitee`,
  ];
  return sql`WITH schedule AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(schedule)}::jsonb)
        AS due(at_count integer, amount_cents bigint, referral_count integer)
    ), inviter AS (
      UPDATE ${users} SET referred_count = referred_count + 1,
        balance_cents = balance_cents
          + COALESCE((SELECT sum(due.amount_cents) FROM schedule AS due WHERE due.at_count = ${users}.referred_count + 1), 0)
      WHERE id = ${inviter.id} AND is_active
        AND referred_count >= ${inviter.referredCount} AND referred_count < ${inviter.referredCount + span}
      RETURNING id, referred_count
    ), ${invitee}, credits AS (
      INSERT INTO ${ledgerEntries} (user_id, amount_cents, kind, signup_user_id, referral_count)
      ${sql.join(credits, sql` UNION ALL `)}
    )${dependents}
    SELECT invitee.id AS user_id, inviter.id AS inviter_id, inviter.referred_count
    FROM invitee CROSS JOIN inviter`;
}

interface WrittenRow {
  user_id: string;
  inviter_id: string | null;
  /** The inviter's count after this sign-up. */
  referred_count: number | null;
}

/**
 * Signs a person up, through a referral link when the token is an active user's. `along.writes` are
 * the caller's writes that need the new user's id (its session, say): they are part of the same
 * statement, so the account and its first session are committed together or not at all.
 * `along.check` is the caller's gate (the sign-up limit): read by the read before the hash, and
 * enforced before anything else is reported.
 *
 * Two round trips in all: one before the hash (name taken? inviter's count? the check), one after
 * it that writes everything. A sign-up through a link whose count moved more than
 * REFERRAL_COUNT_SPAN meanwhile (or whose owner was deactivated) is written again in a transaction
 * that holds the inviter's row lock, so concurrent sign-ups through one link never lose an update.
 */
export async function signUp(
  deps: SignupDeps,
  input: FormInput,
  referralToken: unknown,
  along: { writes?: readonly DependentWrite[]; check?: DependentCheck } = {},
): Promise<SignupResult> {
  const { form, errors } = checkSignupForm(input);
  const token = isWellFormedReferralToken(referralToken) ? referralToken : null;
  const candidate =
    errors.has("username") || typeof input.username !== "string"
      ? null
      : (form?.username ?? input.username.trim().normalize("NFKC"));
  let inviter: InviterCount | null = null;
  if (candidate !== null || along.check) {
    const before = await readBeforeHashing(
      deps.db,
      candidate === null ? null : usernameKey(candidate),
      token,
      along.check,
    );
    along.check?.enforce(before.checked);
    if (before.usernameTaken) errors.add("username", messages.usernameTaken);
    inviter = before.inviter;
  }
  errors.throwIfAny();
  if (!form) throw new ValidationError(errors.fields);

  // Hash before writing: it is the slow part, and it must not hold a connection or a lock.
  const account: NewAccount = {
    username: form.username,
    usernameKey: usernameKey(form.username),
    passwordHash: await (deps.hashPassword ?? hashPassword)(form.password),
    referralToken: newReferralToken(),
  };
  const write = (db: Queryable, referral: { inviter: InviterCount; span: number } | null) =>
    queryPreparedRows<WrittenRow>(db, signupStatement(account, referral, deps.program, along.writes ?? []));

  try {
    let [row] = await write(deps.db, inviter ? { inviter, span: REFERRAL_COUNT_SPAN } : null);
    if (!row) {
      [row] = await deps.db.transaction(async (tx) => {
        const [locked] = await queryRows<{ id: string; referred_count: number }>(
          tx,
          sql`SELECT id, referred_count FROM ${users} WHERE ${ownerOfLink(token)} FOR UPDATE`,
        );
        const current = inviterCountOf(locked);
        return write(tx, current ? { inviter: current, span: 1 } : null);
      });
    }
    if (!row) throw new Error("the sign-up wrote nothing while holding the inviter's row lock");
    const inviterId = row.inviter_id === null ? null : Number(row.inviter_id);
    const reached = Number(row.referred_count);
    const inviterRewards = inviterId === null ? [] : rewardsFor(reached - 1, reached, deps.program);
    return {
      userId: Number(row.user_id),
      username: form.username,
      inviterId,
      inviteeRewardCents: inviterId === null ? 0 : deps.program.inviteeRewardCents,
      inviterRewardCents: inviterRewards.reduce((sum, reward) => sum + reward.amountCents, 0),
    };
  } catch (error) {
    // Another sign-up took the name between our check and our write: nothing was written.
    if (isUniqueViolation(error, "users_username_key_uq")) {
      throw new ValidationError({ username: [messages.usernameTaken] });
    }
    throw error;
  }
}

/** Who owns a referral token, for the sign-up page's "alice invited you" (active users only). */
export async function findInviterByToken(
  db: Database,
  token: unknown,
): Promise<{ id: number; username: string } | null> {
  if (!isWellFormedReferralToken(token)) return null;
  const rows = await db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(ownerOfLink(token))
    .limit(1);
  return rows[0] ?? null;
}
