// The Host header, checked as Django checks it: well-formed, and one of ALLOWED_HOSTS when set. A
// request for another name never reaches a route, so no link is ever built on a forged host.
import type { FastifyInstance } from "fastify";
import { BadRequest } from "../errors.js";

const hostPattern = /^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:\d+)?$/;

/** The host's name without its port (and without a final dot), or null when the Host is malformed. */
export function hostName(host: string): string | null {
  const lower = host.toLowerCase();
  const match = hostPattern.exec(lower);
  if (!match) return null;
  const name = match[1] as string;
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** Django's validate_host: `*`, an exact name, or `.example.com` for the domain and its subdomains. */
export function isAllowedHost(name: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  return allowed.some(
    (pattern) =>
      pattern === "*" ||
      pattern === name ||
      (pattern.startsWith(".") && (name.endsWith(pattern) || name === pattern.slice(1))),
  );
}

export function registerHostCheck(app: FastifyInstance, allowedHosts: readonly string[]): void {
  // A callback hook: on every request, an async one costs a promise for nothing.
  app.addHook("onRequest", (request, _reply, done) => {
    const name = hostName(request.host);
    if (name === null || !isAllowedHost(name, allowedHosts)) {
      done(new BadRequest("bad_host", "The Host header is not one this service answers to."));
    } else {
      done();
    }
  });
}
