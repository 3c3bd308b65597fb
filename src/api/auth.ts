// Who is calling /api/v1/: the API key in `Authorization: Bearer …`, checked before the body is read,
// with the key's requests counted per minute (API_REQUESTS_PER_MINUTE) and its scope checked against
// the route's. Sessions and CSRF play no part here: the API is outside the pages' scope, and a
// session cookie opens nothing in it.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { currentWindow } from "../accounts/throttle.js";
import type { ApiKeyScope } from "../db/schema.js";
import type { RouteDeps } from "../web/app-deps.js";
import { ApiError, REALM, unauthorized } from "./errors.js";
import { checkApiKey, isApiKeyShaped } from "./keys.js";

/** The key a request was let in with. */
export interface ApiCaller {
  id: number;
  name: string;
  scope: ApiKeyScope;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set on /api/v1/ once the Bearer key is checked. */
    apiKey?: ApiCaller;
  }
  interface FastifyContextConfig {
    /** /api/v1/ routes: the scope a key needs ("write" for changes); `public` needs no key. */
    apiAccess?: ApiKeyScope | "public";
  }
}

/** The API's throttling window: requests are counted per key per minute. */
export const API_WINDOW_SECONDS = 60;

/** The token of `Authorization: Bearer TOKEN` (the scheme in any case), or null without one. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/** The caller, for a handler that runs only once the hook let the request in. */
export function callerOf(request: FastifyRequest): ApiCaller {
  if (!request.apiKey) throw new Error("an API route ran without its key check");
  return request.apiKey;
}

export function registerApiAuth(api: FastifyInstance, deps: RouteDeps): void {
  const clock = deps.useCases.clock;
  const limit = deps.config.api.requestsPerMinute;

  api.addHook("onRequest", async (request) => {
    // Routes say what they need; a request that matched no route needs a key to learn as much.
    const access = request.routeOptions.config?.apiAccess ?? "read";
    if (access === "public") return;
    const header = request.headers.authorization;
    const token = bearerToken(header);
    if (token === null) {
      throw unauthorized(
        header === undefined
          ? "An API key is required: send it as Authorization: Bearer KEY."
          : "Send the API key as Authorization: Bearer KEY.",
        header !== undefined,
      );
    }
    if (!isApiKeyShaped(token)) throw unauthorized("The API key is not valid.", true);
    const now = clock();
    const window = currentWindow(now, API_WINDOW_SECONDS);
    const check = await checkApiKey(deps.db, token, { windowStart: window.start, limit }, new Date(now));
    if (check.status === "unknown") throw unauthorized("The API key is not valid.", true);
    if (check.status === "revoked") throw unauthorized("This API key was revoked.", true);
    if (check.status === "throttled") {
      request.log.info({ apiKeyId: check.id }, "api key throttled");
      deps.events.throttled("api");
      throw new ApiError(
        429,
        "too_many_requests",
        `Too many requests with this key. Try again in ${window.secondsLeft} seconds.`,
        { "retry-after": String(window.secondsLeft) },
      );
    }
    if (access === "write" && check.scope !== "write") {
      throw new ApiError(
        403,
        "insufficient_scope",
        "This key may only read: changes need a read-write key.",
        {
          "www-authenticate": `${REALM}, error="insufficient_scope", scope="write"`,
        },
      );
    }
    request.apiKey = { id: check.id, name: check.name, scope: check.scope };
  });
}
