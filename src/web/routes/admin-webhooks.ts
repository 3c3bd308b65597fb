// /admin/webhooks/: staff register the addresses events are sent to, read each delivery with its
// attempts, send one again or a test event, rotate an endpoint's secret and delete it
// (src/web/views/admin/webhooks.ts). Registered inside the admin scope by adminRoutes, so every route
// is made with forStaff and every POST carries the CSRF token.
//
// A signing secret is shown once, on the page (or in the JSON) that answers the POST that made it:
// never through a redirect, whose URL or cookie would keep it in the browser's history or the logs.
import type { FastifyInstance, FastifyReply } from "fastify";
import { type WebhookDeliveryStatus, webhookDeliveryStatuses } from "../../db/schema.js";
import { ValidationError } from "../../errors.js";
import { isoTime } from "../../format.js";
import {
  type DeliveryRow,
  deliveryDetail,
  listDeliveries,
  redeliver,
  sendTestEvent,
} from "../../webhooks/deliveries.js";
import {
  addEndpoint,
  audited,
  checkEndpointForm,
  type EndpointForm,
  tickedTypes,
} from "../../webhooks/endpoint-admin.js";
import {
  deleteEndpoint,
  type EndpointSummary,
  findEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
  type WebhookEndpoint,
} from "../../webhooks/endpoints.js";
import { newWebhookSecret } from "../../webhooks/signing.js";
import type { TargetPolicy } from "../../webhooks/target-check.js";
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
import type { AdminFrame } from "../views/admin/layout.js";
import {
  deleteWebhookPage,
  type EndpointFormState,
  emptyEndpointForm,
  webhookDeliveryPage,
  webhookEndpointPage,
  webhookSecretPage,
  webhooksPage,
} from "../views/admin/webhooks.js";

const DELIVERIES_PER_PAGE = 50;

/** What a form that failed its checks shows again: the values as typed. */
function formAsTyped(input: Record<string, unknown>): Omit<EndpointFormState, "errors"> {
  const text = (name: string) => (typeof input[name] === "string" ? (input[name] as string) : "");
  return {
    url: text("url"),
    description: text("description"),
    eventTypes: tickedTypes(input),
    enabled: input.enabled === "on",
  };
}

function endpointJson(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    failing_since: e.failingSince ? isoTime(e.failingSince) : null,
    previous_secret_expires_at: e.previousSecretExpiresAt ? isoTime(e.previousSecretExpiresAt) : null,
    created_at: isoTime(e.createdAt),
  };
}

function summaryJson(e: EndpointSummary) {
  return {
    ...endpointJson(e),
    pending: e.pending,
    failed: e.failed,
    last_delivered_at: e.lastDeliveredAt ? isoTime(e.lastDeliveredAt) : null,
  };
}

function deliveryJson(d: DeliveryRow) {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    manual: d.manual,
    created_at: isoTime(d.createdAt),
    last_attempt_at: d.lastAttemptAt ? isoTime(d.lastAttemptAt) : null,
    delivered_at: d.deliveredAt ? isoTime(d.deliveredAt) : null,
  };
}

const endpointFields = {
  id: integerField,
  url: stringField,
  description: stringField,
  event_types: arrayOf(stringField),
  enabled: booleanField,
  disabled_reason: nullable(stringField),
  failing_since: nullable(timeField),
  previous_secret_expires_at: nullable(timeField),
  created_at: timeField,
};

const summaryFields = {
  ...endpointFields,
  pending: integerField,
  failed: integerField,
  last_delivered_at: nullable(timeField),
};

const deliveryFields = objectSchema({
  id: integerField,
  event_id: stringField,
  event_type: stringField,
  status: stringField,
  attempts: integerField,
  last_status_code: nullable(integerField),
  last_error: nullable(stringField),
  manual: booleanField,
  created_at: timeField,
  last_attempt_at: nullable(timeField),
  delivered_at: nullable(timeField),
});

/** A delivery made by a button ("Send a test event", "Send again"): its id. */
const madeDelivery = { response: { 201: objectSchema({ id: integerField }) } };

interface DeliveryParams {
  id: string;
  deliveryId: string;
}

const deliveryParamsSchema = {
  type: "object",
  properties: {
    id: idParamsSchema.properties.id,
    deliveryId: idParamsSchema.properties.id,
  },
  required: ["id", "deliveryId"],
} as const;

interface EndpointQuery {
  status?: string;
  before?: number;
  notice?: string;
}

