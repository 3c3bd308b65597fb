// /logout/ (GET or POST): ends the session. /logout/everywhere/ ends every session of the user.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { forUser } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { sendPage } from "../respond.js";
import { loggedOutPage } from "../views/auth-pages.js";

export function logoutRoutes(app: FastifyInstance): void {
  const logOut = async (request: FastifyRequest, reply: FastifyReply) => {
    await reply.logOut();
    if (wantsJson(request)) return reply.send({});
    return sendPage(reply, loggedOutPage(request.csrfToken));
  };
  app.get("/logout/", logOut);
  app.post("/logout/", logOut);

  app.post(
    "/logout/everywhere/",
    forUser(async (request, reply) => {
      const ended = await reply.logOutEverywhere();
      if (wantsJson(request)) return reply.send({ sessions_ended: ended });
      return sendPage(reply, loggedOutPage(request.csrfToken));
    }),
  );
}
