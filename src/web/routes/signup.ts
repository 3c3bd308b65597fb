// /signup/?ref=TOKEN: the form, and the sign-up itself.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { checkSignupForm, type FormInput } from "../../accounts/forms.js";
import { creditUseText } from "../../admin/programme-text.js";
import { Throttled, ValidationError } from "../../errors.js";
import { LINK_OPENS_COOKIE, looksLikeVisitor, recordLinkOpen } from "../../referrals/link-opens.js";
import { refuseSignupForm, signUp } from "../../referrals/signup.js";
import { findInviterByToken } from "../../referrals/signup-store.js";
import { isWellFormedReferralToken } from "../../referrals/token.js";
import type { RouteDeps } from "../app-deps.js";
import { wantsJson } from "../negotiation.js";
import { isSecureRequest } from "../plugins/csrf.js";
import { clientOf } from "../plugins/session.js";
import { sendPage, siteOrigin } from "../respond.js";
import {
  booleanField,
  integerField,
  lenientTextField,
  objectSchema,
  querySchema,
  stringField,
} from "../schemas.js";
import { type SignupPageModel, signupPage } from "../views/auth-pages.js";
import { invitePreviewTags } from "../views/share.js";

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

type Inviter = NonNullable<Awaited<ReturnType<typeof findInviterByToken>>>;

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
    submitted: Pick<SignupPageModel, "username" | "email" | "errors" | "signedIn"> = {},
    looked?: { token: string | null; inviter: Inviter | null },
  ) => {
    const token = looked ? looked.token : referralTokenOf(request);
    const inviter = looked ? looked.inviter : token ? await findInviterByToken(db, token) : null;
    const page = signupPage({
      csrfToken: request.csrfToken,
      referralToken: inviter ? token : null,
      inviterUsername: inviter?.username ?? null,
      invalidLink: inviter === null && namesReferral(request),
      inviteeRewardCents: config.program.inviteeRewardCents,
      creditUse: await creditUseText(db),
      // A valid link previews nicely where it is pasted; an invalid or missing one has no preview.
      preview:
        inviter && token
          ? invitePreviewTags({
              origin: siteOrigin(request, config.publicOrigin),
              token,
              inviter: inviter.username,
              inviteeRewardCents: config.program.inviteeRewardCents,
            })
          : undefined,
      ...submitted,
    });
    return sendPage(reply, page, status);
  };

  /**
   * A valid link opened: counted once per browser per link per UTC day, the day's links kept in a
   * cookie of their own (src/referrals/link-opens.ts); the count reaches the database within seconds.
   */
  const noteOpen = (request: FastifyRequest, reply: FastifyReply, token: string, inviter: Inviter) => {
    const outcome = recordLinkOpen(deps.linkOpens, {
      token,
      inviterId: inviter.id,
      viewerId: request.user?.id ?? null,
      cookie: request.cookies[LINK_OPENS_COOKIE],
      visitor: looksLikeVisitor(request.headers, wantsJson(request)),
      now: deps.useCases.clock(),
    });
    if (!outcome.counted) return;
    deps.events.linkOpened();
    if (outcome.cookie) {
      // Path /signup: sent back only to the sign-up page (with or without its slash).
      reply.setCookie(LINK_OPENS_COOKIE, outcome.cookie.value, {
        path: "/signup",
        httpOnly: true,
        sameSite: "lax",
        secure: isSecureRequest(request),
        maxAge: outcome.cookie.maxAgeSeconds,
      });
    }
  };

  app.get("/signup/", { schema: signupFormSchema }, async (request, reply) => {
    const json = wantsJson(request);
    if (json && !namesReferral(request)) return reply.send({});
    const token = referralTokenOf(request);
    const inviter = token ? await findInviterByToken(db, token) : null;
    // A HEAD (Fastify answers it from this route) only asks about the page: no one opened it.
    if (token !== null && inviter !== null && request.method === "GET")
      noteOpen(request, reply, token, inviter);
    if (!json) {
      // Someone logged in followed a link: they are told they have an account already.
      const user = request.user;
      const signedIn =
        user && namesReferral(request)
          ? { username: user.username, isStaff: user.isStaff, ownLink: inviter?.id === user.id }
          : null;
      return showForm(request, reply, 200, { signedIn }, { token, inviter });
    }
    return reply.send({
      referral: inviter
        ? { valid: true, inviter: inviter.username, reward_cents: config.program.inviteeRewardCents }
        : { valid: false },
    });
  });

  app.post("/signup/", { schema: signupSchema }, async (request, reply) => {
    const input = (request.body ?? {}) as FormInput;
    // JSON clients get Django's errors exactly; people get the password's problems beside it.
    const form = checkSignupForm(input, wantsJson(request) ? "django" : "page");
    const client = clientOf(request);
    try {
      if (!form.value) return await refuseSignupForm(deps.useCases, form, client);
      const { email, ...account } = form.value;
      const result = await signUp(
        deps.useCases,
        {
          ...account,
          referralToken: referralTokenOf(request),
          email: email && { address: email, origin: siteOrigin(request, config.publicOrigin) },
        },
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
        email: typeof input.email === "string" ? input.email : "",
        errors: error.fields,
      });
    }
  });
}
