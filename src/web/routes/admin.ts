// /admin/: staff-only pages. Registered inside the pages scope, so sessions and CSRF apply; every route
// is made with forStaff, which sends anonymous people to the login page (401 in JSON mode) and refuses
// non-staff with 403, and the scope refuses to register a route without it.
import type { FastifyInstance, FastifyReply } from "fastify";
import { adjustBalance, checkAdjustmentForm, UserNotFound } from "../../admin/adjustments.js";
import { AUDIT_PER_PAGE, type AuditEntry, listAudit, recordAudit } from "../../admin/audit.js";
import {
  LEDGER_LINES_PER_PAGE,
  listUsers,
  parseUserListQuery,
  USERS_PER_PAGE,
  type UserListRow,
  userDetail,
  userSummary,
} from "../../admin/directory.js";
import { csvStream, ledgerCsvLines, usersCsvLines } from "../../admin/export.js";
import { checkCreditUseText, creditUseText, setCreditUseText } from "../../admin/programme-text.js";
import { checkReviewForm, decideReferrals } from "../../admin/review-decisions.js";
import { countHeld, type HeldReferral, listHeld, REVIEW_PER_PAGE } from "../../admin/review-queue.js";
import { PeriodError, parsePeriod, programmeStats, type ReferralFigures } from "../../admin/stats.js";
import { endUserSession, isSessionPublicId, regenerateReferralLink } from "../../admin/user-access.js";
import { setUserActive } from "../../admin/user-status.js";
import { resendVerification } from "../../email/verification.js";
import { Throttled, ValidationError } from "../../errors.js";
import { isoDay, isoTime } from "../../format.js";
import type { RouteDeps } from "../app-deps.js";
import { forStaff, staffOnly, type UserRequest } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { nextPageUrl, type PageQuery, pageQueryProperties, pageRequest } from "../pagination.js";
import { referralLink, sendPage, siteOrigin } from "../respond.js";
import {
  arrayOf,
  booleanField,
  type IdParams,
  idParamsSchema,
  integerField,
  nullable,
  numberField,
  objectSchema,
  querySchema,
  stringField,
  timeField,
} from "../schemas.js";
import { confirmPage } from "../views/admin/confirm.js";
import { adminHomePage } from "../views/admin/home.js";
import type { AdminFrame } from "../views/admin/layout.js";
import { heldBecause, type ReviewFormState, reviewNotice, reviewPage } from "../views/admin/review.js";
import { statsPage } from "../views/admin/stats.js";
import { type AdjustFormState, notices, resendThrottled, userPage } from "../views/admin/user.js";
import { usersPage } from "../views/admin/users.js";
import { adminApiKeyRoutes } from "./admin-api-keys.js";
import { adminOutboxRoutes } from "./admin-outbox.js";
import { adminWebhookRoutes } from "./admin-webhooks.js";

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

const userFields = objectSchema({
  id: integerField,
  username: stringField,
  balance_cents: integerField,
  pending_cents: integerField,
  referred_count: integerField,
  joined_at: timeField,
  invited_by: nullable(stringField),
  is_active: booleanField,
  is_staff: booleanField,
  email: nullable(stringField),
  email_pending: nullable(stringField),
  deleted_at: nullable(timeField),
});

function userJson(u: UserListRow) {
  return {
    id: u.id,
    username: u.username,
    balance_cents: u.balanceCents,
    pending_cents: u.pendingCents,
    referred_count: u.referredCount,
    joined_at: isoTime(u.createdAt),
    invited_by: u.inviterUsername,
    is_active: u.isActive,
    is_staff: u.isStaff,
    email: u.email,
    email_pending: u.pendingEmail,
    deleted_at: u.deletedAt === null ? null : isoTime(u.deletedAt),
  };
}

const auditFields = objectSchema({
  id: integerField,
  action: stringField,
  actor_id: nullable(integerField),
  actor: nullable(stringField),
  /** The API key's name when the change came through /api/v1/ (actor_id is then null). */
  api_key: nullable(stringField),
  target_user_id: nullable(integerField),
  target: nullable(stringField),
  // Free-form per action (amounts, reasons, sessions ended): passed through whole.
  details: { type: "object", additionalProperties: true },
  created_at: timeField,
});

function auditJson(entries: readonly AuditEntry[]) {
  return entries.map((e) => ({
    id: e.id,
    action: e.action,
    actor_id: e.actorId,
    actor: e.actorUsername,
    api_key: e.apiKeyName,
    target_user_id: e.targetUserId,
    target: e.targetUsername,
    details: e.details,
    created_at: isoTime(e.createdAt),
  }));
}

