// The email worker: takes the outbox's pending messages through the job queue (pg-boss) and sends
// them over SMTP. Every instance runs one; the queue gives each job to one worker at a time.
//
//   1. A change writes its message to outbox_messages in its own transaction (src/email/outbox.ts).
//   2. After the commit, wake() hands new messages to the queue: each gets a job id, then a job.
//      A sweep every 30 s does the same for messages a process wrote but died before handing over,
//      and hands over again those whose job may have been lost (the queue ignores a known id).
//   3. A worker takes the job, renders the message and sends it; the row becomes "sent".
//   4. A failure counts an attempt and throws: the queue retries with exponential backoff. The last
//      attempt marks the row "failed". A worker that dies mid-send loses its lease (MAIL_LEASE_SECONDS)
//      and the job runs again elsewhere: at least once, so after a crash a message can arrive twice.
import type { EmailConfig } from "../config.js";
import type { Database, DatabaseHandle } from "../db/connection.js";
import { startJobQueue } from "../jobs/queue.js";
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
const HAND_OVER_BATCH = 100;
const SWEEP_MS = 30_000;
/** Jobs each instance works on at once. */
const CONCURRENCY = 2;

export interface EmailWorker extends MailDeps {
  /** Hands over what is pending now and waits for it (tests, and a sweep). */
  dispatch(): Promise<void>;
  /** What the 30-second timer runs: dispatch, then hand over again messages whose job may be lost. */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

/** The part of the app's logger the worker uses. */
export interface WorkerLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface EmailWorkerOptions {
  handle: DatabaseHandle;
  config: EmailConfig;
  /** Where links point when PUBLIC_ORIGIN is unset and the message does not say. */
  fallbackOrigin: string;
  publicOrigin: string | undefined;
  log: WorkerLog;
  /** Tests pass one; otherwise nodemailer over SMTP_URL. */
  mailer?: Mailer;
}

export async function startEmailWorker(options: EmailWorkerOptions): Promise<EmailWorker> {
  const { handle, config, log } = options;
  const db: Database = handle.db;
  const smtpUrl = config.smtpUrl;
  if (!smtpUrl && !options.mailer) throw new Error("the email worker needs SMTP_URL");
  const mailer = options.mailer ?? smtpMailer(smtpUrl as string, config.from);
  const signer = unsubscribeSigner(db);
  const boss = await startJobQueue(handle, {
    maintenanceSeconds: config.maintenanceSeconds,
    onError: (error) => log.warn({ err: error }, "job queue error"),
  });
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

  const handOver = async (rows: { id: number; jobId: string }[]) => {
    if (rows.length === 0) return;
    await boss.insert(rows.map((row) => ({ id: row.jobId, name: EMAIL_QUEUE, data: { id: row.id } })));
    for (const workerId of workerIds) boss.notifyWorker(workerId);
  };

  let running: Promise<void> | undefined;
  let again = false;
  const dispatch = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        let claimed: { id: number; jobId: string }[];
        do {
          claimed = await claimForQueue(db, HAND_OVER_BATCH);
          await handOver(claimed);
        } while (claimed.length === HAND_OVER_BATCH);
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const sweep = async () => {
    await dispatch();
    await handOver(await handedOverBefore(db, SWEEP_MS / 1000, 500));
  };
  let sweeping: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    sweeping = sweep().catch((error: unknown) => log.warn({ err: error }, "email sweep failed"));
  }, SWEEP_MS);
  timer.unref();
  // Whatever was left pending by an earlier run goes out now, not at the first sweep.
  sweeping = sweep().catch((error: unknown) => log.warn({ err: error }, "email sweep failed"));

  return {
    initialStatus: "pending",
    wake() {
      dispatch().catch((error: unknown) => log.warn({ err: error }, "handing emails to the queue failed"));
    },
    dispatch,
    sweep,
    async stop() {
      clearInterval(timer);
      await sweeping;
      await running?.catch(() => {});
      // Jobs under way finish (or keep their lease, to be run again elsewhere); the database stays open.
      await boss.stop({ graceful: true, wait: true, close: false, timeout: 10_000 });
      await mailer.close();
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
