// Use case: log in. Unknown usernames cost the same as wrong passwords (a dummy hash is verified),
// and a hash made with weaker parameters is upgraded on the way.
import { eq, sql } from "drizzle-orm";
import { type Database, queryPreparedRows } from "../db/connection.js";
import { users } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { checkLoginForm, type FormInput } from "./forms.js";
import { messages } from "./messages.js";
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from "./password-hasher.js";
import { usernameKey } from "./username.js";

export interface AuthenticatedUser {
  id: number;
  username: string;
}

export async function authenticate(db: Database, input: FormInput): Promise<AuthenticatedUser> {
  const { form, errors } = checkLoginForm(input);
  errors.throwIfAny();
  if (!form) throw new ValidationError(errors.fields);

  const [row] = await queryPreparedRows<{
    id: string | number;
    username: string;
    password_hash: string;
    is_active: boolean;
  }>(
    db,
    sql`SELECT id, username, password_hash, is_active FROM ${users}
      WHERE username_key = ${usernameKey(form.username)} LIMIT 1`,
  );
  const user = row && {
    id: Number(row.id),
    username: row.username,
    passwordHash: row.password_hash,
    isActive: row.is_active,
  };
  const valid = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), form.password);
  if (!user || !valid || !user.isActive) {
    throw new ValidationError({ __all__: [messages.invalidLogin] });
  }
  if (needsRehash(user.passwordHash)) {
    const upgraded = await hashPassword(form.password);
    await db.update(users).set({ passwordHash: upgraded }).where(eq(users.id, user.id));
  }
  return { id: user.id, username: user.username };
}