const auditLogSchema = {
  querystring: querySchema(pageQueryProperties),
  response: { 200: objectSchema({ audit: arrayOf(auditFields), next_cursor: nullable(stringField) }) },
};

// sort and dir stay open strings: an unknown column or direction falls back to the default order. The
// search may be any text PostgreSQL can hold, so not NUL.
const usersSchema = {
  querystring: querySchema({
    ...pageQueryProperties,
    q: { type: "string", pattern: "^[^\\u0000]*$" },
    sort: stringField,
    dir: stringField,
  }),
  response: { 200: objectSchema({ users: arrayOf(userFields), next_cursor: nullable(stringField) }) },
};

const userPageSchema = {
  params: idParamsSchema,
  querystring: querySchema({ ...pageQueryProperties, notice: stringField }),
  response: {
    200: objectSchema({
      user: userFields,
      ledger: arrayOf(
        objectSchema({
          id: integerField,
          kind: stringField,
          status: stringField,
          amount_cents: integerField,
          capped_cents: nullable(integerField),
          reason: nullable(stringField),
          staff_note: nullable(stringField),
          created_by: nullable(stringField),
          signup_username: nullable(stringField),
          referral_count: nullable(integerField),
          created_at: timeField,
        }),
      ),
      next_cursor: nullable(stringField),
      referral_link: stringField,
      invitees: arrayOf(
        objectSchema({
          id: integerField,
          username: stringField,
          joined_at: timeField,
          is_active: booleanField,
        }),
      ),
      invitee_count: integerField,
      sessions: arrayOf(
        objectSchema({
          id: stringField,
          created_at: timeField,
          last_seen_at: timeField,
          expires_at: timeField,
          user_agent: nullable(stringField),
          client_address: nullable(stringField),
        }),
      ),
      audit: arrayOf(auditFields),
    }),
  },
};

// The forms' bodies keep their own checks, with the earlier version's per-field messages.
const adjustSchema = {
  params: idParamsSchema,
  response: { 200: objectSchema({ ledger_entry_id: integerField, balance_cents: integerField }) },
};

const statusSchema = {
  params: idParamsSchema,
  response: {
    200: objectSchema({ is_active: booleanField, changed: booleanField, sessions_ended: integerField }),
  },
};

/** The confirmation pages (HTML only: in JSON mode the POST needs no confirmation). */
const confirmSchema = { params: idParamsSchema };

const endSessionSchema = {
  params: idParamsSchema,
  response: { 200: objectSchema({ ended: booleanField }) },
};

const referralLinkSchema = {
  params: idParamsSchema,
  response: { 200: objectSchema({ referral_link: stringField }) },
};

const resendSchema = {
  params: idParamsSchema,
  response: { 200: objectSchema({ email_pending: stringField }) },
};

/** A form posted from its confirmation page says so; JSON clients need no confirmation. */
function confirmed(request: { body?: unknown }): boolean {
  const body = (request.body ?? {}) as Record<string, unknown>;
  return body.confirm === "yes";
}

/** What became of a day's (or the period's) referrals, and their invitees' bonuses. */
const referralFiguresFields = {
  held_referrals: integerField,
  approved_referrals: integerField,
  rejected_referrals: integerField,
  held_cents: integerField,
  approved_cents: integerField,
  rejected_cents: integerField,
};

function referralFiguresJson(f: ReferralFigures) {
  return {
    held_referrals: f.heldReferrals,
    approved_referrals: f.approvedReferrals,
    rejected_referrals: f.rejectedReferrals,
    held_cents: f.heldCents,
    approved_cents: f.approvedCents,
    rejected_cents: f.rejectedCents,
  };
}

/** /admin/review/: a page of the queue, and the notice left by the decision that led here. */
interface ReviewQuery extends PageQuery {
  notice?: string;
  decided?: string;
  already?: string;
}

