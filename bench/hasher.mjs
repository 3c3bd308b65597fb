// The sign-up's limit: the production password hasher (dist/, the same argon2id parameters) kept
// busy on every libuv worker thread for a fixed time. Prints one line of JSON.
//   node bench/hasher.mjs SECONDS IN_FLIGHT
import { hashPassword, recommendedParameters } from "../dist/accounts/password-hasher.js";

const seconds = Number(process.argv[2] ?? 10);
const inFlight = Number(process.argv[3] ?? 16);
const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

await Promise.all(Array.from({ length: threads }, (_, i) => hashPassword(`warm-up-${i}`)));
let done = 0;
const started = performance.now();
const until = started + seconds * 1000;
async function worker(id) {
  let n = 0;
  while (performance.now() < until) {
    await hashPassword(`hasher-reference-${id}-${n++}`);
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
