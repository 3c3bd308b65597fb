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
import type { Database, Queryable } from "../../db/connection.js";
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
    /**
     * Writes a new session for `userId` through `q` (the caller's transaction, so the session is
     * committed with whatever made the user) and ends the request's previous session there too.
     * Call `adoptSession` with the id once the transaction has committed.
     */
    startSessionIn(q: Queryable, userId: number): Promise<string>;
    /** Sets the cookie of a session written by startSessionIn. */
    adoptSession(id: string): void;
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

  app.decorateReply("startSessionIn", async function (this: FastifyReply, q: Queryable, userId: number) {
    const request = this.request;
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) await deleteSession(q, previous);
    return createSession(q, userId, policy, {
      userAgent: request.headers["user-agent"],
      clientAddress: request.ip,
    });
  });

  app.decorateReply("adoptSession", function (this: FastifyReply, id: string) {
    this.setCookie(SESSION_COOKIE, id, {
      path: "/",
      httpOnly: true,
      sameSite: "lax",
      secure: isSecureRequest(this.request),
      maxAge: policy.maxAgeSeconds,
    });
    this.request.session = null;
    this.request.user = null;
  });

  app.decorateReply("logIn", async function (this: FastifyReply, userId: number) {
    this.adoptSession(await this.startSessionIn(db, userId));
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