const reviewQueueSchema = {
  querystring: querySchema({
    ...pageQueryProperties,
    notice: stringField,
    decided: stringField,
    already: stringField,
  }),
  response: {
    200: objectSchema({
      referrals: arrayOf(
        objectSchema({
          id: integerField,
          invitee: objectSchema({ id: integerField, username: stringField }),
          inviter: objectSchema({ id: integerField, username: stringField }),
          created_at: timeField,
          signals: arrayOf(stringField),
          signal_words: arrayOf(stringField),
          hold_until: nullable(timeField),
          pending_cents: integerField,
          inviter_referrals: objectSchema({
            approved: integerField,
            held: integerField,
            rejected: integerField,
          }),
          inviter_latest: arrayOf(
            objectSchema({
              referral_id: integerField,
              invitee: objectSchema({ id: integerField, username: stringField }),
              status: stringField,
            }),
          ),
        }),
      ),
      next_cursor: nullable(stringField),
    }),
  },
};

// The form's fields keep their own checks (checkReviewForm), with per-field messages.
const reviewDecisionSchema = {
  response: {
    200: objectSchema({ decided: arrayOf(integerField), already_decided: arrayOf(integerField) }),
  },
};

function heldReferralJson(r: HeldReferral) {
  return {
    id: r.id,
    invitee: { id: r.inviteeId, username: r.inviteeUsername },
    inviter: { id: r.inviterId, username: r.inviterUsername },
    created_at: isoTime(r.createdAt),
    signals: r.signals,
    signal_words: heldBecause(r),
    hold_until: r.holdUntil === null ? null : isoTime(r.holdUntil),
    pending_cents: r.pendingCents,
    inviter_referrals: r.inviterReferrals,
    inviter_latest: r.inviterLatest.map((other) => ({
      referral_id: other.referralId,
      invitee: { id: other.inviteeId, username: other.username },
      status: other.status,
    })),
  };
}

/** ?days=N (a preset; another number falls back to the default) or ?from=&to= (checked by parsePeriod). */
interface StatsQuery {
  days?: string;
  from?: string;
  to?: string;
}

const statsSchema = {
  querystring: querySchema({ days: stringField, from: stringField, to: stringField }),
  response: {
    200: objectSchema({
      from: stringField,
      to: stringField,
      days: arrayOf(
        objectSchema({
          day: stringField,
          signups: integerField,
          referred_signups: integerField,
          invitee_bonus_cents: integerField,
          inviter_reward_cents: integerField,
          ...referralFiguresFields,
          link_opens: integerField,
          conversion: nullable(numberField),
        }),
      ),
      signups: integerField,
      referred_signups: integerField,
      referred_share: nullable(numberField),
      rewards_paid_cents: integerField,
      adjustments_net_cents: integerField,
      users_at_start: integerField,
      ...referralFiguresFields,
      k_factor: nullable(numberField),
      link_opens: integerField,
      conversion: nullable(numberField),
      top_referrers: arrayOf(
        objectSchema({
          id: integerField,
          username: stringField,
          referred_in_period: integerField,
          referred_count: integerField,
          link_opens_in_period: integerField,
          conversion: nullable(numberField),
        }),
      ),
    }),
  },
};

