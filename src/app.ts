// buildApp(deps): the Fastify instance with its plugins and routes. main.ts and the tests call it.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import { cleanUpExpired, scheduleHousekeeping } from "./accounts/housekeeping.js";
import { apiRoutes } from "./api/routes.js";
import { upkeepWhereDue } from "./db/upkeep.js";
import type { MailDeps } from "./email/outbox.js";
import { backgroundWorkers } from "./jobs/workers.js";
import { clusterMetricsSource } from "./ops/cluster-metrics.js";
import { trackRequests } from "./ops/drain.js";
import { combineEvents, createMetrics } from "./ops/metrics.js";
import { registerOperations, requestIdFor } from "./ops/operations.js";
import { addressHasher } from "./referrals/addresses.js";
import { addLinkOpens } from "./referrals/link-open-store.js";
import { LINK_OPENS_FLUSH_MS, LinkOpenCounter } from "./referrals/link-opens.js";
import { approveDueReferrals, rewardCentsOf } from "./referrals/review.js";
import type { AppDeps, RouteDeps } from "./web/app-deps.js";
import { registerBodyParsers } from "./web/body-parsers.js";
import { registerErrorHandling } from "./web/errors.js";
import { registerHostCheck } from "./web/host-check.js";
import { csrfPlugin } from "./web/plugins/csrf.js";
import { sessionPlugin, userForPage } from "./web/plugins/session.js";
import { registerQueryCheck } from "./web/query-check.js";
import { onceCompiledSerializers } from "./web/response-serializers.js";
import { accountRoutes } from "./web/routes/account.js";
import { adminRoutes } from "./web/routes/admin.js";
import { dashboardRoutes } from "./web/routes/dashboard.js";
import { emailAddressRoutes } from "./web/routes/email-address.js";
import { preferencesRoutes, unsubscribeRoutes } from "./web/routes/email-preferences.js";
import { historyRoutes } from "./web/routes/history.js";
import { loginRoutes } from "./web/routes/login.js";
import { logoutRoutes } from "./web/routes/logout.js";
import { passwordResetRoutes } from "./web/routes/password-reset.js";
import { shareImageRoutes } from "./web/routes/share-image.js";
import { signupRoutes } from "./web/routes/signup.js";
import { registerSecurityHeaders } from "./web/security-headers.js";

const require = createRequire(import.meta.url);
const bootstrapDist = join(dirname(require.resolve("bootstrap/package.json")), "dist");
const publicDir = fileURLToPath(new URL("../public", import.meta.url));
/** The browser scripts bundled from client/ by scripts/build-client.mjs (run by build and pretest). */
const clientDir = fileURLToPath(new URL("../dist/client", import.meta.url));

/** Never written to the logs, whatever the log level. */
export const redactedPaths = [
  "req.headers.cookie",
  "req.headers.authorization",
  "req.headers['x-csrftoken']",
  'res.headers["set-cookie"]',
  "body.password",
  "body.password1",
  "body.password2",
  "body.token",
];

/** Cloud Logging reads `severity` from a JSON line; pino writes a number in `level`. Both are kept. */
const severities: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

export function loggerOptions(level: string): FastifyServerOptions["logger"] {
  return {
    level,
    redact: { paths: redactedPaths, censor: "[redacted]" },
    formatters: {
      level: (label: string, number: number) => ({ level: number, severity: severities[label] ?? "DEFAULT" }),
    },
  };
}

/**
 * Fastify trusts no hop at all for a bare number; a hop count means the nearest `hops` addresses
 * (the socket's peer first) are proxies of ours, as Express reads it.
 */
export function trustedProxies(
  setting: boolean | number | string,
): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof setting !== "number") return setting;
  return (_address, hop) => hop < setting;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Writes the link opens counted so far (they are written every few seconds, and on close). */
    flushLinkOpens(): Promise<void>;
    /** Runs the email worker's sweep now (tests): pending email is handed over; nothing without SMTP_URL. */
    sendPendingEmail(): Promise<void>;
    /** What the use cases write email with (tests write messages of their own through it). */
    mailDeps(): MailDeps;
    /** Hands over the webhook deliveries written so far (tests); nothing with WEBHOOKS=off. */
    deliverWebhooks(): Promise<void>;
  }
}

/** As often as autovacuum looks (autovacuum_naptime). */
const UPKEEP_EVERY_MS = 60_000;

export interface BuildOptions {
  logger?: FastifyServerOptions["logger"];
  /** Workers of a cluster (WEB_CONCURRENCY > 1): /metrics shows the sum over all workers. */
  clusterMetrics?: boolean;
}

