// Start-up: read the configuration, open and migrate the database, listen, and shut down cleanly.
// WEB_CONCURRENCY=N (PostgreSQL only) runs N worker processes on one port with node:cluster.
import cluster, { type Worker } from "node:cluster";
import { Server } from "node:net";
import { createPasswordHasher, threadsPerProcess } from "./accounts/password-hasher.js";
import { buildApp } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { serveClusterMetrics } from "./ops/cluster-metrics.js";
import type { RequestDrain } from "./ops/drain.js";
import { openDatabaseOrExplain, StartupError } from "./ops/startup.js";

/** A JSON log line like pino's, for the cluster's primary process (which runs no Fastify). */
function logLine(level: "info" | "warn" | "error", msg: string, extra: Record<string, unknown> = {}): void {
  const levels = { info: 30, warn: 40, error: 50 };
  process.stdout.write(
    `${JSON.stringify({ level: levels[level], time: Date.now(), pid: process.pid, msg, ...extra })}\n`,
  );
}

/** Primary → worker: stop taking connections, finish the requests in flight, exit. */
const STOP = "referral:stop";
/** Worker → primary: a signal reached this worker itself; the primary stops it as it stops any. */
const STOP_ME = "referral:stop-me";

interface StopMessage {
  type?: unknown;
  signal?: unknown;
}

/**
 * Until no request is in flight, with one more turn of the event loop after the last: bytes already
 * read from an idle keep-alive connection become a request, and count, before that connection closes.
 */
async function settle(drain: RequestDrain): Promise<void> {
  do {
    await drain.settled();
    await new Promise((resolve) => setImmediate(resolve));
  } while (drain.inFlight > 0);
}

