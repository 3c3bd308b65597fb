// The background workers of a process: the email worker (with SMTP_URL) and the webhook worker
// (unless WEBHOOKS=off), on one job queue in the service's own database.
//
// They start after the app is ready and do not hold it up: a database that cannot be reached at
// start leaves the app serving (readiness says 503) while the workers try again every few seconds.
import type PgBoss from "pg-boss";
import type { Config } from "../config.js";
import type { Database, DatabaseHandle } from "../db/connection.js";
import type { MailDeps } from "../email/outbox.js";
import { type EmailWorker, startEmailWorker } from "../email/worker.js";
import type { EventDeps } from "../events/events.js";
import { startWebhookWorker, type WebhookWorker } from "../webhooks/worker.js";
import { startJobQueue, type WorkerLog } from "./queue.js";

const RETRY_START_MS = 5000;

export interface BackgroundWorkers {
  /** What the use cases write email with. */
  mail: MailDeps;
  /** What the use cases nudge after writing events. */
  webhooks: EventDeps;
  /** Starts them (once); failures are logged and retried until stop(). */
  start(): void;
  /** Resolves once started (tests): the email sweep and the webhook dispatch run now. */
  sendPendingEmail(): Promise<void>;
  deliverWebhooks(): Promise<void>;
  stop(): Promise<void>;
}

export function backgroundWorkers(options: {
  handle: DatabaseHandle | undefined;
  db: Database;
  config: Config;
  log: WorkerLog;
  clock: () => number;
}): BackgroundWorkers {
  const { handle, db, config, log, clock } = options;
  let boss: PgBoss | undefined;
  let emailWorker: EmailWorker | undefined;
  let webhookWorker: WebhookWorker | undefined;
  let started: Promise<void> = Promise.resolve();
  let stopping = false;
  /** Ends the wait before the next try at once (stop()). */
  let endWait = () => {};

  const mail: MailDeps = {
    initialStatus: config.email.smtpUrl ? "pending" : "kept",
    wake: () => emailWorker?.wake(),
  };
  const wanted = handle !== undefined && (config.email.smtpUrl !== undefined || config.webhooks.enabled);

  const startOnce = async (database: DatabaseHandle) => {
    boss = await startJobQueue(database, {
      maintenanceSeconds: config.email.maintenanceSeconds,
      onError: (error) => log.warn({ err: error }, "job queue error"),
    });
    if (config.email.smtpUrl) {
      emailWorker = await startEmailWorker({
        boss,
        db,
        config: config.email,
        publicOrigin: config.publicOrigin,
        fallbackOrigin: `http://localhost:${config.port}`,
        log,
      });
    }
    if (config.webhooks.enabled) {
      webhookWorker = await startWebhookWorker({ boss, db, config: config.webhooks, mail, log, clock });
    }
  };

  const startWithRetries = (database: DatabaseHandle): Promise<void> =>
    startOnce(database).catch(async (error: unknown) => {
      await stopAll();
      if (stopping) return;
      log.warn({ err: error }, "starting the background workers failed; trying again");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_START_MS);
        timer.unref();
        endWait = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!stopping) await startWithRetries(database);
    });

  const stopAll = async () => {
    await emailWorker?.stop();
    await webhookWorker?.stop();
    // Jobs under way finish (or keep their lease, to be run again elsewhere); the database stays open.
    await boss?.stop({ graceful: true, wait: true, close: false, timeout: 10_000 }).catch(() => {});
    await emailWorker?.close();
    webhookWorker?.close();
    boss = undefined;
    emailWorker = undefined;
    webhookWorker = undefined;
  };

  return {
    mail,
    webhooks: { wake: (deliveryIds) => webhookWorker?.wake(deliveryIds) },
    start() {
      if (wanted && handle) started = startWithRetries(handle);
    },
    async sendPendingEmail() {
      await started;
      await emailWorker?.sweep();
    },
    async deliverWebhooks() {
      await started;
      await webhookWorker?.dispatch();
    },
    async stop() {
      stopping = true;
      endWait();
      await started;
      await stopAll();
    },
  };
}
