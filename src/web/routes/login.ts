// /login/: the form, and logging in. A successful login starts a new session and a new CSRF token.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { checkLoginForm, type FormInput } from "../../accounts/forms.js";
import { authenticate, refuseLoginForm } from "../../accounts/login.js";
import { inPageWords } from "../../accounts/messages.js";
import { Throttled, ValidationError } from "../../errors.js";
import type { RouteDeps } from "../app-deps.js";
import { wantsJson } from "../negotiation.js";
import { clientOf } from "../plugins/session.js";
import { sendPage } from "../respond.js";
import { safeNextPath } from "../safe-redirect.js";
import { lenientTextField, objectSchema, querySchema } from "../schemas.js";
import { type LoginPageModel, loginPage } from "../views/auth-pages.js";

function nextOf(request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown>;
  const body = (request.body ?? {}) as FormInput;
  return safeNextPath(typeof query.next === "string" ? query.next : body.next);
}

/** A `next` that is not a safe path is ignored, never an error. */
const loginSchema = {
  querystring: querySchema({ next: lenientTextField }),
  response: { 200: objectSchema({}) },
};

export function loginRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get("/login/", { schema: loginSchema }, async (request, reply) => {
    if (wantsJson(request)) return reply.send({});
    return sendPage(reply, loginPage({ csrfToken: request.csrfToken, next: nextOf(request) }));
  });

  app.post("/login/", { schema: loginSchema }, async (request, reply) => {
    const input = (request.body ?? {}) as FormInput;
    const form = checkLoginForm(input);
    const next = nextOf(request) ?? "/";
    try {
      if (!form.value) return await refuseLoginForm(deps.useCases, form, clientOf(request));
      const loggedIn = await authenticate(deps.useCases, form.value, clientOf(request));
      reply.startSession(loggedIn.sessionId, loggedIn.newDeviceId);
      reply.rotateCsrfToken();
      request.log.info({ userId: loggedIn.userId }, "logged in");
      if (wantsJson(request)) return reply.send({});
      return reply.redirect(next, 302);
    } catch (error) {
      if (error instanceof ValidationError && error.fields.__all__) deps.events.loginFailed();
      if (error instanceof Throttled) deps.events.throttled("login");
      const username = typeof input.username === "string" ? input.username : "";
      const formAgain = (extra: Partial<LoginPageModel>, status: number) =>
        sendPage(
          reply,
          loginPage({ csrfToken: request.csrfToken, next: nextOf(request), username, ...extra }),
          status,
        );
      if (error instanceof Throttled && !wantsJson(request)) {
        // The form again, with the name kept and when to try again, said once.
        reply.header("retry-after", String(error.retryAfterSeconds));
        return formAgain({ throttledSeconds: error.retryAfterSeconds }, 429);
      }
      if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
      return formAgain({ errors: inPageWords(error.fields) }, 400);
    }
  });
}
