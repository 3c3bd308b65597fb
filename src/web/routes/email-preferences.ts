// Notification settings (/email/preferences/, logged in) and one-click unsubscribe
// (/email/unsubscribe/?token=, no login: the signed token is the authority, RFC 8058).
import type { FastifyInstance } from "fastify";
import { type NotificationChoice, notificationChoiceLabels } from "../../email/messages.js";
import { type Preferences, preferencesOf, setPreferences, turnOff } from "../../email/preferences.js";
import { unsubscribeSigner } from "../../email/unsubscribe.js";
import type { RouteDeps } from "../app-deps.js";
import { forUser, type UserRequest } from "../guards.js";
import { wantsJson } from "../negotiation.js";
import { sendPage } from "../respond.js";
import { booleanField, lenientTextField, objectSchema, querySchema, stringField } from "../schemas.js";
import { badUnsubscribePage, preferencesPage, unsubscribePage } from "../views/email-pages.js";

const choices = Object.keys(notificationChoiceLabels) as NotificationChoice[];

/** A checkbox is on when sent ("on" from a form, true from JSON); absent is off. */
function wantedFrom(body: Record<string, unknown>): Preferences {
  const on = (value: unknown) => value === true || value === "on" || value === "true";
  return Object.fromEntries(choices.map((choice) => [choice, on(body[choice])])) as Preferences;
}

const preferencesJson = objectSchema(Object.fromEntries(choices.map((choice) => [choice, booleanField])));

export function preferencesRoutes(pages: FastifyInstance, deps: RouteDeps): void {
  const show = async (request: UserRequest) => {
    const found = await preferencesOf(deps.db, request.user.id);
    if (!found) throw new Error("the session's user has no row");
    const { email, username, ...preferences } = found;
    return { email, username, preferences };
  };

  pages.get("/email/preferences/", {
    schema: {
      response: {
        200: {
          ...preferencesJson,
          properties: { ...preferencesJson.properties, email: { type: ["string", "null"] } },
        },
      },
    },
    ...forUser(async (request, reply) => {
      const { email, preferences } = await show(request);
      if (wantsJson(request)) return reply.send({ ...preferences, email });
      return sendPage(
        reply,
        preferencesPage({
          csrfToken: request.csrfToken,
          username: request.user.username,
          isStaff: request.user.isStaff,
          email,
          preferences,
          saved: false,
        }),
      );
    }),
  });

  pages.post("/email/preferences/", {
    ...forUser(async (request, reply) => {
      const wanted = wantedFrom((request.body ?? {}) as Record<string, unknown>);
      await setPreferences(deps.db, request.user.id, wanted);
      if (wantsJson(request)) return reply.send(wanted);
      const { email } = await show(request);
      return sendPage(
        reply,
        preferencesPage({
          csrfToken: request.csrfToken,
          username: request.user.username,
          isStaff: request.user.isStaff,
          email,
          preferences: wanted,
          saved: true,
        }),
      );
    }),
  });
}

/**
 * Outside the pages' scope: a mail provider's one-click POST carries no cookie and no CSRF token,
 * and may send its body as multipart/form-data, which nothing else here accepts. The body is not
 * needed (the token in the address says everything), so it is read as text and dropped.
 */
export async function unsubscribeRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const signer = unsubscribeSigner(deps.db);
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      "multipart/form-data",
      { parseAs: "string", bodyLimit: 4096 },
      (_req, _body, done) => done(null, {}),
    );
    const schema = { querystring: querySchema({ token: lenientTextField }) };
    const tokenOf = (query: unknown) => {
      const token = (query as { token?: unknown }).token;
      return typeof token === "string" ? token : "";
    };

    scope.get("/email/unsubscribe/", { schema }, async (request, reply) => {
      const token = tokenOf(request.query);
      const named = await signer.verify(token);
      if (!named) return sendPage(reply, badUnsubscribePage(), 404);
      // A GET changes nothing: link checkers and previews fetch links. The button POSTs.
      const action = `/email/unsubscribe/?token=${encodeURIComponent(token)}`;
      return sendPage(reply, unsubscribePage({ choice: named.choice, done: false, action }));
    });

    scope.post(
      "/email/unsubscribe/",
      {
        schema: {
          ...schema,
          response: {
            200: objectSchema({ unsubscribed: stringField }),
            404: objectSchema({ detail: stringField }),
          },
        },
      },
      async (request, reply) => {
        const named = await signer.verify(tokenOf(request.query));
        const username = named ? await turnOff(deps.db, named.userId, named.choice) : null;
        if (!named || username === null) {
          if (wantsJson(request))
            return reply.code(404).send({ detail: "This unsubscribe link does not work." });
          return sendPage(reply, badUnsubscribePage(), 404);
        }
        request.log.info({ userId: named.userId, choice: named.choice }, "unsubscribed");
        if (wantsJson(request)) return reply.send({ unsubscribed: named.choice });
        return sendPage(reply, unsubscribePage({ choice: named.choice, done: true, action: "" }));
      },
    );
  });
}
