// Every list on the site is paged the same way: ?cursor=&limit= in, next_cursor out (JSON), and a
// link to the next page (HTML) that keeps the rest of the query.
import { PAGE_SIZE_MAX, type PageRequest } from "../paging.js";

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

/** The page the query asks for; an empty cursor or limit counts as none. */
export function pageRequest(query: PageQuery, defaultSize: number): PageRequest {
  return {
    cursor: query.cursor ? query.cursor : null,
    size: query.limit ? Number(query.limit) : defaultSize,
  };
}

/** The address of the next page: the same query (search, order, limit) with the next cursor. */
export function nextPageUrl(
  path: string,
  nextCursor: string | null,
  keep: Record<string, string | undefined> = {},
): string | null {
  if (nextCursor === null) return null;
  const params = new URLSearchParams({ cursor: nextCursor });
  for (const [name, value] of Object.entries(keep)) {
    if (value !== undefined && value !== "") params.set(name, value);
  }
  return `${path}?${params.toString()}`;
}
