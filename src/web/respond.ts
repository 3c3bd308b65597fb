// Sending pages and JSON the same way from every route.
import type { FastifyReply, FastifyRequest } from "fastify";
import { type SafeHtml, toHtmlString } from "./html.js";

export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).type("text/html; charset=utf-8").send(toHtmlString(page));
}

/** The origin links are built on: PUBLIC_ORIGIN when configured, else the request's own. */
export function siteOrigin(request: FastifyRequest, publicOrigin: string | undefined): string {
  return publicOrigin ?? `${request.protocol}://${request.host}`;
}

export function referralLink(origin: string, token: string): string {
  return `${origin}/signup/?ref=${token}`;
}

/** Where the login page sends a person who is not logged in. */
export function loginRedirect(request: FastifyRequest): string {
  const path = request.url.split("?")[0] ?? "/";
  // Slashes stay readable, as Django writes them: /login/?next=/
  return `/login/?next=${encodeURIComponent(path === "" ? "/" : path).replace(/%2F/gi, "/")}`;
}
