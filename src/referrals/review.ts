// Use cases: approving and rejecting a held referral (by staff, or when the hold for everyone ends).

import { sql } from "drizzle-orm";
import { recordAudit } from "../admin/audit.js";
import type { IntegrityConfig, ProgramConfig } from "../config.js";
import type { Database, Queryable } from "../db/connection.js";
import { type MailDeps, notificationInsert } from "../email/outbox.js";
import { type EventDeps, recordEvent } from "../events/events.js";
import type { PaidReward } from "./integrity.js";
import { countApproved, decideHeld, dueForApproval, settlePending } from "./review-store.js";
import { payInviterRewards } from "./reward-store.js";

export interface ReviewDeps {
  db: Database;
  program: ProgramConfig;
  integrity: Pick<IntegrityConfig, "monthlyCapCents">;
  clock: () => number;
  mail: MailDeps;
  webhooks: EventDeps;
}

export interface ReviewDecision {
  referralId: number;
  /** Null when the end of the hold decides. */
  staffId: number | null;
  /** Shown to the invitee and the inviter. */
  reason: string | null;
  /** Staff only. */
  staffNote: string | null;
}

export interface Approved {
  inviterId: number;
  inviteeId: number;
  bonusPostedCents: number;
  /** False when the inviter was deactivated meanwhile: the invitee is paid, the inviter is not. */
  counted: boolean;
  inviterRewards: PaidReward[];
}

/**
 * Approves a held referral exactly once, in one transaction: the invitee's pending bonus is posted,
 * the referral counts toward the inviter's next reward (paying it when this completes a five, under
 * the inviter's row lock, as a sign-up does), and staff's decision is audited. Null when the
 * referral is not held (already decided, or no such referral).
 */
export async function approveReferral(deps: ReviewDeps, decision: ReviewDecision): Promise<Approved | null> {
  const now = deps.clock();
  const approved = await deps.db.transaction(async (tx) => {
    const decided = await decideHeld(tx, { ...decision, status: "approved" });
    if (!decided) return null;
    const bonusPostedCents = await settlePending(tx, decided.inviteeId, "posted");
    const count = await countApproved(tx, decided.inviterId);
    const { paid: inviterRewards, deliveryIds: rewardDeliveryIds } =
      count === null
        ? { paid: [], deliveryIds: [] }
        : await payInviterRewards(
            tx,
            {
              program: deps.program,
              monthlyCapCents: deps.integrity.monthlyCapCents,
              mailStatus: deps.mail.initialStatus,
            },
            { inviterId: decided.inviterId, signupUserId: decided.inviteeId, count, now },
          );
    await tellInvitee(tx, deps.mail, decided.inviteeId, "referral_approved", {
      amountCents: bonusPostedCents,
      reason: null,
    });
    const deliveryIds = [
      ...rewardDeliveryIds,
      ...(await recordEvent(tx, "referral.approved", decisionEvent(decision, decided))),
    ];
    if (bonusPostedCents > 0) {
      const bonusEvent = await recordEvent(tx, "reward.granted", {
        user_id: decided.inviteeId,
        amount_cents: bonusPostedCents,
        reason: "invitee_bonus",
        invitee_id: decided.inviteeId,
      });
      deliveryIds.push(...bonusEvent);
    }
    if (decision.staffId !== null) {
      await recordAudit(tx, {
        actorId: decision.staffId,
        action: "referral_approved",
        targetUserId: decided.inviteeId,
        details: {
          ...auditDetails(decision, decided, bonusPostedCents),
          inviter_reward_cents: rewardCentsOf({ inviterRewards }),
        },
      });
    }
    return {
      approved: { ...decided, bonusPostedCents, counted: count !== null, inviterRewards },
      deliveryIds,
    };
  });
  if (!approved) return null;
  deps.mail.wake();
  deps.webhooks.wake(approved.deliveryIds);
  return approved.approved;
}

/** Rejects a held referral exactly once: its pending credit is void, with the reason. Null when not held. */
export async function rejectReferral(
  deps: ReviewDeps,
  decision: ReviewDecision,
): Promise<{ inviterId: number; inviteeId: number; voidedCents: number } | null> {
  const rejected = await deps.db.transaction(async (tx) => {
    const decided = await decideHeld(tx, { ...decision, status: "rejected" });
    if (!decided) return null;
    const voidedCents = await settlePending(tx, decided.inviteeId, "void");
    await tellInvitee(tx, deps.mail, decided.inviteeId, "referral_rejected", {
      amountCents: voidedCents,
      reason: decision.reason,
    });
    const deliveryIds = await recordEvent(tx, "referral.rejected", {
      ...decisionEvent(decision, decided),
      voided_cents: voidedCents,
    });
    if (decision.staffId !== null) {
      await recordAudit(tx, {
        actorId: decision.staffId,
        action: "referral_rejected",
        targetUserId: decided.inviteeId,
        details: auditDetails(decision, decided, voidedCents),
      });
    }
    return { rejected: { ...decided, voidedCents }, deliveryIds };
  });
  if (!rejected) return null;
  deps.mail.wake();
  deps.webhooks.wake(rejected.deliveryIds);
  return rejected.rejected;
}

/** The invitee hears of the decision by email, if they have a verified address and want to. */
async function tellInvitee(
  tx: Queryable,
  mail: MailDeps,
  inviteeId: number,
  kind: "referral_approved" | "referral_rejected",
  what: { amountCents: number; reason: string | null },
): Promise<void> {
  await tx.execute(
    notificationInsert({
      kind,
      userId: sql`${inviteeId}::bigint`,
      wants: "notify_review",
      params: sql`jsonb_build_object('username', u.username, 'amount_cents', ${what.amountCents}::bigint,
        'reason', ${what.reason ?? ""}::text)`,
      status: mail.initialStatus,
    }),
  );
}

/** The data of `referral.approved` and `referral.rejected`: the staff note stays out. */
function decisionEvent(decision: ReviewDecision, decided: { inviterId: number; inviteeId: number }) {
  return {
    referral_id: decision.referralId,
    inviter_id: decided.inviterId,
    invitee_id: decided.inviteeId,
    reason: decision.reason,
    by: decision.staffId === null ? { type: "hold" } : { type: "staff", user_id: decision.staffId },
  };
}

function auditDetails(decision: ReviewDecision, decided: { inviterId: number }, amountCents: number) {
  return {
    referral_id: decision.referralId,
    inviter_id: decided.inviterId,
    amount_cents: amountCents,
    reason: decision.reason,
    staff_note: decision.staffNote,
  };
}

/** Referrals approved per run of the hold job, at most; the next run takes the rest. */
const DUE_PER_RUN = 500;

/**
 * Approves the referrals whose hold for everyone has ended and that no signal holds, telling
 * `onApproved` of each as soon as it is committed. Safe with several instances running it at once:
 * each approval matches only a referral still held. Returns the approvals this run made.
 */
export async function approveDueReferrals(
  deps: ReviewDeps,
  onApproved: (approved: Approved) => void = () => {},
): Promise<Approved[]> {
  const due = await dueForApproval(deps.db, new Date(deps.clock()), DUE_PER_RUN);
  const approved: Approved[] = [];
  for (const referralId of due) {
    const done = await approveReferral(deps, { referralId, staffId: null, reason: null, staffNote: null });
    if (done) {
      approved.push(done);
      onApproved(done);
    }
  }
  return approved;
}

/** The total of the inviter rewards an approval paid. */
export function rewardCentsOf(approved: { inviterRewards: PaidReward[] }): number {
  return approved.inviterRewards.reduce((sum, reward) => sum + reward.amountCents, 0);
}
