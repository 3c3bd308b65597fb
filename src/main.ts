// Start-up: read the configuration, open and migrate the database, listen, and shut down cleanly.
// WEB_CONCURRENCY=N (PostgreSQL only) runs N worker processes on one port with node:cluster.
import cluster from "node:cluster";
import { createPasswordHasher, threadsPerProcess } from "./accounts/password-hasher.js";
import { buildApp } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { serveClusterMetrics } from "./ops/cluster-metrics.js";
import { openDatabaseOrExplain, StartupError } from "./ops/startup.js";

/** A JSON log line like pino's, for the cluster's primary process (which runs no Fastify). */
function logLine(level: "info" | "warn" | "error", msg: string, extra: Record<string, unknown> = {}): void {
  const levels = { info: 30, warn: 40, error: 50 };
  process.stdout.write(
    `${JSON.stringify({ level: levels[level], time: Date.now(), pid: process.pid, msg, ...extra })}\n`,
  );
}

/** One server process: open the database, optionally migrate, listen, and drain on SIGTERM. */
async function runServer(config: Config, options: { migrate: boolean }): Promise<void> {
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

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    const timeoutMs = config.shutdownTimeoutSeconds * 1000;
    app.log.info(
      { signal, timeoutSeconds: config.shutdownTimeoutSeconds },
      "shutting down: finishing in-flight requests",
    );
    let forced = false;
    // Connections that go idle once their last response is sent are closed straight away.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
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
      await app.close();
      clearTimeout(force);
      clearInterval(reaper);
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
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  await app.listen({ port: config.port, host: config.host });
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
  serveClusterMetrics();
  for (let i = 0; i < config.webConcurrency; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      exitCodes.push(code ?? 1);
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        const clean = exitCodes.every((c) => c === 0);
        logLine(clean ? "info" : "error", "all workers stopped", { exitCodes });
        process.exit(clean ? 0 : 1);
      }
      return;
    }
    logLine("error", "worker died; starting another", { worker: worker.id, code, signal });
    setTimeout(() => {
      if (!stopping) cluster.fork();
    }, 1000).unref();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logLine("info", "shutting down the workers", { signal });
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker?.process.kill("SIGTERM");
    setTimeout(
      () => {
        logLine("error", "workers did not stop in time; killing them");
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
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