/** One server process: open the database, optionally migrate, listen, and drain on SIGTERM. */
async function runServer(config: Config, options: { migrate: boolean }): Promise<void> {
  // A signal, or the primary's word, may come while the database is still opening.
  let stopAsked: string | undefined;
  let stop = (signal: string) => {
    stopAsked ??= signal;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    // A worker leaves it to the primary, which takes it out of the round robin first (runPrimary).
    if (cluster.isWorker && process.connected) process.send?.({ type: STOP_ME, signal });
    else stop(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  if (cluster.isWorker) {
    process.on("message", (message: StopMessage) => {
      if (message?.type === STOP) stop(typeof message.signal === "string" ? message.signal : "SIGTERM");
    });
  }

  // WEB_CONCURRENCY processes share the cores; a request ready to run never waits behind a hash.
  const hasher = createPasswordHasher({
    threads: threadsPerProcess(config.webConcurrency),
    niceOffset: config.hashingThreadNice,
  });
  const database = await openDatabaseOrExplain(config, { ...options, command: "the server" });
  const app = await buildApp(
    { db: database.db, config, database, hasher },
    { clusterMetrics: cluster.isWorker },
  );
  if (stopAsked !== undefined) {
    await app.close();
    await database.close();
    await hasher.close();
    app.log.info({ signal: stopAsked }, "stopped before listening");
    process.exit(0);
  }

  let listened = false;
  let closing = false;
  const drainAndExit = async (signal: string) => {
    if (closing) return;
    closing = true;
    // Synchronous once listening: a worker's next message (the primary's disconnect) would
    // otherwise close the listener itself, dropping idle keep-alive connections with it.
    if (!listened) await listening.catch(() => {});
    app.drain.begin();
    // Stop listening but keep idle keep-alive connections: a request already on its way over one is
    // answered, with Connection: close, where http.Server#close would drop it.
    Server.prototype.close.call(app.server);
    const timeoutMs = config.shutdownTimeoutSeconds * 1000;
    app.log.info(
      { signal, inFlight: app.drain.inFlight, timeoutSeconds: config.shutdownTimeoutSeconds },
      "shutting down: finishing in-flight requests",
    );
    // A worker's port is the primary's, which says when it is closed.
    if (!cluster.isWorker) app.log.info("stopped accepting connections");
    let forced = false;
    const force = setTimeout(() => {
      forced = true;
      app.log.error("in-flight requests outlived SHUTDOWN_TIMEOUT_SECONDS; closing their connections");
      app.server.closeAllConnections();
    }, timeoutMs);
    // Last resort: whatever still hangs (a query that never returns) does not keep the process.
    const backstop = setTimeout(() => {
      app.log.error("shutdown did not complete; exiting");
      process.exit(1);
    }, timeoutMs + 5000);
    backstop.unref();
    try {
      await settle(app.drain);
      // Closes the connections left idle; a request that still comes over one is answered first.
      await app.close();
      await settle(app.drain);
      clearTimeout(force);
      await database.close();
      await hasher.close();
      app.log.info({ database: database.kind }, "stopped cleanly");
    } catch (error) {
      app.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        "error while shutting down",
      );
      forced = true;
    }
    process.exit(forced ? 1 : 0);
  };

  const listening = app.listen({ port: config.port, host: config.host });
  stop = (signal) => void drainAndExit(signal);
  await listening;
  listened = true;
  app.log.info(
    { database: database.kind, port: config.port, worker: cluster.isWorker ? cluster.worker?.id : undefined },
    "referral service ready",
  );
}

/** The cluster's primary: migrates once, forks the workers, replaces any that die, drains on SIGTERM. */
async function runPrimary(config: Config): Promise<void> {
  const database = await openDatabaseOrExplain(config, { migrate: true });
  await database.close();
  let stopping = false;
  const exitCodes: number[] = [];
  // cluster.workers forgets a worker once it is disconnected, before it has exited.
  const running = new Set<Worker>();
  const listening = new WeakSet<Worker>();
  const stopped = new WeakSet<Worker>();
  serveClusterMetrics();
  const fork = () => running.add(cluster.fork());
  for (let i = 0; i < config.webConcurrency; i++) fork();
  cluster.on("listening", (worker) => listening.add(worker));

  /**
   * A worker closing its own listener refuses connections already being handed to it, which the
   * primary drops once no worker is left. disconnect() takes it out of the round robin here, at
   * once (the last one closes the port); whatever was handed over before reaches it first.
   */
  const stopWorker = (worker: Worker, signal: string) => {
    if (stopped.has(worker)) return;
    stopped.add(worker);
    if (!worker.isConnected()) {
      // It stops by itself on a signal when it has no channel to the primary.
      worker.process.kill("SIGTERM");
      return;
    }
    worker.send({ type: STOP, signal });
    if (listening.has(worker)) worker.disconnect();
  };

  cluster.on("exit", (worker, code, signal) => {
    running.delete(worker);
    if (stopping) {
      exitCodes.push(code ?? 1);
      if (running.size === 0) {
        const clean = exitCodes.every((c) => c === 0);
        logLine(clean ? "info" : "error", "all workers stopped", { exitCodes });
        process.exit(clean ? 0 : 1);
      }
      return;
    }
    if (stopped.has(worker)) logLine("info", "worker stopped; starting another", { worker: worker.id, code });
    else logLine("error", "worker died; starting another", { worker: worker.id, code, signal });
    setTimeout(() => {
      if (!stopping) fork();
    }, 1000).unref();
  });
  cluster.on("message", (worker, message: StopMessage) => {
    if (message?.type === STOP_ME) stopWorker(worker, String(message.signal));
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logLine("info", "shutting down the workers", { signal });
    if (running.size === 0) process.exit(0);
    for (const worker of running) stopWorker(worker, signal);
    logLine("info", "stopped accepting connections");
    setTimeout(
      () => {
        logLine("error", "workers did not stop in time; killing them");
        for (const worker of running) worker.process.kill("SIGKILL");
        process.exit(1);
      },
      config.shutdownTimeoutSeconds * 1000 + 10_000,
    ).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  logLine("info", "cluster started", { workers: config.webConcurrency, port: config.port });
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.webConcurrency === 1) return runServer(config, { migrate: true });
  if (!config.databaseUrl) {
    throw new ConfigError(
      "WEB_CONCURRENCY",
      `is ${config.webConcurrency}, but several worker processes need PostgreSQL: set DATABASE_URL, ` +
        "or use WEB_CONCURRENCY=1 with the embedded PGlite database (one process only)",
    );
  }
  if (cluster.isPrimary) return runPrimary(config);
  // A worker: the primary has migrated already.
  return runServer(config, { migrate: false });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
  } else if (error instanceof StartupError) {
    console.error(`Could not start: ${error.message}`);
  } else {
    console.error(`Could not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
