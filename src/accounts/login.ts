// Use case: log in. Unknown usernames cost the same as wrong passwords (a dummy hash is verified),
// and a hash made with weaker parameters is upgraded on the way.
import { eq, sql } from "drizzle-orm";
import { type Database, queryPreparedRows } from "../db/connection.js";
import { asCheckedColumn, type DependentCheck } from "../db/dependent-writes.js";
import { users } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { checkLoginForm, type FormInput } from "./forms.js";
import { messages } from "./messages.js";
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from "./password-hasher.js";
import { usernameKey } from "./username.js";

interface UserRow {
  id: string | number | null;
  username: string;
  password_hash: string;
  is_active: boolean;
  checked: unknown;
}

export interface AuthenticatedUser {
  id: number;
  username: string;
}

/**
 * Checks a username and password. `check` is the caller's gate (the login limits): read by the
 * user lookup, so before the hash, and enforced before anything else is reported; its verdict is
 * returned beside the user.
 */
export async function authenticate<Verdict = undefined>(
  db: Database,
  input: FormInput,
  check?: DependentCheck<Verdict>,
): Promise<{ user: AuthenticatedUser; verdict: Verdict | undefined }> {
  const { form, errors } = checkLoginForm(input);
  let row: UserRow | undefined;
  let verdict: Verdict | undefined;
  if (form || check) {
    [row] = await queryPreparedRows<UserRow>(
      db,
      sql`SELECT found.id, found.username, found.password_hash, found.is_active, ${asCheckedColumn(check)}
          FROM (SELECT 1) AS one
          LEFT JOIN (SELECT id, username, password_hash, is_active FROM ${users}
            WHERE username_key = ${form ? usernameKey(form.username) : null} LIMIT 1) AS found ON true`,
    );
    verdict = check?.enforce(row?.checked);
  }
  errors.throwIfAny();
  if (!form) throw new ValidationError(errors.fields);

  const user =
    row?.id != null
      ? {
          id: Number(row.id),
          username: row.username,
          passwordHash: row.password_hash,
          isActive: row.is_active,
        }
      : undefined;
  const valid = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), form.password);
  if (!user || !valid || !user.isActive) {
    throw new ValidationError({ __all__: [messages.invalidLogin] });
  }
  if (needsRehash(user.passwordHash)) {
    const upgraded = await hashPassword(form.password);
    await db.update(users).set({ passwordHash: upgraded }).where(eq(users.id, user.id));
  }
  return { user: { id: user.id, username: user.username }, verdict };
}
