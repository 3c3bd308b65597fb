// Operations endpoints and per-request telemetry, outside the pages scope (no session, no CSRF,
// no throttling): GET /healthz, GET /readyz, GET /metrics, the X-Request-Id header, and one log
// line plus the request metrics for every request.
import { randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { checkReadiness, expectedMigrations } from "../db/readiness.js";
import type { AppDeps } from "../web/app-deps.js";
import type { ServiceMetrics } from "./metrics.js";

export const REQUEST_ID_HEADER = "x-request-id";
const saneRequestId = /^[A-Za-z0-9._:+/=-]{1,128}$/;

/** A caller's X-Request-Id when it is short and plain; otherwise a new UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === "string" && saneRequestId.test(given) ? given : randomUUID();
}

/** The path without its query string (which may carry a referral token), cut to a sane length. */
function pathOf(request: FastifyRequest): string {
  const path = request.url.split("?")[0] ?? "";
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith("Bearer ") ? header.slice(7).trim() : "");
  const expected = Buffer.from(token);
  return given.length === expected.length
    ? timingSafeEqual(given, expected)
    : !timingSafeEqual(expected, expected);
}

/** Probes and scrapes come every few seconds: their successful requests are logged at debug level. */
const quietRoutes = new Set(["/healthz", "/readyz", "/metrics"]);

export function registerOperations(
  app: FastifyInstance,
  deps: AppDeps,
  metrics: ServiceMetrics,
  /** Where the text of /metrics comes from: this app's registry, or the whole cluster's. */
  metricsText: () => Promise<string> = () => metrics.registry.metrics(),
): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "(unmatched)";
    const status = reply.statusCode;
    metrics.observeRequest(request.method, route, status, reply.elapsedTime / 1000);
    const line: Record<string, unknown> = {
      method: request.method,
      route,
      path: pathOf(request),
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    };
    const userId = request.user?.id;
    if (userId !== undefined) line.userId = userId;
    const quiet = quietRoutes.has(route);
    // A failing probe is expected during a database outage: a warning, not an error per probe.
    if (status >= 500) request.log[quiet ? "warn" : "error"](line, "request");
    else if (quiet && status < 400) request.log.debug(line, "request");
    else request.log.info(line, "request");
  });

  app.get("/healthz", async (_request, reply) => {
    reply.header("cache-control", "no-store");
    return { status: "ok" };
  });

  const expected = expectedMigrations();
  app.get("/readyz", async (_request, reply) => {
    reply.header("cache-control", "no-store");
    const readiness = await checkReadiness(deps.db, expected);
    if (readiness.ready)
      return { status: "ready", database: deps.database?.kind, migrations: readiness.migrations };
    const { ready: _, ...why } = readiness;
    return reply.code(503).send({ status: "unavailable", ...why });
  });

  app.get("/metrics", async (request, reply) => {
    const tokens = deps.config.metricsTokens;
    // Every token is compared (no early exit), so the time taken says nothing of which one matched.
    const matches = tokens.filter((token) => bearerMatches(request.headers.authorization, token));
    if (tokens.length > 0 && matches.length === 0) {
      reply.header("www-authenticate", 'Bearer realm="metrics"');
      return reply.code(401).send({ error: "unauthorized", message: "A bearer token is required." });
    }
    reply.header("cache-control", "no-store");
    let text: string;
    try {
      text = await metricsText();
    } catch (error) {
      request.log.warn({ err: (error as Error).message }, "cluster metrics unavailable; this worker's own");
      text = await metrics.registry.metrics();
    }
    return reply.type(metrics.registry.contentType).send(text);
  });
}
