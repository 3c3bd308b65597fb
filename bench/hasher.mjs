// The sign-up's limit: raw argon2id with the production parameters (imported from dist/), kept busy
// on every libuv worker thread (UV_THREADPOOL_SIZE, 4 by default) for a fixed time, bypassing the
// service's own queue. Prints one line of JSON.
//   node bench/hasher.mjs SECONDS IN_FLIGHT
import { Algorithm, hash } from "@node-rs/argon2";
import { recommendedParameters } from "../dist/accounts/password-hasher.js";

const seconds = Number(process.argv[2] ?? 10);
const inFlight = Number(process.argv[3] ?? 16);
const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
const options = { algorithm: Algorithm.Argon2id, ...recommendedParameters };

await Promise.all(Array.from({ length: threads }, (_, i) => hash(`warm-up-${i}`, options)));
let done = 0;
const started = performance.now();
const until = started + seconds * 1000;
async function worker(id) {
  let n = 0;
  while (performance.now() < until) {
    await hash(`hasher-reference-${id}-${n++}`, options);
    done++;
  }
}
await Promise.all(Array.from({ length: inFlight }, (_, i) => worker(i)));
const elapsed = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    hashesPerSecond: done / elapsed,
    hashes: done,
    seconds: elapsed,
    threads,
    inFlight,
    parameters: recommendedParameters,
  }),
);
