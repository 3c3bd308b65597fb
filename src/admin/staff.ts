// Use case: make a staff member (createsuperuser). Creates the user with a checked password, or makes
// an existing user staff; either way the audit log says so.
import { eq } from "drizzle-orm";
import { messages } from "../accounts/messages.js";
import type { PasswordHasher } from "../accounts/password-hasher.js";
import { PASSWORD_MAX_LENGTH, passwordProblems } from "../accounts/password-policy.js";
import { characterCount, normalizeUsername, usernameKey, usernameProblems } from "../accounts/username.js";
import type { Database } from "../db/connection.js";
import { users } from "../db/schema.js";
import { FieldErrorList, ValidationError } from "../errors.js";
import { newReferralToken } from "../referrals/token.js";
import { recordAudit } from "./audit.js";

export interface StaffRequest {
  username: string;
  /** Required for a new user; for an existing one, when given, replaces their password. */
  password?: string | undefined;
}

export interface StaffResult {
  userId: number;
  username: string;
  created: boolean;
  /** False when the user was staff already. */
  promoted: boolean;
  passwordChanged: boolean;
  isActive: boolean;
}

/** The same rules as sign-up: username shape, and every password rule with its message. */
export function staffRequestProblems(request: StaffRequest, needsPassword: boolean): FieldErrorList {
  const errors = new FieldErrorList();
  const username = normalizeUsername(request.username.trim());
  if (username === "") errors.add("username", messages.required);
  else for (const problem of usernameProblems(username)) errors.add("username", problem);
  const password = request.password;
  if (password === undefined || password === "") {
    if (needsPassword) errors.add("password", messages.required);
  } else if (characterCount(password) > PASSWORD_MAX_LENGTH) {
    errors.add("password", messages.tooLong(PASSWORD_MAX_LENGTH, characterCount(password)));
  } else {
    for (const problem of passwordProblems(password, { username })) errors.add("password", problem);
  }
  return errors;
}

export async function findUserByUsername(db: Database, username: string) {
  const rows = await db
    .select({ id: users.id, username: users.username, isStaff: users.isStaff, isActive: users.isActive })
    .from(users)
    .where(eq(users.usernameKey, usernameKey(username.trim())))
    .limit(1);
  return rows[0] ?? null;
}

export async function createOrPromoteStaff(
  db: Database,
  request: StaffRequest,
  hasher: PasswordHasher,
): Promise<StaffResult> {
  const username = normalizeUsername(request.username.trim());
  const existing = await findUserByUsername(db, username);
  const errors = staffRequestProblems(request, !existing);
  errors.throwIfAny();
  const passwordHash = request.password ? await hasher.hash(request.password) : null;

  if (existing) {
    return db.transaction(async (tx) => {
      await tx
        .update(users)
        .set({ isStaff: true, ...(passwordHash ? { passwordHash } : {}) })
        .where(eq(users.id, existing.id));
      if (!existing.isStaff) {
        await recordAudit(tx, {
          actorId: null,
          action: "staff_granted",
          targetUserId: existing.id,
          details: { via: "createsuperuser", password_changed: Boolean(passwordHash) },
        });
      }
      return {
        userId: existing.id,
        username: existing.username,
        created: false,
        promoted: !existing.isStaff,
        passwordChanged: Boolean(passwordHash),
        isActive: existing.isActive,
      };
    });
  }

  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(users)
      .values({
        username,
        usernameKey: usernameKey(username),
        passwordHash: passwordHash as string,
        referralToken: newReferralToken(),
        isStaff: true,
      })
      .onConflictDoNothing({ target: users.usernameKey })
      .returning({ id: users.id });
    const row = inserted[0];
    if (!row) throw new ValidationError({ username: [messages.usernameTaken] });
    await recordAudit(tx, {
      actorId: null,
      action: "staff_created",
      targetUserId: row.id,
      details: { via: "createsuperuser" },
    });
    return { userId: row.id, username, created: true, promoted: true, passwordChanged: true, isActive: true };
  });
}
