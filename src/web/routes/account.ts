// /account/delete/: a person deletes their own account after typing their password.
import type { FastifyInstance } from "fastify";
import { deleteOwnAccount } from "../../accounts/deletion.js";
import { Throttled, ValidationError } from "../../errors.js";
import type { RouteDeps } from "../app-deps.js";
import { forUser } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { clientOf } from "../plugins/session.js";
import { sendPage } from "../respond.js";
import { objectSchema } from "../schemas.js";
import { accountDeletedPage, deleteAccountPage } from "../views/account-pages.js";

const emptySchema = { response: { 200: objectSchema({}) } };

export function accountRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get("/account/delete/", {
    schema: emptySchema,
    ...forUser(async (request, reply) => {
      if (wantsJson(request)) return reply.send({});
      return sendPage(reply, deleteAccountPage({ csrfToken: request.csrfToken, user: request.user }));
    }),
  });

  app.post("/account/delete/", {
    schema: emptySchema,
    ...forUser(async (request, reply) => {
      const user = request.user;
      const input = (request.body ?? {}) as Record<string, unknown>;
      try {
        await deleteOwnAccount(deps.useCases, user, input.password, clientOf(request));
      } catch (error) {
        if (error instanceof Throttled) deps.events.throttled("login");
        if (wantsJson(request)) throw error;
        if (error instanceof Throttled) {
          reply.header("retry-after", String(error.retryAfterSeconds));
          return sendPage(
            reply,
            deleteAccountPage({ csrfToken: request.csrfToken, user, throttled: true }),
            429,
          );
        }
        if (!(error instanceof ValidationError)) throw error;
        return sendPage(
          reply,
          deleteAccountPage({ csrfToken: request.csrfToken, user, errors: error.fields.password ?? [] }),
          400,
        );
      }
      request.log.info({ userId: user.id }, "account deleted by its owner");
      // The sessions are gone with the account; this clears the browser's cookie.
      await reply.logOut();
      if (wantsJson(request)) return reply.send({});
      return sendPage(reply, accountDeletedPage(request.csrfToken));
    }),
  });
}
