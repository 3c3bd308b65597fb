// /admin/outbox/: staff read the email the service wrote (src/web/views/admin/outbox.ts). Registered
// inside the admin scope by adminRoutes, so every route is made with forStaff.
import type { FastifyInstance } from "fastify";
import { type OutboxStatus, outboxStatuses } from "../../db/schema.js";
import { hiddenToken, renderMessage, resetLinkShownToStaff } from "../../email/messages.js";
import { listOutbox, outboxCounts, outboxMessage } from "../../email/outbox.js";
import type { RouteDeps } from "../app-deps.js";
import { forStaff, type UserRequest } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { sendPage, siteOrigin } from "../respond.js";
import { type IdParams, idParamsSchema, integerField, querySchema, stringField } from "../schemas.js";
import type { AdminFrame } from "../views/admin/layout.js";
import { outboxMessagePage, outboxPage } from "../views/admin/outbox.js";

const PER_PAGE = 50;

interface OutboxQuery {
  status?: string;
  before?: number;
}

function statusOf(value: string | undefined): OutboxStatus | null {
  return (outboxStatuses as readonly string[]).includes(value ?? "") ? (value as OutboxStatus) : null;
}

export function adminOutboxRoutes(
  admin: FastifyInstance,
  deps: RouteDeps,
  frameOf: (request: UserRequest) => Promise<AdminFrame>,
): void {
  const { db } = deps;

  admin.get("/outbox/", {
    schema: { querystring: querySchema({ status: stringField, before: integerField }) },
    ...forStaff<{ Querystring: OutboxQuery }>(async (request, reply) => {
      const status = statusOf(request.query.status);
      const rows = await listOutbox(db, {
        ...(status ? { status } : {}),
        ...(request.query.before ? { beforeId: request.query.before } : {}),
        limit: PER_PAGE + 1,
      });
      const page = rows.slice(0, PER_PAGE);
      const last = page.at(-1);
      const nextPage =
        rows.length > PER_PAGE && last
          ? `/admin/outbox/?${status ? `status=${status}&` : ""}before=${last.id}`
          : null;
      const counts = await outboxCounts(db);
      if (wantsJson(request)) {
        return reply.send({
          counts,
          messages: page.map((row) => ({
            id: row.id,
            kind: row.kind,
            to: row.toAddress,
            status: row.status,
            attempts: row.attempts,
            last_error: row.lastError,
            created_at: row.createdAt,
            sent_at: row.sentAt,
          })),
          next_page: nextPage,
        });
      }
      return sendPage(
        reply,
        outboxPage(await frameOf(request), {
          rows: page,
          counts,
          status,
          smtpConfigured: deps.config.email.smtpUrl !== undefined,
          nextPage,
        }),
      );
    }),
  });

  admin.get("/outbox/:id/", {
    schema: { params: idParamsSchema },
    ...forStaff<{ Params: IdParams }>(async (request, reply) => {
      const row = await outboxMessage(db, Number(request.params.id));
      if (!row) return reply.callNotFound();
      // A sent or failed message's values are gone (its links worked once): only its envelope shows.
      const hasContent = Object.keys(row.params).length > 0;
      const origin = deps.config.publicOrigin ?? String(row.params.origin ?? siteOrigin(request, undefined));
      const linkHidden = !resetLinkShownToStaff(row, deps.config.nodeEnv);
      const params = linkHidden ? { ...row.params, token: hiddenToken } : row.params;
      const message = hasContent ? renderMessage(row.kind, params, { origin }) : null;
      if (wantsJson(request)) {
        return reply.send({
          id: row.id,
          kind: row.kind,
          to: row.toAddress,
          status: row.status,
          subject: message?.subject ?? null,
          text: message?.text ?? null,
          link_hidden: linkHidden && message !== null,
        });
      }
      return sendPage(reply, outboxMessagePage(await frameOf(request), row, message, linkHidden));
    }),
  });
}
