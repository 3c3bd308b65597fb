// /logout/ (GET or POST): ends the session. /logout/everywhere/ ends every session of the user.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { forUser } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { sendPage } from "../respond.js";
import { integerField, objectSchema } from "../schemas.js";
import { loggedOutPage } from "../views/auth-pages.js";

const loggedOutSchema = { response: { 200: objectSchema({}) } };
const everywhereSchema = { response: { 200: objectSchema({ sessions_ended: integerField }) } };

export function logoutRoutes(app: FastifyInstance): void {
  const logOut = async (request: FastifyRequest, reply: FastifyReply) => {
    await reply.logOut();
    if (wantsJson(request)) return reply.send({});
    return sendPage(reply, loggedOutPage(request.csrfToken));
  };
  app.get("/logout/", { schema: loggedOutSchema }, logOut);
  app.post("/logout/", { schema: loggedOutSchema }, logOut);

  app.post("/logout/everywhere/", {
    schema: everywhereSchema,
    ...forUser(async (request, reply) => {
      const ended = await reply.logOutEverywhere();
      if (wantsJson(request)) return reply.send({ sessions_ended: ended });
      return sendPage(reply, loggedOutPage(request.csrfToken, ended));
    }),
  });
}
