// A pool of threads that run argon2 hashes and verifications, so the event loop never waits for one.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Options } from "@node-rs/argon2";

export type HashingJob = { password: string } & ({ options: Options } | { encoded: string });

interface Reply {
  id: number;
  value?: string | boolean;
  error?: string;
}

const argon2Path = createRequire(import.meta.url).resolve("@node-rs/argon2");

/**
 * Each thread takes its jobs in order and starts the next the moment one is done, so no core idles
 * between hashes. The source is a script loading its modules with require(): nothing in a thread goes
 * through the ES module loader, whose hooks in Node 20 can deadlock a thread at start.
 */
const threadSource = `
const threads = require("node:worker_threads");
const { hashSync, verifySync } = require(${JSON.stringify(argon2Path)});
if (threads.workerData.niceOffset > 0) {
  try {
    // Linux: this thread's id, then a lower priority for it alone (PRIO_PROCESS takes a thread id).
    const os = require("node:os");
    const id = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop());
    os.setPriority(id, Math.min(19, os.getPriority(id) + threads.workerData.niceOffset));
  } catch {}
}
threads.parentPort.on("message", ({ id, password, options, encoded }) => {
  try {
    const value = encoded === undefined ? hashSync(password, options) : verifySync(encoded, password);
    threads.parentPort.postMessage({ id, value });
  } catch (error) {
    threads.parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface Waiting {
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
}

class HashingThread {
  // No inherited Node options: a loader given with --import (tsx in the tests) would be registered
  // again inside the thread.
  readonly worker: Worker;
  /** Jobs given and not yet answered, by id. */
  readonly waiting = new Map<number, Waiting>();

  constructor(niceOffset: number, onStop: (thread: HashingThread) => void) {
    this.worker = new Worker(threadSource, { eval: true, execArgv: [], workerData: { niceOffset } });
    this.worker.on("message", ({ id, value, error }: Reply) => {
      const waiting = this.waiting.get(id);
      this.waiting.delete(id);
      if (this.waiting.size === 0) this.worker.unref();
      if (error !== undefined || value === undefined) waiting?.reject(new Error(error ?? "no answer"));
      else waiting?.resolve(value);
    });
    const stop = (reason: unknown) => {
      this.worker.unref();
      onStop(this);
      for (const waiting of this.waiting.values()) {
        waiting.reject(new Error(`the hashing thread stopped: ${String(reason)}`));
      }
      this.waiting.clear();
    };
    this.worker.on("error", stop);
    this.worker.on("exit", (code) => stop(`exit code ${code}`));
    // Idle threads do not keep the process alive; a thread with work does (a CLI awaiting a hash).
    // After the listeners: adding a "message" listener refs the thread again.
    this.worker.unref();
  }

  run(id: number, job: HashingJob): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, ...job });
    });
  }
}

export interface HashingThreadOptions {
  /** Threads at most; more than the cores only adds memory and hashes no faster. */
  threads: number;
  /** Added to the process's nice value for these threads (Linux), so a ready request gets a core first. */
  niceOffset: number;
}

export class HashingThreadPool {
  private threads: HashingThread[] = [];
  private nextJob = 0;

  constructor(private readonly options: HashingThreadOptions) {}

  /** Gives the job to the thread with the fewest waiting; starts threads up to the limit. */
  run(job: HashingJob): Promise<string | boolean> {
    if (this.threads.length < this.options.threads) {
      this.threads.push(
        new HashingThread(this.options.niceOffset, (stopped) => {
          this.threads = this.threads.filter((thread) => thread !== stopped);
        }),
      );
    }
    const least = this.threads.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
    return least.run(this.nextJob++, job);
  }

  get threadLimit(): number {
    return this.options.threads;
  }

  /** The running threads' workers (tests). */
  get workers(): readonly Worker[] {
    return this.threads.map((thread) => thread.worker);
  }

  /** Jobs given to the threads and not yet answered (running or waiting). */
  get inFlight(): number {
    return this.threads.reduce((sum, thread) => sum + thread.waiting.size, 0);
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}
