// The security headers every response carries: a strict Content-Security-Policy (no inline script or
// style), no framing, no sniffing, a same-origin referrer, and HSTS over HTTPS only.
//
// helmet computes them once, at start, and its answer is replayed on every response: rebuilding them
// per request (as @fastify/helmet does) re-parses the CSP each time.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import helmet from "helmet";

export const HSTS = "max-age=31536000; includeSubDomains";

/** The headers helmet sets for our policy, as a plain object. */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const capture = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    },
    removeHeader() {},
  };
  let failure: unknown;
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: "same-origin" },
    // HSTS only over HTTPS: added per request below, never on plain HTTP.
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
    frameguard: { action: "deny" },
  })({} as IncomingMessage, capture as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure;
  return headers;
}

export function registerSecurityHeaders(app: FastifyInstance): void {
  const headers = securityHeaders();
  const overHttps = { ...headers, "strict-transport-security": HSTS };
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(request.protocol === "https" ? overHttps : headers);
    done();
  });
}
