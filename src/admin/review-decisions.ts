// Use case: staff approve or reject held referrals from the review queue, one or many at once. Each
// referral is decided in a transaction of its own by approveReferral or rejectReferral (which write
// its audit entry); one decided meanwhile, by someone else or by the end of its hold, is left as it is
// and reported as already decided.
import { FieldErrorList, ValidationError } from "../errors.js";
import { PAGE_SIZE_MAX } from "../paging.js";
import { approveReferral, type ReviewDeps, rejectReferral, rewardCentsOf } from "../referrals/review.js";
import { referralsInvolving } from "../referrals/review-store.js";

/** The reason is shown to the invitee and the inviter. */
export const DECISION_REASON_MAX_LENGTH = 500;
/** The note is for staff only. */
export const STAFF_NOTE_MAX_LENGTH = 2000;
/** Referrals one request may decide: a page of the queue at most. */
export const DECISIONS_MAX = PAGE_SIZE_MAX;

export type ReviewAction = "approve" | "reject";

export interface ReviewForm {
  action: ReviewAction;
  /** Distinct, in the order given. */
  ids: number[];
  reason: string | null;
  staffNote: string | null;
}

const idPattern = /^[1-9][0-9]{0,14}$/;

/** The ids as given: a list (form checkboxes, JSON), or one id alone; null for anything else. */
function idsOf(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  const ids: string[] = [];
  for (const item of list) {
    if (typeof item === "number" && Number.isSafeInteger(item)) ids.push(String(item));
    else if (typeof item === "string") ids.push(item.trim());
    else return null;
  }
  return ids;
}

function lengthError(max: number, length: number): string {
  return `Ensure this value has at most ${max} characters (it has ${length}).`;
}

/**
 * Checks the review form: `action` (approve or reject), `ids` (the referrals), `reason` (required to
 * reject, at most 500 characters) and `note` (optional, at most 2000). Throws ValidationError.
 */
export function checkReviewForm(input: Record<string, unknown>): ReviewForm {
  const errors = new FieldErrorList();
  const action = input.action;
  if (action !== "approve" && action !== "reject") errors.add("action", 'Choose "approve" or "reject".');

  const given = idsOf(input.ids);
  const ids: number[] = [];
  if (given === null || given.some((id) => !idPattern.test(id))) {
    errors.add("ids", "Give the referrals as a list of their numbers.");
  } else {
    for (const id of given.map(Number)) if (!ids.includes(id)) ids.push(id);
    if (ids.length === 0) errors.add("ids", "Select at least one referral.");
    else if (ids.length > DECISIONS_MAX) {
      errors.add("ids", `Decide at most ${DECISIONS_MAX} referrals at once (${ids.length} selected).`);
    }
  }

  const text = (name: string) => (typeof input[name] === "string" ? (input[name] as string).trim() : "");
  const reason = text("reason");
  if (input.reason !== undefined && input.reason !== null && typeof input.reason !== "string") {
    errors.add("reason", "Enter the reason as text.");
  } else if (reason === "" && action === "reject") {
    errors.add("reason", "This field is required.");
  } else if ([...reason].length > DECISION_REASON_MAX_LENGTH) {
    errors.add("reason", lengthError(DECISION_REASON_MAX_LENGTH, [...reason].length));
  }
  const note = text("note");
  if (input.note !== undefined && input.note !== null && typeof input.note !== "string") {
    errors.add("note", "Enter the note as text.");
  } else if ([...note].length > STAFF_NOTE_MAX_LENGTH) {
    errors.add("note", lengthError(STAFF_NOTE_MAX_LENGTH, [...note].length));
  }
  errors.throwIfAny();
  return {
    action: action as ReviewAction,
    ids,
    reason: reason === "" ? null : reason,
    staffNote: note === "" ? null : note,
  };
}

/** One referral staff decided: what its decision moved, for the metrics. */
export interface StaffDecision {
  referralId: number;
  status: "approved" | "rejected";
  /** The invitee's pending credit posted (approved) or voided (rejected). */
  amountCents: number;
  /** Inviter rewards paid because the approval completed a five. */
  inviterRewardCents: number;
}

export interface ReviewOutcome {
  decided: number[];
  /** Not held any more when its turn came (or no such referral): left as it was. */
  alreadyDecided: number[];
}

/**
 * Decides each referral in turn, each in its own transaction. `onDecided` hears each decision as soon
 * as it is committed, so one that fails later (the database gone) does not hide those before it.
 */
export async function decideReferrals(
  deps: ReviewDeps,
  staffId: number,
  form: ReviewForm,
  onDecided: (decision: StaffDecision) => void,
): Promise<ReviewOutcome> {
  // Nobody decides their own money: a referral that names the staff member waits for someone else.
  const own = await referralsInvolving(deps.db, form.ids, staffId);
  if (own.length > 0) {
    throw new ValidationError({
      ids: [
        `You cannot decide a referral you are part of (number ${own.join(", ")}): ask another staff member.`,
      ],
    });
  }
  const outcome: ReviewOutcome = { decided: [], alreadyDecided: [] };
  for (const referralId of form.ids) {
    const decision = { referralId, staffId, reason: form.reason, staffNote: form.staffNote };
    let done: StaffDecision | null = null;
    if (form.action === "approve") {
      const approved = await approveReferral(deps, decision);
      if (approved) {
        done = {
          referralId,
          status: "approved",
          amountCents: approved.bonusPostedCents,
          inviterRewardCents: rewardCentsOf(approved),
        };
      }
    } else {
      const rejected = await rejectReferral(deps, decision);
      if (rejected) {
        done = { referralId, status: "rejected", amountCents: rejected.voidedCents, inviterRewardCents: 0 };
      }
    }
    if (done) {
      outcome.decided.push(referralId);
      onDecided(done);
    } else {
      outcome.alreadyDecided.push(referralId);
    }
  }
  return outcome;
}
