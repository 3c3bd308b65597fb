// Use case: a staff member adds or removes credit. The change is a ledger entry of its own (old
// entries are never edited), the cached balance moves in the same transaction, and the audit log
// records it; a removal larger than the balance is refused, so the balance never goes below zero.
import { and, eq, gte, sql } from "drizzle-orm";
import type { Database, Transaction } from "../db/connection.js";
import { ledgerEntries, users } from "../db/schema.js";
import { FieldErrorList, ValidationError } from "../errors.js";
import { type EventDeps, noEventWake, recordEvent } from "../events/events.js";
import { formatDollars } from "../format.js";
import { type Actor, auditActor, eventActor, recordAudit } from "./audit.js";

export const REASON_MAX_LENGTH = 500;
/** The staff note: for staff only, never shown to the user. */
export const ADJUSTMENT_NOTE_MAX_LENGTH = 2000;
/** One adjustment moves at most $1,000,000: a typo should not mint a fortune. */
export const ADJUSTMENT_MAX_CENTS = 100_000_000;

export interface AdjustmentForm {
  /** Positive adds credit, negative removes it. */
  amountCents: number;
  /** What the user reads in their history. */
  reason: string;
  /** What only staff read (the admin's ledger and the audit log); null or absent without one. */
  note?: string | null;
}

const dollarsPattern = /^\d{1,9}(?:\.\d{1,2})?$/;

/** "12", "12.5" or "12.50" dollars to cents; null when it is not such a number. */
export function parseDollars(text: string): number | null {
  const value = text.trim().replace(/^\$/, "").replace(/,/g, "");
  if (!dollarsPattern.test(value)) return null;
  const [whole = "0", fraction = ""] = value.split(".");
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
}

/** Checks the adjustment form: direction (add or remove), amount in dollars, a reason, and an optional note. */
export function checkAdjustmentForm(input: Record<string, unknown>): AdjustmentForm {
  const errors = new FieldErrorList();
  const direction = input.direction;
  if (direction !== "add" && direction !== "remove") {
    errors.add("direction", 'Choose "add" or "remove".');
  }
  let cents: number | null = null;
  const amount = typeof input.amount === "number" ? String(input.amount) : input.amount;
  if (typeof amount !== "string" || amount.trim() === "") {
    errors.add("amount", "This field is required.");
  } else {
    cents = parseDollars(amount);
    if (cents === null) errors.add("amount", "Enter an amount in dollars, such as 10 or 12.50.");
    else if (cents <= 0) errors.add("amount", "The amount must be more than $0.00.");
    else if (cents > ADJUSTMENT_MAX_CENTS) {
      errors.add("amount", `One adjustment can move at most ${formatDollars(ADJUSTMENT_MAX_CENTS)}.`);
    }
  }
  const reason = typeof input.reason === "string" ? input.reason.trim() : "";
  if (reason === "") errors.add("reason", "This field is required.");
  else if ([...reason].length > REASON_MAX_LENGTH) {
    errors.add(
      "reason",
      `Ensure this value has at most ${REASON_MAX_LENGTH} characters (it has ${[...reason].length}).`,
    );
  }
  const note = typeof input.note === "string" ? input.note.trim() : "";
  if (input.note !== undefined && input.note !== null && typeof input.note !== "string") {
    errors.add("note", "Enter the note as text.");
  } else if ([...note].length > ADJUSTMENT_NOTE_MAX_LENGTH) {
    errors.add(
      "note",
      `Ensure this value has at most ${ADJUSTMENT_NOTE_MAX_LENGTH} characters (it has ${[...note].length}).`,
    );
  }
  errors.throwIfAny();
  return {
    amountCents: direction === "remove" ? -(cents as number) : (cents as number),
    reason,
    note: note === "" ? null : note,
  };
}

export class UserNotFound extends Error {
  constructor() {
    super("user not found");
    this.name = "UserNotFound";
  }
}

export interface AdjustmentResult {
  ledgerEntryId: number;
  balanceCents: number;
  /** The webhook deliveries of its event, for EventDeps.wake after the commit. */
  deliveryIds: number[];
}

/** Staff (a user id) or an API key adds or removes credit; the event `balance.adjusted` tells integrations. */
export async function adjustBalance(
  db: Database,
  actor: Actor,
  userId: number,
  form: AdjustmentForm,
  events: EventDeps = noEventWake,
): Promise<AdjustmentResult> {
  const result = await db.transaction((tx) => adjustBalanceInTransaction(tx, actor, userId, form));
  events.wake(result.deliveryIds);
  return result;
}

/**
 * adjustBalance's writes, in a transaction the caller holds: the API (src/api/) writes its
 * Idempotency-Key's row in the same one, so a repeat waits for this adjustment and never makes a
 * second. The caller hands the deliveries to EventDeps.wake after its commit.
 */
export async function adjustBalanceInTransaction(
  tx: Transaction,
  actor: Actor,
  userId: number,
  form: AdjustmentForm,
): Promise<AdjustmentResult> {
  const who = auditActor(actor);
  // The row lock taken here queues this behind concurrent rewards and adjustments for the same user.
  const updated = await tx
    .update(users)
    .set({ balanceCents: sql`${users.balanceCents} + ${form.amountCents}` })
    .where(and(eq(users.id, userId), gte(sql`${users.balanceCents} + ${form.amountCents}`, 0)))
    .returning({ balanceCents: users.balanceCents });
  const row = updated[0];
  if (!row) {
    const current = await tx
      .select({ balanceCents: users.balanceCents })
      .from(users)
      .where(eq(users.id, userId));
    const user = current[0];
    if (!user) throw new UserNotFound();
    throw new ValidationError({
      amount: [
        `Cannot remove ${formatDollars(-form.amountCents)}: the balance is only ${formatDollars(user.balanceCents)}, and it can never go below zero.`,
      ],
    });
  }
  const entry = await tx
    .insert(ledgerEntries)
    .values({
      userId,
      amountCents: form.amountCents,
      kind: "adjustment",
      reason: form.reason,
      staffNote: form.note ?? null,
      createdById: who.actorId,
    })
    .returning({ id: ledgerEntries.id });
  const ledgerEntryId = (entry[0] as { id: number }).id;
  await recordAudit(tx, {
    ...who,
    action: "balance_adjusted",
    targetUserId: userId,
    details: {
      amount_cents: form.amountCents,
      reason: form.reason,
      ledger_entry_id: ledgerEntryId,
      balance_after_cents: row.balanceCents,
      // Only when staff wrote one.
      ...(form.note ? { staff_note: form.note } : {}),
    },
  });
  const deliveryIds = await recordEvent(tx, "balance.adjusted", {
    user_id: userId,
    amount_cents: form.amountCents,
    balance_cents: row.balanceCents,
    reason: form.reason,
    ledger_entry_id: ledgerEntryId,
    by: eventActor(actor),
  });
  return { ledgerEntryId, balanceCents: row.balanceCents, deliveryIds };
}
