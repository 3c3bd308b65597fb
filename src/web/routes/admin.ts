// /admin/: staff-only pages. Registered inside the pages scope, so sessions and CSRF apply; every route
// is made with forStaff, which sends anonymous people to the login page (401 in JSON mode) and refuses
// non-staff with 403, and the scope refuses to register a route without it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { adjustBalance, checkAdjustmentForm, UserNotFound } from "../../admin/adjustments.js";
import { AUDIT_PER_PAGE, type AuditEntry, listAudit, recordAudit } from "../../admin/audit.js";
import {
  LEDGER_LINES_PER_PAGE,
  listUsers,
  parseUserListQuery,
  USERS_PER_PAGE,
  type UserListRow,
  userDetail,
} from "../../admin/directory.js";
import { csvStream, ledgerCsvLines, usersCsvLines } from "../../admin/export.js";
import { PeriodError, parsePeriod, programmeStats } from "../../admin/stats.js";
import { setUserActive } from "../../admin/user-status.js";
import { ValidationError } from "../../errors.js";
import { isoDay, isoTime } from "../../format.js";
import type { RouteDeps } from "../app-deps.js";
import { forStaff, staffOnly, type UserRequest } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { nextPageUrl, type PageQuery, pageRequest } from "../pagination.js";
import { sendPage } from "../respond.js";
import { adminHomePage } from "../views/admin/home.js";
import { statsPage } from "../views/admin/stats.js";
import { type AdjustFormState, notices, userPage } from "../views/admin/user.js";
import { usersPage } from "../views/admin/users.js";

const idPattern = /^[1-9]\d{0,14}$/;

/** /admin/users/: a search, an order, and a page. */
interface UsersQuery extends PageQuery {
  q?: string;
  sort?: string;
  dir?: string;
}

/** /admin/users/:id/: a page of the ledger, and the notice left by the action that led here. */
interface UserPageQuery extends PageQuery {
  notice?: string;
}

function idParam(request: FastifyRequest): number | null {
  const raw = (request.params as Record<string, unknown>).id;
  return typeof raw === "string" && idPattern.test(raw) ? Number(raw) : null;
}

function userJson(u: UserListRow) {
  return {
    id: u.id,
    username: u.username,
    balance_cents: u.balanceCents,
    referred_count: u.referredCount,
    joined_at: isoTime(u.createdAt),
    invited_by: u.inviterUsername,
    is_active: u.isActive,
    is_staff: u.isStaff,
  };
}

function auditJson(entries: readonly AuditEntry[]) {
  return entries.map((e) => ({
    id: e.id,
    action: e.action,
    actor_id: e.actorId,
    actor: e.actorUsername,
    target_user_id: e.targetUserId,
    target: e.targetUsername,
    details: e.details,
    created_at: isoTime(e.createdAt),
  }));
}

