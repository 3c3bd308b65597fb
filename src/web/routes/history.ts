// /history/ (the user's credit history) and /referrals/ (who joined through their link):
// pages for people, the same data as JSON with cursor pagination for programs.
import type { FastifyInstance } from "fastify";
import { describeLedgerLine, isoTime, wholeDollars } from "../../format.js";
import { linkFunnelOf } from "../../referrals/funnel.js";
import { creditHistory, PAGE_SIZE_DEFAULT, referralStanding, referralsOf } from "../../referrals/history.js";
import type { AppDeps } from "../app-deps.js";
import { forUser } from "../guards.js";
import { linkFunnelFields, linkFunnelJson } from "../link-funnel.js";
import { wantsJson } from "../negotiation.js";
import {
  type BothWaysPageQuery,
  bothWaysPageQueryProperties,
  bothWaysPageRequest,
  nextPageUrl,
  previousPageUrl,
} from "../pagination.js";
import { sendPage } from "../respond.js";
import {
  arrayOf,
  booleanField,
  integerField,
  nullable,
  objectSchema,
  querySchema,
  stringField,
  timeField,
} from "../schemas.js";
import { historyPage, referralsPage } from "../views/history-page.js";

const historySchema = {
  querystring: querySchema(bothWaysPageQueryProperties),
  response: {
    200: objectSchema({
      balance: integerField,
      balance_cents: integerField,
      pending_cents: integerField,
      entries: arrayOf(
        objectSchema({
          id: stringField,
          created_at: timeField,
          kind: stringField,
          status: stringField,
          amount_cents: integerField,
          reason: stringField,
          balance_after_cents: integerField,
        }),
      ),
      next_cursor: nullable(stringField),
    }),
  },
};

const referralsSchema = {
  querystring: querySchema(bothWaysPageQueryProperties),
  response: {
    200: objectSchema({
      referred_count: integerField,
      held_count: integerField,
      rejected_count: integerField,
      ...linkFunnelFields,
      referrals: arrayOf(
        objectSchema({
          username: stringField,
          joined_at: timeField,
          status: stringField,
          reason: nullable(stringField),
          capped: booleanField,
        }),
      ),
      next_cursor: nullable(stringField),
    }),
  },
};

export function historyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { program } = deps.config;

  app.get("/history/", {
    schema: historySchema,
    ...forUser<{ Querystring: BothWaysPageQuery }>(async (request, reply) => {
      const user = request.user;
      const page = bothWaysPageRequest(request.query, PAGE_SIZE_DEFAULT);
      const history = await creditHistory(deps.db, user.id, page);
      if (wantsJson(request)) {
        return reply.send({
          balance: wholeDollars(user.balanceCents),
          balance_cents: user.balanceCents,
          pending_cents: user.pendingCents,
          entries: history.items.map((line) => ({
            id: String(line.id),
            created_at: isoTime(line.createdAt),
            kind: line.kind,
            status: line.status,
            amount_cents: line.amountCents,
            reason: describeLedgerLine(line, program),
            balance_after_cents: line.balanceAfterCents,
          })),
          next_cursor: history.nextCursor,
        });
      }
      return sendPage(
        reply,
        historyPage({
          csrfToken: request.csrfToken,
          username: user.username,
          isStaff: user.isStaff,
          balanceCents: user.balanceCents,
          pendingCents: user.pendingCents,
          lines: history.items,
          program,
          nextPage: nextPageUrl("/history/", history.nextCursor, { limit: request.query.limit }),
          previousPage: previousPageUrl("/history/", history.previousCursor, { limit: request.query.limit }),
          firstPage: page.cursor === null && !page.before,
        }),
      );
    }),
  });

  app.get("/referrals/", {
    schema: referralsSchema,
    ...forUser<{ Querystring: BothWaysPageQuery }>(async (request, reply) => {
      const user = request.user;
      const page = bothWaysPageRequest(request.query, PAGE_SIZE_DEFAULT);
      const [referrals, standing] = await Promise.all([
        referralsOf(deps.db, user.id, page),
        referralStanding(deps.db, user.id),
      ]);
      if (wantsJson(request)) {
        return reply.send({
          referred_count: user.referredCount,
          held_count: standing.held,
          rejected_count: standing.rejected,
          ...linkFunnelJson(linkFunnelOf(user, program)),
          referrals: referrals.items.map((r) => ({
            username: r.username,
            joined_at: isoTime(r.joinedAt),
            status: r.status,
            reason: r.reason,
            capped: r.capped,
          })),
          next_cursor: referrals.nextCursor,
        });
      }
      return sendPage(
        reply,
        referralsPage({
          csrfToken: request.csrfToken,
          username: user.username,
          isStaff: user.isStaff,
          standing,
          referrals: referrals.items,
          nextPage: nextPageUrl("/referrals/", referrals.nextCursor, { limit: request.query.limit }),
          previousPage: previousPageUrl("/referrals/", referrals.previousCursor, {
            limit: request.query.limit,
          }),
          firstPage: page.cursor === null && !page.before,
        }),
      );
    }),
  });
}
