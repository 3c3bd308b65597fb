// Sessions for HTTP: reads the `sessionid` cookie, loads the user in one query, and gives routes
// startSession / logOut. The cookie is HttpOnly, SameSite=Lax, Secure over HTTPS, and lives two weeks.
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_SECONDS, deviceIdHashOf } from "../../accounts/devices.js";
import type { LoginClient } from "../../accounts/login.js";
import {
  deleteSession,
  deleteUserSessions,
  type LoadedSession,
  loadSession,
  type SessionPolicy,
  type SessionUser,
  sessionIdHashOf,
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
    /** Sets the cookie of a session the sign-up or login has just written (and a new device cookie). */
    startSession(id: string, newDeviceId: string | null): void;
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

  app.decorateReply("startSession", function (this: FastifyReply, id: string, newDeviceId: string | null) {
    if (newDeviceId !== null) {
      this.setCookie(DEVICE_COOKIE, newDeviceId, {
        path: "/",
        httpOnly: true,
        sameSite: "lax",
        secure: isSecureRequest(this.request),
        maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS,
      });
    }
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
    lookedUp.add(request);
    if (!id) return;
    request.session = await loadSession(db, id, policy);
    request.user = request.session?.user ?? null;
  });
});

/** The requests whose session this plugin has read (their `user` is then the answer). */
const lookedUp = new WeakSet<FastifyRequest>();

/**
 * Who is logged in, for a page drawn outside the routes: an error page for a request that failed
 * before the session was read (a refused CSRF token, a malformed id in the path) or that reached no
 * route at all (an unknown address: the not-found handler runs outside the pages' scope). The
 * session is read only then, and only when the request has a session cookie.
 */
export async function userForPage(
  request: FastifyRequest,
  db: Database,
  policy: SessionPolicy,
): Promise<SessionUser | null> {
  if (lookedUp.has(request)) return request.user ?? null;
  const id = request.cookies?.[SESSION_COOKIE];
  if (!id) return null;
  return (await loadSession(db, id, policy))?.user ?? null;
}

/** Who is asking, as the sign-up and login use cases need it: address, browser, its cookies. */
export function clientOf(request: FastifyRequest): LoginClient {
  return {
    address: request.ip,
    userAgent: request.headers["user-agent"],
    sessionIdHash: sessionIdHashOf(request.cookies[SESSION_COOKIE]),
    deviceIdHash: deviceIdHashOf(request.cookies[DEVICE_COOKIE]),
  };
}

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
