// The email worker: takes the outbox's pending messages through the job queue (pg-boss) and sends
// them over SMTP. Every instance runs one; the queue gives each job to one worker at a time.
//
//   1. A change writes its message to outbox_messages in its own transaction (src/email/outbox.ts).
//   2. After the commit, wake() hands new messages to the queue (src/jobs/relay.ts): each gets a job
//      id, then a job; a sweep every 30 s catches what a dead process left.
//   3. A worker takes the job, renders the message and sends it; the row becomes "sent".
//   4. A failure counts an attempt and throws: the queue retries with exponential backoff. The last
//      attempt marks the row "failed". A worker that dies mid-send loses its lease (MAIL_LEASE_SECONDS)
//      and the job runs again elsewhere: at least once, so after a crash a message can arrive twice.
import type PgBoss from "pg-boss";
import type { EmailConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import type { WorkerLog } from "../jobs/queue.js";
import { startRelay } from "../jobs/relay.js";
import { type Mailer, smtpMailer } from "./mailer.js";
import { isNotification, notificationKinds, renderMessage } from "./messages.js";
import {
  claimForQueue,
  handedOverBefore,
  type MailDeps,
  markSent,
  pendingMessage,
  recordFailure,
} from "./outbox.js";
import { unsubscribeSigner, unsubscribeUrl } from "./unsubscribe.js";

export const EMAIL_QUEUE = "email";
/** Jobs each instance works on at once. */
const CONCURRENCY = 2;

export interface EmailWorker extends MailDeps {
  /** Hands over what is pending now and waits for it (tests, and a sweep). */
  dispatch(): Promise<void>;
  /** What the 30-second timer runs: dispatch, then hand over again messages whose job may be lost. */
  sweep(): Promise<void>;
  /** Stops handing over; the queue (shared) is stopped by its owner, then close() is called. */
  stop(): Promise<void>;
  /** After the queue stopped (its jobs under way finished): closes the SMTP connections. */
  close(): Promise<void>;
}

export interface EmailWorkerOptions {
  boss: PgBoss;
  db: Database;
  config: EmailConfig;
  /** Where links point when PUBLIC_ORIGIN is unset and the message does not say. */
  fallbackOrigin: string;
  publicOrigin: string | undefined;
  log: WorkerLog;
  /** Tests pass one; otherwise nodemailer over SMTP_URL. */
  mailer?: Mailer;
}

export async function startEmailWorker(options: EmailWorkerOptions): Promise<EmailWorker> {
  const { boss, db, config, log } = options;
  const smtpUrl = config.smtpUrl;
  if (!smtpUrl && !options.mailer) throw new Error("the email worker needs SMTP_URL");
  const mailer = options.mailer ?? smtpMailer(smtpUrl as string, config.from);
  const signer = unsubscribeSigner(db);
  await boss.createQueue(EMAIL_QUEUE, {
    name: EMAIL_QUEUE,
    // The queue stops retrying only after the row has given up (maxAttempts), with room for leases
    // lost to dying workers, which count as failures in the queue but not as attempts in the row.
    retryLimit: config.maxAttempts + 5,
    retryDelay: config.retryDelaySeconds,
    retryBackoff: true,
    expireInSeconds: config.leaseSeconds,
  });

  const send = async (id: number) => {
    const row = await pendingMessage(db, id);
    if (!row) return; // sent already (a job run twice), or given up
    const origin = options.publicOrigin ?? String(row.params.origin ?? options.fallbackOrigin);
    const choice = isNotification(row.kind) ? notificationKinds[row.kind] : undefined;
    const unsubscribe =
      choice && row.userId !== null
        ? unsubscribeUrl(origin, await signer.token(row.userId, choice))
        : undefined;
    const message = renderMessage(row.kind, row.params, { origin, unsubscribeUrl: unsubscribe });
    try {
      await mailer.send({ to: row.toAddress, message, unsubscribeUrl: unsubscribe });
    } catch (error) {
      const status = await recordFailure(db, id, errorText(error), config.maxAttempts);
      log.warn(
        { messageId: id, kind: row.kind, attempts: row.attempts + 1, status },
        "sending an email failed",
      );
      if (status === "pending") throw error; // the queue tries again later
      return;
    }
    await markSent(db, id);
    log.info({ messageId: id, kind: row.kind }, "email sent");
  };

  const workerIds: string[] = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    workerIds.push(
      await boss.work<{ id: number }>(
        EMAIL_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 2 },
        async ([job]) => {
          if (job) await send(Number(job.data.id));
        },
      ),
    );
  }

  const relay = startRelay({
    boss,
    queue: EMAIL_QUEUE,
    workerIds,
    log,
    label: "email",
    batchJobs: false,
    gather: { quietMs: 0, busyMs: 0 },
    handOverBatch: 100,
    source: {
      claim: (limit) => claimForQueue(db, limit),
      handedOverBefore: (seconds, limit) => handedOverBefore(db, seconds, limit),
    },
  });

  return {
    initialStatus: "pending",
    wake: relay.wake,
    dispatch: relay.dispatch,
    sweep: relay.sweep,
    stop: relay.stop,
    close: () => mailer.close(),
  };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
