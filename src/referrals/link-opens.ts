// Opens of referral links: each visitor counted once per link per UTC day, cheaply. A first-party
// cookie remembers which links this browser opened today (short digests of their tokens, and the
// day), so a repeat open costs nothing; a new open is counted in memory per (inviter, day) and
// written by `flush` in one statement every few seconds and when the app closes. Nothing about the
// visitor is stored: no address, no cookie value, only the counts.
import { hash } from "node:crypto";
import { isoDay } from "../format.js";

/** The cookie: `YYYY-MM-DD.d1.d2…`, the UTC day and one digest per link opened that day. */
export const LINK_OPENS_COOKIE = "linkopens";
/** Links remembered per browser per day; past this the oldest is forgotten (and may count again). */
export const MAX_REMEMBERED_LINKS = 20;
/** How often the counts reach the database: opens may lag this long, and a crash loses at most this much. */
export const LINK_OPENS_FLUSH_MS = 5_000;

const DIGEST_CHARS = 8;
const DAY_MS = 86_400_000;
const dayPattern = /^\d{4}-\d{2}-\d{2}$/;
const digestPattern = /^[A-Za-z0-9_-]{8}$/;

/** Digests of the tokens opened lately: a link opened again costs a lookup, not a hash. */
const digestCache = new Map<string, string>();
const DIGEST_CACHE_SIZE = 10_000;

/** 48 bits of the token's SHA-256: enough to tell a browser's few links apart, useless to guess one. */
export function linkDigest(token: string): string {
  let digest = digestCache.get(token);
  if (digest === undefined) {
    if (digestCache.size >= DIGEST_CACHE_SIZE) digestCache.clear();
    digest = hash("sha256", token, "base64url").slice(0, DIGEST_CHARS);
    digestCache.set(token, digest);
  }
  return digest;
}

/** The UTC day of the last moment asked about, and when it ends: one Date per day, not per open. */
let currentDay = { day: "", start: 0, end: 0 };

/** YYYY-MM-DD, the UTC day of `now`. */
export function utcDayOf(now: number): string {
  if (now < currentDay.start || now >= currentDay.end) {
    const start = now - (((now % DAY_MS) + DAY_MS) % DAY_MS);
    currentDay = { day: isoDay(new Date(start)), start, end: start + DAY_MS };
  }
  return currentDay.day;
}

/** The links the cookie says were opened on `day`; a cookie from another day, or malformed, says none. */
export function openedToday(cookie: string | undefined, day: string): string[] {
  if (cookie === undefined || cookie.length > 16 + MAX_REMEMBERED_LINKS * (DIGEST_CHARS + 1)) return [];
  const [cookieDay, ...digests] = cookie.split(".");
  if (cookieDay !== day || !dayPattern.test(cookieDay)) return [];
  return digests.filter((d) => digestPattern.test(d)).slice(-MAX_REMEMBERED_LINKS);
}

export function linkOpensCookieValue(day: string, digests: readonly string[]): string {
  return [day, ...digests.slice(-MAX_REMEMBERED_LINKS)].join(".");
}

/** Seconds from `now` to the end of its UTC day (at least 1): the cookie lives no longer than its day. */
export function secondsLeftInDay(now: number): number {
  return Math.max(1, Math.ceil((DAY_MS - (now % DAY_MS)) / 1000));
}

/** One inviter's opens on one day, as the flush writes them. */
export interface LinkOpenCount {
  inviterId: number;
  day: string;
  opens: number;
}

/**
 * Opens counted in memory until the next flush. Flushes run one at a time; a flush that fails puts
 * its counts back for the next one, so a database outage delays the counts without losing them
 * (until the process ends).
 */
export class LinkOpenCounter {
  private pending = new Map<string, LinkOpenCount>();
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly write: (counts: LinkOpenCount[]) => Promise<void>) {}

  count(inviterId: number, day: string): void {
    const key = `${inviterId}:${day}`;
    const entry = this.pending.get(key);
    if (entry) entry.opens++;
    else this.pending.set(key, { inviterId, day, opens: 1 });
  }

  /** Opens counted and not yet written. */
  get pendingOpens(): number {
    let n = 0;
    for (const entry of this.pending.values()) n += entry.opens;
    return n;
  }

  /** Writes every open counted so far (after any flush under way); nothing to write costs nothing. */
  flush(): Promise<void> {
    const next = this.running.then(() => this.flushOnce());
    this.running = next.catch(() => {});
    return next;
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.write([...batch.values()].sort((a, b) => a.inviterId - b.inviterId));
    } catch (error) {
      for (const [key, entry] of batch) {
        const later = this.pending.get(key);
        if (later) later.opens += entry.opens;
        else this.pending.set(key, entry);
      }
      throw error;
    }
  }
}

/** Whose link was opened, by whom, from what browser, when. */
export interface LinkOpen {
  token: string;
  /** The active user who owns the token. */
  inviterId: number;
  /** The logged-in user opening it, or null. */
  viewerId: number | null;
  /** The browser's link-opens cookie, if it sent one. */
  cookie: string | undefined;
  /** The request looks like a person's browser (or the app's own client), not a link-preview bot. */
  visitor: boolean;
  now: number;
}

export interface LinkOpenOutcome {
  counted: boolean;
  /** The cookie to set when the open was counted, with how long it lives; null: leave it as it is. */
  cookie: { value: string; maxAgeSeconds: number } | null;
}

/**
 * Counts an open of a valid link, unless this browser opened the same link earlier the same UTC
 * day, the inviter is opening their own link, or the request does not look like a visitor.
 */
export function recordLinkOpen(counter: LinkOpenCounter, open: LinkOpen): LinkOpenOutcome {
  if (!open.visitor || open.viewerId === open.inviterId) return { counted: false, cookie: null };
  const day = utcDayOf(open.now);
  const opened = openedToday(open.cookie, day);
  const digest = linkDigest(open.token);
  if (opened.includes(digest)) return { counted: false, cookie: null };
  counter.count(open.inviterId, day);
  return {
    counted: true,
    cookie: {
      value: linkOpensCookieValue(day, [...opened, digest]),
      maxAgeSeconds: secondsLeftInDay(open.now),
    },
  };
}

/**
 * Link-preview fetchers and crawlers name themselves: Slackbot, Twitterbot, facebookexternalhit (also
 * Apple's iMessage previews), WhatsApp, TelegramBot, Discordbot, LinkedInBot, SkypeUriPreview, …
 */
const botAgent = /bot|crawl|spider|slurp|preview|facebookexternalhit|whatsapp|embedly|vkshare|pinterest/i;

/**
 * Whether a request may be a person: in HTML mode, a browser navigating (an Accept that takes
 * text/html, or Sec-Fetch-Mode: navigate); in JSON mode, the app's own client. Either way, not a
 * user agent that calls itself a bot or a preview. Such fetchers send no cookies, so each of their
 * requests would otherwise count as a new visitor.
 */
export function looksLikeVisitor(
  headers: {
    accept?: string | undefined;
    "sec-fetch-mode"?: string | string[] | undefined;
    "user-agent"?: string | undefined;
  },
  json: boolean,
): boolean {
  const agent = headers["user-agent"];
  if (typeof agent === "string" && botAgent.test(agent)) return false;
  if (json) return true;
  const accept = headers.accept;
  return (
    headers["sec-fetch-mode"] === "navigate" ||
    (typeof accept === "string" && accept.toLowerCase().includes("text/html"))
  );
}