export async function adminRoutes(pages: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { db } = deps;

  /** What every staff page is drawn with, the number of held referrals for the navigation among it. */
  async function frameOf(request: UserRequest): Promise<AdminFrame> {
    return { staff: request.user, csrfToken: request.csrfToken, heldCount: await countHeld(db) };
  }

  await pages.register(
    async (admin) => {
      staffOnly(admin);
      adminOutboxRoutes(admin, deps, frameOf);
      adminApiKeyRoutes(admin, deps, frameOf);
      adminWebhookRoutes(admin, deps, frameOf);

      async function renderHome(
        request: UserRequest,
        reply: FastifyReply,
        query: PageQuery & { notice?: string },
        extra: { creditUse?: { text: string; errors: string[] }; status?: number } = {},
      ) {
        const page = pageRequest(query, AUDIT_PER_PAGE);
        const audit = await listAudit(db, page);
        if (wantsJson(request)) {
          return reply.send({ audit: auditJson(audit.items), next_cursor: audit.nextCursor });
        }
        return sendPage(
          reply,
          adminHomePage({
            ...(await frameOf(request)),
            audit: audit.items,
            nextPage: nextPageUrl("/admin/", audit.nextCursor, { limit: query.limit }),
            firstPage: page.cursor === null,
            creditUse: extra.creditUse ?? { text: await creditUseText(db), errors: [] },
            notice: query.notice === "credit-text" ? "The text about credit is saved." : null,
          }),
          extra.status ?? 200,
        );
      }

      admin.get("/", {
        schema: {
          ...auditLogSchema,
          querystring: querySchema({ ...pageQueryProperties, notice: stringField }),
        },
        ...forStaff<{ Querystring: PageQuery & { notice?: string } }>(async (request, reply) =>
          renderHome(request, reply, request.query),
        ),
      });

      admin.post("/settings/credit-text/", {
        schema: { response: { 200: objectSchema({ text: stringField }) } },
        ...forStaff(async (request, reply) => {
          const input = (request.body ?? {}) as Record<string, unknown>;
          try {
            const text = checkCreditUseText(input.text);
            await setCreditUseText(db, request.user.id, text);
            request.log.info({ staffId: request.user.id }, "credit text changed");
            if (wantsJson(request)) return reply.send({ text });
            return reply.redirect("/admin/?notice=credit-text", 303);
          } catch (error) {
            if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
            const text = typeof input.text === "string" ? input.text : "";
            return renderHome(
              request,
              reply,
              {},
              {
                creditUse: { text, errors: error.fields.text ?? [] },
                status: 400,
              },
            );
          }
        }),
      });

      async function renderReview(
        request: UserRequest,
        reply: FastifyReply,
        query: ReviewQuery,
        extra: { form?: ReviewFormState; status?: number } = {},
      ) {
        const page = pageRequest(query, REVIEW_PER_PAGE);
        const held = await listHeld(db, page);
        if (wantsJson(request)) {
          return reply.send({ referrals: held.items.map(heldReferralJson), next_cursor: held.nextCursor });
        }
        return sendPage(
          reply,
          reviewPage({
            ...(await frameOf(request)),
            referrals: held.items,
            cursor: page.cursor,
            nextPage: nextPageUrl("/admin/review/", held.nextCursor, { limit: query.limit }),
            firstPage: page.cursor === null,
            notice: reviewNotice(query),
            ...extra,
          }),
          extra.status ?? 200,
        );
      }

      admin.get("/review/", {
        schema: reviewQueueSchema,
        ...forStaff<{ Querystring: ReviewQuery }>(async (request, reply) =>
          renderReview(request, reply, request.query),
        ),
      });

      admin.post("/review/", {
        schema: reviewDecisionSchema,
        ...forStaff(async (request, reply) => {
          const staff = request.user;
          const input = (request.body ?? {}) as Record<string, unknown>;
          let form: ReturnType<typeof checkReviewForm>;
          let outcome: Awaited<ReturnType<typeof decideReferrals>>;
          try {
            form = checkReviewForm(input);
            outcome = await decideReferrals(deps.useCases, staff.id, form, (decision) =>
              deps.events.referralDecided({
                status: decision.status,
                by: "staff",
                amountCents: decision.amountCents,
                inviterRewardCents: decision.inviterRewardCents,
              }),
            );
          } catch (error) {
            if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
            const text = (name: string) => (typeof input[name] === "string" ? (input[name] as string) : "");
            const ids = Array.isArray(input.ids) ? input.ids.map(String) : [];
            // The same page of the queue again, with what was ticked and typed.
            const cursor = text("cursor");
            return renderReview(request, reply, /^[1-9][0-9]{0,14}$/.test(cursor) ? { cursor } : {}, {
              form: { ids, reason: text("reason"), note: text("note"), errors: error.fields },
              status: 400,
            });
          }
          request.log.info(
            {
              staffId: staff.id,
              action: form.action,
              decided: outcome.decided.length,
              alreadyDecided: outcome.alreadyDecided.length,
            },
            "referrals reviewed",
          );
          if (wantsJson(request)) {
            return reply.send({ decided: outcome.decided, already_decided: outcome.alreadyDecided });
          }
          const params = new URLSearchParams({
            notice: form.action === "approve" ? "approved" : "rejected",
            decided: String(outcome.decided.length),
            already: String(outcome.alreadyDecided.length),
          });
          return reply.redirect(`/admin/review/?${params}`, 303);
        }),
      });

      admin.get("/users/", {
        schema: usersSchema,
        ...forStaff<{ Querystring: UsersQuery }>(async (request, reply) => {
          const query = parseUserListQuery(request.query);
          const page = pageRequest(request.query, USERS_PER_PAGE);
          const users = await listUsers(db, query, page);
          if (wantsJson(request)) {
            return reply.send({ users: users.items.map(userJson), next_cursor: users.nextCursor });
          }
          return sendPage(
            reply,
            usersPage({
              ...(await frameOf(request)),
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
      });

      async function renderUser(
        request: UserRequest,
        reply: FastifyReply,
        userId: number,
        query: UserPageQuery,
        extra: {
          adjust?: AdjustFormState;
          statusErrors?: string[];
          emailErrors?: string[];
          status?: number;
        } = {},
      ) {
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
              status: l.status,
              amount_cents: l.amountCents,
              capped_cents: l.cappedCents,
              reason: l.reason,
              staff_note: l.staffNote,
              created_by: l.createdByUsername,
              signup_username: l.signupUsername,
              referral_count: l.referralCount,
              created_at: isoTime(l.createdAt),
            })),
            next_cursor: detail.ledger.nextCursor,
            referral_link: referralLink(siteOrigin(request, deps.config.publicOrigin), detail.referralToken),
            invitees: detail.invitees.map((i) => ({
              id: i.id,
              username: i.username,
              joined_at: isoTime(i.createdAt),
              is_active: i.isActive,
            })),
            invitee_count: detail.inviteeCount,
            sessions: detail.sessions.map((s) => ({
              id: s.id,
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
            ...(await frameOf(request)),
            detail,
            audit,
            referralLink: referralLink(siteOrigin(request, deps.config.publicOrigin), detail.referralToken),
            notice,
            olderLedger,
            firstLedgerPage: page.cursor === null,
            ...extra,
          }),
          extra.status ?? 200,
        );
      }

      admin.get("/users/:id/", {
        schema: userPageSchema,
        ...forStaff<{ Params: IdParams; Querystring: UserPageQuery }>(async (request, reply) =>
          renderUser(request, reply, Number(request.params.id), request.query),
        ),
      });

      admin.post("/users/:id/adjust/", {
        schema: adjustSchema,
        ...forStaff<{ Params: IdParams }>(async (request, reply) => {
          const staff = request.user;
          const userId = Number(request.params.id);
          const input = (request.body ?? {}) as Record<string, unknown>;
          try {
            const form = checkAdjustmentForm(input);
            const result = await adjustBalance(db, staff.id, userId, form, deps.useCases.webhooks);
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
                  note: text("note"),
                  errors: error.fields,
                },
                status: 400,
              },
            );
          }
        }),
      });

      for (const [path, active] of [
        ["/users/:id/deactivate/", false],
        ["/users/:id/reactivate/", true],
      ] as const) {
        admin.post(path, {
          schema: statusSchema,
          ...forStaff<{ Params: IdParams }>(async (request, reply) => {
            const staff = request.user;
            const userId = Number(request.params.id);
            // A person deactivates from the confirmation page; a form without its answer shows that page.
            if (!active && !wantsJson(request) && !confirmed(request)) {
              return renderConfirmation(request, reply, userId, "deactivate");
            }
            try {
              const change = await setUserActive(db, staff.id, userId, active, deps.useCases.webhooks);
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
        });
      }

      /** The confirmation page of an action on a user that is hard to undo. */
      async function renderConfirmation(
        request: UserRequest,
        reply: FastifyReply,
        userId: number,
        action: "deactivate" | "referral-link",
      ) {
        const user = await userSummary(db, userId);
        if (!user) return reply.callNotFound();
        const model =
          action === "deactivate"
            ? {
                question: `Deactivate ${user.username}?`,
                consequences: [
                  "They can no longer log in, and every session they have open ends now.",
                  "Their referral link stops paying: people can still sign up through it, without credit for anyone.",
                  "Their balance and history are kept. You can reactivate them later.",
                ],
                confirmLabel: "Deactivate",
              }
            : {
                question: `Give ${user.username} a new referral link?`,
                consequences: [
                  "Their current link stops working at once: people who open it are told it is not valid.",
                  "They will need to share the new link, shown on their dashboard.",
                  "Referrals already made through the old link are kept.",
                ],
                confirmLabel: "Make a new link",
              };
        return sendPage(
          reply,
          confirmPage(await frameOf(request), {
            user,
            ...model,
            action: `/admin/users/${userId}/${action}/`,
          }),
        );
      }

      admin.get("/users/:id/deactivate/", {
        schema: confirmSchema,
        ...forStaff<{ Params: IdParams }>(async (request, reply) => {
          if (wantsJson(request)) return reply.callNotFound();
          return renderConfirmation(request, reply, Number(request.params.id), "deactivate");
        }),
      });

      admin.post("/users/:id/sessions/end/", {
        schema: endSessionSchema,
        ...forStaff<{ Params: IdParams }>(async (request, reply) => {
          const staff = request.user;
          const userId = Number(request.params.id);
          const input = (request.body ?? {}) as Record<string, unknown>;
          if (wantsJson(request) && !isSessionPublicId(input.session)) {
            throw new ValidationError({
              session: [
                input.session === undefined || input.session === ""
                  ? "This field is required."
                  : "Enter a session id from the user's page.",
              ],
            });
          }
          try {
            const outcome = await endUserSession(db, staff.id, userId, String(input.session ?? ""));
            request.log.info({ staffId: staff.id, userId, ended: outcome.ended }, "session ended by staff");
            if (wantsJson(request)) return reply.send({ ended: outcome.ended });
            const notice = outcome.ended ? "session-ended" : "session-gone";
            return reply.redirect(`/admin/users/${userId}/?notice=${notice}#sessions-heading`, 303);
          } catch (error) {
            if (error instanceof UserNotFound) return reply.callNotFound();
            throw error;
          }
        }),
      });

      admin.get("/users/:id/referral-link/", {
        schema: confirmSchema,
        ...forStaff<{ Params: IdParams }>(async (request, reply) => {
          if (wantsJson(request)) return reply.callNotFound();
          return renderConfirmation(request, reply, Number(request.params.id), "referral-link");
        }),
      });

      admin.post("/users/:id/referral-link/", {
        schema: referralLinkSchema,
        ...forStaff<{ Params: IdParams }>(async (request, reply) => {
          const staff = request.user;
          const userId = Number(request.params.id);
          if (!wantsJson(request) && !confirmed(request)) {
            return renderConfirmation(request, reply, userId, "referral-link");
          }
          try {
            const { referralToken } = await regenerateReferralLink(db, staff.id, userId);
            request.log.info({ staffId: staff.id, userId }, "referral link regenerated");
            if (wantsJson(request)) {
              return reply.send({
                referral_link: referralLink(siteOrigin(request, deps.config.publicOrigin), referralToken),
              });
            }
            return reply.redirect(`/admin/users/${userId}/?notice=link-regenerated`, 303);
          } catch (error) {
            if (error instanceof UserNotFound) return reply.callNotFound();
            throw error;
          }
        }),
      });

      admin.post("/users/:id/email/resend/", {
        schema: resendSchema,
        ...forStaff<{ Params: IdParams }>(async (request, reply) => {
          const staff = request.user;
          const userId = Number(request.params.id);
          try {
            const origin = siteOrigin(request, deps.config.publicOrigin);
            const { address } = await resendVerification(deps.useCases, staff.id, userId, origin);
            request.log.info({ staffId: staff.id, userId }, "verification link sent again by staff");
            if (wantsJson(request)) return reply.send({ email_pending: address });
            return reply.redirect(`/admin/users/${userId}/?notice=verification-resent#email-box`, 303);
          } catch (error) {
            if (error instanceof UserNotFound) return reply.callNotFound();
            if (error instanceof Throttled) deps.events.throttled("email");
            if (wantsJson(request)) throw error;
            if (error instanceof Throttled) {
              reply.header("retry-after", String(error.retryAfterSeconds));
              return renderUser(request, reply, userId, {}, { emailErrors: [resendThrottled], status: 429 });
            }
            if (!(error instanceof ValidationError)) throw error;
            return renderUser(
              request,
              reply,
              userId,
              {},
              { emailErrors: error.fields.__all__ ?? [], status: 400 },
            );
          }
        }),
      });

      admin.get("/stats/", {
        schema: statsSchema,
        ...forStaff<{ Querystring: StatsQuery }>(async (request, reply) => {
          const query = request.query;
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
                ...referralFiguresJson(d),
                link_opens: d.linkOpens,
                conversion: d.conversion,
              })),
              signups: stats.totals.signups,
              referred_signups: stats.totals.referredSignups,
              referred_share: stats.referredShare,
              rewards_paid_cents: stats.totals.rewardsPaidCents,
              adjustments_net_cents: stats.totals.adjustmentsNetCents,
              users_at_start: stats.totals.usersAtStart,
              ...referralFiguresJson(stats.totals),
              k_factor: stats.kFactor,
              link_opens: stats.totals.linkOpens,
              conversion: stats.conversion,
              top_referrers: stats.topReferrers.map((r) => ({
                id: r.id,
                username: r.username,
                referred_in_period: r.referredInPeriod,
                referred_count: r.referredCount,
                link_opens_in_period: r.linkOpensInPeriod,
                conversion: r.conversion,
              })),
            });
          }
          return sendPage(reply, statsPage({ ...(await frameOf(request)), stats, error }), error ? 400 : 200);
        }),
      });

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
