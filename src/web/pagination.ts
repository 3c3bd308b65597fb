// Every list on the site is paged the same way: ?cursor=&limit= in, next_cursor out (JSON), and a
// link to the next page (HTML) that keeps the rest of the query.
import { BadRequest } from "../errors.js";
import { PAGE_SIZE_MAX, type PageRequest } from "../paging.js";

/** The page parameters every list's query string takes. */
export interface PageQuery {
  cursor?: string;
  limit?: string;
}

function single(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  throw new BadRequest("bad_query", "Give each query parameter once.");
}

/** The page the query asks for; an empty cursor or limit counts as none. */
export function pageRequest(query: PageQuery, defaultSize: number): PageRequest {
  const cursor = single(query.cursor);
  const limit = single(query.limit);
  let size = defaultSize;
  if (limit !== undefined && limit !== "") {
    if (!/^[0-9]{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > PAGE_SIZE_MAX) {
      throw new BadRequest("bad_limit", `The limit must be a whole number from 1 to ${PAGE_SIZE_MAX}.`);
    }
    size = Number(limit);
  }
  return { cursor: cursor === undefined || cursor === "" ? null : cursor, size };
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
