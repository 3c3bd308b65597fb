// The picture a pasted referral link previews with: a 1200×630 PNG saying "alice invited you" and
// "Get $10 when you join". Built as an SVG here (every value escaped), drawn by resvg with the Inter
// font shipped in data-files/ (never the machine's fonts, so the picture is the same everywhere).
//
// Drawing takes about 10 ms of CPU, so the PNGs are kept in a small LRU keyed by what they show (the
// name and the reward), one drawing runs at a time (on libuv's thread pool, off the event loop), and
// the same picture asked for by several requests at once is drawn once. The ETag is a digest of the
// SVG and the fonts: a conditional request is answered 304 without drawing anything.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderAsync } from "@resvg/resvg-js";
import { type FontMetrics, readFontMetrics } from "./font-metrics.js";
import { escapeHtml } from "./html.js";
import { inviteWords, PROGRAMME_NAME } from "./views/share.js";

export const CARD_WIDTH = 1200;
export const CARD_HEIGHT = 630;

/** data-files/ is two levels above this module both in src/web (tsx) and in dist/web (the build). */
const dataFiles = new URL("../../data-files/", import.meta.url);
const fontFiles = {
  regular: fileURLToPath(new URL("Inter-Regular.ttf", dataFiles)),
  bold: fileURLToPath(new URL("Inter-Bold.ttf", dataFiles)),
};

interface CardFonts {
  /** The headline and the offer are bold: they are measured to fit. */
  bold: FontMetrics;
  /** Part of every ETag: new font files make new pictures. */
  digest: string;
}

let fonts: CardFonts | undefined;

/** The fonts' metrics, read once, at the first card. */
function cardFonts(): CardFonts {
  if (!fonts) {
    const regular = readFileSync(fontFiles.regular);
    const bold = readFileSync(fontFiles.bold);
    fonts = {
      bold: readFontMetrics(bold),
      digest: createHash("sha256").update(regular).update(bold).digest("hex"),
    };
  }
  return fonts;
}

/** What a card shows. `inviter` null: the programme's own card, for a link that is not (or no longer) valid. */
export interface ShareCard {
  inviter: string | null;
  inviteeRewardCents: number;
}

// Characters XML 1.0 forbids (C0 controls but tab and newlines, lone surrogates, U+FFFE/U+FFFF):
// resvg would refuse the whole document. Usernames never hold them; the card's text is cleaned anyway.
function allowedInXml(codePoint: number): boolean {
  if (codePoint < 0x20) return codePoint === 0x09 || codePoint === 0x0a || codePoint === 0x0d;
  return !(codePoint >= 0xd800 && codePoint <= 0xdfff) && codePoint !== 0xfffe && codePoint !== 0xffff;
}

/** Text as SVG character data or an attribute value: XML-escaped, forbidden characters dropped. */
export function svgText(value: string): string {
  let kept = "";
  // for…of walks code points: a lone surrogate comes out alone, and is dropped.
  for (const ch of value) if (allowedInXml(ch.codePointAt(0) as number)) kept += ch;
  return escapeHtml(kept);
}

const MARGIN = 80;
const TEXT_WIDTH = CARD_WIDTH - 2 * MARGIN;
const HEADLINE_SIZES = [96, 88, 80, 72, 64, 56];
const SMALLEST = HEADLINE_SIZES[HEADLINE_SIZES.length - 1] as number;
/** Where the headline and the offer go: under the brand, above the bottom margin. */
const BLOCK_TOP = 150;
const BLOCK_BOTTOM = CARD_HEIGHT - 50;
const PILL_GAP = 56;
const PILL_HEIGHT = 84;

/** The largest headline size at which the text fits the card's width, or null. */
function fittingSize(text: string, font: FontMetrics): number | null {
  return HEADLINE_SIZES.find((size) => font.width(text, size) <= TEXT_WIDTH) ?? null;
}

