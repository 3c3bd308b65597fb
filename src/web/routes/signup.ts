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
import {
  booleanField,
  integerField,
  lenientTextField,
  objectSchema,
  querySchema,
  stringField,
} from "../schemas.js";
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

/** The form in JSON mode: `{}`, or with ?ref= whether the link is valid, whose it is and what it gives. */
const signupFormSchema = {
  querystring: signupSchema.querystring,
  response: {
    200: {
      type: "object",
      properties: {
        referral: {
          type: "object",
          properties: { valid: booleanField, inviter: stringField, reward_cents: integerField },
          required: ["valid"],
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  },
};

/** Whether the request named a referral link at all (?ref= or the form's field), valid or not. */
function namesReferral(request: FastifyRequest): boolean {
  const query = request.query as Record<string, unknown>;
  const body = (request.body ?? {}) as FormInput;
  return (query.ref !== undefined && query.ref !== "") || (typeof body.ref === "string" && body.ref !== "");
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
      invalidLink: inviter === null && namesReferral(request),
      inviteeRewardCents: config.program.inviteeRewardCents,
      ...submitted,
    });
    return sendPage(reply, page, status);
  };

  app.get("/signup/", { schema: signupFormSchema }, async (request, reply) => {
    if (!wantsJson(request)) return showForm(request, reply, 200);
    if (!namesReferral(request)) return reply.send({});
    const token = referralTokenOf(request);
    const inviter = token ? await findInviterByToken(db, token) : null;
    return reply.send({
      referral: inviter
        ? { valid: true, inviter: inviter.username, reward_cents: config.program.inviteeRewardCents }
        : { valid: false },
    });
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
