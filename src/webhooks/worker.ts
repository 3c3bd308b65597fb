// The webhook worker: delivers events to the endpoints staff registered, through the same job queue
// and hand-over as the email (src/jobs/relay.ts). Every instance runs one.
//
//   1. A change writes its event in its own transaction, with a delivery for each endpoint that
//      wants it (src/events/events.ts); the statement returns the deliveries' ids.
//   2. After the commit, wake(ids) hands them to the queue: the ids of the commits that come close
//      together (GATHER), one job per JOB_SIZE. A sweep every 30 s queues what no job still to run
//      names 10 s after it was written (its process died before handing it over).
//   3. A worker reads the job's deliveries (those the sweep gave to another job excepted), signs
//      each (Standard Webhooks: webhook-id is the event's id, the same on every retry) and POSTs
//      it; its answer's code and first 1 KiB are kept.
//   4. 2xx: delivered. Anything else: the queue retries with exponential backoff until the delivery
//      is WEBHOOK_GIVE_UP_HOURS old; an endpoint failing that long is turned off and staff are told.
//      A worker that dies mid-delivery loses its lease and the job runs again elsewhere: at least once.
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type PgBoss from "pg-boss";
import type { WebhookConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import type { MailDeps } from "../email/outbox.js";
import type { WorkerLog } from "../jobs/queue.js";
import { startRelay } from "../jobs/relay.js";
import { retryDelayMs } from "./attempt-rule.js";
import {
  type AttemptOutcome,
  type Claimed,
  claimUnhandedDeliveries,
  type DeliveryToSend,
  deliveriesForJob,
  deliveriesHandedOverBefore,
  JOB_SIZE,
  recordAttempt,
  recordDelivered,
  WEBHOOK_QUEUE,
} from "./deliveries.js";
import { deliveryTarget, postWebhook } from "./http-post.js";
import { webhookSigner } from "./signing.js";

/**
 * Jobs each instance works on at once. A job holds the deliveries handed over together (all those
 * of the commits gathered by GATHER), posted at once: each waits on a receiver, not on the CPU, and a job
 * costs a few statements however many it holds.
 */
const WORKERS = 4;
/** A job's deliveries to one endpoint all go at once (JOB_SIZE at most): none waits for a socket. */
const MAX_SOCKETS_PER_ENDPOINT = JOB_SIZE;
/**
 * A commit after a quiet spell is handed over after 10 ms; while commits keep coming, a hand-over
 * gathers 200 ms of them: under load, each job and its statements carry a few hundred deliveries
 * instead of a few dozen (bench/README.md: events).
 */
const GATHER = { quietMs: 10, busyMs: 200 };
/** A delivery no job still to run names this long after it was written is queued by the sweep. */
const UNHANDED_SECONDS = 10;

export interface WebhookWorker {
  /** After a commit: its deliveries go to the queue (GATHER). */
  wake(deliveryIds: readonly number[]): void;
  /** Hands over every delivery no job still to run names, however new, and waits for it (tests). */
  dispatch(): Promise<void>;
  /** Stops handing over; the queue's owner stops the queue, then close() is called. */
  stop(): Promise<void>;
  /** After the queue stopped (its deliveries under way finished): closes kept-alive connections. */
  close(): void;
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
  await boss.createQueue(WEBHOOK_QUEUE, {
    name: WEBHOOK_QUEUE,
    // A job is a batch of deliveries; a delivery that fails gets a job of its own, after its wait
    // (retryDelayMs). The queue's own retries are for a batch whose worker died or whose writes
    // failed (the database away): the deliveries already made are skipped when it runs again.
    retryLimit: 20,
    retryDelay: config.retryDelaySeconds,
    retryBackoff: true,
    // The lease: a worker that has not finished by then (the requests' timeout and the writes after
    // it) is taken for dead and the job runs again, in any instance.
    expireInSeconds: Math.ceil(config.timeoutMs / 1000) + 15,
  });

  const policy = { requireHttps: config.requireHttps, allowedAddresses: config.allowedAddresses };
  // Kept-alive connections to the endpoints, for this worker's policy only.
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_ENDPOINT }),
    https: new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_ENDPOINT }),
  };

  /**
   * Posts deliveries to one endpoint, its address checked and its secrets read once for all of a
   * job's deliveries to it (deliverJob).
   */
  const sender = (url: string, secrets: string[]) => {
    const target = deliveryTarget(url, policy);
    const sign = webhookSigner(secrets);
    return (delivery: DeliveryToSend) => {
      const { body } = delivery;
      return postWebhook({
        url: target,
        body,
        // The receiver checks this against its own clock: the real time, never a test's.
        headers: sign({ id: delivery.eventId, timestamp: new Date(), body }),
        timeoutMs: config.timeoutMs,
        policy,
        agents,
      });
    };
  };

  /** A failed attempt: its verdict under the endpoint's lock, and a job of its own for its retry. */
  const failed = async (delivery: DeliveryToSend, outcome: AttemptOutcome) => {
    const retryJobId = randomUUID();
    const verdict = await recordAttempt(db, {
      deliveryId: delivery.id,
      outcome,
      now: clock(),
      giveUpMs,
      retryJobId,
      mailStatus: options.mail.initialStatus,
    });
    if (verdict?.delivery === "pending") {
      // Should the process die before this insert, the sweep queues the job (its id is in the row).
      const wait = retryDelayMs(verdict.attempts, config.retryDelaySeconds * 1000);
      await boss.insert([
        {
          id: retryJobId,
          name: WEBHOOK_QUEUE,
          data: { ids: [delivery.id] },
          startAfter: new Date(Date.now() + wait),
        },
      ]);
    }
    log.warn(
      {
        deliveryId: delivery.id,
        endpointId: delivery.endpointId,
        status: outcome.status,
        error: outcome.error,
      },
      "webhook delivery failed",
    );
    if (verdict?.disableEndpoint) {
      options.mail.wake();
      log.warn({ endpointId: delivery.endpointId }, "webhook endpoint failing too long: turned off");
    }
  };

  // A job's deliveries: read in one query (those still waiting), posted together, the successes
  // written in one statement; each failure is written on its own and queued again after its wait.
  const deliverJob = async ([job]: PgBoss.Job<{ ids: number[] }>[]) => {
    if (!job) return;
    const deliveries = await deliveriesForJob(db, job.data.ids.map(Number), job.id);
    // The job read each endpoint once: its deliveries share its address and secrets.
    const senders = new Map<number, ReturnType<typeof sender>>();
    const post = (delivery: DeliveryToSend) => {
      let send = senders.get(delivery.endpointId);
      if (!send) {
        send = sender(delivery.url, delivery.secrets);
        senders.set(delivery.endpointId, send);
      }
      return send(delivery);
    };
    const outcomes = await Promise.all(
      [...deliveries.values()].map(async (delivery) => ({ delivery, outcome: await post(delivery) })),
    );
    await recordDelivered(
      db,
      outcomes.filter((o) => o.outcome.ok).map((o) => ({ deliveryId: o.delivery.id, outcome: o.outcome })),
    );
    for (const { delivery, outcome } of outcomes) {
      if (!outcome.ok) await failed(delivery, outcome);
    }
  };

  const workerIds: string[] = [];
  for (let i = 0; i < WORKERS; i++) {
    workerIds.push(
      await boss.work<{ ids: number[] }>(
        WEBHOOK_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 2 },
        deliverJob,
      ),
    );
  }

  // The deliveries of this process's commits, until the relay hands them over.
  const handed: number[] = [];
  // The first sweep (at start) takes whatever waits and no job names, however new.
  let unhandedSeconds = 0;
  const relay = startRelay({
    boss,
    queue: WEBHOOK_QUEUE,
    workerIds,
    log,
    label: "webhook",
    batchJobs: true,
    gather: GATHER,
    handOverBatch: 5 * JOB_SIZE,
    source: {
      claim: async (limit) => jobsOf(handed.splice(0, limit)),
      handedOverBefore: async (seconds, limit) => {
        const unhanded = await claimUnhandedDeliveries(db, unhandedSeconds, limit);
        unhandedSeconds = UNHANDED_SECONDS;
        return [...unhanded, ...(await deliveriesHandedOverBefore(db, seconds, limit))];
      },
    },
  });

  return {
    wake(deliveryIds) {
      if (deliveryIds.length === 0) return;
      handed.push(...deliveryIds);
      relay.wake();
    },
    async dispatch() {
      unhandedSeconds = 0;
      await relay.sweep();
    },
    async stop() {
      await relay.stop();
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** Ids handed over together: a job (a new id) per JOB_SIZE of them. */
function jobsOf(ids: number[]): Claimed[] {
  const claimed: Claimed[] = [];
  for (let start = 0; start < ids.length; start += JOB_SIZE) {
    const jobId = randomUUID();
    for (const id of ids.slice(start, start + JOB_SIZE)) claimed.push({ id, jobId });
  }
  return claimed;
}
