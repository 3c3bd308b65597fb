// Sessions for HTTP: reads the `sessionid` cookie, loads the user in one query, and gives routes
// logIn / logOut. The cookie is HttpOnly, SameSite=Lax, Secure over HTTPS, and lives two weeks.
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import {
  createSession,
  deleteSession,
  deleteUserSessions,
  type LoadedSession,
  loadSession,
  type SessionPolicy,
  type SessionUser,
} from "../../accounts/sessions.js";
import type { Database } from "../../db/connection.js";
import { isSecureRequest } from "./csrf.js";

export const SESSION_COOKIE = "sessionid";

declare module "fastify" {
  interface FastifyRequest {
    session: LoadedSession | null;
    /** The logged-in user, or null. */
    user: SessionUser | null;
  }
  interface FastifyReply {
    /** Starts a new session (a new id, never the old one) and sets its cookie. */
    logIn(userId: number): Promise<void>;
    /** Ends this request's session and clears its cookie. */
    logOut(): Promise<void>;
    /** Ends every session of the logged-in user, on every device. */
    logOutEverywhere(): Promise<number>;
  }
}

export interface SessionPluginOptions {
  db: Database;
  policy: SessionPolicy;
}

export const sessionPlugin = fp<SessionPluginOptions>(async (app, { db, policy }) => {
  app.decorateRequest("session", null);
  app.decorateRequest("user", null);

  app.decorateReply("logIn", async function (this: FastifyReply, userId: number) {
    const request = this.request;
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) await deleteSession(db, previous);
    const id = await createSession(db, userId, policy, {
      userAgent: request.headers["user-agent"],
      clientAddress: request.ip,
    });
    this.setCookie(SESSION_COOKIE, id, {
      path: "/",
      httpOnly: true,
      sameSite: "lax",
      secure: isSecureRequest(request),
      maxAge: policy.maxAgeSeconds,
    });
    request.session = null;
    request.user = null;
  });

  app.decorateReply("logOut", async function (this: FastifyReply) {
    const id = this.request.cookies[SESSION_COOKIE];
    if (id) await deleteSession(db, id);
    clearSessionCookie(this.request, this);
  });

  app.decorateReply("logOutEverywhere", async function (this: FastifyReply) {
    const user = this.request.user;
    const ended = user ? await deleteUserSessions(db, user.id) : 0;
    clearSessionCookie(this.request, this);
    return ended;
  });

  app.addHook("preHandler", async (request) => {
    const id = request.cookies[SESSION_COOKIE];
    if (!id) return;
    request.session = await loadSession(db, id, policy);
    request.user = request.session?.user ?? null;
  });
});

function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure: isSecureRequest(request),
  });
  request.session = null;
  request.user = null;
}
