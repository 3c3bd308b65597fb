// The hashing thread pool: at most its limit of threads, every job answered, a dead thread replaced.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { Algorithm } from "@node-rs/argon2";
import { HashingThreadPool } from "../../src/accounts/hashing-threads.js";

const cheap = { algorithm: Algorithm.Argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 };
const pool = new HashingThreadPool({ threads: 2, niceOffset: 0 });
after(() => pool.close());

const hash = async (password: string, options = cheap) => (await pool.run({ password, options })) as string;
const verify = (encoded: string, password: string) => pool.run({ password, encoded });

describe("the hashing thread pool", () => {
  test("a burst of hashes runs on its limit of threads at most, and every hash verifies", async () => {
    const count = pool.threadLimit * 3 + 1;
    const hashes = await Promise.all(Array.from({ length: count }, (_, i) => hash(`pw-${i}`)));
    assert.equal(new Set(hashes).size, count);
    assert.equal(pool.workers.length, pool.threadLimit);
    const results = await Promise.all(hashes.map((h, i) => verify(h, `pw-${i}`)));
    assert.deepEqual(results, Array(count).fill(true));
    assert.equal(await verify(hashes[0] as string, "wrong"), false);
  });

  test("jobs in flight count what was given to the threads and not yet answered", async () => {
    const burst = Array.from({ length: 5 }, (_, i) => hash(`flight-${i}`));
    assert.equal(pool.inFlight, 5);
    await Promise.all(burst);
    assert.equal(pool.inFlight, 0);
  });

  test("a job that fails rejects, and its thread goes on hashing", async () => {
    await assert.rejects(hash("pw", { ...cheap, memoryCost: 1 }), /memory/i);
    assert.equal(await verify(await hash("still fine"), "still fine"), true);
  });

  test("a thread that dies fails the jobs it held, and a new thread takes the next ones", async () => {
    await hash("warm up");
    const doomed = pool.workers[0];
    assert.ok(doomed);
    const slow = { ...cheap, memoryCost: 65_536, timeCost: 3 };
    // Jobs go to the least busy thread, so a burst puts some on every thread, the doomed one too.
    const burst = Array.from({ length: pool.threadLimit * 2 }, (_, i) =>
      hash(`slow-${i}`, slow).then(
        () => "hashed",
        (error: Error) => error.message,
      ),
    );
    await doomed.terminate();
    const outcomes = await Promise.all(burst);
    assert.ok(
      outcomes.some((outcome) => outcome.startsWith("the hashing thread stopped")),
      JSON.stringify(outcomes),
    );
    assert.ok(!pool.workers.includes(doomed));
    assert.equal(await verify(await hash("after the loss"), "after the loss"), true);
    assert.equal(pool.workers.length, pool.threadLimit);
  });

  test("the event loop keeps turning while a thread hashes", async () => {
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    await hash("a fairly long password to hash", { ...cheap, memoryCost: 65_536, timeCost: 3 });
    done = true;
    assert.ok(turns > 5, `event loop turned only ${turns} times during a hash`);
  });
});

test("a process waits for its hash, then exits: idle hashing threads keep nothing alive", () => {
  // A script that only hashes must print the hash (the thread held the process open while it
  // worked) and then end on its own (the idle thread lets it go), as the createsuperuser CLI does.
  const module = new URL("../../src/accounts/password-hasher.ts", import.meta.url).href;
  const script = `import(${JSON.stringify(module)}).then(async (m) => {
    const hasher = m.createPasswordHasher({ parameters: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
    await hasher.hash("x");
    await new Promise((r) => setImmediate(r));
    process.stdout.write("hashed " + (await hasher.hash("y")).slice(0, 9));
  });`;
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.equal(run.signal, null, `the process did not end by itself: ${run.stderr}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "hashed $argon2id");
});
