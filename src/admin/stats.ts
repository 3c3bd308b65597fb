// Programme analytics for a period of whole UTC days: sign-ups, rewards paid, top referrers, the
// share of sign-ups that came through a link, the viral coefficient (K-factor), what became of
// the referrals made each day (held, approved, rejected) with their invitees' bonuses, and the
// funnel: referral links opened, and the sign-ups through links per open (conversion).
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import { isoDay } from "../format.js";

export interface Period {
  /** First day, YYYY-MM-DD (UTC), included. */
  from: string;
  /** Last day, YYYY-MM-DD (UTC), included. */
  to: string;
  /** Set when the period is one of the presets (7, 30, 90 or 365 days up to today). */
  presetDays: number | null;
}

export const PERIOD_PRESETS = [7, 30, 90, 365] as const;
export const DEFAULT_PRESET = 30;
export const MAX_PERIOD_DAYS = 731;
const DAY_MS = 86_400_000;

function parseDay(text: unknown): Date | null {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const date = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || isoDay(date) !== text ? null : date;
}

export class PeriodError extends Error {}

/**
 * The period from ?days=N (a preset) or ?from=YYYY-MM-DD&to=YYYY-MM-DD (both days included).
 * Throws PeriodError with a message for a person when the dates make no sense.
 */
export function parsePeriod(
  query: { days?: unknown; from?: unknown; to?: unknown },
  today: Date = new Date(),
): Period {
  const todayDay = new Date(`${isoDay(today)}T00:00:00Z`);
  if (query.from !== undefined || query.to !== undefined) {
    const from = parseDay(query.from);
    const to = parseDay(query.to);
    if (!from || !to) throw new PeriodError("Give both dates as YYYY-MM-DD.");
    if (from > to) throw new PeriodError("The first day must not be after the last day.");
    const days = (to.getTime() - from.getTime()) / DAY_MS + 1;
    if (days > MAX_PERIOD_DAYS)
      throw new PeriodError(`A period can be at most ${MAX_PERIOD_DAYS} days long.`);
    return { from: isoDay(from), to: isoDay(to), presetDays: null };
  }
  const asked = typeof query.days === "string" ? Number(query.days) : DEFAULT_PRESET;
  const days = (PERIOD_PRESETS as readonly number[]).includes(asked) ? asked : DEFAULT_PRESET;
  return {
    from: isoDay(new Date(todayDay.getTime() - (days - 1) * DAY_MS)),
    to: isoDay(todayDay),
    presetDays: days,
  };
}

/** Every day of the period, in order. */
export function daysOf(period: Period): string[] {
  const days: string[] = [];
  const end = new Date(`${period.to}T00:00:00Z`).getTime();
  for (let t = new Date(`${period.from}T00:00:00Z`).getTime(); t <= end; t += DAY_MS) {
    days.push(isoDay(new Date(t)));
  }
  return days;
}

/**
 * K-factor for a period: referred sign-ups in the period ÷ users who existed at its start.
 * Null when nobody existed at the start (the ratio has no meaning then).
 */
export function kFactor(referredSignups: number, usersAtStart: number): number | null {
  return usersAtStart > 0 ? referredSignups / usersAtStart : null;
}

/** Share of the period's sign-ups that came through a link, 0 to 1; null with no sign-ups. */
export function referredShare(referredSignups: number, signups: number): number | null {
  return signups > 0 ? referredSignups / signups : null;
}

/**
 * Sign-ups through links per link open, 0 and up; null with no opens. It can pass 1: a program may
 * sign up through a link it never opened (POST /signup/?ref= in JSON), and opens are counted once
 * per browser per day.
 */
export function conversionRate(referredSignups: number, linkOpens: number): number | null {
  return linkOpens > 0 ? referredSignups / linkOpens : null;
}

/**
 * The referrals made on a day (by the day each was created), by what they are now, and their
 * invitees' bonuses by the ledger entries' status: pending (held), posted (approved), void (rejected).
 */
export interface ReferralFigures {
  heldReferrals: number;
  approvedReferrals: number;
  rejectedReferrals: number;
  heldCents: number;
  approvedCents: number;
  rejectedCents: number;
}

