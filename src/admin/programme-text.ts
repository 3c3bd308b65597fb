// The text staff set to say what credit can be used for ("Credit pays for your next order…"),
// shown on the dashboard and the sign-up page; empty by default, and then nothing is shown. Read on
// busy pages, so each process keeps it for a few seconds; a change is seen at once by the process
// that made it and within CACHE_MS by the others.
import { eq } from "drizzle-orm";
import type { Database, Queryable } from "../db/connection.js";
import { programmeSettings } from "../db/schema.js";
import { FieldErrorList } from "../errors.js";
import { recordAudit } from "./audit.js";

export const CREDIT_USE_TEXT = "credit_use_text";
export const CREDIT_USE_MAX_LENGTH = 500;
const CACHE_MS = 10_000;

interface Cached {
  value: string;
  readAt: number;
}

const cache = new WeakMap<Queryable, Cached>();

/** What credit can be used for, as staff wrote it; "" when nobody has. */
export async function creditUseText(db: Queryable, now = Date.now()): Promise<string> {
  const cached = cache.get(db);
  if (cached && now - cached.readAt < CACHE_MS) return cached.value;
  const [row] = await db
    .select({ value: programmeSettings.value })
    .from(programmeSettings)
    .where(eq(programmeSettings.name, CREDIT_USE_TEXT));
  const value = row?.value ?? "";
  cache.set(db, { value, readAt: now });
  return value;
}

/** The form's text, trimmed and checked: at most 500 characters, one paragraph. */
export function checkCreditUseText(input: unknown): string {
  const errors = new FieldErrorList();
  const text = typeof input === "string" ? input.replace(/\s+/g, " ").trim() : "";
  if (input !== undefined && typeof input !== "string") errors.add("text", "Enter the text as text.");
  else if ([...text].length > CREDIT_USE_MAX_LENGTH) {
    errors.add(
      "text",
      `Ensure this value has at most ${CREDIT_USE_MAX_LENGTH} characters (it has ${[...text].length}).`,
    );
  }
  errors.throwIfAny();
  return text;
}

/** Saves the text (empty clears it) with an audit entry, in one transaction. */
export async function setCreditUseText(db: Database, staffId: number, text: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .insert(programmeSettings)
      .values({ name: CREDIT_USE_TEXT, value: text, updatedById: staffId })
      .onConflictDoUpdate({
        target: programmeSettings.name,
        set: { value: text, updatedById: staffId, updatedAt: new Date() },
      });
    await recordAudit(tx, { actorId: staffId, action: "credit_text_changed", details: { text } });
  });
  cache.set(db, { value: text, readAt: Date.now() });
}