/** The name cut to the width at the smallest size, with an ellipsis. */
function truncated(name: string, font: FontMetrics): string {
  const chars = [...name];
  while (chars.length > 1 && font.width(`${chars.join("")}…`, SMALLEST) > TEXT_WIDTH) chars.pop();
  return `${chars.join("")}…`;
}

/**
 * The headline's lines and size: "alice invited you" on one line when it fits, else the name on a
 * line of its own (cut with "…" if even that is too wide) above "invited you". A name the font has
 * no glyph for (Chinese, Arabic, …) would show as boxes: the card then says "A friend invited you".
 */
function headlineLines(inviter: string | null, rewardCents: number, bold: FontMetrics) {
  const name = inviter !== null && bold.covers(inviter) ? inviter : inviter !== null ? "A friend" : null;
  const headline = inviteWords(name, rewardCents).headline;
  const oneLine = fittingSize(headline, bold);
  if (name === null || oneLine !== null) return { lines: [headline], size: oneLine ?? SMALLEST };
  const size = fittingSize(name, bold);
  return size !== null
    ? { lines: [name, "invited you"], size }
    : { lines: [truncated(name, bold), "invited you"], size: SMALLEST };
}

/** The card as an SVG document. Every piece of text in it passes through svgText. */
export function shareCardSvg(card: ShareCard): string {
  const { bold } = cardFonts();
  const { lines, size } = headlineLines(card.inviter, card.inviteeRewardCents, bold);
  const offer = inviteWords(null, card.inviteeRewardCents).offer;

  // The headline and the offer's pill under it, as one block centred in the space under the brand.
  const lineHeight = Math.round(size * 1.15);
  const blockHeight = Math.round(size * 0.75) + (lines.length - 1) * lineHeight + PILL_GAP + PILL_HEIGHT;
  const firstBaseline = Math.round(BLOCK_TOP + (BLOCK_BOTTOM - BLOCK_TOP - blockHeight) / 2 + size * 0.75);
  const headline = lines
    .map(
      (line, i) =>
        `<text x="${MARGIN}" y="${firstBaseline + i * lineHeight}" font-family="Inter" font-weight="700" font-size="${size}" fill="#ffffff">${svgText(line)}</text>`,
    )
    .join("\n  ");
  const offerSize = 44;
  const pillTop = firstBaseline + (lines.length - 1) * lineHeight + PILL_GAP;
  const pillWidth = Math.ceil(bold.width(offer, offerSize)) + 2 * 36;
  const brandSize = 34;

  // Flat colours only: a gradient made each PNG five times larger (about 180 KB against 35 KB).
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${CARD_WIDTH}" height="${CARD_HEIGHT}" viewBox="0 0 ${CARD_WIDTH} ${CARD_HEIGHT}">
  <rect width="${CARD_WIDTH}" height="${CARD_HEIGHT}" fill="#0b5ed7"/>
  <circle cx="1090" cy="90" r="230" fill="#ffffff" fill-opacity="0.07"/>
  <circle cx="1160" cy="600" r="170" fill="#ffffff" fill-opacity="0.06"/>
  <rect x="${MARGIN}" y="76" width="64" height="64" rx="14" fill="#ffffff"/>
  <text x="${MARGIN + 32}" y="124" text-anchor="middle" font-family="Inter" font-weight="700" font-size="40" fill="#0d6efd">$</text>
  <text x="${MARGIN + 88}" y="120" font-family="Inter" font-size="${brandSize}" fill="#ffffff">${svgText(PROGRAMME_NAME)}</text>
  ${headline}
  <rect x="${MARGIN}" y="${pillTop}" width="${pillWidth}" height="${PILL_HEIGHT}" rx="${PILL_HEIGHT / 2}" fill="#ffffff"/>
  <text x="${MARGIN + 36}" y="${pillTop + 57}" font-family="Inter" font-weight="700" font-size="${offerSize}" fill="#0b4fc4">${svgText(offer)}</text>
</svg>`;
}

const renderOptions = {
  font: {
    loadSystemFonts: false,
    fontFiles: [fontFiles.regular, fontFiles.bold],
    defaultFontFamily: "Inter",
  },
  fitTo: { mode: "original" as const },
  logLevel: "off" as const,
};

/**
 * The SVG drawn as a PNG by resvg: drawn on libuv's thread pool, then encoded by resvg's own PNG
 * encoder (on this thread, a few milliseconds: the cache and the budget below bound how often).
 */
export async function renderPng(svg: string): Promise<Buffer> {
  const image = await renderAsync(svg, renderOptions);
  return image.asPng();
}

export interface RenderedCard {
  png: Buffer;
  etag: string;
}

export interface ShareCards {
  /** The card's SVG and ETag, without drawing it. */
  describe(card: ShareCard): { svg: string; etag: string };
  /**
   * The PNG: from the LRU, or drawn (one drawing at a time, each picture once). Null when a named
   * card would have to be drawn beyond the budget of drawings a second; the programme's own card
   * (no inviter) is kept apart, never evicted and always given.
   */
  png(card: ShareCard): Promise<RenderedCard | null>;
  /** How many PNGs are kept now (the programme's own cards apart), and how many were drawn since start. */
  readonly size: number;
  readonly drawn: number;
}

export interface ShareCardOptions {
  /** Named cards kept, the least recently used evicted first. */
  maxEntries?: number;
  /** Named cards drawn a second at most (a token bucket holding as many). */
  drawingsPerSecond?: number;
  /** Milliseconds, for the budget (tests move it). */
  now?: () => number;
}

/**
 * The drawn cards. Rendering costs about 11 ms of CPU (3 of them on the event loop, the rest on
 * libuv's thread pool): the LRU means each name is drawn once while it is asked for, the queue that
 * one drawing runs at a time, and the budget (5 a second by default) that a flood of names, each
 * an account of its own, holds at most a fifth of a core and 6% of the event loop.
 */
export function createShareCards(options: ShareCardOptions = {}): ShareCards {
  const { maxEntries = 200, drawingsPerSecond = 5, now = Date.now } = options;
  const kept = new Map<string, RenderedCard>();
  const programmeCards = new Map<string, RenderedCard>();
  const drawing = new Map<string, Promise<RenderedCard>>();
  let queue: Promise<unknown> = Promise.resolve();
  let drawn = 0;
  let tokens = drawingsPerSecond;
  let refilledAt = now();

  const keyOf = (card: ShareCard) => JSON.stringify([card.inviter, card.inviteeRewardCents]);
  const describe = (card: ShareCard) => {
    const svg = shareCardSvg(card);
    const digest = createHash("sha256").update(cardFonts().digest).update(svg).digest("base64url");
    return { svg, etag: `"${digest.slice(0, 27)}"` };
  };

  /** One drawing at a time: a flood of different names queues here instead of taking every core. */
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => {});
    return run;
  };

  const withinBudget = () => {
    const at = now();
    tokens = Math.min(drawingsPerSecond, tokens + ((at - refilledAt) / 1000) * drawingsPerSecond);
    refilledAt = at;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  return {
    describe,
    async png(card) {
      const key = keyOf(card);
      const named = card.inviter !== null;
      const cache = named ? kept : programmeCards;
      const hit = cache.get(key);
      if (hit) {
        // A Map keeps insertion order: taking the entry out and back in makes it the most recent.
        cache.delete(key);
        cache.set(key, hit);
        return hit;
      }
      let pending = drawing.get(key);
      if (!pending) {
        if (named && !withinBudget()) return null;
        pending = serially(async () => {
          const { svg, etag } = describe(card);
          const rendered = { png: await renderPng(svg), etag };
          drawn++;
          cache.set(key, rendered);
          while (kept.size > maxEntries) kept.delete(kept.keys().next().value as string);
          return rendered;
        }).finally(() => drawing.delete(key));
        drawing.set(key, pending);
      }
      return pending;
    },
    get size() {
      return kept.size;
    },
    get drawn() {
      return drawn;
    },
  };
}