export interface DayFigures extends ReferralFigures {
  day: string;
  signups: number;
  referredSignups: number;
  /** Posted (paid) welcome bonuses; pending and void ones are in heldCents and rejectedCents. */
  inviteeBonusCents: number;
  inviterRewardCents: number;
  /** Referral links opened that day (each visitor counted once per link per day). */
  linkOpens: number;
  /** referredSignups ÷ linkOpens; null with no opens. */
  conversion: number | null;
}

export interface TopReferrer {
  id: number;
  username: string;
  /** Sign-ups through their link in the period. */
  referredInPeriod: number;
  /** All-time count. */
  referredCount: number;
  isActive: boolean;
  /** Opens of their link in the period. */
  linkOpensInPeriod: number;
  /** referredInPeriod ÷ linkOpensInPeriod; null with no opens. */
  conversion: number | null;
}

export interface ProgrammeStats {
  period: Period;
  days: DayFigures[];
  totals: {
    signups: number;
    referredSignups: number;
    rewardsPaidCents: number;
    adjustmentsNetCents: number;
    usersAtStart: number;
    linkOpens: number;
  } & ReferralFigures;
  referredShare: number | null;
  /** The period's sign-ups through links ÷ its link opens; null with no opens. */
  conversion: number | null;
  kFactor: number | null;
  topReferrers: TopReferrer[];
}

export const TOP_REFERRERS = 10;

