// One delivery attempt: a POST of the signed body to the endpoint, bounded in time and in what it
// reads back, that never throws. Whatever happens becomes a PostOutcome the worker records, so staff
// can see why an endpoint fails, and the next attempt is the worker's decision, not this module's.
//
// Safety: the address is checked again for every job's attempts (deliveryTarget: once for a job's
// deliveries to one endpoint; a literal IP never passes through `lookup`), names resolve through
// safeLookup (the connection goes to the address that was checked), redirects are not followed (a
// 3xx could send the delivery, signature and all, anywhere), and only the first 1 KiB of the answer
// is kept.
import http from "node:http";
import https from "node:https";
import { checkDeliveryUrl, safeLookup, stripBrackets, type TargetPolicy } from "./target-check.js";

export interface PostOutcome {
  /** The HTTP status, or null when there was no answer (refused target, network error, timeout). */
  status: number | null;
  /** The first 1 KiB of the answer's body, as UTF-8 text. */
  responseExcerpt: string;
  /** Why there was no answer, in words for the staff pages; null whenever there was one. */
  error: string | null;
  durationMs: number;
  /** A 2xx answer: the endpoint has the delivery. */
  ok: boolean;
}

/**
 * An endpoint's address checked for delivery (checkDeliveryUrl) with what a request to it needs,
 * made once for all of a job's deliveries to that endpoint instead of once per delivery.
 */
export type DeliveryTarget = { ok: true; request: http.RequestOptions } | { ok: false; reason: string };

export function deliveryTarget(url: string, policy: TargetPolicy): DeliveryTarget {
  const checked = checkDeliveryUrl(url, policy);
  if (!checked.ok) return checked;
  return {
    ok: true,
    // What http.request reads from a URL, read once.
    request: {
      protocol: checked.url.protocol,
      hostname: stripBrackets(checked.url.hostname),
      port: checked.url.port || undefined,
      path: `${checked.url.pathname}${checked.url.search}`,
      method: "POST",
      // Every new connection goes to an address this lookup checked; a kept-alive one was checked
      // when it was opened, under the same policy (the agents are the caller's, one per policy).
      lookup: safeLookup(policy),
    },
  };
}

export interface PostInput {
  /** The endpoint's address, or its target made by deliveryTarget under the same policy. */
  url: string | DeliveryTarget;
  /** The signature headers (and any other); content-type, content-length and user-agent are set here. */
  headers: Record<string, string>;
  body: string;
  /** The whole attempt: connecting, sending, and the answer's status and first 1 KiB. */
  timeoutMs: number;
  policy: TargetPolicy;
  userAgent?: string;
  /**
   * Keep-alive agents of the caller's, one per policy: an answer read to its end leaves its
   * connection open for the next delivery to the same endpoint (each connection was checked when it
   * was opened). Without: a connection of its own per attempt.
   */
  agents?: { http: http.Agent; https: https.Agent };
}

export const defaultWebhookUserAgent = "referral-service-webhooks/1.0";

/** How much of the answer's body is kept. */
export const responseExcerptBytes = 1024;

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

export function postWebhook(input: PostInput): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failure = (error: string): PostOutcome => ({
    status: null,
    responseExcerpt: "",
    error,
    durationMs: elapsed(),
    ok: false,
  });

  const target = typeof input.url === "string" ? deliveryTarget(input.url, input.policy) : input.url;
  if (!target.ok) return Promise.resolve(failure(target.reason));
  const secure = target.request.protocol === "https:";

  return new Promise<PostOutcome>((resolve) => {
    let settled = false;
    let status: number | null = null;
    // The excerpt's bytes, never more than responseExcerptBytes: the rest of the body is not read.
    // Made at the first byte of a body (most answers to a webhook have none).
    let excerpt: Buffer | undefined;
    let excerptLength = 0;
    let response: http.IncomingMessage | undefined;

    const finish = (error: string | null, complete: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A body cut short may end inside a UTF-8 character: the streaming decoder keeps such a
      // partial character back instead of turning it into U+FFFD.
      // PostgreSQL's text holds no NUL character: one in the answer is kept as U+FFFD, like any
      // other byte that is not text.
      const text = excerpt
        ? new TextDecoder("utf-8", { fatal: false })
            .decode(excerpt.subarray(0, excerptLength), { stream: !complete })
            .replaceAll("\u0000", "\uFFFD")
        : "";
      // An answer read to its end leaves a kept-alive connection for the next delivery; otherwise
      // nothing more is wanted from this one.
      if (!complete || !input.agents) {
        response?.destroy();
        request.destroy();
      }
      resolve(
        status === null
          ? { ...failure(error ?? "No answer."), durationMs: elapsed() }
          : {
              status,
              responseExcerpt: text,
              error: null,
              durationMs: elapsed(),
              ok: status >= 200 && status <= 299,
            },
      );
    };

    let request: http.ClientRequest;
    try {
      request = (secure ? https : http).request({
        ...target.request,
        headers: {
          "user-agent": input.userAgent ?? defaultWebhookUserAgent,
          "content-type": "application/json",
          ...input.headers,
          "content-length": String(Buffer.byteLength(input.body)),
        },
        agent: input.agents ? (secure ? input.agents.https : input.agents.http) : false,
      });
    } catch (error) {
      // Synchronous refusals: a header value with a newline, for instance.
      resolve(failure(describe(error)));
      return;
    }

    // The timeout bounds the whole attempt. Once the status is in, it only cuts the excerpt short:
    // the endpoint has answered, and its answer stands.
    const timer = setTimeout(() => {
      finish(`No answer within ${input.timeoutMs} ms (timeout).`, false);
    }, input.timeoutMs);

    request.on("error", (error) => finish(describe(error), false));
    request.on("response", (answer) => {
      response = answer;
      status = answer.statusCode ?? null;
      if (status === null) return finish("An answer without a status.", false);
      answer.on("data", (chunk: Buffer) => {
        excerpt ??= Buffer.alloc(responseExcerptBytes);
        const room = responseExcerptBytes - excerptLength;
        const taken = Math.min(room, chunk.length);
        chunk.copy(excerpt, excerptLength, 0, taken);
        excerptLength += taken;
        if (excerptLength >= responseExcerptBytes) finish(null, false);
      });
      answer.on("end", () => finish(null, true));
      // A body cut off by the endpoint: its status stands, with what came of the excerpt.
      answer.on("error", () => finish(null, false));
      answer.on("close", () => finish(null, false));
    });
    request.end(input.body);
  });
}
