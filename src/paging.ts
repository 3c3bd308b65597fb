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
  /**
   * Lists that page both ways: the page of rows just before this cursor's row in the list's order
   * (newer ones), instead of after `cursor`. Never given together with `cursor`.
   */
  before?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Pass back as the cursor of the next page; null on the last page. */
  nextCursor: string | null;
  /** Lists that page both ways: pass back as `before` for the page before this one; null on the first. */
  previousCursor?: string | null;
}

/** A page from rows read with LIMIT size + 1: the extra row only says that another page follows. */
export function pageOf<T>(rows: T[], size: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, size);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > size && last !== undefined ? cursorOf(last) : null };
}

/**
 * A page of a list that pages both ways. Going on (after `cursor`, or from the start), `rows` are in
 * the list's order; going back (`before`), they are in the opposite order, the nearest first, read
 * with LIMIT size + 1 as well: the extra row then says that a page before this one exists.
 */
export function pageBothWays<T>(rows: T[], request: PageRequest, cursorOf: (row: T) => string): Page<T> {
  if (request.before) {
    const items = rows.slice(0, request.size).reverse();
    const first = items[0];
    const last = items.at(-1);
    return {
      items,
      // The row the request named comes after this page.
      nextCursor: last === undefined ? null : cursorOf(last),
      previousCursor: rows.length > request.size && first !== undefined ? cursorOf(first) : null,
    };
  }
  const page = pageOf(rows, request.size, cursorOf);
  const first = page.items[0];
  // After a cursor, that cursor's row (at least) comes before this page.
  return { ...page, previousCursor: request.cursor !== null && first !== undefined ? cursorOf(first) : null };
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