export async function programmeStats(db: Queryable, period: Period): Promise<ProgrammeStats> {
  // Half-open [start, end) in UTC: each query reads only the period's rows, through the created_at indexes.
  const start = `${period.from}T00:00:00Z`;
  const end = isoDay(new Date(new Date(`${period.to}T00:00:00Z`).getTime() + DAY_MS));
  const endAt = `${end}T00:00:00Z`;

  const signupRows = await queryRows<{ day: string; signups: number; referred: number }>(
    db,
    sql`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
               count(*)::int AS signups, count(invited_by_id)::int AS referred
        FROM users
        WHERE created_at >= ${start}::timestamptz AND created_at < ${endAt}::timestamptz
        GROUP BY 1`,
  );
  // Paid means posted: a bonus held for review (pending) or rejected (void) was not paid.
  const ledgerRows = await queryRows<{ day: string; kind: string; cents: string | number }>(
    db,
    sql`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, kind,
               sum(amount_cents)::bigint AS cents
        FROM ledger_entries
        WHERE created_at >= ${start}::timestamptz AND created_at < ${endAt}::timestamptz
          AND status = 'posted'
        GROUP BY 1, 2`,
  );
  // The period's referrals through referrals_created_at_idx, each invitee's bonus through
  // ledger_entries_signup_idx.
  const referralRows = await queryRows<{
    day: string;
    held: number;
    approved: number;
    rejected: number;
    held_cents: string | number;
    approved_cents: string | number;
    rejected_cents: string | number;
  }>(
    db,
    sql`SELECT to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
               count(*) FILTER (WHERE r.status = 'held')::int AS held,
               count(*) FILTER (WHERE r.status = 'approved')::int AS approved,
               count(*) FILTER (WHERE r.status = 'rejected')::int AS rejected,
               COALESCE(sum(b.pending), 0)::bigint AS held_cents,
               COALESCE(sum(b.posted), 0)::bigint AS approved_cents,
               COALESCE(sum(b.void), 0)::bigint AS rejected_cents
        FROM referrals r
        LEFT JOIN LATERAL (
          SELECT sum(amount_cents) FILTER (WHERE status = 'pending') AS pending,
                 sum(amount_cents) FILTER (WHERE status = 'posted') AS posted,
                 sum(amount_cents) FILTER (WHERE status = 'void') AS void
          FROM ledger_entries
          WHERE signup_user_id = r.invitee_id AND user_id = r.invitee_id AND kind = 'invitee_bonus'
        ) b ON true
        WHERE r.created_at >= ${start}::timestamptz AND r.created_at < ${endAt}::timestamptz
        GROUP BY 1`,
  );
  const atStart = await queryRows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM users WHERE created_at < ${start}::timestamptz`,
  );
  // Opens per day through link_open_counts_day_idx; the days are YYYY-MM-DD text, which sorts as dates.
  const openRows = await queryRows<{ day: string; opens: string | number }>(
    db,
    sql`SELECT day, sum(opens)::bigint AS opens FROM link_open_counts
        WHERE day >= ${period.from} AND day <= ${period.to}
        GROUP BY day`,
  );
  // Each top referrer's opens through the primary key (inviter_id, day).
  const top = await queryRows<Omit<TopReferrer, "conversion"> & { linkOpensInPeriod: string | number }>(
    db,
    sql`SELECT i.id::int AS id, i.username, p.n AS "referredInPeriod", i.referred_count AS "referredCount",
               i.is_active AS "isActive", o.opens AS "linkOpensInPeriod"
        FROM (SELECT invited_by_id, count(*)::int AS n FROM users
              WHERE created_at >= ${start}::timestamptz AND created_at < ${endAt}::timestamptz
                AND invited_by_id IS NOT NULL
              GROUP BY invited_by_id ORDER BY n DESC, invited_by_id LIMIT ${TOP_REFERRERS}) p
        JOIN users i ON i.id = p.invited_by_id
        LEFT JOIN LATERAL (
          SELECT COALESCE(sum(opens), 0)::bigint AS opens FROM link_open_counts
          WHERE inviter_id = i.id AND day >= ${period.from} AND day <= ${period.to}
        ) o ON true
        ORDER BY p.n DESC, i.id`,
  );

  const byDay = new Map<string, DayFigures>(
    daysOf(period).map((day) => [
      day,
      {
        day,
        signups: 0,
        referredSignups: 0,
        inviteeBonusCents: 0,
        inviterRewardCents: 0,
        linkOpens: 0,
        conversion: null,
        ...noReferrals(),
      },
    ]),
  );
  for (const row of signupRows) {
    const figures = byDay.get(row.day);
    if (figures) {
      figures.signups = Number(row.signups);
      figures.referredSignups = Number(row.referred);
    }
  }
  for (const row of referralRows) {
    const figures = byDay.get(row.day);
    if (!figures) continue;
    figures.heldReferrals = Number(row.held);
    figures.approvedReferrals = Number(row.approved);
    figures.rejectedReferrals = Number(row.rejected);
    figures.heldCents = Number(row.held_cents);
    figures.approvedCents = Number(row.approved_cents);
    figures.rejectedCents = Number(row.rejected_cents);
  }
  for (const row of openRows) {
    const figures = byDay.get(row.day);
    if (figures) figures.linkOpens = Number(row.opens);
  }
  for (const figures of byDay.values()) {
    figures.conversion = conversionRate(figures.referredSignups, figures.linkOpens);
  }
  let adjustmentsNetCents = 0;
  for (const row of ledgerRows) {
    const figures = byDay.get(row.day);
    const cents = Number(row.cents);
    if (!figures) continue;
    if (row.kind === "invitee_bonus") figures.inviteeBonusCents += cents;
    else if (row.kind === "inviter_reward") figures.inviterRewardCents += cents;
    else if (row.kind === "adjustment") adjustmentsNetCents += cents;
  }
  const days = [...byDay.values()];
  const signups = days.reduce((n, d) => n + d.signups, 0);
  const referredSignups = days.reduce((n, d) => n + d.referredSignups, 0);
  const rewardsPaidCents = days.reduce((n, d) => n + d.inviteeBonusCents + d.inviterRewardCents, 0);
  const usersAtStart = Number(atStart[0]?.n ?? 0);
  const linkOpens = days.reduce((n, d) => n + d.linkOpens, 0);
  const referralTotals = noReferrals();
  for (const d of days) {
    for (const key of Object.keys(referralTotals) as (keyof ReferralFigures)[]) referralTotals[key] += d[key];
  }
  return {
    period,
    days,
    totals: {
      signups,
      referredSignups,
      rewardsPaidCents,
      adjustmentsNetCents,
      usersAtStart,
      linkOpens,
      ...referralTotals,
    },
    referredShare: referredShare(referredSignups, signups),
    conversion: conversionRate(referredSignups, linkOpens),
    kFactor: kFactor(referredSignups, usersAtStart),
    topReferrers: top.map((r) => {
      const referredInPeriod = Number(r.referredInPeriod);
      const linkOpensInPeriod = Number(r.linkOpensInPeriod);
      return {
        ...r,
        id: Number(r.id),
        referredInPeriod,
        linkOpensInPeriod,
        conversion: conversionRate(referredInPeriod, linkOpensInPeriod),
      };
    }),
  };
}

function noReferrals(): ReferralFigures {
  return {
    heldReferrals: 0,
    approvedReferrals: 0,
    rejectedReferrals: 0,
    heldCents: 0,
    approvedCents: 0,
    rejectedCents: 0,
  };
}
