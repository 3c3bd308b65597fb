// Password hashing: argon2id on threads of its own. main.ts makes the production hasher (OWASP's
// parameters, one thread per core, lowered priority) and hands it to everything that hashes.
import { availableParallelism } from "node:os";
import { Algorithm } from "@node-rs/argon2";
import { HashingThreadPool } from "./hashing-threads.js";

export interface HashParameters {
  /** KiB of memory per hash. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP: at least 19 MiB with 2 iterations. */
export const recommendedParameters: HashParameters = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for anything that is not a hash this hasher can read. */
  verify(encoded: string, password: string): Promise<boolean>;
  /** True when a stored hash is weaker than this hasher's parameters: re-hash it at login. */
  needsRehash(encoded: string): boolean;
  /**
   * A hash of a password nobody knows, made once: an unknown username's login is verified against
   * it, so it costs what a known username's costs and timing reveals nothing.
   */
  dummyHash(): Promise<string>;
  /** For the metrics: threads allowed, and jobs given and not yet answered. */
  load(): { threads: number; inFlight: number };
  close(): Promise<void>;
}

export interface HasherOptions {
  parameters?: HashParameters;
  /** Hashing threads; default one per core. */
  threads?: number;
  /** Added to the process's nice value for the hashing threads (Linux); 0 keeps it. */
  niceOffset?: number;
}

export function createPasswordHasher(options: HasherOptions = {}): PasswordHasher {
  const parameters = options.parameters ?? recommendedParameters;
  const pool = new HashingThreadPool({
    threads: Math.max(1, options.threads ?? availableParallelism()),
    niceOffset: options.niceOffset ?? 0,
  });
  let dummy: Promise<string> | undefined;
  const hash = async (password: string) =>
    (await pool.run({ password, options: { algorithm: Algorithm.Argon2id, ...parameters } })) as string;
  return {
    hash,
    async verify(encoded, password) {
      try {
        return (await pool.run({ password, encoded })) === true;
      } catch {
        return false;
      }
    },
    needsRehash: (encoded) => isWeakerThan(encoded, parameters),
    dummyHash() {
      dummy ??= hash(`dummy-${Math.random()}-${Date.now()}`);
      return dummy;
    },
    load: () => ({ threads: pool.threadLimit, inFlight: pool.inFlight }),
    close: () => pool.close(),
  };
}

/** A process's share of the cores' hashing threads when `processes` share the machine, at least one. */
export function threadsPerProcess(processes: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, processes)));
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

export function isWeakerThan(encoded: string, params: HashParameters): boolean {
  const stored = parametersOf(encoded);
  if (!stored) return true;
  return (
    stored.algorithm !== "argon2id" ||
    stored.memoryCost < params.memoryCost ||
    stored.timeCost < params.timeCost ||
    stored.parallelism < params.parallelism
  );
}
