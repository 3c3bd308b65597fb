// Password hashes made by the earlier Django version (moved over by `npm run import:django`). They are
// read here at login until that login replaces them with argon2id: PBKDF2 (Django's default, and its
// SHA-1 variant) with Node's own crypto, Django's argon2 by the hashing threads once rewritten to the
// standard PHC string. bcrypt is not read: no bcrypt library is among the dependencies, and the
// import refuses such rows by name rather than bring one in (docs/deploy.md).
import { pbkdf2, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import type { PasswordHasher } from "./password-hasher.js";

const pbkdf2Async = promisify(pbkdf2);

/** A Django hash this service can verify. */
export type DjangoHash =
  | {
      kind: "pbkdf2";
      algorithm: "pbkdf2_sha256" | "pbkdf2_sha1";
      digest: "sha256" | "sha1";
      iterations: number;
      salt: string;
      /** The derived key the hash holds (32 bytes for SHA-256, 20 for SHA-1). */
      key: Buffer;
    }
  | {
      kind: "argon2";
      /** The same hash as a PHC string, "$argon2id$v=19$m=…", which @node-rs/argon2 verifies. */
      phc: string;
    };

/** What a stored Django `password` column holds, as the import and the login read it. */
export type DjangoHashReading =
  | { status: "usable"; hash: DjangoHash }
  /** Django's set_unusable_password() ("!" and random text), or nothing: no password logs in. */
  | { status: "unusable" }
  /** A Django format this service does not verify (bcrypt_sha256, md5, …), named for the report. */
  | { status: "unsupported"; format: string }
  /** A format it verifies, but this value is broken (a bad number, a key of the wrong length). */
  | { status: "malformed"; format: string };

/**
 * Upper bounds on the work one stored hash may ask of a login: far above what any Django release
 * made (3.2: 260,000 PBKDF2 iterations; 5.x: about a million; argon2 100 MiB), far below what would
 * let one row hold a thread for minutes.
 */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
export const MAX_ARGON2_MEMORY_KIB = 1_048_576;
const MAX_ARGON2_TIME = 100;
const MAX_ARGON2_LANES = 64;

const pbkdf2Digests = { pbkdf2_sha256: "sha256", pbkdf2_sha1: "sha1" } as const;
const keyLengths = { sha256: 32, sha1: 20 } as const;
const base64 = /^[A-Za-z0-9+/]+={0,2}$/;
const unpaddedBase64 = /^[A-Za-z0-9+/]+$/;
/** Django's argon2 (argon2-cffi): "argon2$argon2id$v=19$m=102400,t=2,p=8$salt$hash"; v= is missing before Django 1.10's time. */
const djangoArgon2 =
  /^argon2\$(argon2(?:id|i|d))\$(?:v=(\d{1,3})\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})\$([^$]+)\$([^$]+)$/;

/** The algorithm's name as Django writes it before the first "$" (at most 40 characters, for messages). */
export function hashFormatOf(encoded: string): string {
  const name = encoded.split("$", 1)[0] ?? "";
  if (name === "" || name.length > 40 || !/^[a-z0-9_]+$/.test(name)) return "unrecognised";
  return name;
}

/** Reads a Django `password` value without verifying anything. */
export function readDjangoHash(encoded: string): DjangoHashReading {
  if (encoded === "" || encoded.startsWith("!")) return { status: "unusable" };
  const format = hashFormatOf(encoded);
  if (format === "pbkdf2_sha256" || format === "pbkdf2_sha1") {
    const parts = encoded.split("$");
    const [, iterationsText, salt, keyText] = parts;
    if (parts.length !== 4 || !iterationsText || !salt || !keyText) return { status: "malformed", format };
    if (!/^[1-9]\d{0,9}$/.test(iterationsText)) return { status: "malformed", format };
    const iterations = Number(iterationsText);
    if (iterations > MAX_PBKDF2_ITERATIONS) return { status: "malformed", format };
    const digest = pbkdf2Digests[format];
    if (!base64.test(keyText)) return { status: "malformed", format };
    const key = Buffer.from(keyText, "base64");
    if (key.length !== keyLengths[digest] || key.toString("base64") !== keyText) {
      return { status: "malformed", format };
    }
    return { status: "usable", hash: { kind: "pbkdf2", algorithm: format, digest, iterations, salt, key } };
  }
  if (format === "argon2") {
    const match = djangoArgon2.exec(encoded);
    if (!match) return { status: "malformed", format };
    const [, , version, memory, time, lanes, salt, key] = match as unknown as string[];
    const within =
      Number(memory) <= MAX_ARGON2_MEMORY_KIB &&
      Number(time) >= 1 &&
      Number(time) <= MAX_ARGON2_TIME &&
      Number(lanes) >= 1 &&
      Number(lanes) <= MAX_ARGON2_LANES &&
      (version === undefined || version === "16" || version === "19");
    if (!within || !unpaddedBase64.test(salt as string) || !unpaddedBase64.test(key as string)) {
      return { status: "malformed", format };
    }
    // What Django's own Argon2PasswordHasher hands argon2-cffi: the text after "argon2", with its "$".
    return { status: "usable", hash: { kind: "argon2", phc: encoded.slice("argon2".length) } };
  }
  return { status: "unsupported", format };
}

/** Whether a stored hash is in one of Django's formats (this service's own start with "$"). */
export function isDjangoHash(encoded: string): boolean {
  return !encoded.startsWith("$");
}

/** Checks a password against a Django hash: PBKDF2 on libuv's threads, argon2 on the hashing threads. */
export async function verifyDjangoHash(
  hash: DjangoHash,
  password: string,
  hasher: Pick<PasswordHasher, "verify">,
): Promise<boolean> {
  if (hash.kind === "argon2") return hasher.verify(hash.phc, password);
  const derived = await pbkdf2Async(
    Buffer.from(password, "utf8"),
    Buffer.from(hash.salt, "utf8"),
    hash.iterations,
    hash.key.length,
    hash.digest,
  );
  return timingSafeEqual(derived, hash.key);
}

/**
 * The login's check of a password against what is stored: this service's argon2id, or a hash carried
 * over from Django. A hash that can log nobody in (an unusable password, a format not verified here)
 * costs the dummy hash's verification, as an unknown username does, so the answer's time tells
 * nothing about the account.
 */
export async function verifyStoredPassword(
  hasher: Pick<PasswordHasher, "verify" | "dummyHash">,
  encoded: string,
  password: string,
): Promise<boolean> {
  if (!isDjangoHash(encoded)) return hasher.verify(encoded, password);
  const reading = readDjangoHash(encoded);
  if (reading.status === "usable") return verifyDjangoHash(reading.hash, password, hasher);
  await hasher.verify(await hasher.dummyHash(), password);
  return false;
}
