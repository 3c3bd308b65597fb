// A webhook receiver for tests: a real HTTP server on 127.0.0.1 that checks every delivery with the
// `standardwebhooks` package (not the service's own code) and answers as the test tells it.
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The package verified the signature with the receiver's secret. */
  verified: boolean;
  /** The parsed body, when verified. */
  event: { id: string; type: string; timestamp: string; data: Record<string, unknown> } | null;
  /** The status this receiver answered with. */
  answered: number;
  at: number;
}

/** What to answer a delivery with: a status, or "hang" (never answer; the socket stays open). */
export type Answer = number | "hang";

export interface WebhookReceiver {
  url: string;
  /** The secret deliveries are verified with (set once the endpoint exists). */
  secret: string | null;
  received: Received[];
  /** Answers for the next deliveries, in order; afterwards 200. */
  answers: Answer[];
  /** Resolves with the first delivery (past or future) that matches. */
  waitFor(match: (delivery: Received) => boolean): Promise<Received>;
  /** Resolves once `count` deliveries have arrived. */
  waitForCount(count: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const waiters: { match: (delivery: Received) => boolean; resolve: (delivery: Received) => void }[] = [];
  const counters: { count: number; resolve: (all: Received[]) => void }[] = [];
  const hanging = new Set<import("node:http").ServerResponse>();
  const receiver: WebhookReceiver = {
    url: "",
    secret: null,
    received: [],
    answers: [],
    waitFor(match) {
      const found = receiver.received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    waitForCount(count) {
      if (receiver.received.length >= count) return Promise.resolve(receiver.received);
      return new Promise((resolve) => counters.push({ count, resolve }));
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let event: Received["event"] = null;
      if (receiver.secret) {
        try {
          event = new Webhook(receiver.secret).verify(body, {
            "webhook-id": String(request.headers["webhook-id"]),
            "webhook-timestamp": String(request.headers["webhook-timestamp"]),
            "webhook-signature": String(request.headers["webhook-signature"]),
          }) as Received["event"];
        } catch {
          event = null;
        }
      }
      const answer = receiver.answers.shift() ?? 200;
      const delivery: Received = {
        headers: request.headers,
        body,
        verified: event !== null,
        event,
        answered: answer === "hang" ? 0 : answer,
        at: Date.now(),
      };
      receiver.received.push(delivery);
      for (const waiter of [...waiters]) {
        if (waiter.match(delivery)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(delivery);
        }
      }
      for (const counter of [...counters]) {
        if (receiver.received.length >= counter.count) {
          counters.splice(counters.indexOf(counter), 1);
          counter.resolve(receiver.received);
        }
      }
      if (answer === "hang") {
        hanging.add(response);
        return;
      }
      response.writeHead(answer, { "content-type": "text/plain" });
      response.end(answer >= 200 && answer < 300 ? "ok" : `failed with ${answer}`);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
