// Every error kind becomes HTTP here, and only here: JSON in JSON mode, a page in HTML mode.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { SessionUser } from "../accounts/sessions.js";
import { isDatabaseUnavailable, summarizeError } from "../db/errors.js";
import { BadRequest, CsrfFailed, Forbidden, Throttled, Unauthorized, ValidationError } from "../errors.js";
import { waitWords } from "../format.js";
import { wantsJson } from "./negotiation.js";
import { csrfTokenForPage } from "./plugins/csrf.js";
import { loginRedirect, sendPage } from "./respond.js";
import { queryProblem } from "./schemas.js";
import { errorPage } from "./views/auth-pages.js";

const clientErrorTitles: Record<number, string> = {
  400: "Bad request",
  403: "Forbidden",
  404: "Page not found",
  405: "Method not allowed",
  413: "Request too large",
  415: "Unsupported content type",
  429: "Too many attempts",
  503: "Service unavailable",
};

export interface ErrorHandlingOptions {
  /** Called for each request answered 503 because the database is unreachable (metrics). */
  databaseUnavailable?: () => void;
  /**
   * Who is logged in, for an error page's menu (see userForPage): asked only for pages with a 4xx
   * status, never when the database may be the problem. Without it the menu is the logged-out one.
   */
  pageUser?: (request: FastifyRequest) => Promise<SessionUser | null>;
}

export function registerErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions = {}): void {
  async function sendError(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    code: string,
    message: string,
    pageMessage = message,
  ): Promise<FastifyReply> {
    if (wantsJson(request)) return reply.code(status).send({ error: code, message });
    const title = clientErrorTitles[status] ?? "Something went wrong";
    let user: SessionUser | null = null;
    if (status < 500 && options.pageUser) {
      // A menu is not worth failing the page for.
      user = await options.pageUser(request).catch(() => null);
    }
    const page = errorPage({
      csrfToken: csrfTokenForPage(request),
      status,
      title,
      message: pageMessage,
      user,
    });
    return sendPage(reply, page, status);
  }

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error instanceof ValidationError) return reply.code(400).send(error.fields);
    if (error instanceof BadRequest) return sendError(request, reply, 400, error.code, error.message);
    if (error instanceof Unauthorized) {
      if (wantsJson(request)) return reply.code(401).send({ error: "unauthorized" });
      return reply.redirect(loginRedirect(request), 302);
    }
    if (error instanceof CsrfFailed) {
      request.log.warn({ reason: error.reason }, "csrf check failed");
      if (wantsJson(request)) return reply.code(403).send({ error: "csrf_failed", message: error.reason });
      return sendError(request, reply, 403, "csrf_failed", `CSRF verification failed. ${error.reason}`);
    }
    if (error instanceof Forbidden) {
      return sendError(request, reply, 403, "forbidden", "You do not have permission to see this page.");
    }
    if (error instanceof Throttled) {
      reply.header("retry-after", String(error.retryAfterSeconds));
      return sendError(
        request,
        reply,
        429,
        "too_many_requests",
        `Too many attempts. Try again in ${error.retryAfterSeconds} seconds.`,
        // The page's title already says "Too many attempts".
        `Try again in ${waitWords(error.retryAfterSeconds)}.`,
      );
    }
    if (error.validation) {
      // A malformed id in the path names no page; a query string that fails its schema is a 400.
      if (error.validationContext === "params") {
        return sendError(request, reply, 404, "not_found", "There is nothing at this address.");
      }
      const problem = queryProblem(error, request.query);
      return sendError(request, reply, 400, problem.code, problem.message);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = (error.code ?? "bad_request").toLowerCase().replace(/^fst_err_/, "");
      const message =
        status === 413
          ? "The request body is too large."
          : status === 415
            ? "Send the body as application/x-www-form-urlencoded or application/json."
            : error.message;
      return sendError(request, reply, status, code, message);
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: summarizeError(error) }, "database unavailable");
      options.databaseUnavailable?.();
      reply.header("retry-after", "5");
      return sendError(
        request,
        reply,
        503,
        "database_unavailable",
        "The service is briefly unavailable. Please try again in a few seconds.",
      );
    }
    // Never the raw error: a failed query's message lists its parameters.
    request.log.error({ err: summarizeError(error) }, "request failed");
    return sendError(
      request,
      reply,
      500,
      "internal_error",
      "Something went wrong on our side. Please try again.",
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, 404, "not_found", "There is nothing at this address."),
  );
}