export async function adminRoutes(pages: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { db } = deps;

  await pages.register(
    async (admin) => {
      staffOnly(admin);

      admin.get(
        "/",
        forStaff<{ Querystring: PageQuery }>(async (request, reply) => {
          const staff = request.user;
          const page = pageRequest(request.query, AUDIT_PER_PAGE);
          const audit = await listAudit(db, page);
          if (wantsJson(request)) {
            return reply.send({ audit: auditJson(audit.items), next_cursor: audit.nextCursor });
          }
          return sendPage(
            reply,
            adminHomePage({
              staff,
              csrfToken: request.csrfToken,
              audit: audit.items,
              nextPage: nextPageUrl("/admin/", audit.nextCursor, { limit: request.query.limit }),
              firstPage: page.cursor === null,
            }),
          );
        }),
      );

      admin.get(
        "/users/",
        forStaff<{ Querystring: UsersQuery }>(async (request, reply) => {
          const staff = request.user;
          const query = parseUserListQuery(request.query);
          const page = pageRequest(request.query, USERS_PER_PAGE);
          const users = await listUsers(db, query, page);
          if (wantsJson(request)) {
            return reply.send({ users: users.items.map(userJson), next_cursor: users.nextCursor });
          }
          return sendPage(
            reply,
            usersPage({
              staff,
              csrfToken: request.csrfToken,
              query,
              rows: users.items,
              nextPage: nextPageUrl("/admin/users/", users.nextCursor, {
                q: query.search,
                sort: query.sort,
                dir: query.direction,
                limit: request.query.limit,
              }),
              firstPage: page.cursor === null,
            }),
          );
        }),
      );

      async function renderUser(
        request: UserRequest,
        reply: FastifyReply,
        userId: number,
        query: UserPageQuery,
        extra: { adjust?: AdjustFormState; statusErrors?: string[]; status?: number } = {},
      ) {
        const staff = request.user;
        const page = pageRequest(query, LEDGER_LINES_PER_PAGE);
        const detail = await userDetail(db, userId, page);
        if (!detail) return reply.callNotFound();
        const audit = (await listAudit(db, { cursor: null, size: AUDIT_PER_PAGE }, { targetUserId: userId }))
          .items;
        if (wantsJson(request)) {
          return reply.send({
            user: userJson(detail.user),
            ledger: detail.ledger.items.map((l) => ({
              id: l.id,
              kind: l.kind,
              amount_cents: l.amountCents,
              reason: l.reason,
              created_by: l.createdByUsername,
              signup_username: l.signupUsername,
              referral_count: l.referralCount,
              created_at: isoTime(l.createdAt),
            })),
            next_cursor: detail.ledger.nextCursor,
            invitees: detail.invitees.map((i) => ({
              id: i.id,
              username: i.username,
              joined_at: isoTime(i.createdAt),
              is_active: i.isActive,
            })),
            invitee_count: detail.inviteeCount,
            sessions: detail.sessions.map((s) => ({
              created_at: isoTime(s.createdAt),
              last_seen_at: isoTime(s.lastSeenAt),
              expires_at: isoTime(s.expiresAt),
              user_agent: s.userAgent,
              client_address: s.clientAddress,
            })),
            audit: auditJson(audit),
          });
        }
        const noticeKey = query.notice;
        const notice =
          typeof noticeKey === "string" && Object.hasOwn(notices, noticeKey) ? notices[noticeKey] : null;
        const olderLedger = nextPageUrl(`/admin/users/${userId}/`, detail.ledger.nextCursor, {
          limit: query.limit,
        });
        return sendPage(
          reply,
          userPage({
            staff,
            csrfToken: request.csrfToken,
            detail,
            audit,
            notice,
            olderLedger,
            firstLedgerPage: page.cursor === null,
            ...extra,
          }),
          extra.status ?? 200,
        );
      }

      admin.get(
        "/users/:id/",
        forStaff<{ Querystring: UserPageQuery }>(async (request, reply) => {
          const userId = idParam(request);
          if (userId === null) return reply.callNotFound();
          return renderUser(request, reply, userId, request.query);
        }),
      );

      admin.post(
        "/users/:id/adjust/",
        forStaff(async (request, reply) => {
          const staff = request.user;
          const userId = idParam(request);
          if (userId === null) return reply.callNotFound();
          const input = (request.body ?? {}) as Record<string, unknown>;
          try {
            const form = checkAdjustmentForm(input);
            const result = await adjustBalance(db, staff.id, userId, form);
            request.log.info(
              { staffId: staff.id, userId, amountCents: form.amountCents },
              "balance adjusted",
            );
            if (wantsJson(request)) {
              return reply.send({
                ledger_entry_id: result.ledgerEntryId,
                balance_cents: result.balanceCents,
              });
            }
            return reply.redirect(`/admin/users/${userId}/?notice=adjusted`, 303);
          } catch (error) {
            if (error instanceof UserNotFound) return reply.callNotFound();
            if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
            const text = (name: string) => (typeof input[name] === "string" ? (input[name] as string) : "");
            return renderUser(
              request,
              reply,
              userId,
              {},
              {
                adjust: {
                  direction: text("direction"),
                  amount: text("amount"),
                  reason: text("reason"),
                  errors: error.fields,
                },
                status: 400,
              },
            );
          }
        }),
      );

      for (const [path, active] of [
        ["/users/:id/deactivate/", false],
        ["/users/:id/reactivate/", true],
      ] as const) {
        admin.post(
          path,
          forStaff(async (request, reply) => {
            const staff = request.user;
            const userId = idParam(request);
            if (userId === null) return reply.callNotFound();
            try {
              const change = await setUserActive(db, staff.id, userId, active);
              request.log.info({ staffId: staff.id, userId, active }, "user status changed");
              if (wantsJson(request)) {
                return reply.send({
                  is_active: active,
                  changed: change.changed,
                  sessions_ended: change.sessionsEnded,
                });
              }
              const notice = change.changed ? (active ? "reactivated" : "deactivated") : "unchanged";
              return reply.redirect(`/admin/users/${userId}/?notice=${notice}`, 303);
            } catch (error) {
              if (error instanceof UserNotFound) return reply.callNotFound();
              if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
              return renderUser(
                request,
                reply,
                userId,
                {},
                {
                  statusErrors: error.fields.__all__ ?? [],
                  status: 400,
                },
              );
            }
          }),
        );
      }

      admin.get(
        "/stats/",
        forStaff(async (request, reply) => {
          const staff = request.user;
          const query = request.query as Record<string, unknown>;
          let period: ReturnType<typeof parsePeriod>;
          let error: string | null = null;
          try {
            period = parsePeriod(query);
          } catch (problem) {
            if (!(problem instanceof PeriodError)) throw problem;
            if (wantsJson(request)) throw new ValidationError({ period: [problem.message] });
            error = problem.message;
            period = parsePeriod({});
          }
          const stats = await programmeStats(db, period);
          if (wantsJson(request)) {
            return reply.send({
              from: stats.period.from,
              to: stats.period.to,
              days: stats.days.map((d) => ({
                day: d.day,
                signups: d.signups,
                referred_signups: d.referredSignups,
                invitee_bonus_cents: d.inviteeBonusCents,
                inviter_reward_cents: d.inviterRewardCents,
              })),
              signups: stats.totals.signups,
              referred_signups: stats.totals.referredSignups,
              referred_share: stats.referredShare,
              rewards_paid_cents: stats.totals.rewardsPaidCents,
              adjustments_net_cents: stats.totals.adjustmentsNetCents,
              users_at_start: stats.totals.usersAtStart,
              k_factor: stats.kFactor,
              top_referrers: stats.topReferrers.map((r) => ({
                id: r.id,
                username: r.username,
                referred_in_period: r.referredInPeriod,
                referred_count: r.referredCount,
              })),
            });
          }
          return sendPage(
            reply,
            statsPage({ staff, csrfToken: request.csrfToken, stats, error }),
            error ? 400 : 200,
          );
        }),
      );

      for (const [name, lines, action] of [
        ["users", usersCsvLines, "users_exported"],
        ["ledger", ledgerCsvLines, "ledger_exported"],
      ] as const) {
        admin.get(
          `/export/${name}.csv`,
          forStaff(async (request, reply) => {
            const staff = request.user;
            await recordAudit(db, { actorId: staff.id, action });
            request.log.info({ staffId: staff.id }, `${name} exported`);
            return reply
              .header("content-type", "text/csv; charset=utf-8")
              .header("content-disposition", `attachment; filename="${name}-${isoDay(new Date())}.csv"`)
              .header("cache-control", "no-store")
              .send(csvStream(lines(db)));
          }),
        );
      }
    },
    { prefix: "/admin" },
  );
}
