// JSON mode or HTML mode, chosen by the Accept header, as the earlier version did.
import type { FastifyRequest } from "fastify";

export function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === "string" && accept.toLowerCase().includes("application/json");
}
