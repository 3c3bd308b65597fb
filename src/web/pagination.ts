// Every list on the site is paged the same way: ?cursor=&limit= in, next_cursor out (JSON), and a
// link to the next page (HTML) that keeps the rest of the query.
import { badCursor, PAGE_SIZE_MAX, type PageRequest } from "../paging.js";

/** The page parameters every list's query string takes. */
export interface PageQuery {
  cursor?: string;
  limit?: string;
}

export const PAGE_LIMIT_MESSAGE = `The limit must be a whole number from 1 to ${PAGE_SIZE_MAX}.`;

/**
 * The schema of PageQuery. Both are strings, and empty means none, as before schemas: the limit is
 * 1 to 3 digits worth 1 to 100 (a regular expression, because Ajv's number coercion would also take
 * "1e1", " 5" or "0x10"), and the cursor only needs to be opaque text each list then decodes.
 */
export const pageQueryProperties = {
  cursor: { type: "string", maxLength: 4096, pattern: "^[A-Za-z0-9_-]*$" },
  limit: { type: "string", pattern: "^(0{0,2}[1-9]|0?[1-9][0-9]|100)?$" },
} as const;

/** The query of a list that pages both ways: `before` names the row the page before ends at. */
export interface BothWaysPageQuery extends PageQuery {
  before?: string;
}

export const bothWaysPageQueryProperties = {
  ...pageQueryProperties,
  before: pageQueryProperties.cursor,
} as const;

/** The page such a query asks for; a cursor and a `before` together are a 400 (bad_cursor). */
export function bothWaysPageRequest(query: BothWaysPageQuery, defaultSize: number): PageRequest {
  const page = pageRequest(query, defaultSize);
  const before = query.before ? query.before : null;
  if (before !== null && page.cursor !== null) throw badCursor();
  return { ...page, before };
}

/** The page the query asks for; an empty cursor or limit counts as none. */
export function pageRequest(query: PageQuery, defaultSize: number): PageRequest {
  return {
    cursor: query.cursor ? query.cursor : null,
    size: query.limit ? Number(query.limit) : defaultSize,
  };
}

/** The address of the page before (newer rows), for lists that page both ways. */
export function previousPageUrl(
  path: string,
  previousCursor: string | null | undefined,
  keep: Record<string, string | undefined> = {},
): string | null {
  if (previousCursor === null || previousCursor === undefined) return null;
  return pageUrl(path, "before", previousCursor, keep);
}

/** The address of the next page: the same query (search, order, limit) with the next cursor. */
export function nextPageUrl(
  path: string,
  nextCursor: string | null,
  keep: Record<string, string | undefined> = {},
): string | null {
  if (nextCursor === null) return null;
  return pageUrl(path, "cursor", nextCursor, keep);
}

function pageUrl(
  path: string,
  name: "cursor" | "before",
  value: string,
  keep: Record<string, string | undefined>,
): string {
  const params = new URLSearchParams({ [name]: value });
  for (const [kept, keptValue] of Object.entries(keep)) {
    if (keptValue !== undefined && keptValue !== "") params.set(kept, keptValue);
  }
  return `${path}?${params.toString()}`;
}