function statusOf(value: string | undefined): WebhookDeliveryStatus | null {
  return (webhookDeliveryStatuses as readonly string[]).includes(value ?? "")
    ? (value as WebhookDeliveryStatus)
    : null;
}

/** Pages and answers holding a secret are kept by no cache, the browser's included. */
function noStore(reply: FastifyReply): FastifyReply {
  return reply.header("cache-control", "no-store");
}

export function adminWebhookRoutes(
  admin: FastifyInstance,
  deps: RouteDeps,
  frameOf: (request: UserRequest) => Promise<AdminFrame>,
): void {
  const { db } = deps;
  const settings = deps.config.webhooks;
  const policy: TargetPolicy = {
    requireHttps: settings.requireHttps,
    allowedAddresses: settings.allowedAddresses,
  };
  const pageSettings = {
    giveUpHours: settings.giveUpHours,
    overlapHours: settings.secretOverlapHours,
    deliveriesOn: settings.enabled,
    requireHttps: settings.requireHttps,
  };

  async function renderList(
    request: UserRequest,
    reply: FastifyReply,
    extra: { form?: EndpointFormState; notice?: string | undefined; status?: number } = {},
  ) {
    const endpoints = await listEndpoints(db);
    if (wantsJson(request)) return reply.send({ endpoints: endpoints.map(summaryJson) });
    return sendPage(
      reply,
      webhooksPage(await frameOf(request), {
        endpoints,
        form: extra.form ?? emptyEndpointForm(),
        notice: extra.notice ?? null,
        ...pageSettings,
      }),
      extra.status ?? 200,
    );
  }

  admin.get("/webhooks/", {
    schema: {
      querystring: querySchema({ notice: stringField }),
      response: { 200: objectSchema({ endpoints: arrayOf(objectSchema(summaryFields)) }) },
    },
    ...forStaff<{ Querystring: { notice?: string } }>(async (request, reply) =>
      renderList(request, reply, { notice: request.query.notice }),
    ),
  });

  admin.post("/webhooks/", {
    schema: { response: { 201: objectSchema({ ...endpointFields, secret: stringField }) } },
    ...forStaff(async (request, reply) => {
      const input = (request.body ?? {}) as Record<string, unknown>;
      const json = wantsJson(request);
      let form: EndpointForm;
      try {
        form = checkEndpointForm(input, { json, policy });
      } catch (error) {
        if (json || !(error instanceof ValidationError)) throw error;
        const fields = error.fields;
        return renderList(request, reply, {
          form: { ...formAsTyped(input), errors: fields },
          status: 400,
        });
      }
      const { id, secret } = await addEndpoint(db, request.user.id, form);
      request.log.info({ staffId: request.user.id, endpointId: id }, "webhook endpoint created");
      const endpoint = await findEndpoint(db, id);
      if (!endpoint) return reply.callNotFound();
      noStore(reply);
      if (json) return reply.code(201).send({ ...endpointJson(endpoint), secret });
      return sendPage(
        reply,
        webhookSecretPage(await frameOf(request), { endpoint, secret, rotated: false, ...pageSettings }),
        201,
      );
    }),
  });

  async function renderEndpoint(
    request: UserRequest,
    reply: FastifyReply,
    endpointId: number,
    query: EndpointQuery,
    extra: { form?: EndpointFormState; status?: number } = {},
  ) {
    const endpoint = await findEndpoint(db, endpointId);
    if (!endpoint) return reply.callNotFound();
    const status = statusOf(query.status);
    const rows = await listDeliveries(db, endpointId, {
      ...(status ? { status } : {}),
      ...(query.before ? { beforeId: query.before } : {}),
      limit: DELIVERIES_PER_PAGE + 1,
    });
    const page = rows.slice(0, DELIVERIES_PER_PAGE);
    const last = page.at(-1);
    const nextPage =
      rows.length > DELIVERIES_PER_PAGE && last
        ? `/admin/webhooks/${endpointId}/?${status ? `status=${status}&` : ""}before=${last.id}`
        : null;
    if (wantsJson(request)) {
      return reply.send({
        endpoint: endpointJson(endpoint),
        deliveries: page.map(deliveryJson),
        next_page: nextPage,
      });
    }
    return sendPage(
      reply,
      webhookEndpointPage(await frameOf(request), {
        endpoint,
        deliveries: page,
        status,
        nextPage,
        firstPage: !query.before,
        notice: query.notice ?? null,
        form: extra.form ?? {
          url: endpoint.url,
          description: endpoint.description,
          eventTypes: endpoint.eventTypes,
          enabled: endpoint.enabled,
          errors: {},
        },
        ...pageSettings,
      }),
      extra.status ?? 200,
    );
  }

  admin.get("/webhooks/:id/", {
    schema: {
      params: idParamsSchema,
      // A delivery id: the first page is the one without it.
      querystring: querySchema({
        status: stringField,
        before: { ...integerField, minimum: 1 },
        notice: stringField,
      }),
      response: {
        200: objectSchema({
          endpoint: objectSchema(endpointFields),
          deliveries: arrayOf(deliveryFields),
          next_page: nullable(stringField),
        }),
      },
    },
    ...forStaff<{ Params: IdParams; Querystring: EndpointQuery }>(async (request, reply) =>
      renderEndpoint(request, reply, Number(request.params.id), request.query),
    ),
  });

  admin.post("/webhooks/:id/", {
    schema: { params: idParamsSchema, response: { 200: objectSchema(endpointFields) } },
    ...forStaff<{ Params: IdParams }>(async (request, reply) => {
      const endpointId = Number(request.params.id);
      const input = (request.body ?? {}) as Record<string, unknown>;
      const json = wantsJson(request);
      const endpoint = await findEndpoint(db, endpointId);
      if (!endpoint) return reply.callNotFound();
      let form: EndpointForm;
      try {
        form = checkEndpointForm(input, { json, policy, current: endpoint });
      } catch (error) {
        if (json || !(error instanceof ValidationError)) throw error;
        const fields = error.fields;
        return renderEndpoint(
          request,
          reply,
          endpointId,
          {},
          { form: { ...formAsTyped(input), errors: fields }, status: 400 },
        );
      }
      const changed = await audited(db, (tx) => updateEndpoint(tx, endpointId, form), {
        actorId: request.user.id,
        action: "webhook_endpoint_updated",
        details: {
          endpoint_id: endpointId,
          url: form.url,
          event_types: form.eventTypes,
          enabled: form.enabled,
        },
      });
      if (!changed) return reply.callNotFound();
      request.log.info(
        { staffId: request.user.id, endpointId, enabled: form.enabled },
        "webhook endpoint changed",
      );
      const saved = await findEndpoint(db, endpointId);
      if (!saved) return reply.callNotFound();
      if (json) return reply.send(endpointJson(saved));
      return reply.redirect(`/admin/webhooks/${endpointId}/?notice=saved`, 303);
    }),
  });

  admin.post("/webhooks/:id/test/", {
    schema: { params: idParamsSchema, ...madeDelivery },
    ...forStaff<{ Params: IdParams }>(async (request, reply) => {
      const endpointId = Number(request.params.id);
      const deliveryId = await sendTestEvent(db, endpointId, request.user.id);
      if (deliveryId === null) return reply.callNotFound();
      deps.useCases.webhooks.wake([deliveryId]);
      request.log.info({ staffId: request.user.id, endpointId, deliveryId }, "webhook test event sent");
      if (wantsJson(request)) return reply.code(201).send({ id: deliveryId });
      return reply.redirect(`/admin/webhooks/${endpointId}/deliveries/${deliveryId}/?notice=test`, 303);
    }),
  });

  admin.post("/webhooks/:id/rotate/", {
    schema: {
      params: idParamsSchema,
      response: {
        200: objectSchema({ secret: stringField, previous_secret_expires_at: nullable(timeField) }),
      },
    },
    ...forStaff<{ Params: IdParams }>(async (request, reply) => {
      const endpointId = Number(request.params.id);
      const secret = newWebhookSecret();
      const endpoint = await findEndpoint(db, endpointId);
      if (!endpoint) return reply.callNotFound();
      const rotated = await audited(
        db,
        (tx) => rotateSecret(tx, endpointId, secret, settings.secretOverlapHours),
        {
          actorId: request.user.id,
          action: "webhook_secret_rotated",
          details: { endpoint_id: endpointId, url: endpoint.url, overlap_hours: settings.secretOverlapHours },
        },
      );
      const after = rotated ? await findEndpoint(db, endpointId) : null;
      if (!after) return reply.callNotFound();
      request.log.info({ staffId: request.user.id, endpointId }, "webhook secret rotated");
      noStore(reply);
      if (wantsJson(request)) {
        return reply.send({
          secret,
          previous_secret_expires_at: after.previousSecretExpiresAt
            ? isoTime(after.previousSecretExpiresAt)
            : null,
        });
      }
      return sendPage(
        reply,
        webhookSecretPage(await frameOf(request), {
          endpoint: after,
          secret,
          rotated: true,
          ...pageSettings,
        }),
      );
    }),
  });

  async function renderDeleteConfirmation(request: UserRequest, reply: FastifyReply, endpointId: number) {
    const endpoint = await findEndpoint(db, endpointId);
    if (!endpoint) return reply.callNotFound();
    return sendPage(reply, deleteWebhookPage(await frameOf(request), endpoint));
  }

  admin.get("/webhooks/:id/delete/", {
    schema: { params: idParamsSchema },
    ...forStaff<{ Params: IdParams }>(async (request, reply) => {
      if (wantsJson(request)) return reply.callNotFound();
      return renderDeleteConfirmation(request, reply, Number(request.params.id));
    }),
  });

  admin.post("/webhooks/:id/delete/", {
    schema: { params: idParamsSchema, response: { 200: objectSchema({ deleted: booleanField }) } },
    ...forStaff<{ Params: IdParams }>(async (request, reply) => {
      const endpointId = Number(request.params.id);
      const body = (request.body ?? {}) as Record<string, unknown>;
      // A person deletes from the confirmation page; a form without its answer shows that page.
      if (!wantsJson(request) && body.confirm !== "yes") {
        return renderDeleteConfirmation(request, reply, endpointId);
      }
      const endpoint = await findEndpoint(db, endpointId);
      if (!endpoint) return reply.callNotFound();
      const deleted = await audited(db, (tx) => deleteEndpoint(tx, endpointId), {
        actorId: request.user.id,
        action: "webhook_endpoint_deleted",
        details: { endpoint_id: endpointId, url: endpoint.url },
      });
      if (!deleted) return reply.callNotFound();
      request.log.info({ staffId: request.user.id, endpointId }, "webhook endpoint deleted");
      if (wantsJson(request)) return reply.send({ deleted: true });
      return reply.redirect("/admin/webhooks/?notice=deleted", 303);
    }),
  });

  admin.get("/webhooks/:id/deliveries/:deliveryId/", {
    schema: {
      params: deliveryParamsSchema,
      querystring: querySchema({ notice: stringField }),
      response: {
        200: objectSchema({
          delivery: deliveryFields,
          body: stringField,
          attempts: arrayOf(
            objectSchema({
              // null: the attempt that succeeded (kept on the delivery itself).
              id: nullable(integerField),
              attempted_at: timeField,
              duration_ms: integerField,
              status_code: nullable(integerField),
              error: nullable(stringField),
              response_excerpt: stringField,
            }),
          ),
        }),
      },
    },
    ...forStaff<{ Params: DeliveryParams; Querystring: { notice?: string } }>(async (request, reply) => {
      const endpointId = Number(request.params.id);
      const endpoint = await findEndpoint(db, endpointId);
      const detail = endpoint
        ? await deliveryDetail(db, endpointId, Number(request.params.deliveryId))
        : null;
      if (!endpoint || !detail) return reply.callNotFound();
      if (wantsJson(request)) {
        return reply.send({
          delivery: deliveryJson(detail.delivery),
          body: detail.body,
          attempts: detail.attempts.map((a) => ({
            id: a.id,
            attempted_at: isoTime(a.attemptedAt),
            duration_ms: a.durationMs,
            status_code: a.statusCode,
            error: a.error,
            response_excerpt: a.responseExcerpt,
          })),
        });
      }
      return sendPage(
        reply,
        webhookDeliveryPage(await frameOf(request), {
          endpoint,
          ...detail,
          notice: request.query.notice ?? null,
          ...pageSettings,
        }),
      );
    }),
  });

  admin.post("/webhooks/:id/deliveries/:deliveryId/resend/", {
    schema: { params: deliveryParamsSchema, ...madeDelivery },
    ...forStaff<{ Params: DeliveryParams }>(async (request, reply) => {
      const endpointId = Number(request.params.id);
      // Only a delivery of this endpoint: the path names both.
      const detail = await deliveryDetail(db, endpointId, Number(request.params.deliveryId));
      const deliveryId = detail ? await redeliver(db, detail.delivery.id) : null;
      if (deliveryId === null) return reply.callNotFound();
      deps.useCases.webhooks.wake([deliveryId]);
      request.log.info({ staffId: request.user.id, endpointId, deliveryId }, "webhook delivery sent again");
      if (wantsJson(request)) return reply.code(201).send({ id: deliveryId });
      return reply.redirect(`/admin/webhooks/${endpointId}/deliveries/${deliveryId}/?notice=resent`, 303);
    }),
  });
}
