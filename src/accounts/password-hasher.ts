// Password hashing: argon2id at OWASP's recommended cost, on threads of its own (one per core) so the
// event loop never waits for it. The parameters live here and nowhere else.
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { Algorithm, type Options } from "@node-rs/argon2";

export interface HashParameters {
  /** KiB of memory per hash. OWASP: at least 19 MiB with 2 iterations. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const recommendedParameters: HashParameters = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/**
 * Hashes running at once: one per core, each on a hashing thread of its own. More only adds 19 MiB
 * of memory each and takes CPU from the event loop, without hashing any faster: on 2 cores, 4
 * threads hash about a fifth slower than 2 (bench/README.md).
 */
let threadLimit = availableParallelism();

/** The hashing threads this process may run. */
export function hashingThreadLimit(): number {
  return threadLimit;
}

/**
 * For a process that shares the machine's cores with others (node:cluster's workers): its share,
 * at least one thread. Called at start, before the first hash.
 */
export function shareCoresWith(processes: number): void {
  threadLimit = Math.max(1, Math.floor(availableParallelism() / Math.max(1, processes)));
}

/**
 * What the hashing threads add to the process's nice value (Linux; elsewhere they keep the process's
 * priority). 0 here, for a program that waits on its hash (createsuperuser, the tests); the server
 * sets HASHING_THREAD_NICE (10 by default) at start. A hash then never holds a core that a ready
 * request needs: with sign-ups saturating both cores, GET / p50 went from 5–8 to 3–4 ms, and its
 * p99 in full bench runs from 50 to 11–36 ms, with sign-ups as fast (bench/README.md). The cost:
 * beside other busy programs of the same priority, a hash gets a tenth of a core's share, not half.
 */
let threadNiceOffset = 0;

/** Called at start, before the first hash: threads already running keep their priority. */
export function lowerHashingPriority(niceOffset: number): void {
  threadNiceOffset = niceOffset;
}

type Job = { password: string } & ({ options: Options } | { encoded: string });
interface Reply {
  id: number;
  value?: string | boolean;
  error?: string;
}

const argon2Path = createRequire(import.meta.url).resolve("@node-rs/argon2");

/**
 * A hashing thread takes its jobs in the order given and starts the next the moment one is done.
 * Handing each finished hash back to the event loop before the next could start (libuv's pool behind
 * a queue of our own, as before) left a core idle between hashes: a server that did nothing but hash
 * reached 77–79% of the hasher's speed that way, and 92–94% with these threads (bench/README.md).
 * The source is a script (the thread gets no Node options, so never --input-type=module) and loads
 * its modules with require(): nothing in the thread goes through the ES module loader, where Node
 * 20's hooks have deadlocked threads at start, and the message listener is attached at once.
 */
const hashingThreadSource = `
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
  // again inside each thread, where Node 20's module hooks can deadlock it at start, and
  // --input-type=module would change how the source is read.
  readonly worker = new Worker(hashingThreadSource, {
    eval: true,
    execArgv: [],
    workerData: { niceOffset: threadNiceOffset },
  });
  /** Jobs given and not yet answered, by id. */
  readonly waiting = new Map<number, Waiting>();

  constructor(onStop: (thread: HashingThread) => void) {
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

  run(id: number, job: Job): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, ...job });
    });
  }
}

let threads: HashingThread[] = [];
let nextJob = 0;

/** Gives the job to the thread with the fewest waiting; starts threads up to the limit. */
function onHashingThread(job: Job): Promise<string | boolean> {
  if (threads.length < threadLimit) {
    threads.push(
      new HashingThread((stopped) => {
        threads = threads.filter((thread) => thread !== stopped);
      }),
    );
  }
  const least = threads.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
  return least.run(nextJob++, job);
}

/** The hashing threads' workers, for tests. */
export function hashingThreads(): readonly Worker[] {
  return threads.map((thread) => thread.worker);
}

/** Hashes and verifies given to the hashing threads and not yet answered (running or waiting). */
export function hashesInFlight(): number {
  return threads.reduce((sum, thread) => sum + thread.waiting.size, 0);
}

export async function hashPassword(password: string, params: HashParameters = recommendedParameters) {
  return (await onHashingThread({
    password,
    options: { algorithm: Algorithm.Argon2id, ...params },
  })) as string;
}

/** Reads m, t and p back out of a PHC string: $argon2id$v=19$m=19456,t=2,p=1$salt$hash */
export function parametersOf(encoded: string): (HashParameters & { algorithm: string }) | null {
  const match = /^\$(argon2(?:id|i|d))\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(encoded);
  if (!match) return null;
  return {
    algorithm: match[1] as string,
    memoryCost: Number(match[2]),
    timeCost: Number(match[3]),
    parallelism: Number(match[4]),
  };
}

/** True when a stored hash is weaker than today's parameters and should be re-hashed at login. */
export function needsRehash(encoded: string, params: HashParameters = recommendedParameters): boolean {
  const stored = parametersOf(encoded);
  if (!stored) return true;
  return (
    stored.algorithm !== "argon2id" ||
    stored.memoryCost < params.memoryCost ||
    stored.timeCost < params.timeCost ||
    stored.parallelism < params.parallelism
  );
}

export async function verifyPassword(encoded: string, password: string): Promise<boolean> {
  try {
    return (await onHashingThread({ password, encoded })) === true;
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, made once: verifying an unknown username's login against it costs
 * what a wrong password for a known username costs, so timing reveals nothing.
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  return dummyHash;
}
