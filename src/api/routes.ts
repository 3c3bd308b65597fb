// /api/v1/: the JSON API for programs holding an API key (src/api/keys.ts), in a scope of its own
// outside the pages' (no session, no CSRF, no csrftoken cookie), and its reference at /api/docs.
// Each route hands a use case typed values, as the pages' routes do; the schemas in schemas.ts are
// both what requests are checked against and what the OpenAPI document is generated from.
import fastifySwagger from "@fastify/swagger";
import type { ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import type {
  FastifyInstance,
  FastifyRequest,
  FastifySchemaCompiler,
  FastifySchemaValidationError,
} from "fastify";
import { type AdjustmentForm, adjustBalanceInTransaction, UserNotFound } from "../admin/adjustments.js";
import type { ApiKeyActor } from "../admin/audit.js";
import { setUserActive } from "../admin/user-status.js";
import { compiledOnce } from "../compiled-once.js";
import { isoTime } from "../format.js";
import { creditHistory, referralsOf } from "../referrals/history.js";
import type { RouteDeps } from "../web/app-deps.js";
import { parseJsonBody } from "../web/body-parsers.js";
import { referralLink, siteOrigin } from "../web/respond.js";
import { type ApiCaller, callerOf, registerApiAuth } from "./auth.js";
import { apiDocsRoutes, type OpenApiDocument } from "./docs-page.js";
import { notFound, registerApiErrors } from "./errors.js";
import { requestFingerprint, runIdempotent } from "./idempotency.js";
import { openapiOptions } from "./openapi.js";
import {
  type AdjustmentBody,
  API_PAGE_SIZE_MAX,
  createAdjustmentSchema,
  deactivateSchema,
  getUserSchema,
  listLedgerSchema,
  listReferralsSchema,
  listUsersSchema,
  type PageQuerystring,
  reactivateSchema,
  sharedSchemas,
  type UserParams,
} from "./schemas.js";
import { type ApiUserRow, apiUser, listApiUsers, userExists } from "./users.js";

/** A whole number as a query string or path writes it: digits, no sign, no leading zero. */
const wholeNumber = /^[1-9][0-9]{0,14}$/;

const ajvOptions = { allErrors: true, verbose: true, allowUnionTypes: true, useDefaults: true };
const bodies = {
  ajv: new Ajv2020({ ...ajvOptions, coerceTypes: false }),
  compiled: new Map<string, ValidateFunction>(),
};
const parameters = {
  ajv: new Ajv2020({ ...ajvOptions, coerceTypes: true }),
  compiled: new Map<string, ValidateFunction>(),
};

/** A schema's validator from one of the two process-wide Ajv instances, compiled once per process. */
function validatorOf(validators: typeof bodies, schema: object): ValidateFunction {
  return compiledOnce(validators.compiled, JSON.stringify(schema), () => validators.ajv.compile(schema));
}

/**
 * Bodies are checked strictly (a string is never taken for a number, an unknown field is refused),
 * as befits requests that move money. The query string, path and headers are text, read as the
 * schema's types say (limit=20 is the integer 20), but a number must be written as one: Ajv's
 * coercion alone would also take "1e1", " 5" or "0x10". An empty parameter counts as none.
 */
function validatorCompiler() {
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => {
    if (httpPart === "body") return validatorOf(bodies, schema);
    const validate = validatorOf(parameters, schema);
    const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
    const numbers = Object.keys(properties).filter((name) => properties[name]?.type === "integer");
    const check: ReturnType<FastifySchemaCompiler<object>> = (data: Record<string, unknown>) => {
      for (const name of numbers) {
        const raw = data[name];
        if (raw === "") delete data[name];
        else if (typeof raw === "string" && !wholeNumber.test(raw)) {
          check.errors = [
            { keyword: "type", instancePath: `/${name}`, schemaPath: "", params: { type: "integer" } },
          ];
          return false;
        }
      }
      const valid = validate(data);
      check.errors = validate.errors as FastifySchemaValidationError[] | null;
      return valid;
    };
    return check;
  };
}

function actorOf(caller: ApiCaller): ApiKeyActor {
  return { apiKeyId: caller.id, keyName: caller.name };
}

function pageOf(query: PageQuerystring) {
  return { cursor: query.cursor ? query.cursor : null, size: query.limit };
}

function userJson(u: ApiUserRow, origin: string) {
  return {
    id: u.id,
    username: u.username,
    balance_cents: u.balanceCents,
    pending_cents: u.pendingCents,
    referred_count: u.referredCount,
    held_count: u.heldCount,
    rejected_count: u.rejectedCount,
    link_opens: u.linkOpens,
    // A deleted account's token was replaced by one nobody holds: it has no link to give.
    referral_link: u.deletedAt === null ? referralLink(origin, u.referralToken) : null,
    invited_by_id: u.invitedById,
    is_active: u.isActive,
    is_staff: u.isStaff,
    email: u.email ?? u.pendingEmail,
    email_verified: u.email !== null,
    email_pending: u.pendingEmail,
    created_at: isoTime(u.createdAt),
    deleted_at: u.deletedAt === null ? null : isoTime(u.deletedAt),
  };
}

export async function apiRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { db, config } = deps;
  let document: (() => OpenApiDocument) | undefined;

  await app.register(
    async (api) => {
      await api.register(fastifySwagger, openapiOptions(config));
      for (const schema of sharedSchemas) api.addSchema(schema);
      api.setValidatorCompiler(validatorCompiler());
      // JSON only: a form body would be all strings.
      api.removeAllContentTypeParsers();
      api.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
        try {
          done(null, parseJsonBody(body as Buffer));
        } catch (error) {
          done(error as Error, undefined);
        }
      });
      registerApiErrors(api, { pageSizeMax: API_PAGE_SIZE_MAX });
      registerApiAuth(api, deps);
      // Users' data and balances: never kept by a cache on the way.
      api.addHook("onSend", async (request, reply) => {
        if (request.routeOptions.config?.apiAccess !== "public") reply.header("cache-control", "no-store");
      });
      document = () => api.swagger() as unknown as OpenApiDocument;

      api.get(
        "/openapi.json",
        { schema: { hide: true }, config: { apiAccess: "public" } },
        async (_request, reply) => reply.header("cache-control", "no-cache").send(api.swagger()),
      );

      api.get<{ Querystring: PageQuerystring }>("/users", { schema: listUsersSchema }, async (request) => {
        const origin = siteOrigin(request, config.publicOrigin);
        const page = await listApiUsers(db, pageOf(request.query));
        return { data: page.items.map((u) => userJson(u, origin)), next_cursor: page.nextCursor };
      });

      api.get<{ Params: UserParams }>("/users/:id", { schema: getUserSchema }, async (request) => {
        const user = await apiUser(db, request.params.id);
        if (!user) throw notFound();
        return userJson(user, siteOrigin(request, config.publicOrigin));
      });

      api.get<{ Params: UserParams; Querystring: PageQuerystring }>(
        "/users/:id/ledger",
        { schema: listLedgerSchema },
        async (request) => {
          const userId = request.params.id;
          if (!(await userExists(db, userId))) throw notFound();
          const page = await creditHistory(db, userId, pageOf(request.query));
          return {
            data: page.items.map((l) => ({
              id: l.id,
              created_at: isoTime(l.createdAt),
              kind: l.kind,
              status: l.status,
              amount_cents: l.amountCents,
              balance_after_cents: l.balanceAfterCents,
              capped_cents: l.cappedCents,
              reason: l.reason,
              decision_reason: l.decisionReason,
              signup_username: l.signupUsername,
              referral_count: l.referralCount,
            })),
            next_cursor: page.nextCursor,
          };
        },
      );

      api.get<{ Params: UserParams; Querystring: PageQuerystring }>(
        "/users/:id/referrals",
        { schema: listReferralsSchema },
        async (request) => {
          const userId = request.params.id;
          if (!(await userExists(db, userId))) throw notFound();
          const page = await referralsOf(db, userId, pageOf(request.query));
          return {
            data: page.items.map((r) => ({
              user_id: r.id,
              username: r.username,
              joined_at: isoTime(r.joinedAt),
              status: r.status,
              reason: r.reason,
              capped: r.capped,
            })),
            next_cursor: page.nextCursor,
          };
        },
      );

      api.post<{ Params: UserParams; Body: AdjustmentBody; Headers: { "idempotency-key": string } }>(
        "/users/:id/adjustments",
        { schema: createAdjustmentSchema, config: { apiAccess: "write" } },
        async (request, reply) => {
          const caller = callerOf(request);
          const userId = request.params.id;
          const body = request.body;
          const note = typeof body.note === "string" ? body.note.trim() : "";
          const form: AdjustmentForm = {
            amountCents: body.amount_cents,
            reason: body.reason.trim(),
            note: note === "" ? null : note,
          };
          // What the request asks for, whatever the JSON's spacing or order: a retry matches it.
          const fingerprint = requestFingerprint({
            operation: "createAdjustment",
            user_id: userId,
            amount_cents: form.amountCents,
            reason: form.reason,
            note: form.note,
          });
          // The deliveries of the adjustment's event, handed over after the commit (not on a replay).
          let deliveryIds: number[] = [];
          const answer = await runIdempotent(
            db,
            { apiKeyId: caller.id, key: request.headers["idempotency-key"], fingerprint },
            async (tx) => {
              const result = await adjustBalanceInTransaction(tx, actorOf(caller), userId, form).catch(
                (error: unknown) => {
                  throw error instanceof UserNotFound ? notFound() : error;
                },
              );
              deliveryIds = result.deliveryIds;
              return {
                statusCode: 201,
                body: {
                  ledger_entry_id: result.ledgerEntryId,
                  user_id: userId,
                  amount_cents: form.amountCents,
                  balance_cents: result.balanceCents,
                  reason: form.reason,
                  note: form.note ?? null,
                },
              };
            },
          );
          if (answer.replayed) {
            reply.header("idempotent-replayed", "true");
          } else {
            deps.useCases.webhooks.wake(deliveryIds);
            logWrite(
              request,
              caller,
              { userId, amountCents: form.amountCents },
              "balance adjusted through the API",
            );
          }
          return reply.code(answer.statusCode).send(answer.body);
        },
      );

      for (const [path, active, schema] of [
        ["/users/:id/deactivate", false, deactivateSchema],
        ["/users/:id/reactivate", true, reactivateSchema],
      ] as const) {
        api.post<{ Params: UserParams }>(
          path,
          { schema, config: { apiAccess: "write" } },
          async (request) => {
            const caller = callerOf(request);
            const userId = request.params.id;
            const change = await setUserActive(
              db,
              actorOf(caller),
              userId,
              active,
              deps.useCases.webhooks,
            ).catch((error: unknown) => {
              throw error instanceof UserNotFound ? notFound() : error;
            });
            logWrite(
              request,
              caller,
              { userId, active, changed: change.changed },
              "user status changed through the API",
            );
            return {
              user_id: userId,
              is_active: active,
              changed: change.changed,
              sessions_ended: change.sessionsEnded,
            };
          },
        );
      }
    },
    { prefix: "/api/v1" },
  );

  apiDocsRoutes(app, () => {
    if (!document) throw new Error("the API's document is read before the API was registered");
    return document();
  });
}

function logWrite(
  request: FastifyRequest,
  caller: ApiCaller,
  fields: Record<string, unknown>,
  message: string,
): void {
  request.log.info({ apiKeyId: caller.id, ...fields }, message);
}
