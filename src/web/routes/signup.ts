// /signup/?ref=TOKEN: the form, and the sign-up itself.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { FormInput } from "../../accounts/forms.js";
import { ValidationError } from "../../errors.js";
import { findInviterByToken, signUp } from "../../referrals/signup.js";
import { isWellFormedReferralToken } from "../../referrals/token.js";
import type { RouteDeps } from "../app-deps.js";
import { wantsJson } from "../negotiation.js";
import { sendPage } from "../respond.js";
import { type SignupPageModel, signupPage } from "../views/auth-pages.js";

/** The token from the link (?ref=) or, after a failed submission, from the form. */
function referralTokenOf(request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown>;
  const body = (request.body ?? {}) as FormInput;
  const candidate = typeof query.ref === "string" && query.ref !== "" ? query.ref : body.ref;
  return isWellFormedReferralToken(candidate) ? candidate : null;
}

export function signupRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { db, config } = deps;

  /** The form; it names the inviter and keeps the token only when the token is an active user's. */
  const showForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    submitted: Pick<SignupPageModel, "username" | "errors"> = {},
  ) => {
    const token = referralTokenOf(request);
    const inviter = token ? await findInviterByToken(db, token) : null;
    const page = signupPage({
      csrfToken: request.csrfToken,
      referralToken: inviter ? token : null,
      inviterUsername: inviter?.username ?? null,
      inviteeRewardCents: config.program.inviteeRewardCents,
      ...submitted,
    });
    return sendPage(reply, page, status);
  };

  app.get("/signup/", async (request, reply) => {
    if (wantsJson(request)) return reply.send({});
    return showForm(request, reply, 200);
  });

  app.post("/signup/", async (request, reply) => {
    const input = (request.body ?? {}) as FormInput;
    const token = referralTokenOf(request);
    try {
      // The sign-up limit is read by the sign-up's own read before the hash. The first session and
      // the throttle count are written by its own statement: a committed account always comes with
      // the cookie that logs its owner in, and is counted.
      const session = reply.newSession();
      const result = await signUp(
        { db, program: config.program, hashPassword: deps.hashPassword },
        input,
        token,
        {
          check: deps.throttle.signupAllowed(request.ip),
          writes: [...session.writes, deps.throttle.signupCounted(request.ip)],
        },
      );
      reply.adoptSession(session.id);
      reply.rotateCsrfToken();
      request.log.info({ userId: result.userId, referred: result.inviterId !== null }, "signed up");
      deps.events?.signedUp(result);
      if (wantsJson(request)) return reply.send({});
      return reply.redirect("/", 302);
    } catch (error) {
      if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
      return showForm(request, reply, 400, {
        username: typeof input.username === "string" ? input.username : "",
        errors: error.fields,
      });
    }
  });
}
