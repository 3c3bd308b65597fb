// /admin/api-keys/: staff make and revoke the keys of /api/v1/ (src/api/keys.ts). Registered inside
// the admin scope by adminRoutes, so every route is made with forStaff (sessions and CSRF apply).
import type { FastifyInstance, FastifyReply } from "fastify";
import {
  ApiKeyNotFound,
  type ApiKeyRow,
  apiKeyById,
  type CreatedApiKey,
  checkApiKeyForm,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from "../../api/keys.js";
import { apiKeyScopes } from "../../db/schema.js";
import { ValidationError } from "../../errors.js";
import { isoTime } from "../../format.js";
import type { RouteDeps } from "../app-deps.js";
import { forStaff, type UserRequest } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { sendPage } from "../respond.js";
import {
  arrayOf,
  booleanField,
  type IdParams,
  idParamsSchema,
  integerField,
  nullable,
  objectSchema,
  querySchema,
  stringField,
  timeField,
} from "../schemas.js";
import { type ApiKeyFormState, apiKeysPage, revokeConfirmPage } from "../views/admin/api-keys.js";
import type { AdminFrame } from "../views/admin/layout.js";

const scopeField = { type: "string", enum: [...apiKeyScopes] } as const;

const keyFields = objectSchema({
  id: integerField,
  name: stringField,
  prefix: stringField,
  scope: scopeField,
  created_at: timeField,
  created_by: nullable(stringField),
  last_used_at: nullable(timeField),
  revoked_at: nullable(timeField),
  revoked_by: nullable(stringField),
});

function keyJson(key: ApiKeyRow) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scope: key.scope,
    created_at: isoTime(key.createdAt),
    created_by: key.createdByUsername,
    last_used_at: key.lastUsedAt === null ? null : isoTime(key.lastUsedAt),
    revoked_at: key.revokedAt === null ? null : isoTime(key.revokedAt),
    revoked_by: key.revokedByUsername,
  };
}

const listSchema = {
  querystring: querySchema({ notice: stringField }),
  response: { 200: objectSchema({ api_keys: arrayOf(keyFields) }) },
};

// The form keeps its own checks (checkApiKeyForm), with per-field messages.
const createSchema = {
  response: {
    201: objectSchema({
      id: integerField,
      name: stringField,
      prefix: stringField,
      scope: scopeField,
      created_at: timeField,
      key: stringField,
    }),
  },
};

const revokeSchema = {
  params: idParamsSchema,
  response: { 200: objectSchema({ revoked: booleanField, changed: booleanField }) },
};

const notices: Record<string, string> = {
  revoked: "The key is revoked: requests with it are refused from now on.",
  unchanged: "That key was already revoked.",
};

/** A form posted from the confirmation page says so; JSON clients need no confirmation. */
function confirmed(request: { body?: unknown }): boolean {
  return ((request.body ?? {}) as Record<string, unknown>).confirm === "yes";
}

export function adminApiKeyRoutes(
  admin: FastifyInstance,
  deps: RouteDeps,
  frameOf: (request: UserRequest) => Promise<AdminFrame>,
): void {
  const { db } = deps;

  async function renderList(
    request: UserRequest,
    reply: FastifyReply,
    extra: { created?: CreatedApiKey; form?: ApiKeyFormState; notice?: string | null; status?: number } = {},
  ) {
    const keys = await listApiKeys(db);
    return sendPage(reply, apiKeysPage(await frameOf(request), { keys, ...extra }), extra.status ?? 200);
  }

  admin.get("/api-keys/", {
    schema: listSchema,
    ...forStaff<{ Querystring: { notice?: string } }>(async (request, reply) => {
      if (wantsJson(request)) return reply.send({ api_keys: (await listApiKeys(db)).map(keyJson) });
      const key = request.query.notice ?? "";
      return renderList(request, reply, { notice: Object.hasOwn(notices, key) ? notices[key] : null });
    }),
  });

  admin.post("/api-keys/", {
    schema: createSchema,
    ...forStaff(async (request, reply) => {
      const staff = request.user;
      const input = (request.body ?? {}) as Record<string, unknown>;
      let created: CreatedApiKey;
      try {
        created = await createApiKey(db, staff.id, checkApiKeyForm(input));
      } catch (error) {
        if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
        const text = (name: string) => (typeof input[name] === "string" ? (input[name] as string) : "");
        return renderList(request, reply, {
          form: { name: text("name"), scope: text("scope"), errors: error.fields },
          status: 400,
        });
      }
      // The key itself is never logged: only which one was made.
      request.log.info({ staffId: staff.id, apiKeyId: created.id, scope: created.scope }, "api key created");
      // The one answer that holds the whole key: kept by no cache, and not in the browser's history.
      reply.header("cache-control", "no-store");
      if (wantsJson(request)) {
        return reply.code(201).send({
          id: created.id,
          name: created.name,
          prefix: created.prefix,
          scope: created.scope,
          created_at: isoTime(created.createdAt),
          key: created.key,
        });
      }
      return renderList(request, reply, { created });
    }),
  });

  admin.get("/api-keys/:id/revoke/", {
    schema: { params: idParamsSchema },
    ...forStaff<{ Params: IdParams }>(async (request, reply) => {
      if (wantsJson(request)) return reply.callNotFound();
      const key = await apiKeyById(db, Number(request.params.id));
      if (!key) return reply.callNotFound();
      return sendPage(reply, revokeConfirmPage(await frameOf(request), key));
    }),
  });

  admin.post("/api-keys/:id/revoke/", {
    schema: revokeSchema,
    ...forStaff<{ Params: IdParams }>(async (request, reply) => {
      const staff = request.user;
      const keyId = Number(request.params.id);
      if (!wantsJson(request) && !confirmed(request)) {
        const key = await apiKeyById(db, keyId);
        if (!key) return reply.callNotFound();
        return sendPage(reply, revokeConfirmPage(await frameOf(request), key));
      }
      let outcome: { changed: boolean };
      try {
        outcome = await revokeApiKey(db, staff.id, keyId);
      } catch (error) {
        if (error instanceof ApiKeyNotFound) return reply.callNotFound();
        throw error;
      }
      request.log.info({ staffId: staff.id, apiKeyId: keyId, changed: outcome.changed }, "api key revoked");
      if (wantsJson(request)) return reply.send({ revoked: true, changed: outcome.changed });
      return reply.redirect(`/admin/api-keys/?notice=${outcome.changed ? "revoked" : "unchanged"}`, 303);
    }),
  });
}
