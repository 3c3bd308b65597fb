// The webhook worker: delivers events to the endpoints staff registered, through the same job queue
// and hand-over as the email (src/jobs/relay.ts). Every instance runs one.
//
//   1. A change writes its event in its own transaction (src/events/events.ts).
//   2. After the commit, wake() fans new events out to the endpoints that want them (one delivery
//      each) and hands the deliveries to the queue; a sweep every 30 s catches what a dead process
//      left, and a poll every second catches events other instances wrote.
//   3. A worker signs the delivery (Standard Webhooks: webhook-id is the event's id, the same on
//      every retry) and POSTs it; the attempt is logged with its answer's code and first 1 KiB.
//   4. 2xx: delivered. Anything else: the queue retries with exponential backoff until the delivery
//      is WEBHOOK_GIVE_UP_HOURS old; an endpoint failing that long is turned off and staff are told.
//      A worker that dies mid-delivery loses its lease and the job runs again elsewhere: at least once.
import type PgBoss from "pg-boss";
import type { WebhookConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import type { MailDeps } from "../email/outbox.js";
import type { WorkerLog } from "../jobs/queue.js";
import { startRelay } from "../jobs/relay.js";
import { retriesToSpan } from "./attempt-rule.js";
import {
  claimDeliveries,
  deliveriesHandedOverBefore,
  deliveryBody,
  deliveryToSend,
  fanOutEvents,
  recordAttempt,
} from "./deliveries.js";
import { postWebhook } from "./http-post.js";
import { signatureHeaders } from "./signing.js";

export const WEBHOOK_QUEUE = "webhook";
/** Deliveries each instance has in flight at once (each waits on a receiver, not on the CPU). */
const CONCURRENCY = 4;
const FAN_OUT_BATCH = 500;
/** How often an instance looks for events another instance wrote (its own wake it at once). */
const POLL_MS = 1000;

export interface WebhookWorker {
  wake(): void;
  /** Fans out and hands over what waits now, and waits for it (tests). */
  dispatch(): Promise<void>;
  /** Stops handing over; the queue's owner stops the queue. */
  stop(): Promise<void>;
}

export async function startWebhookWorker(options: {
  boss: PgBoss;
  db: Database;
  config: WebhookConfig;
  mail: MailDeps;
  log: WorkerLog;
  clock?: () => number;
}): Promise<WebhookWorker> {
  const { boss, db, config, log } = options;
  const clock = options.clock ?? Date.now;
  const giveUpMs = config.giveUpHours * 3_600_000;
  const retryLimit = retriesToSpan(config.retryDelaySeconds, giveUpMs / 1000);
  await boss.createQueue(WEBHOOK_QUEUE, {
    name: WEBHOOK_QUEUE,
    retryLimit,
    retryDelay: config.retryDelaySeconds,
    retryBackoff: true,
    // The lease: a worker that has not finished by then (the request's timeout and the writes after
    // it) is taken for dead and the job runs again, in any instance.
    expireInSeconds: Math.ceil(config.timeoutMs / 1000) + 15,
  });

  const deliver = async (id: number, retriesLeft: boolean) => {
    const delivery = await deliveryToSend(db, id);
    if (!delivery) return; // delivered already (a job run twice), given up, or its endpoint is off
    const body = deliveryBody(delivery);
    const outcome = await postWebhook({
      url: delivery.url,
      body,
      // The receiver checks this against its own clock: the real time, never a test's.
      headers: signatureHeaders({
        id: delivery.eventId,
        timestamp: new Date(),
        body,
        secrets: delivery.secrets,
      }),
      timeoutMs: config.timeoutMs,
      policy: { requireHttps: config.requireHttps, allowedAddresses: config.allowedAddresses },
    });
    const verdict = await recordAttempt(db, {
      deliveryId: id,
      outcome,
      now: clock(),
      giveUpMs,
      retriesLeft,
      mailStatus: options.mail.initialStatus,
    });
    if (verdict?.disableEndpoint) {
      options.mail.wake();
      log.warn({ endpointId: delivery.endpointId }, "webhook endpoint failing too long: turned off");
    }
    if (verdict?.delivery === "pending") {
      // The queue retries after its backoff; the attempt's answer is in the log already.
      throw new Error(`webhook delivery ${id} failed: ${outcome.error ?? `HTTP ${outcome.status}`}`);
    }
  };

  const workerIds: string[] = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    workerIds.push(
      await boss.work<{ id: number }>(
        WEBHOOK_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 2, includeMetadata: true },
        async ([job]) => {
          if (job) await deliver(Number(job.data.id), job.retryCount < job.retryLimit);
        },
      ),
    );
  }

  const relay = startRelay({
    boss,
    queue: WEBHOOK_QUEUE,
    workerIds,
    log,
    label: "webhook",
    source: {
      async prepare() {
        while ((await fanOutEvents(db, FAN_OUT_BATCH)) === FAN_OUT_BATCH) {}
      },
      claim: (limit) => claimDeliveries(db, limit),
      handedOverBefore: (seconds, limit) => deliveriesHandedOverBefore(db, seconds, limit),
    },
  });
  // Events written by other instances (and by this one's commands) are picked up within a second.
  const poll = setInterval(relay.wake, POLL_MS);
  poll.unref();

  return {
    wake: relay.wake,
    dispatch: relay.dispatch,
    async stop() {
      clearInterval(poll);
      await relay.stop();
    },
  };
}
