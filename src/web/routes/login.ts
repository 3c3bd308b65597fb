// /login/: the form, and logging in. A successful login starts a new session and a new CSRF token.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { FormInput } from "../../accounts/forms.js";
import { authenticate } from "../../accounts/login.js";
import { ValidationError } from "../../errors.js";
import type { RouteDeps } from "../app-deps.js";
import { wantsJson } from "../negotiation.js";
import { sendPage } from "../respond.js";
import { safeNextPath } from "../safe-redirect.js";
import { loginPage } from "../views/auth-pages.js";

function nextOf(request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown>;
  const body = (request.body ?? {}) as FormInput;
  return safeNextPath(typeof query.next === "string" ? query.next : body.next);
}

export function loginRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get("/login/", async (request, reply) => {
    if (wantsJson(request)) return reply.send({});
    return sendPage(reply, loginPage({ csrfToken: request.csrfToken, next: nextOf(request) }));
  });

  app.post("/login/", async (request, reply) => {
    const input = (request.body ?? {}) as FormInput;
    const username = typeof input.username === "string" ? input.username : "";
    try {
      // The login limits are read by the user lookup itself, before the password is verified.
      const { user, verdict } = await authenticate(
        deps.db,
        input,
        deps.throttle.loginAllowed(username, request.ip),
      );
      if (verdict?.usernameHasFailures) await deps.throttle.loginSucceeded(username);
      await reply.logIn(user.id);
      reply.rotateCsrfToken();
      request.log.info({ userId: user.id }, "logged in");
      if (wantsJson(request)) return reply.send({});
      return reply.redirect(nextOf(request) ?? "/", 302);
    } catch (error) {
      if (error instanceof ValidationError && error.fields.__all__) {
        await deps.throttle.loginFailed(username, request.ip);
        deps.events?.loginFailed();
      }
      if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
      return sendPage(
        reply,
        loginPage({ csrfToken: request.csrfToken, next: nextOf(request), username, errors: error.fields }),
        400,
      );
    }
  });
}
