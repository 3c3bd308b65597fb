// Every list is read in pages the same way: a page request (a cursor and a size) in, a Page out. A
// cursor is an opaque string naming where the previous page ended; each list decides what it holds,
// and the next page starts right after that row (keyset pagination: no OFFSET, no skipped or
// repeated rows when rows are added meanwhile).
import { BadRequest } from "./errors.js";

/** The most rows one page may ask for. */
export const PAGE_SIZE_MAX = 100;

export interface PageRequest {
  /** The previous page's nextCursor; null for the first page. */
  cursor: string | null;
  size: number;
}

export interface Page<T> {
  items: T[];
  /** Pass back as the cursor of the next page; null on the last page. */
  nextCursor: string | null;
}

/** A page from rows read with LIMIT size + 1: the extra row only says that another page follows. */
export function pageOf<T>(rows: T[], size: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, size);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > size && last !== undefined ? cursorOf(last) : null };
}

export function badCursor(): BadRequest {
  return new BadRequest("bad_cursor", "The cursor is not valid.");
}

const idPattern = /^[1-9][0-9]{0,14}$/;

/**
 * The cursor of a list ordered by (created_at, id) whose rows never move: the last row's id, from
 * which the query reads that row's position.
 */
export function idCursor(id: number): string {
  return String(id);
}

/** The row id in an idCursor, or null for the first page; anything else is a 400. */
export function afterId(cursor: string | null): number | null {
  if (cursor === null) return null;
  if (!idPattern.test(cursor)) throw badCursor();
  return Number(cursor);
}