export async function buildApp(deps: AppDeps, options: BuildOptions = {}) {
  const { config } = deps;
  const app: FastifyInstance = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel),
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: trustedProxies(config.trustProxy),
    // A request that reaches the app while it closes came over a connection it had accepted: it is
    // answered (with Connection: close), and main.ts waits for it before closing the database.
    return503OnClosing: false,
    // One line per request, written by ops/operations.ts, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdFor,
    schemaController: { compilersFactory: { buildSerializer: onceCompiledSerializers } },
  });
  const metrics = createMetrics(deps.hasher, deps.database);
  trackRequests(app, metrics.registry);

  registerHostCheck(app, config.allowedHosts);
  registerBodyParsers(app);
  registerErrorHandling(app, {
    databaseUnavailable: metrics.databaseUnavailable,
    pageUser: (request) => userForPage(request, deps.db, config.session),
  });
  await app.register(fastifyCookie);
  registerSecurityHeaders(app);

  await app.register(fastifyStatic, {
    root: bootstrapDist,
    prefix: "/static/bootstrap/",
    maxAge: "7d",
  });
  await app.register(fastifyStatic, {
    root: publicDir,
    prefix: "/static/app/",
    decorateReply: false,
    maxAge: "1h",
  });
  await app.register(fastifyStatic, {
    root: clientDir,
    prefix: "/static/client/",
    decorateReply: false,
    maxAge: "1h",
  });

  registerOperations(
    app,
    deps,
    metrics,
    options.clusterMetrics ? clusterMetricsSource(metrics.registry) : undefined,
  );
  registerQueryCheck(app);

  const clock = deps.clock ?? Date.now;
  const linkOpens = new LinkOpenCounter((counts) => addLinkOpens(deps.db, counts));
  // Email and webhook events go out through outboxes, handed to workers on a job queue that start
  // when the app is ready (src/jobs/workers.ts). Without SMTP_URL messages are kept for staff.
  const workers = backgroundWorkers({ handle: deps.database, db: deps.db, config, log: app.log, clock });
  const { mail, webhooks } = workers;
  app.decorate("flushLinkOpens", () => linkOpens.flush());
  const routeDeps: RouteDeps = {
    ...deps,
    events: combineEvents(metrics.events, deps.events),
    useCases: {
      db: deps.db,
      hasher: deps.hasher,
      program: config.program,
      integrity: config.integrity,
      addresses: addressHasher(deps.db),
      throttle: config.throttle,
      session: config.session,
      clock,
      mail,
      webhooks,
    },
    linkOpens,
  };

  // Expired sessions and throttle counters are deleted every ten minutes while the app runs; a run
  // under way when the app closes is waited for, since the database closes next.
  let stopHousekeeping = () => {};
  let housekeeping: Promise<unknown> = Promise.resolve();
  let stopUpkeep = () => {};
  let upkeep: Promise<unknown> = Promise.resolve();
  app.addHook("onReady", async () => {
    stopHousekeeping = scheduleHousekeeping(
      () => {
        housekeeping = cleanUpExpired(deps.db, config, clock());
        return housekeeping;
      },
      10 * 60_000,
      (error) => app.log.warn({ err: error }, "housekeeping failed"),
    );
    // PGlite has no autovacuum: its work is done here, by its rule, once a minute (src/db/upkeep.ts).
    if (deps.database?.kind === "pglite") {
      stopUpkeep = scheduleHousekeeping(
        () => {
          upkeep = upkeepWhereDue(deps.db).then((done) => {
            if (done.length > 0) app.log.info({ upkeep: done }, "database upkeep");
          });
          return upkeep;
        },
        UPKEEP_EVERY_MS,
        (error) => app.log.warn({ err: error }, "database upkeep failed"),
      );
    }
  });
  app.addHook("onClose", async () => {
    stopHousekeeping();
    stopUpkeep();
    await Promise.all([housekeeping.catch(() => {}), upkeep.catch(() => {})]);
  });

  // Link opens are counted in memory and written every few seconds, and once more when the app
  // closes (before the database does): a crash loses at most the last few seconds of opens.
  let stopLinkOpens = () => {};
  app.addHook("onReady", async () => {
    stopLinkOpens = scheduleHousekeeping(
      () => linkOpens.flush(),
      LINK_OPENS_FLUSH_MS,
      (error) => app.log.warn({ err: error }, "writing link opens failed; kept for the next try"),
    );
  });
  app.addHook("onClose", async () => {
    stopLinkOpens();
    await linkOpens.flush().catch((error: unknown) => {
      app.log.warn({ err: error, lost: linkOpens.pendingOpens }, "link opens not written at close");
    });
  });

  // With a hold for everyone, referrals whose hold has ended are approved every minute, by every
  // instance: each approval takes only a referral still held, so none is approved twice.
  if (config.integrity.holdHours > 0) {
    let stopHoldJob = () => {};
    let holdJob: Promise<unknown> = Promise.resolve();
    app.addHook("onReady", async () => {
      stopHoldJob = scheduleHousekeeping(
        () => {
          holdJob = approveDueReferrals(routeDeps.useCases, (done) =>
            routeDeps.events.referralDecided({
              status: "approved",
              by: "hold",
              amountCents: done.bonusPostedCents,
              inviterRewardCents: rewardCentsOf(done),
            }),
          );
          return holdJob;
        },
        60_000,
        (error) => app.log.warn({ err: error }, "approving referrals at the end of their hold failed"),
      );
    });
    app.addHook("onClose", async () => {
      stopHoldJob();
      await holdJob.catch(() => {});
    });
  }

  app.addHook("onReady", async () => workers.start());
  app.addHook("onClose", async () => workers.stop());
  app.decorate("mailDeps", () => mail);
  app.decorate("sendPendingEmail", () => workers.sendPendingEmail());
  app.decorate("deliverWebhooks", () => workers.deliverWebhooks());

  // The referral link's preview picture is public and cacheable: no session, and no csrftoken
  // cookie on a response shared caches keep, so it stays outside the pages' scope.
  shareImageRoutes(app, routeDeps);
  await unsubscribeRoutes(app, routeDeps);
  await apiRoutes(app, routeDeps);

  // The pages and the API share one scope: CSRF and sessions apply to all of them.
  await app.register(async (pages) => {
    await pages.register(csrfPlugin);
    await pages.register(sessionPlugin, { db: deps.db, policy: config.session });
    dashboardRoutes(pages, routeDeps);
    historyRoutes(pages, routeDeps);
    preferencesRoutes(pages, routeDeps);
    signupRoutes(pages, routeDeps);
    loginRoutes(pages, routeDeps);
    logoutRoutes(pages);
    emailAddressRoutes(pages, routeDeps);
    passwordResetRoutes(pages, routeDeps);
    accountRoutes(pages, routeDeps);
    await adminRoutes(pages, routeDeps);
  });

  return app;
}
