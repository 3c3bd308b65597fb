// The pieces the routes' contracts are written from (Fastify JSON schemas), and what a request that
// fails one is told. Query strings are checked against their schema before the handler runs; JSON
// responses are written through theirs, which send only the fields listed.
import type { FastifyError } from "fastify";
import { badCursor } from "../paging.js";
import { PAGE_LIMIT_MESSAGE } from "./pagination.js";

/** A JSON response object: every field listed and always sent (null, never missing, when empty). */
export function objectSchema(properties: Record<string, object>) {
  return {
    type: "object",
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  } as const;
}

export const stringField = { type: "string" } as const;
export const integerField = { type: "integer" } as const;
export const numberField = { type: "number" } as const;
export const booleanField = { type: "boolean" } as const;
/** A time for programs, as isoTime writes it: "2026-11-25T16:39:02.120Z". */
export const timeField = { type: "string", description: "ISO 8601, UTC" } as const;

export function nullable(field: { type: string }) {
  return { ...field, type: [field.type, "null"] } as const;
}

export function arrayOf(items: object) {
  return { type: "array", items } as const;
}

/** A query string: named parameters, each at most once; parameters not named are ignored. */
export function querySchema(properties: Record<string, object>) {
  return { type: "object", properties } as const;
}

/**
 * A parameter read as Django's forms read it, which never fails the request: text, or the same
 * name given twice (the route then ignores it, as a malformed value).
 */
export const lenientTextField = {
  anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
} as const;

/** A row id in the path, as in /admin/users/42/: anything else is no page at all (404). */
export const idParamsSchema = {
  type: "object",
  properties: { id: { type: "string", pattern: "^[1-9][0-9]{0,14}$" } },
  required: ["id"],
} as const;

export interface IdParams {
  id: string;
}

/** The messages of parameters that have one of their own; any other gets a message naming it. */
const parameterProblems: Record<string, () => { code: string; message: string }> = {
  cursor: () => {
    const { code, message } = badCursor();
    return { code, message };
  },
  before: () => {
    const { code, message } = badCursor();
    return { code, message };
  },
  limit: () => ({ code: "bad_limit", message: PAGE_LIMIT_MESSAGE }),
};

/** What a query string that failed its schema is told: a 400 with a code and a message for people. */
export function queryProblem(error: FastifyError, query: unknown): { code: string; message: string } {
  const failed = error.validation?.[0];
  const name = failed?.instancePath.replace(/^\//, "") ?? "";
  const value = query && typeof query === "object" ? (query as Record<string, unknown>)[name] : undefined;
  if (Array.isArray(value)) return { code: "bad_query", message: "Give each query parameter once." };
  const problem = Object.hasOwn(parameterProblems, name) ? parameterProblems[name] : undefined;
  if (problem) return problem();
  return { code: "bad_query", message: `The query parameter "${name}" is not valid.` };
}
