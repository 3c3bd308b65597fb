// The rules that decide whether a referral is paid at once or held for review, and how much of an
// inviter's reward the monthly limit lets through. Pure: the stores gather the facts.
import type { IntegrityConfig } from "../config.js";
import type { InviterReward } from "./rules.js";

export const signalNames = [
  "self_referral",
  "shared_address",
  "link_velocity",
  "address_velocity",
  "earlier_rejections",
] as const;
export type Signal = (typeof signalNames)[number];

/** What the sign-up's first statement learnt about the link and the browser using it. */
export interface ReferralFacts {
  /** The browser holds a session of the inviter. */
  inviterSession: boolean;
  /** The browser's device cookie has been used with the inviter's account. */
  inviterDevice: boolean;
  /**
   * The sign-up comes from an address the inviter used within the window: which such sign-up
   * through this link it is (1 for the first); 0 when the address is not one of the inviter's.
   */
  sharedAddressOrdinal: number;
  /** Referred sign-ups through this link in this hour, this one included. */
  linkSignupsThisHour: number;
  /** Referred sign-ups from this address in this hour, this one included. */
  addressSignupsThisHour: number;
  /** The inviter's referrals rejected within the window. */
  earlierRejections: number;
}

/** No facts: what a sign-up with the signals off knows. */
export const noFacts: ReferralFacts = {
  inviterSession: false,
  inviterDevice: false,
  sharedAddressOrdinal: 0,
  linkSignupsThisHour: 0,
  addressSignupsThisHour: 0,
  earlierRejections: 0,
};

/** The signals the facts raise, in a fixed order. A signal whose setting is 0 (or off) never fires. */
export function signalsFor(facts: ReferralFacts, config: IntegrityConfig): Signal[] {
  if (!config.signalsOn) return [];
  const fired: Signal[] = [];
  if (config.selfReferral && (facts.inviterSession || facts.inviterDevice)) fired.push("self_referral");
  // One sign-up from the inviter's own address can be a partner at home; a second is a pattern.
  if (config.sharedAddressDays > 0 && facts.sharedAddressOrdinal >= 2) fired.push("shared_address");
  if (config.linkSignupsPerHour > 0 && facts.linkSignupsThisHour > config.linkSignupsPerHour) {
    fired.push("link_velocity");
  }
  if (config.addressSignupsPerHour > 0 && facts.addressSignupsThisHour > config.addressSignupsPerHour) {
    fired.push("address_velocity");
  }
  if (config.rejectionsBeforeHold > 0 && facts.earlierRejections >= config.rejectionsBeforeHold) {
    fired.push("earlier_rejections");
  }
  return fired;
}

export interface ReferralDecision {
  status: "approved" | "held";
  signals: Signal[];
  /** When the hold for everyone ends (null: no such hold). */
  holdUntil: Date | null;
}

/**
 * Held when a signal fired (for staff to decide) or when every referral waits `holdHours` (approved
 * on its own at `holdUntil` unless a signal fired); otherwise approved at once.
 */
export function decideReferral(facts: ReferralFacts, config: IntegrityConfig, now: number): ReferralDecision {
  const signals = signalsFor(facts, config);
  const holdUntil = config.holdHours > 0 ? new Date(now + config.holdHours * 3_600_000) : null;
  const status = signals.length > 0 || holdUntil !== null ? "held" : "approved";
  return { status, signals, holdUntil };
}

/** A reward as paid: the amount credited and the part the monthly limit withheld. */
export interface PaidReward extends InviterReward {
  /** The full reward, as the rule gave it. */
  earnedCents: number;
  /** The part not paid because of the monthly limit (0 when paid in full). */
  cappedCents: number;
}

/**
 * The rewards, each cut to what is left of the monthly limit after `paidThisMonthCents`; a null
 * limit pays everything.
 */
export function capRewards(
  rewards: InviterReward[],
  paidThisMonthCents: number,
  monthlyCapCents: number | null,
): PaidReward[] {
  let left = monthlyCapCents === null ? Number.POSITIVE_INFINITY : monthlyCapCents - paidThisMonthCents;
  return rewards.map((reward) => {
    const paid = Math.max(0, Math.min(reward.amountCents, left));
    left -= paid;
    return {
      referralCount: reward.referralCount,
      amountCents: paid,
      earnedCents: reward.amountCents,
      cappedCents: reward.amountCents - paid,
    };
  });
}

/** The first instant of the calendar month (UTC) that `now` falls in. */
export function monthStart(now: number): Date {
  const date = new Date(now);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}

/** For staff: each signal in words. Never shown to the invitee or the inviter. */
export const signalWords: Record<Signal, string> = {
  self_referral: "Signed up from a browser the inviter uses (their session or device cookie).",
  shared_address: "Not the first sign-up through this link from an address the inviter uses.",
  link_velocity: "More sign-ups through this link in one hour than the limit.",
  address_velocity: "More referred sign-ups from this address in one hour than the limit.",
  earlier_rejections: "The inviter has had referrals rejected recently.",
};

export function isSignal(value: string): value is Signal {
  return (signalNames as readonly string[]).includes(value);
}
