// /password/forgot/ (a link by email) and /password/reset/?token= (a new password through it).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { FormInput } from "../../accounts/forms.js";
import { messages } from "../../accounts/messages.js";
import { inspectReset, requestPasswordReset, resetPassword } from "../../accounts/password-reset.js";
import { parseEmail } from "../../email/address.js";
import { type FieldErrors, ValidationError } from "../../errors.js";
import type { RouteDeps } from "../app-deps.js";
import { wantsJson } from "../negotiation.js";
import { clientOf } from "../plugins/session.js";
import { sendPage, siteOrigin } from "../respond.js";
import { booleanField, lenientTextField, objectSchema, querySchema, stringField } from "../schemas.js";
import { forgotPage, forgotSentPage, resetInvalidPage, resetPage } from "../views/password-pages.js";

export const invalidResetMessage = "This password reset link was used already or has expired.";

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function menuUser(request: FastifyRequest) {
  return request.user ? { username: request.user.username, isStaff: request.user.isStaff } : null;
}

export function passwordResetRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const useCases = deps.useCases;

  app.get("/password/forgot/", {
    schema: { response: { 200: objectSchema({}) } },
    handler: async (request, reply) => {
      if (wantsJson(request)) return reply.send({});
      return sendPage(reply, forgotPage({ csrfToken: request.csrfToken, user: menuUser(request) }));
    },
  });

  app.post("/password/forgot/", {
    schema: { response: { 200: objectSchema({}) } },
    handler: async (request, reply) => {
      const typed = text(((request.body ?? {}) as FormInput).email);
      const parsed = typed.trim() === "" ? { error: messages.required } : parseEmail(typed);
      if ("error" in parsed) {
        if (wantsJson(request)) throw new ValidationError({ email: [parsed.error] });
        const page = forgotPage({
          csrfToken: request.csrfToken,
          user: menuUser(request),
          email: typed,
          errors: { email: [parsed.error] },
        });
        return sendPage(reply, page, 400);
      }
      const sent = await requestPasswordReset(
        useCases,
        parsed,
        siteOrigin(request, deps.config.publicOrigin),
      );
      // Operators may see whether a link went out; the person is told the same either way.
      request.log.info({ sent }, "password reset asked for");
      if (wantsJson(request)) return reply.send({});
      return sendPage(
        reply,
        forgotSentPage({ csrfToken: request.csrfToken, user: menuUser(request), email: parsed.address }),
      );
    },
  });

  app.get("/password/reset/", {
    schema: {
      querystring: querySchema({ token: lenientTextField }),
      response: {
        200: {
          type: "object",
          properties: { valid: booleanField, username: stringField },
          required: ["valid"],
          additionalProperties: false,
        },
      },
    },
    handler: async (request, reply) => {
      const token = text((request.query as { token?: unknown }).token);
      const link = await inspectReset(useCases, token);
      if (wantsJson(request)) {
        return reply.send(
          link.status === "valid" ? { valid: true, username: link.username } : { valid: false },
        );
      }
      if (link.status === "invalid") {
        return sendPage(
          reply,
          resetInvalidPage({ csrfToken: request.csrfToken, user: menuUser(request) }),
          404,
        );
      }
      return sendPage(
        reply,
        resetPage({ csrfToken: request.csrfToken, user: menuUser(request), token, username: link.username }),
      );
    },
  });

  app.post("/password/reset/", {
    schema: { response: { 200: objectSchema({}) } },
    handler: async (request, reply) => {
      const input = (request.body ?? {}) as FormInput;
      const token = text(input.token);
      const json = wantsJson(request);
      const refuse = (status: number, errors?: FieldErrors, username?: string): FastifyReply => {
        const page =
          username === undefined
            ? resetInvalidPage({ csrfToken: request.csrfToken, user: menuUser(request) })
            : resetPage({ csrfToken: request.csrfToken, user: menuUser(request), token, username, errors });
        return sendPage(reply, page, status);
      };
      try {
        const outcome = await resetPassword(
          useCases,
          { token, input, layout: json ? "django" : "page" },
          clientOf(request),
        );
        if (outcome.status === "invalid") {
          if (json) throw new ValidationError({ token: [invalidResetMessage] });
          return refuse(400);
        }
        reply.startSession(outcome.sessionId, outcome.newDeviceId);
        reply.rotateCsrfToken();
        request.log.info({ sessionsEnded: outcome.sessionsEnded }, "password reset");
        if (json) return reply.send({});
        return reply.redirect("/", 302);
      } catch (error) {
        if (!(error instanceof ValidationError) || json) throw error;
        const link = await inspectReset(useCases, token);
        if (link.status === "invalid") return refuse(400);
        return refuse(400, error.fields, link.username);
      }
    },
  });
}
