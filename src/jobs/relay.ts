// The hand-over from an outbox table to the job queue, shared by email and webhooks.
//
// Rows are written in the transaction of the change that causes them. After the commit, wake()
// claims new rows (the email outbox gives each a job id in one UPDATE; webhook deliveries come with
// their ids from the statement that wrote them) and inserts their jobs under those ids, then nudges
// this process's workers. A sweep every 30 s hands over rows a process wrote but died before handing
// over, and again those whose job may have been lost (pg-boss ignores an id it already has), so no
// row waits forever.
import type PgBoss from "pg-boss";
import type { WorkerLog } from "./queue.js";

const SWEEP_MS = 30_000;

/**
 * When a handed-over job may start: at once, by the database's own clock (pg-boss reads a text
 * without a zone as an interval from now()). Not pg-boss's default of now(): it fetches only jobs
 * whose start is before now(), and PGlite's clock moves in whole milliseconds, so the worker woken
 * by a hand-over often fetched within the millisecond of the insert, found nothing, and slept until
 * the next wake or its poll (bench/README.md: delivery lag p50 290 ms, p99 1.5 s, against 120 and
 * 230 ms).
 */
const START_AT_ONCE = "-1 second";

export interface RelaySource {
  /** New rows to hand over, each with its job id; `limit` or more: there may be more to claim. */
  claim(limit: number): Promise<{ id: number; jobId: string }[]>;
  /** For the sweep: rows still waiting `seconds` after they were handed over, or never were. */
  handedOverBefore(seconds: number, limit: number): Promise<{ id: number; jobId: string }[]>;
}

export interface Relay {
  /** Hand over what waits now, soon (after a commit that wrote rows). */
  wake(): void;
  /** Hands over what waits now and waits for it. */
  dispatch(): Promise<void>;
  /** dispatch, then hand over again rows whose job may be lost. */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

export function startRelay(options: {
  boss: PgBoss;
  queue: string;
  workerIds: string[];
  source: RelaySource;
  log: WorkerLog;
  /** Names the relay in its log lines ("email", "webhook"). */
  label: string;
  /**
   * false: a job per row, `{ id }`. true: the rows sharing a job id (claimed together) are one job,
   * `{ ids }`: a hand-over of many rows costs the queue one job, not one each.
   */
  batchJobs: boolean;
  /**
   * A wake hands over after this long (gatherDelayMs), gathering the commits meanwhile into one
   * hand-over: under load, fewer and fuller batches (a few statements each) for a little more
   * delay. 0: each wake hands over at once.
   */
  gather: { quietMs: number; busyMs: number };
  /** Rows claimed at a time (and handed over in one insert). */
  handOverBatch: number;
}): Relay {
  const { boss, queue, workerIds, source, log, label } = options;
  let nextWorker = 0;
  // When the last hand-over began: how busy the commits are (gatherDelayMs).
  let lastHandOver = 0;
  const handOver = async (rows: { id: number; jobId: string }[]) => {
    if (rows.length === 0) return;
    const job = (id: string, data: object) => ({ id, name: queue, data, startAfter: START_AT_ONCE });
    const jobs = options.batchJobs
      ? [...idsByJob(rows)].map(([jobId, ids]) => job(jobId, { ids }))
      : rows.map((row) => job(row.jobId, { id: row.id }));
    await boss.insert(jobs);
    // Each worker takes one job at a time: wake as many as there are jobs, no more.
    const wanted = Math.min(workerIds.length, jobs.length);
    for (let i = 0; i < wanted; i++) {
      boss.notifyWorker(workerIds[nextWorker++ % workerIds.length] as string);
    }
  };

  // One hand-over at a time per process; a wake during one runs it once more afterwards, so many
  // commits close together cost a few hand-overs, not one each.
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
          lastHandOver = Date.now();
          claimed = await source.claim(options.handOverBatch);
          await handOver(claimed);
        } while (claimed.length >= options.handOverBatch);
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const sweep = async () => {
    await dispatch();
    await handOver(await source.handedOverBefore(SWEEP_MS / 1000, 500));
  };
  let sweeping: Promise<void> = Promise.resolve();
  const runSweep = () => {
    sweeping = sweep().catch((error: unknown) => log.warn({ err: error }, `${label} sweep failed`));
  };
  const timer = setInterval(runSweep, SWEEP_MS);
  timer.unref();
  // Whatever an earlier run left waiting goes out now, not at the first sweep.
  runSweep();

  const dispatchNow = () => {
    dispatch().catch((error: unknown) =>
      log.warn({ err: error }, `handing ${label} jobs to the queue failed`),
    );
  };
  let gathering: NodeJS.Timeout | undefined;
  return {
    wake() {
      if (gathering) return;
      const delay = gatherDelayMs(Date.now() - lastHandOver, options.gather);
      if (delay <= 0) return dispatchNow();
      gathering = setTimeout(() => {
        gathering = undefined;
        dispatchNow();
      }, delay);
      gathering.unref();
    },
    dispatch,
    sweep,
    async stop() {
      clearInterval(timer);
      clearTimeout(gathering);
      await sweeping;
      await running?.catch(() => {});
    },
  };
}

/**
 * How long a wake waits before its hand-over. After a quiet spell (no hand-over for a whole busy
 * window) a commit goes almost at once; while commits keep coming, each hand-over gathers a whole
 * window of them: a few statements per window however many commits, for a little more delay.
 */
export function gatherDelayMs(
  sinceLastHandOverMs: number,
  gather: { quietMs: number; busyMs: number },
): number {
  return sinceLastHandOverMs >= gather.busyMs ? gather.quietMs : gather.busyMs;
}

function idsByJob(rows: { id: number; jobId: string }[]): Map<string, number[]> {
  const jobs = new Map<string, number[]>();
  for (const row of rows) {
    const ids = jobs.get(row.jobId);
    if (ids) ids.push(row.id);
    else jobs.set(row.jobId, [row.id]);
  }
  return jobs;
}
