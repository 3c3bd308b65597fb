// Reading a page request from the query string: ?cursor=<opaque id>&limit=<1..100>.
import type { FastifyRequest } from "fastify";
import { BadRequest } from "../errors.js";
import { PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, type PageRequest } from "../referrals/history.js";

function single(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  throw new BadRequest("bad_query", "Give each query parameter once.");
}

export function pageRequest(request: FastifyRequest, defaultSize = PAGE_SIZE_DEFAULT): PageRequest {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const cursor = single(query.cursor);
  const limit = single(query.limit);
  let after: number | null = null;
  if (cursor !== undefined && cursor !== "") {
    if (!/^[1-9][0-9]{0,14}$/.test(cursor)) throw new BadRequest("bad_cursor", "The cursor is not valid.");
    after = Number(cursor);
  }
  let size = defaultSize;
  if (limit !== undefined && limit !== "") {
    if (!/^[0-9]{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > PAGE_SIZE_MAX) {
      throw new BadRequest("bad_limit", `The limit must be a whole number from 1 to ${PAGE_SIZE_MAX}.`);
    }
    size = Number(limit);
  }
  return { after, size };
}

/** The address of the next page, keeping the limit the client asked for. */
export function nextPageUrl(path: string, cursor: number | null, request: FastifyRequest): string | null {
  if (cursor === null) return null;
  const limit = (request.query as Record<string, unknown> | undefined)?.limit;
  const params = new URLSearchParams({ cursor: String(cursor) });
  if (typeof limit === "string" && limit !== "") params.set("limit", limit);
  return `${path}?${params.toString()}`;
}
