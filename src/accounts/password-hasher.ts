// Password hashing: argon2id at OWASP's recommended cost, computed on libuv's thread pool so the
// event loop never waits for it. The parameters live here and nowhere else.
import { availableParallelism } from "node:os";
import { Algorithm, hash, verify } from "@node-rs/argon2";

export interface HashParameters {
  /** KiB of memory per hash. OWASP: at least 19 MiB with 2 iterations. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const recommendedParameters: HashParameters = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/**
 * Hashes running at once, at most one per core: more only adds 19 MiB of memory each and takes CPU
 * from the event loop, without hashing any faster. The rest wait their turn in a queue.
 */
export const maxConcurrentHashes = availableParallelism();
let hashesRunning = 0;
const waitingForHash: (() => void)[] = [];

export async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (hashesRunning < maxConcurrentHashes) hashesRunning++;
  else await new Promise<void>((resolve) => waitingForHash.push(resolve));
  try {
    return await work();
  } finally {
    // Hand the slot straight to the next in line, or give it back.
    const next = waitingForHash.shift();
    if (next) next();
    else hashesRunning--;
  }
}

export async function hashPassword(password: string, params: HashParameters = recommendedParameters) {
  return withHashSlot(() => hash(password, { algorithm: Algorithm.Argon2id, ...params }));
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
    return await withHashSlot(() => verify(encoded, password));
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
