// The account's email address: /email/ shows it and sends a link to a new one (logged in), and
// /email/verify/?token= is where the link leads: a page with a Confirm button (GET changes nothing,
// so a link scanner that fetches it verifies nothing), and the POST that confirms.
import type { FastifyInstance, FastifyReply } from "fastify";
import { messages } from "../../accounts/messages.js";
import type { SessionUser } from "../../accounts/sessions.js";
import { parseEmail } from "../../email/address.js";
import { confirmVerification, inspectVerification, requestVerification } from "../../email/verification.js";
import { emailStateOf } from "../../email/verification-store.js";
import { Throttled, ValidationError } from "../../errors.js";
import type { RouteDeps } from "../app-deps.js";
import { forUser, type UserRequest } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { sendPage, siteOrigin } from "../respond.js";
import {
  booleanField,
  lenientTextField,
  nullable,
  objectSchema,
  querySchema,
  stringField,
} from "../schemas.js";
import { emailPage, emailSection, verifyPage } from "../views/address-pages.js";

/** What GET / and GET /email/ say about the addresses, from the session's row. */
export const emailStateFields = {
  email: nullable(stringField),
  email_verified: booleanField,
  email_pending: nullable(stringField),
};

/**
 * `email` is the verified address or, when there is none, the one waiting for confirmation;
 * `email_verified` says which; `email_pending` is the one waiting (a change keeps the verified one).
 */
export function emailStateJson(user: Pick<SessionUser, "email" | "pendingEmail">) {
  return {
    email: user.email ?? user.pendingEmail,
    email_verified: user.email !== null,
    email_pending: user.pendingEmail,
  };
}

export const invalidLinkMessage =
  "This link does not work: it was used already, has expired, or a newer message replaced it.";

const tokenQuery = querySchema({ token: lenientTextField });

function tokenOf(value: unknown): string {
  return typeof value === "string" ? value : "";
}

export function emailAddressRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const useCases = deps.useCases;

  const showAddressPage = async (
    request: UserRequest,
    reply: FastifyReply,
    status: number,
    extra: { sent?: boolean; typed?: string; errors?: string[]; throttledSeconds?: number },
  ) => {
    const user = request.user;
    const state = user.pendingEmail === null ? null : await emailStateOf(deps.db, user.id);
    // After a change in this request the session's row is older than the database's.
    const fresh = state ? { email: state.email, pendingEmail: state.pendingEmail } : user;
    return sendPage(
      reply,
      emailPage({
        csrfToken: request.csrfToken,
        user,
        section: emailSection(fresh, state, useCases.clock()),
        ...extra,
      }),
      status,
    );
  };

  app.get("/email/", {
    schema: {
      querystring: querySchema({ sent: lenientTextField }),
      response: { 200: objectSchema(emailStateFields) },
    },
    ...forUser(async (request, reply) => {
      if (wantsJson(request)) return reply.send(emailStateJson(request.user));
      const sent = (request.query as { sent?: unknown }).sent === "1";
      return showAddressPage(request, reply, 200, { sent });
    }),
  });

  app.post("/email/", {
    schema: { response: { 200: objectSchema(emailStateFields) } },
    ...forUser(async (request, reply) => {
      const input = (request.body ?? {}) as Record<string, unknown>;
      const typed = typeof input.email === "string" ? input.email : "";
      try {
        const parsed = typed.trim() === "" ? { error: messages.required } : parseEmail(typed);
        if ("error" in parsed) throw new ValidationError({ email: [parsed.error] });
        const user = request.user;
        await requestVerification(useCases, user, parsed, siteOrigin(request, deps.config.publicOrigin));
        request.log.info({ userId: user.id }, "verification link sent");
        if (wantsJson(request)) {
          return reply.send(emailStateJson({ email: user.email, pendingEmail: parsed.address }));
        }
        return reply.redirect("/email/?sent=1", 303);
      } catch (error) {
        if (error instanceof Throttled) deps.events.throttled("email");
        if (wantsJson(request)) throw error;
        if (error instanceof Throttled) {
          reply.header("retry-after", String(error.retryAfterSeconds));
          return showAddressPage(request, reply, 429, { typed, throttledSeconds: error.retryAfterSeconds });
        }
        if (!(error instanceof ValidationError)) throw error;
        return showAddressPage(request, reply, 400, { typed, errors: error.fields.email ?? [] });
      }
    }),
  });

  app.get("/email/verify/", {
    schema: {
      querystring: tokenQuery,
      response: {
        200: {
          type: "object",
          properties: { valid: booleanField, email: stringField },
          required: ["valid"],
          additionalProperties: false,
        },
      },
    },
    handler: async (request, reply) => {
      const token = tokenOf((request.query as { token?: unknown }).token);
      const link = await inspectVerification(useCases, token);
      if (wantsJson(request)) {
        return reply.send(link.status === "valid" ? { valid: true, email: link.email } : { valid: false });
      }
      return sendPage(
        reply,
        verifyPage({ csrfToken: request.csrfToken, token, link, user: request.user }),
        link.status === "valid" || link.status === "confirmed" ? 200 : 404,
      );
    },
  });

  app.post("/email/verify/", {
    schema: { response: { 200: objectSchema({ email: stringField }) } },
    handler: async (request, reply) => {
      const token = tokenOf(((request.body ?? {}) as Record<string, unknown>).token);
      const link = await confirmVerification(useCases, token);
      const now = link.status === "confirmed" && !link.before;
      if (now) request.log.info("email address verified");
      if (wantsJson(request)) {
        // A link works once: used again, it is refused, though its address stays confirmed.
        if (now) return reply.send({ email: link.email });
        throw new ValidationError(
          link.status === "taken" ? { email: [messages.emailTaken] } : { token: [invalidLinkMessage] },
        );
      }
      return sendPage(
        reply,
        verifyPage({ csrfToken: request.csrfToken, token, link, user: request.user }),
        link.status === "confirmed" ? 200 : 400,
      );
    },
  });
}
