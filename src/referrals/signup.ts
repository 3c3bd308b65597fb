// Use case: sign up, with or without a referral token. One transaction writes the user, the
// inviter's count, and every credit the sign-up causes, or nothing at all.
import { and, eq, sql } from "drizzle-orm";
import { checkSignupForm, type FormInput } from "../accounts/forms.js";
import { messages } from "../accounts/messages.js";
import { hashPassword } from "../accounts/password-hasher.js";
import { usernameKey } from "../accounts/username.js";
import type { ProgramConfig } from "../config.js";
import type { Database, Transaction } from "../db/connection.js";
import { ledgerEntries, users } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { rewardsFor } from "./rules.js";
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

export async function usernameTaken(db: Database, username: string): Promise<boolean> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.usernameKey, usernameKey(username)))
    .limit(1);
  return rows.length > 0;
}

class UsernameRace extends Error {}

/**
 * Signs a person up, through a referral link when the token is valid. `alsoInTransaction` runs
 * inside the sign-up's transaction once the user row exists (the web layer writes the new session
 * there), so the account and its first session are committed together or not at all.
 */
export async function signUp(
  deps: SignupDeps,
  input: FormInput,
  referralToken: unknown,
  alsoInTransaction?: (tx: Transaction, userId: number) => Promise<void>,
): Promise<SignupResult> {
  const { form, errors } = checkSignupForm(input);
  if (!errors.has("username") && typeof input.username === "string") {
    const candidate = form?.username ?? input.username.trim().normalize("NFKC");
    if (await usernameTaken(deps.db, candidate)) errors.add("username", messages.usernameTaken);
  }
  errors.throwIfAny();
  if (!form) throw new ValidationError(errors.fields);

  // Hash before the transaction: it is the slow part, and it must not hold a connection or a lock.
  const passwordHash = await (deps.hashPassword ?? hashPassword)(form.password);
  const token = isWellFormedReferralToken(referralToken) ? referralToken : null;
  const program = deps.program;

  try {
    return await deps.db.transaction(async (tx) => {
      // The row lock taken here serialises concurrent sign-ups through one link: no lost updates.
      const inviter = token
        ? (
            await tx
              .update(users)
              .set({ referredCount: sql`${users.referredCount} + 1` })
              .where(and(eq(users.referralToken, token), eq(users.isActive, true)))
              .returning({ id: users.id, referredCount: users.referredCount })
          )[0]
        : undefined;
      const inviteeRewardCents = inviter ? program.inviteeRewardCents : 0;

      const created = await tx
        .insert(users)
        .values({
          username: form.username,
          usernameKey: usernameKey(form.username),
          passwordHash,
          referralToken: newReferralToken(),
          invitedById: inviter?.id ?? null,
          balanceCents: inviteeRewardCents,
        })
        .onConflictDoNothing({ target: users.usernameKey })
        .returning({ id: users.id });
      const invitee = created[0];
      // Another sign-up took the name between our check and our insert: roll everything back.
      if (!invitee) throw new UsernameRace();
      await alsoInTransaction?.(tx, invitee.id);

      if (!inviter) {
        return {
          userId: invitee.id,
          username: form.username,
          inviterId: null,
          inviteeRewardCents: 0,
          inviterRewardCents: 0,
        };
      }

      const rewards = rewardsFor(inviter.referredCount - 1, inviter.referredCount, program);
      const entries: (typeof ledgerEntries.$inferInsert)[] = rewards.map((reward) => ({
        userId: inviter.id,
        amountCents: reward.amountCents,
        kind: "inviter_reward" as const,
        signupUserId: invitee.id,
        referralCount: reward.referralCount,
      }));
      if (inviteeRewardCents > 0) {
        entries.unshift({
          userId: invitee.id,
          amountCents: inviteeRewardCents,
          kind: "invitee_bonus",
          signupUserId: invitee.id,
        });
      }
      if (entries.length > 0) await tx.insert(ledgerEntries).values(entries);

      const inviterRewardCents = rewards.reduce((sum, r) => sum + r.amountCents, 0);
      if (inviterRewardCents > 0) {
        await tx
          .update(users)
          .set({ balanceCents: sql`${users.balanceCents} + ${inviterRewardCents}` })
          .where(eq(users.id, inviter.id));
      }
      return {
        userId: invitee.id,
        username: form.username,
        inviterId: inviter.id,
        inviteeRewardCents,
        inviterRewardCents,
      };
    });
  } catch (error) {
    if (error instanceof UsernameRace) throw new ValidationError({ username: [messages.usernameTaken] });
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
    .where(and(eq(users.referralToken, token), eq(users.isActive, true)))
    .limit(1);
  return rows[0] ?? null;
}
