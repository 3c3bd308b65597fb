// How money, dates and ledger entries are written out: on pages, in messages, in CSV and in JSON.
// One place, so an amount or a time reads the same wherever it appears.
import type { ProgramConfig } from "./config.js";
import type { LedgerKind, LedgerStatus } from "./db/schema.js";

// Money. Amounts are integer cents everywhere; only these functions turn them into dollars.

/** Whole dollars, as the earlier version's JSON `balance` (rounded down: never shows money not there). */
export function wholeDollars(cents: number): number {
  return Math.floor(cents / 100);
}

/** "-1234.50": plain decimal dollars, for CSV and other machine-read text. */
export function decimalDollars(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** "$1,234.50" */
export function formatDollars(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100).toLocaleString("en-US");
  const rest = String(abs % 100).padStart(2, "0");
  return `${sign}$${dollars}.${rest}`;
}

/** A change to a balance, always signed: "+$10.00" or "−$5.00" (a real minus sign, as typeset). */
export function signedDollars(cents: number): string {
  return cents < 0 ? `−${formatDollars(-cents)}` : `+${formatDollars(cents)}`;
}

/** An amount in a sentence people share: "$10" when it is whole dollars, else "$10.50". */
export function shortDollars(cents: number): string {
  return cents % 100 === 0 ? formatDollars(cents).slice(0, -3) : formatDollars(cents);
}

/** A chart axis label: "$25", "$2.5", "$1.5k". */
export function compactDollars(cents: number): string {
  const dollars = cents / 100;
  return dollars >= 1000
    ? `$${(dollars / 1000).toLocaleString("en-US", { maximumFractionDigits: 1 })}k`
    : `$${dollars.toLocaleString("en-US", { maximumFractionDigits: 2 })}`;
}

// Dates. Every time is shown in UTC: the service has no idea of a person's time zone.

const dayFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });
const dayTimeFormat = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});
const monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The instant for programs (JSON, CSV): "2026-11-25T16:39:02.120Z". */
export function isoTime(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** A UTC calendar day: "2026-11-25". */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** For people: "25 Nov 2026". */
export function dayText(date: Date): string {
  return dayFormat.format(date);
}

/** For people: "25 Nov 2026, 16:39". */
export function dayTimeText(date: Date): string {
  return dayTimeFormat.format(date);
}

/** For staff, sortable at a glance: "2026-11-25 16:39 UTC". */
export function utcMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A chart's day label: "2026-11-05" becomes "Nov 5"; anything else is left as it is. */
export function shortDay(label: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(label);
  if (!m) return label;
  return `${monthNames[Number(m[2]) - 1]} ${Number(m[3])}`;
}

/** "1st", "2nd", "3rd", "11th", "22nd". */
export function ordinal(n: number): string {
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return `${n}th`;
  switch (n % 10) {
    case 1:
      return `${n}st`;
    case 2:
      return `${n}nd`;
    case 3:
      return `${n}rd`;
    default:
      return `${n}th`;
  }
}

// Ledger wording: what a credit is called, for the user it belongs to and for staff.

/** What the user's own history says about one of their credits. */
export interface LedgerLineWords {
  kind: LedgerKind;
  amountCents: number;
  /** For a welcome bonus: whose link the user joined through. */
  inviterUsername: string | null;
  referralCount: number | null;
  reason: string | null;
  /** Absent or posted: in the balance. */
  status?: LedgerStatus;
  /** For a reward cut by the monthly limit: the part not paid. */
  cappedCents?: number | null;
  /** For a rejected welcome bonus: the reason the user is given. */
  decisionReason?: string | null;
}

/** What the opening entry of a balance moved from the earlier Django version says (`npm run import:django`). */
export const CARRIED_OVER_WORDS = "Balance carried over from the earlier version";

/** What a pending credit says: neutral, never which check holds it. */
export const PENDING_WORDS = "being checked, usually within a day";

/** The reason for a credit, in the programme's words, as the user reads it. */
export function describeLedgerLine(line: LedgerLineWords, program: ProgramConfig): string {
  switch (line.kind) {
    case "invitee_bonus": {
      const joined = line.inviterUsername
        ? `Welcome bonus: you joined through ${line.inviterUsername}'s link`
        : "Welcome bonus: you joined through a friend's link";
      if (line.status === "pending") return `${joined} (${PENDING_WORDS})`;
      if (line.status === "void") {
        return line.decisionReason
          ? `${joined} (not approved: ${line.decisionReason})`
          : `${joined} (not approved)`;
      }
      return joined;
    }
    case "inviter_reward": {
      const every = program.referralsPerInviterReward;
      const more = every === 1 ? "1 more person" : `${every} more people`;
      const total = line.referralCount === null ? "" : ` (${line.referralCount} in all)`;
      const capped =
        line.cappedCents != null && line.cappedCents > 0
          ? `; ${formatDollars(line.cappedCents)} not paid: you reached this month's limit on rewards`
          : "";
      return `Referral reward: ${more} joined through your link${total}${capped}`;
    }
    case "adjustment": {
      const what = line.amountCents >= 0 ? "credit added" : "credit removed";
      return line.reason ? `Adjustment, ${what} by staff: ${line.reason}` : `Adjustment, ${what} by staff`;
    }
    case "carried_over":
      return CARRIED_OVER_WORDS;
    default:
      return `Credit of ${formatDollars(line.amountCents)}`;
  }
}

/** A referral's status as the inviter reads it, with the reason staff gave. */
export function referralReason(referral: {
  status: "approved" | "held" | "rejected";
  reason: string | null;
  capped: boolean;
}): string {
  switch (referral.status) {
    case "held":
      return `${PENDING_WORDS.charAt(0).toUpperCase()}${PENDING_WORDS.slice(1)}`;
    case "rejected":
      return referral.reason ? `Not approved: ${referral.reason}` : "Not approved";
    default:
      return referral.capped ? "Approved; this month's limit on rewards was reached" : "Approved";
  }
}

const numberWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/** "Five", "Twelve" → "12": small numbers in words, as a sentence starts. */
function countWord(n: number): string {
  const word = numberWords[n] ?? String(n);
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** What the dashboard says once about a credit the user has not been told of. */
export function rewardNewsWords(
  news: {
    kind: "invitee_bonus" | "inviter_reward";
    amountCents: number;
    cappedCents: number;
    inviterUsername: string | null;
  },
  program: ProgramConfig,
): string {
  if (news.kind === "invitee_bonus") {
    const link = news.inviterUsername ? `${news.inviterUsername}'s link` : "a friend's link";
    return `Welcome! You got ${formatDollars(news.amountCents)} for joining through ${link}.`;
  }
  const every = program.referralsPerInviterReward;
  const joined = every === 1 ? "A friend joined" : `${countWord(every)} friends joined`;
  if (news.amountCents === 0) {
    return `${joined} through your link. You reached this month's limit on rewards, so no credit was added.`;
  }
  const over =
    news.cappedCents > 0 ? ` (${formatDollars(news.cappedCents)} more was over this month's limit)` : "";
  return `${joined} through your link: you earned ${formatDollars(news.amountCents)}${over}.`;
}

const staffKindLabels: Record<LedgerKind, string> = {
  invitee_bonus: "Sign-up bonus",
  inviter_reward: "Referral reward",
  adjustment: "Staff adjustment",
  carried_over: "Carried over",
};

/** What staff see in a ledger's "Kind" column. */
export function ledgerKindLabel(kind: string): string {
  return Object.hasOwn(staffKindLabels, kind) ? staffKindLabels[kind as LedgerKind] : kind;
}

/** Why a reward was paid, for staff: "5th sign-up through their link". */
export function rewardReason(referralCount: number | null): string {
  return referralCount === null
    ? "sign-up through their link"
    : `${ordinal(referralCount)} sign-up through their link`;
}

/** A wait, as a person reads it: "45 seconds", "1 minute", "12 minutes" (rounded up), "2 hours". */
export function waitWords(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return s === 1 ? "1 second" : `${s} seconds`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 120) return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  return `${Math.ceil(minutes / 60)} hours`;
}

/** "1 session", "3 sessions". */
export function sessionCount(n: number): string {
  return n === 1 ? "1 session" : `${n.toLocaleString("en-US")} sessions`;
}
