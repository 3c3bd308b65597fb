// GET /signup/card.png?ref=TOKEN: the picture a pasted referral link previews with (the sign-up
// page's og:image), "alice invited you / Get $10 when you join". Public and cacheable: the chat
// services' crawlers that fetch it have no session, and it sets no cookie, so it is registered
// outside the pages' scope (whose CSRF plugin would set a csrftoken cookie on a shared response).
// An unknown, malformed or deactivated user's token gets the programme's own card ("You're
// invited"), 200: a preview already pasted somewhere keeps a picture. So does a name that would have
// to be drawn while drawing is over its budget (src/web/share-card.ts), cached for a minute only.
import type { FastifyInstance } from "fastify";
import { findInviterByToken } from "../../referrals/signup-store.js";
import { isWellFormedReferralToken } from "../../referrals/token.js";
import type { RouteDeps } from "../app-deps.js";
import { lenientTextField, querySchema } from "../schemas.js";
import { createShareCards, type RenderedCard, type ShareCards } from "../share-card.js";

/** An hour in every cache; the ETag makes a revalidation cheap (304, nothing drawn). */
export const SHARE_CARD_CACHE_CONTROL = "public, max-age=3600";
/** The programme's card given in place of a named one while drawing is over its budget. */
export const SHARE_CARD_BUSY_CACHE_CONTROL = "public, max-age=60";

/** Whether If-None-Match names this ETag (a list, weak validators and * included, as RFC 9110 says). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}

export function shareImageRoutes(
  app: FastifyInstance,
  deps: RouteDeps,
  cards: ShareCards = createShareCards(),
): void {
  app.get(
    "/signup/card.png",
    { schema: { querystring: querySchema({ ref: lenientTextField }) } },
    async (request, reply) => {
      const { ref } = request.query as { ref?: unknown };
      const inviter = isWellFormedReferralToken(ref) ? await findInviterByToken(deps.db, ref) : null;
      const card = {
        inviter: inviter?.username ?? null,
        inviteeRewardCents: deps.config.program.inviteeRewardCents,
      };
      const { etag } = cards.describe(card);
      // Other sites may show it (helmet's default, same-origin, would have browsers refuse that).
      reply.header("cross-origin-resource-policy", "cross-origin");
      if (etagMatches(request.headers["if-none-match"], etag)) {
        return reply.code(304).header("cache-control", SHARE_CARD_CACHE_CONTROL).header("etag", etag).send();
      }
      const rendered = await cards.png(card);
      if (rendered) {
        reply.header("cache-control", SHARE_CARD_CACHE_CONTROL).header("etag", rendered.etag);
        return reply.type("image/png").send(rendered.png);
      }
      // Over the drawing budget (a flood of names): the programme's own card, for a minute only.
      const fallback = (await cards.png({ ...card, inviter: null })) as RenderedCard;
      reply.header("cache-control", SHARE_CARD_BUSY_CACHE_CONTROL).header("etag", fallback.etag);
      return reply.type("image/png").send(fallback.png);
    },
  );
}
