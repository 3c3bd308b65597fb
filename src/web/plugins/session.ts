// Sessions for HTTP: reads the `sessionid` cookie, loads the user in one query, and gives routes
// logIn / logOut. The cookie is HttpOnly, SameSite=Lax, Secure over HTTPS, and lives two weeks.
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import {
  deleteSession,
  deleteUserSessions,
  endSessionWith,
  type LoadedSession,
  loadSession,
  newSession,
  type SessionPolicy,
  type SessionUser,
} from "../../accounts/sessions.js";
import type { Database } from "../../db/connection.js";
import { type DependentWrite, runDependentWrites } from "../../db/dependent-writes.js";
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
     * A new session and the writes that store it (and end the request's previous session), for the
     * statement that makes the user, so the session is committed with it. Call `adoptSession` with
     * the id once that statement has run.
     */
    newSession(): { id: string; writes: DependentWrite[] };
    /** Sets the cookie of a session written through newSession. */
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

  app.decorateReply("newSession", function (this: FastifyReply) {
    const request = this.request;
    const session = newSession(policy, {
      userAgent: request.headers["user-agent"],
      clientAddress: request.ip,
    });
    const previous = request.cookies[SESSION_COOKIE];
    return { id: session.id, writes: previous ? [endSessionWith(previous), session.write] : [session.write] };
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
    const session = this.newSession();
    await runDependentWrites(db, userId, session.writes);
    this.adoptSession(session.id);
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
