// Who may use a route, checked before its handler runs. forUser and forStaff attach the check to a
// route and give its handler the user the check let through, typed as present.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteGenericInterface } from "fastify";
import type { SessionUser } from "../accounts/sessions.js";
import { Forbidden, Unauthorized } from "../errors.js";

/** A request a guard let through: `user` is the logged-in user. */
export type UserRequest<R extends RouteGenericInterface = RouteGenericInterface> = FastifyRequest<R> & {
  user: SessionUser;
};

type GuardedHandler<R extends RouteGenericInterface> = (
  request: UserRequest<R>,
  reply: FastifyReply,
) => Promise<unknown>;

/**
 * Logged-in people only: 401 in JSON mode, the login page in HTML mode. Only then is a failed schema
 * reported (guarded routes attach validation errors instead of answering them), so someone who may
 * not use a route is sent to log in, as before, and learns nothing about its parameters.
 */
export async function requireUser(request: FastifyRequest): Promise<void> {
  if (!request.user) throw new Unauthorized();
  if (request.validationError) throw request.validationError;
}

/** Staff only: anonymous people as in requireUser, anyone else 403, then the schema's verdict. */
export async function requireStaff(request: FastifyRequest): Promise<void> {
  if (!request.user) throw new Unauthorized();
  if (!request.user.isStaff) throw new Forbidden();
  if (request.validationError) throw request.validationError;
}

function guarded<R extends RouteGenericInterface>(
  guard: (request: FastifyRequest) => Promise<void>,
  handler: GuardedHandler<R>,
) {
  return {
    attachValidation: true,
    preHandler: guard,
    // The guard runs first and throws unless request.user is set; the query's type is the route's schema.
    handler: (request: FastifyRequest, reply: FastifyReply) => handler(request as UserRequest<R>, reply),
  };
}

/** Route options (spread them into the route's) for a handler only logged-in people reach. */
export function forUser<R extends RouteGenericInterface = RouteGenericInterface>(handler: GuardedHandler<R>) {
  return guarded(requireUser, handler);
}

/** Route options for a handler only staff reach. */
export function forStaff<R extends RouteGenericInterface = RouteGenericInterface>(
  handler: GuardedHandler<R>,
) {
  return guarded(requireStaff, handler);
}

/** Makes a scope refuse to register a route not made with forStaff, so none can be left open by mistake. */
export function staffOnly(scope: FastifyInstance): void {
  scope.addHook("onRoute", (route) => {
    if (![route.preHandler].flat().includes(requireStaff)) {
      throw new Error(`${route.method} ${route.url} must be made with forStaff`);
    }
  });
}
