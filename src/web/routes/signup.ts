// /signup/?ref=TOKEN: the form, and the sign-up itself.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { checkSignupForm, type FormInput } from "../../accounts/forms.js";
import { Throttled, ValidationError } from "../../errors.js";
import { refuseSignupForm, signUp } from "../../referrals/signup.js";
import { findInviterByToken } from "../../referrals/signup-store.js";
import { isWellFormedReferralToken } from "../../referrals/token.js";
import type { RouteDeps } from "../app-deps.js";
import { wantsJson } from "../negotiation.js";
import { clientOf } from "../plugins/session.js";
import { sendPage } from "../respond.js";
import { lenientTextField, objectSchema, querySchema } from "../schemas.js";
import { type SignupPageModel, signupPage } from "../views/auth-pages.js";

/** The token from the link (?ref=) or, after a failed submission, from the form. */
function referralTokenOf(request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown>;
  const body = (request.body ?? {}) as FormInput;
  const candidate = typeof query.ref === "string" && query.ref !== "" ? query.ref : body.ref;
  return isWellFormedReferralToken(candidate) ? candidate : null;
}

/** A referral token that is missing, malformed or repeated is ignored, never an error. */
const signupSchema = {
  querystring: querySchema({ ref: lenientTextField }),
  response: { 200: objectSchema({}) },
};

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

  app.get("/signup/", { schema: signupSchema }, async (request, reply) => {
    if (wantsJson(request)) return reply.send({});
    return showForm(request, reply, 200);
  });

  app.post("/signup/", { schema: signupSchema }, async (request, reply) => {
    const input = (request.body ?? {}) as FormInput;
    const form = checkSignupForm(input);
    const client = clientOf(request);
    try {
      if (!form.value) return await refuseSignupForm(deps.useCases, form, client);
      const result = await signUp(
        deps.useCases,
        { ...form.value, referralToken: referralTokenOf(request) },
        client,
      );
      reply.startSession(result.sessionId, result.newDeviceId);
      reply.rotateCsrfToken();
      request.log.info({ userId: result.userId, referred: result.inviterId !== null }, "signed up");
      deps.events.signedUp(result);
      if (wantsJson(request)) return reply.send({});
      return reply.redirect("/", 302);
    } catch (error) {
      if (error instanceof Throttled) deps.events.throttled("signup");
      if (!(error instanceof ValidationError) || wantsJson(request)) throw error;
      return showForm(request, reply, 400, {
        username: typeof input.username === "string" ? input.username : "",
        errors: error.fields,
      });
    }
  });
}
