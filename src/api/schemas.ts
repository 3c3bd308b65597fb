// The API's contract: the JSON schemas its routes are checked and answered with, and from which the
// OpenAPI document is generated (@fastify/swagger). Written in JSON Schema 2020-12, the dialect of
// OpenAPI 3.1; the shared objects are registered once (addSchema) and referenced by name.
import { ADJUSTMENT_MAX_CENTS, ADJUSTMENT_NOTE_MAX_LENGTH, REASON_MAX_LENGTH } from "../admin/adjustments.js";
import { ledgerKinds, ledgerStatuses, referralStatuses } from "../db/schema.js";
import { IDEMPOTENCY_KEY_PATTERN } from "./idempotency.js";

/** Rows per page unless ?limit= says otherwise, and the most it may say. */
export const API_PAGE_SIZE_DEFAULT = 50;
export const API_PAGE_SIZE_MAX = 200;

const integer = { type: "integer" } as const;
const boolean = { type: "boolean" } as const;
const text = { type: "string" } as const;
const time = { type: "string", format: "date-time", description: "ISO 8601, UTC." } as const;

function nullable<T extends { type: string }>(field: T, description?: string) {
  return { ...field, type: [field.type, "null"], ...(description ? { description } : {}) };
}

function described<T extends object>(field: T, description: string): T & { description: string } {
  return { ...field, description };
}

