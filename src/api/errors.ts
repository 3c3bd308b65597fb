// Errors of /api/v1/, always JSON whatever the Accept header, in the house's shape
// (`{"error": CODE, "message": TEXT}`, docs/api.md) with `fields` added for bad input: one shape for
// every error of the API, field errors included.
import type { ErrorObject } from "ajv";
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { isDatabaseUnavailable, summarizeError } from "../db/errors.js";
import { BadRequest, type FieldErrors, ValidationError } from "../errors.js";

/** An answer other than success, with its headers (WWW-Authenticate, Retry-After). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly fields?: FieldErrors,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const REALM = 'Bearer realm="api"';

export function unauthorized(message: string, invalidToken: boolean): ApiError {
  return new ApiError(401, "unauthorized", message, {
    "www-authenticate": invalidToken ? `${REALM}, error="invalid_token"` : REALM,
  });
}

export function notFound(): ApiError {
  return new ApiError(404, "not_found", "There is no such user.");
}

/** The use cases name the admin form's fields; the API's fields are named for its JSON. */
const apiFieldNames: Record<string, string> = { amount: "amount_cents" };

/** Bad input: 400 with the messages per field; `fromUseCase` renames the use case's field names. */
export function invalidRequest(fields: FieldErrors, fromUseCase = true): ApiError {
  const named: FieldErrors = {};
  for (const [field, messages] of Object.entries(fields)) {
    if (field === "__all__") continue;
    named[(fromUseCase ? apiFieldNames[field] : undefined) ?? field] = messages;
  }
  const entries = Object.entries(named);
  const [only] = entries;
  const message =
    fields.__all__?.[0] ??
    (entries.length === 1 && only ? `${only[0]}: ${only[1][0]}` : "Some fields are not valid.");
  return new ApiError(400, "invalid_request", message, {}, Object.keys(named).length ? named : undefined);
}

const typeWords: Record<string, string> = {
  integer: "a whole number",
  string: "text",
  null: "null",
  boolean: "true or false",
  object: "an object",
};

/** What one schema failure says, in the words of the house's field errors. */
function messageOf(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return "This field is required.";
    case "additionalProperties":
      return "This field is not accepted here.";
    case "type": {
      const words = String(p.type)
        .split(",")
        .map((type) => typeWords[type] ?? type);
      return `Enter ${words.join(", or ")}.`;
    }
    case "minimum":
      return `Ensure this value is greater than or equal to ${String(p.limit)}.`;
    case "maximum":
      return `Ensure this value is less than or equal to ${String(p.limit)}.`;
    case "not":
      return "This value is not allowed here.";
    case "minLength":
      return "This field is required.";
    case "maxLength": {
      const length = typeof error.data === "string" ? [...error.data].length : undefined;
      return `Ensure this value has at most ${String(p.limit)} characters${length === undefined ? "" : ` (it has ${length})`}.`;
    }
    default:
      return error.message ? `${error.message[0]?.toUpperCase()}${error.message.slice(1)}.` : "Not valid.";
  }
}

/** The field a schema failure is about: the property missing, unexpected, or at fault. */
function fieldOf(error: ErrorObject, context: string): string {
  const p = error.params as Record<string, unknown>;
  const name =
    error.keyword === "required"
      ? String(p.missingProperty)
      : error.keyword === "additionalProperties"
        ? String(p.additionalProperty)
        : error.instancePath.replace(/^\//, "").split("/")[0] || "__all__";
  // Header names are case-insensitive; the documentation writes them capitalised.
  return context === "headers"
    ? name.replace(/(^|-)([a-z])/g, (_, dash, ch) => `${dash}${ch.toUpperCase()}`)
    : name;
}

/** Specific words for a field whose schema alone says too little. */
const fieldMessages: Record<string, Partial<Record<string, string>>> = {
  amount_cents: {
    not: "The amount must not be zero: give a positive amount to add credit, a negative one to remove it.",
  },
  reason: { pattern: "This field is required." },
  "Idempotency-Key": {
    required: "This header is required: send a key of your own making, such as a UUID, with each adjustment.",
    pattern: "Use 1 to 255 printable ASCII characters.",
  },
};

export function schemaFieldErrors(errors: readonly ErrorObject[], context: string): FieldErrors {
  const fields: FieldErrors = {};
  for (const error of errors) {
    const field = fieldOf(error, context);
    const message = fieldMessages[field]?.[error.keyword] ?? messageOf(error);
    const list = fields[field] ?? [];
    if (!list.includes(message)) list.push(message);
    fields[field] = list;
  }
  return fields;
}

const limitMessage = (max: number) => `The limit must be a whole number from 1 to ${max}.`;

export function registerApiErrors(api: FastifyInstance, options: { pageSizeMax: number }): void {
  function send(reply: FastifyReply, error: ApiError): FastifyReply {
    reply.headers(error.headers);
    const body: Record<string, unknown> = { error: error.code, message: error.message };
    if (error.fields) body.fields = error.fields;
    return reply.code(error.statusCode).send(body);
  }

  api.setErrorHandler(async (raw: FastifyError, request, reply) => {
    const error: unknown = raw;
    if (error instanceof ApiError) return send(reply, error);
    if (error instanceof ValidationError) return send(reply, invalidRequest(error.fields));
    if (error instanceof BadRequest) return send(reply, new ApiError(400, error.code, error.message));
    if (raw.validation) {
      const context = raw.validationContext ?? "body";
      // A malformed id names no user, as in the admin.
      if (context === "params") return send(reply, notFound());
      const errors = raw.validation as unknown as ErrorObject[];
      if (context === "querystring") {
        const name = errors[0]?.instancePath.replace(/^\//, "") ?? "";
        const value = (request.query as Record<string, unknown> | undefined)?.[name];
        if (Array.isArray(value))
          return send(reply, new ApiError(400, "bad_query", "Give each query parameter once."));
        if (name === "limit")
          return send(reply, new ApiError(400, "bad_limit", limitMessage(options.pageSizeMax)));
        if (name === "cursor")
          return send(reply, new ApiError(400, "bad_cursor", "The cursor is not valid."));
        return send(reply, new ApiError(400, "bad_query", `The query parameter "${name}" is not valid.`));
      }
      return send(reply, invalidRequest(schemaFieldErrors(errors, context), false));
    }
    const status = raw.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = (raw.code ?? "bad_request").toLowerCase().replace(/^fst_err_/, "");
      const message =
        status === 413
          ? "The request body is too large."
          : status === 415
            ? "Send the body as application/json."
            : raw.message;
      return send(reply, new ApiError(status, code, message));
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: summarizeError(error) }, "database unavailable");
      return send(
        reply,
        new ApiError(
          503,
          "database_unavailable",
          "The service is briefly unavailable. Please try again in a few seconds.",
          {
            "retry-after": "5",
          },
        ),
      );
    }
    // Never the raw error: a failed query's message lists its parameters.
    request.log.error({ err: summarizeError(error) }, "request failed");
    return send(
      reply,
      new ApiError(500, "internal_error", "Something went wrong on our side. Please try again."),
    );
  });

  api.setNotFoundHandler((_request, reply) =>
    send(reply, new ApiError(404, "not_found", "There is nothing at this address.")),
  );
}
