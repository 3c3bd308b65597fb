// Requests in flight, counted until nothing of theirs can run any more, and the drain on shutdown.
// Fastify's close() waits for connections, not handlers: one whose client went away runs on, and
// queries, with no connection left, so the database may only close once this count is zero.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Gauge, type Registry } from "prom-client";

declare module "fastify" {
  interface FastifyInstance {
    /** The requests in flight, for the shutdown in main.ts. */
    drain: RequestDrain;
  }
}

export interface RequestDrain {
  /** Requests received whose handler or hooks may still run. */
  readonly inFlight: number;
  readonly draining: boolean;
  /** From now on every response says `Connection: close`, so no connection takes another request. */
  begin(): void;
  /** Resolves once no request is in flight (at once when none is). */
  settled(): Promise<void>;
}

interface Tracked {
  done: boolean;
  /** onSend has run: the handler and the hooks before it are finished. */
  sending: boolean;
  /** The connection closed before the response was sent. */
  gone: boolean;
}

/**
 * Registers the counting hooks and decorates the app with `drain`; call it before any other hook, so
 * a request refused by an earlier onRequest hook is counted too.
 */
export function trackRequests(app: FastifyInstance, registry: Registry): RequestDrain {
  let inFlight = 0;
  let draining = false;
  let waiting: (() => void)[] = [];
  const tracked = new WeakMap<FastifyRequest, Tracked>();

  const finish = (state: Tracked) => {
    if (state.done) return;
    state.done = true;
    inFlight--;
    if (inFlight === 0) {
      const wake = waiting;
      waiting = [];
      for (const resolve of wake) resolve();
    }
  };

  new Gauge({
    name: "http_requests_in_flight",
    help: "Requests received and not yet answered (this scrape included).",
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });

  app.addHook("onRequest", (request, reply, next) => {
    inFlight++;
    const state: Tracked = { done: false, sending: false, gone: false };
    tracked.set(request, state);
    if (draining) reply.header("connection", "close");
    reply.raw.once("close", () => {
      // Once the response is being sent, nothing of the request's own runs any more: it ends here
      // or in onResponse, whichever comes first. (A response whose socket is destroyed as it is
      // written, as a malformed request after it on the same connection does, never emits 'finish',
      // and Fastify then never runs onResponse: waiting for it held a shutdown for its whole
      // SHUTDOWN_TIMEOUT_SECONDS.) An unfinished one ends once its handler has (onSend).
      if (state.sending || reply.raw.writableFinished) finish(state);
      else state.gone = true;
    });
    next();
  });

  app.addHook("onSend", (request, reply, payload, next) => {
    const state = tracked.get(request);
    if (state) {
      state.sending = true;
      if (state.gone) finish(state);
    }
    // A request that was already running when the drain began.
    if (draining && !reply.raw.headersSent) reply.header("connection", "close");
    next(null, payload);
  });

  app.addHook("onResponse", (request, _reply, next) => {
    const state = tracked.get(request);
    if (state) finish(state);
    next();
  });

  const drain: RequestDrain = {
    get inFlight() {
      return inFlight;
    },
    get draining() {
      return draining;
    },
    begin() {
      draining = true;
    },
    settled() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
  app.decorate("drain", drain);
  return drain;
}