/** Every field listed and always sent (null, never missing, when empty). */
function object(properties: Record<string, object>, description?: string) {
  return {
    type: "object",
    ...(description ? { description } : {}),
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

const ref = (name: string) => ({ $ref: `${name}#` });

const errorSchema = {
  $id: "Error",
  type: "object",
  description:
    "Every error of the API. `error` is a stable code for programs; `message` is for people; `fields` (bad input only) lists what is wrong with each field or header.",
  properties: {
    error: described(
      text,
      "A stable code, such as `unauthorized`, `invalid_request` or `too_many_requests`.",
    ),
    message: described(text, "What went wrong, in words for people."),
    fields: {
      type: "object",
      description: "Bad input only: the messages for each field (or header) at fault.",
      additionalProperties: { type: "array", items: text },
    },
  },
  required: ["error", "message"],
  additionalProperties: false,
};

const userSchema = {
  $id: "User",
  ...object(
    {
      id: described(integer, "The user's id."),
      username: described(text, "As the person signed up (`deleted-ID` once they deleted their account)."),
      balance_cents: described(integer, "Posted credit, in cents: what the user can spend."),
      pending_cents: described(
        integer,
        "Credit held for review, in cents: not in the balance until approved.",
      ),
      referred_count: described(integer, "Approved referrals: people who joined through the user's link."),
      held_count: described(integer, "Referrals through the user's link held for review."),
      rejected_count: described(integer, "Referrals through the user's link that staff rejected."),
      link_opens: described(integer, "Visitors who opened the user's link (once per visitor per day)."),
      referral_link: nullable(
        { type: "string", format: "uri" },
        "The user's referral link, absolute; null for a deleted account.",
      ),
      invited_by_id: nullable(integer, "The id of the user whose link they joined through, or null."),
      is_active: described(
        boolean,
        "False once deactivated (or deleted): no login, and the link pays nobody.",
      ),
      is_staff: described(boolean, "Staff may use the admin console."),
      email: nullable(text, "The verified address or, without one, the address waiting for confirmation."),
      email_verified: described(boolean, "Whether `email` is verified."),
      email_pending: nullable(text, "An address a confirmation link was sent to and not yet confirmed."),
      created_at: described(time, "When they joined (ISO 8601, UTC)."),
      deleted_at: nullable(
        time,
        "When the person deleted their account (the username is then `deleted-ID`).",
      ),
    },
    "A user, with their credit and their referral counts.",
  ),
};

const ledgerEntrySchema = {
  $id: "LedgerEntry",
  ...object(
    {
      id: described(integer, "The entry's id."),
      created_at: time,
      kind: described(
        { type: "string", enum: [...ledgerKinds] },
        "What made it: a welcome bonus, an inviter's reward, an adjustment (by staff or through the API), or a balance carried over from the earlier version.",
      ),
      status: described(
        { type: "string", enum: [...ledgerStatuses] },
        "`posted` is in the balance, `pending` waits for a review, `void` was not approved.",
      ),
      amount_cents: described(integer, "Positive for credit, negative for credit removed."),
      balance_after_cents: described(integer, "The balance just after this entry (posted entries only)."),
      capped_cents: nullable(integer, "For a reward cut by the monthly limit: the part not paid."),
      reason: nullable(text, "An adjustment's reason, as the user reads it."),
      decision_reason: nullable(text, "For a welcome bonus that was not approved: why."),
      signup_username: nullable(text, "For a bonus or a reward: whose sign-up caused it."),
      referral_count: nullable(integer, "For an inviter reward: the referred count that reached it."),
    },
    "One entry of a user's credit history.",
  ),
};

const referralSchema = {
  $id: "Referral",
  ...object(
    {
      user_id: described(integer, "The person who joined."),
      username: described(text, "Who joined."),
      joined_at: time,
      status: { type: "string", enum: [...referralStatuses] },
      reason: nullable(text, "What staff told the user about their decision, or null."),
      capped: described(
        boolean,
        "It completed a five after the inviter reached the monthly limit on rewards.",
      ),
    },
    "Someone who joined through the user's link.",
  ),
};

const adjustmentSchema = {
  $id: "Adjustment",
  ...object(
    {
      ledger_entry_id: described(integer, "The new ledger entry (kind `adjustment`)."),
      user_id: integer,
      amount_cents: described(integer, "Positive: credit added; negative: credit removed."),
      balance_cents: described(integer, "The user's balance after the adjustment."),
      reason: described(text, "As the user reads it (trimmed)."),
      note: nullable(text, "The note for staff, or null."),
    },
    "An adjustment made: its ledger entry and the balance it left.",
  ),
};

const statusChangeSchema = {
  $id: "StatusChange",
  ...object(
    {
      user_id: integer,
      is_active: described(boolean, "The user's state now."),
      changed: described(boolean, "False when the user already was in that state (nothing was written)."),
      sessions_ended: described(integer, "The user's sessions ended by a deactivation."),
    },
    "A user deactivated or reactivated.",
  ),
};

function listSchema(id: string, item: string, description: string) {
  return {
    $id: id,
    ...object(
      {
        data: { type: "array", items: ref(item) },
        next_cursor: nullable(text, "Pass back as `cursor` for the next page; null on the last page."),
      },
      description,
    ),
  };
}

/** The objects the document names (components.schemas), in the order it lists them. */
export const sharedSchemas = [
  userSchema,
  listSchema("UserList", "User", "A page of users, in id order."),
  ledgerEntrySchema,
  listSchema("LedgerEntryList", "LedgerEntry", "A page of a user's credit history, newest first."),
  referralSchema,
  listSchema(
    "ReferralList",
    "Referral",
    "A page of the people who joined through a user's link, newest first.",
  ),
  adjustmentSchema,
  statusChangeSchema,
  errorSchema,
];

const retryAfter = {
  "Retry-After": { type: "integer", description: "Seconds to wait before trying again." },
};
const wwwAuthenticate = {
  "WWW-Authenticate": {
    type: "string",
    description: 'The scheme to use: `Bearer realm="api"` (with the error, if any).',
  },
};

const error = (description: string, headers?: Record<string, object>) => ({
  description,
  ...ref("Error"),
  ...(headers ? { headers } : {}),
});

/** The errors any request with a key can meet. */
const commonErrors = {
  401: error("No key, or a key that is unknown or revoked (`unauthorized`).", wwwAuthenticate),
  429: error("The key's requests per minute are used up (`too_many_requests`).", retryAfter),
  500: error("A fault of the service (`internal_error`)."),
  503: error("The database cannot be reached for a moment (`database_unavailable`).", retryAfter),
};

const userErrors = {
  ...commonErrors,
  404: error("No such user (`not_found`)."),
};

const pageErrors = {
  400: error(
    "A malformed `cursor` (`bad_cursor`) or `limit` (`bad_limit`), or a parameter given twice (`bad_query`).",
  ),
};

const writeErrors = {
  403: error("The key may only read (`insufficient_scope`).", wwwAuthenticate),
};

export const pageQuerystring = {
  type: "object",
  properties: {
    limit: {
      type: "integer",
      minimum: 1,
      maximum: API_PAGE_SIZE_MAX,
      default: API_PAGE_SIZE_DEFAULT,
      description: "Rows per page.",
    },
    cursor: {
      type: "string",
      maxLength: 4096,
      pattern: "^[A-Za-z0-9_-]*$",
      description:
        "The `next_cursor` of the page before; leave out (or empty) for the first page. Opaque: never build one.",
    },
  },
} as const;

export interface PageQuerystring {
  limit: number;
  cursor?: string;
}

export const userParams = {
  type: "object",
  properties: {
    id: { type: "integer", minimum: 1, maximum: 999_999_999_999_999, description: "The user's id." },
  },
  required: ["id"],
} as const;

export interface UserParams {
  id: number;
}

export const adjustmentBody = {
  type: "object",
  properties: {
    amount_cents: {
      type: "integer",
      minimum: -ADJUSTMENT_MAX_CENTS,
      maximum: ADJUSTMENT_MAX_CENTS,
      not: { const: 0 },
      description: `Cents to add (positive) or remove (negative); not zero, at most ${ADJUSTMENT_MAX_CENTS} either way. A removal may not take the balance below zero.`,
    },
    reason: {
      type: "string",
      minLength: 1,
      maxLength: REASON_MAX_LENGTH,
      pattern: "\\S",
      description: "Why, in words the user reads in their credit history.",
    },
    note: {
      type: ["string", "null"],
      maxLength: ADJUSTMENT_NOTE_MAX_LENGTH,
      description: "For staff only: shown in the admin and the audit log, never to the user.",
    },
  },
  required: ["amount_cents", "reason"],
  additionalProperties: false,
} as const;

export interface AdjustmentBody {
  amount_cents: number;
  reason: string;
  note?: string | null;
}

const idempotencyHeaders = {
  type: "object",
  properties: {
    "idempotency-key": {
      type: "string",
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        "A key of your own making (a UUID, say), new for each adjustment and the same for every retry of it: a repeat gets the first answer back and adjusts nothing.",
    },
  },
  required: ["idempotency-key"],
} as const;

const readSecurity = [{ bearerAuth: [] }];
/** OpenAPI 3.1 lets an http scheme's requirement name roles: here, the key's scope. */
const writeSecurity = [{ bearerAuth: ["write"] }];

export const listUsersSchema = {
  operationId: "listUsers",
  summary: "List users",
  description: "Every user, in id order, a page at a time. Users who join while you page appear at the end.",
  tags: ["Users"],
  security: readSecurity,
  querystring: pageQuerystring,
  response: { 200: { description: "A page of users.", ...ref("UserList") }, ...pageErrors, ...commonErrors },
};

export const getUserSchema = {
  operationId: "getUser",
  summary: "Get a user",
  description: "One user: balance, pending credit, referral counts, referral link, status.",
  tags: ["Users"],
  security: readSecurity,
  params: userParams,
  response: { 200: { description: "The user.", ...ref("User") }, ...userErrors },
};

export const listLedgerSchema = {
  operationId: "listLedgerEntries",
  summary: "List a user's credit history",
  description: "The user's ledger, newest first, each entry with the balance it left.",
  tags: ["Credit"],
  security: readSecurity,
  params: userParams,
  querystring: pageQuerystring,
  response: {
    200: { description: "A page of ledger entries.", ...ref("LedgerEntryList") },
    ...pageErrors,
    ...userErrors,
  },
};

export const listReferralsSchema = {
  operationId: "listReferrals",
  summary: "List a user's referrals",
  description:
    "The people who joined through the user's link, newest first, with what became of each referral.",
  tags: ["Users"],
  security: readSecurity,
  params: userParams,
  querystring: pageQuerystring,
  response: {
    200: { description: "A page of referrals.", ...ref("ReferralList") },
    ...pageErrors,
    ...userErrors,
  },
};

export const createAdjustmentSchema = {
  operationId: "createAdjustment",
  summary: "Add or remove credit",
  description:
    "A new ledger entry of kind `adjustment`, written to the audit log under the key's name. Needs a read-write key and an `Idempotency-Key`: a repeat with the same key and body gets the first answer back (with `Idempotent-Replayed: true`) and writes nothing; the same key with another body is `422`.",
  tags: ["Credit"],
  security: writeSecurity,
  params: userParams,
  headers: idempotencyHeaders,
  body: adjustmentBody,
  response: {
    201: {
      description: "The adjustment was made (or, for a repeat, had been made).",
      ...ref("Adjustment"),
      headers: {
        "Idempotent-Replayed": {
          type: "string",
          enum: ["true"],
          description: "Present on a repeat: this is the answer kept from the first request.",
        },
      },
    },
    400: error(
      "Bad input (`invalid_request`, with `fields`): a missing or malformed field or `Idempotency-Key`, or a removal larger than the balance.",
    ),
    ...writeErrors,
    409: error(
      "A rare race with the clean-up of old keys (`idempotency_conflict`): send the same request again.",
    ),
    413: error("A body over the size limit."),
    415: error("A body that is not `application/json`."),
    422: error("This `Idempotency-Key` was used with a different request (`idempotency_key_reused`)."),
    ...userErrors,
  },
};

function statusSchema(active: boolean) {
  return {
    operationId: active ? "reactivateUser" : "deactivateUser",
    summary: active ? "Reactivate a user" : "Deactivate a user",
    description: active
      ? "The user may log in again and their link pays again. Repeating it changes nothing (`changed: false`). A deleted account cannot be reactivated (`400`)."
      : "Ends every session of the user, refuses their logins and stops their link paying; balance and history are kept. Repeating it changes nothing (`changed: false`).",
    tags: ["Account status"],
    security: writeSecurity,
    params: userParams,
    response: {
      200: {
        description: active ? "The user is active." : "The user is deactivated.",
        ...ref("StatusChange"),
      },
      ...(active ? { 400: error("The account was deleted by its owner (`invalid_request`).") } : {}),
      ...writeErrors,
      ...userErrors,
    },
  };
}

export const deactivateSchema = statusSchema(false);
export const reactivateSchema = statusSchema(true);
