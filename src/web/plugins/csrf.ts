// CSRF protection as the earlier version's Django middleware: a `csrftoken` cookie readable by
// scripts, echoed on every unsafe request in the X-CSRFToken header or the csrfmiddlewaretoken field.
// Also refuses unsafe requests whose Origin (or, over HTTPS, Referer) names another site.
import { randomFillSync, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { CsrfFailed } from "../../errors.js";

export const CSRF_COOKIE = "csrftoken";
export const CSRF_HEADER = "x-csrftoken";
export const CSRF_FIELD = "csrfmiddlewaretoken";
const tokenPattern = /^[A-Za-z0-9_-]{32,64}$/;
const safeMethods = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const CSRF_COOKIE_MAX_AGE = 365 * 24 * 3600;

declare module "fastify" {
  interface FastifyRequest {
    /** The token to put in forms; the cookie carries the same value. */
    csrfToken: string;
  }
  interface FastifyReply {
    /** Issues a fresh token (at login), so a token planted before login is useless after it. */
    rotateCsrfToken(): string;
  }
}

const TOKEN_BYTES = 32;
/**
 * Random bytes drawn 128 tokens at a time, as crypto.randomUUID buffers its own: one system call for
 * many new visitors instead of one each (it was 7% of a link-open's time). Each token is used once.
 */
const randomPool = Buffer.alloc(TOKEN_BYTES * 128);
let poolOffset = randomPool.length;

export function newCsrfToken(): string {
  if (poolOffset === randomPool.length) {
    randomFillSync(randomPool);
    poolOffset = 0;
  }
  const token = randomPool.toString("base64url", poolOffset, poolOffset + TOKEN_BYTES);
  poolOffset += TOKEN_BYTES;
  return token;
}

export function tokensMatch(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  // timingSafeEqual needs equal lengths; comparing a with itself keeps the time the same either way.
  return a.length === b.length ? timingSafeEqual(a, b) : !timingSafeEqual(a, a);
}

export function isSecureRequest(request: FastifyRequest): boolean {
  return request.protocol === "https";
}

function setCsrfCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.setCookie(CSRF_COOKIE, token, {
    path: "/",
    sameSite: "lax",
    secure: isSecureRequest(request),
    httpOnly: false,
    maxAge: CSRF_COOKIE_MAX_AGE,
  });
}

function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`.toLowerCase();
}

/** Why an unsafe request must be refused, or null when it passes. */
export function csrfProblem(request: FastifyRequest, cookieToken: string | undefined): string | null {
  const origin = request.headers.origin;
  if (typeof origin === "string" && origin !== "") {
    if (origin.toLowerCase() !== ownOrigin(request)) return "Origin checking failed: another site's origin.";
  } else if (isSecureRequest(request)) {
    const referer = request.headers.referer;
    if (typeof referer === "string" && referer !== "") {
      let refererOrigin: string;
      try {
        refererOrigin = new URL(referer).origin.toLowerCase();
      } catch {
        return "Referer checking failed: malformed Referer.";
      }
      if (refererOrigin !== ownOrigin(request)) return "Referer checking failed: another site.";
    } else {
      // As Django over HTTPS: a browser always says where a form came from; only a forger would not.
      return "Referer checking failed - no Referer.";
    }
  }
  if (!cookieToken) return "CSRF cookie not set.";
  const header = request.headers[CSRF_HEADER];
  const body = request.body as Record<string, unknown> | undefined;
  const field = body && typeof body === "object" ? body[CSRF_FIELD] : undefined;
  const given = typeof header === "string" && header !== "" ? header : typeof field === "string" ? field : "";
  if (given === "") return "CSRF token missing.";
  if (!tokensMatch(cookieToken, given)) return "CSRF token incorrect.";
  return null;
}

/**
 * The token to put in a page's forms: the request's own, or, for a page drawn outside the pages'
 * scope (the not-found handler), the cookie's when it is well-formed.
 */
export function csrfTokenForPage(request: FastifyRequest): string {
  if (typeof request.csrfToken === "string" && request.csrfToken !== "") return request.csrfToken;
  const cookie = request.cookies?.[CSRF_COOKIE];
  return cookie && tokenPattern.test(cookie) ? cookie : "";
}

export const csrfPlugin = fp(async (app) => {
  app.decorateRequest("csrfToken", "");
  app.decorateReply("rotateCsrfToken", function (this: FastifyReply) {
    const token = newCsrfToken();
    this.request.csrfToken = token;
    setCsrfCookie(this.request, this, token);
    return token;
  });

  app.addHook("onRequest", async (request, reply) => {
    const cookie = request.cookies[CSRF_COOKIE];
    if (cookie && tokenPattern.test(cookie)) {
      request.csrfToken = cookie;
    } else {
      request.csrfToken = newCsrfToken();
      setCsrfCookie(request, reply, request.csrfToken);
    }
  });

  // preHandler runs after the body is parsed, so the form field can carry the token.
  app.addHook("preHandler", async (request) => {
    if (safeMethods.has(request.method)) return;
    const cookie = request.cookies[CSRF_COOKIE];
    const problem = csrfProblem(request, cookie && tokenPattern.test(cookie) ? cookie : undefined);
    if (problem) throw new CsrfFailed(problem);
  });
});
