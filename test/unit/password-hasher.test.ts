import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, test } from "node:test";
import {
  hashesInFlight,
  hashingThreadLimit,
  hashingThreads,
  hashPassword,
  shareCoresWith,
  verifyPassword,
} from "../../src/accounts/password-hasher.js";

const cheap = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe("password hashing threads", () => {
  test("a burst of hashes runs on one thread per core at most, and every hash verifies", async () => {
    const count = hashingThreadLimit() * 3 + 1;
    const hashes = await Promise.all(Array.from({ length: count }, (_, i) => hashPassword(`pw-${i}`, cheap)));
    assert.equal(new Set(hashes).size, count);
    assert.equal(hashingThreads().length, hashingThreadLimit());
    const results = await Promise.all(hashes.map((h, i) => verifyPassword(h, `pw-${i}`)));
    assert.deepEqual(results, Array(count).fill(true));
    assert.equal(await verifyPassword(hashes[0] as string, "wrong"), false);
    assert.equal(await verifyPassword("not a hash at all", "pw-0"), false);
  });

  test("hashes in flight count what was given to the threads and not yet answered", async () => {
    const burst = Array.from({ length: 5 }, (_, i) => hashPassword(`flight-${i}`, cheap));
    assert.equal(hashesInFlight(), 5);
    await Promise.all(burst);
    assert.equal(hashesInFlight(), 0);
  });

  test("processes that share the cores (WEB_CONCURRENCY) each get their share of threads, at least one", () => {
    const cores = availableParallelism();
    try {
      shareCoresWith(2);
      assert.equal(hashingThreadLimit(), Math.max(1, Math.floor(cores / 2)));
      shareCoresWith(cores * 4);
      assert.equal(hashingThreadLimit(), 1);
    } finally {
      shareCoresWith(1);
    }
    assert.equal(hashingThreadLimit(), cores);
  });

  test("a hash that fails rejects, and its thread goes on hashing", async () => {
    await assert.rejects(hashPassword("pw", { memoryCost: 1, timeCost: 1, parallelism: 1 }), /memory/i);
    const hash = await hashPassword("still fine", cheap);
    assert.equal(await verifyPassword(hash, "still fine"), true);
  });

  test("a hashing thread that dies fails the jobs it held, and a new thread takes the next ones", async () => {
    await hashPassword("warm up", cheap);
    const doomed = hashingThreads()[0];
    assert.ok(doomed);
    const slow = { memoryCost: 65_536, timeCost: 3, parallelism: 1 };
    // Jobs go to the least busy thread, so a burst puts some on every thread, the doomed one too.
    const burst = Array.from({ length: hashingThreadLimit() * 2 }, (_, i) =>
      hashPassword(`slow-${i}`, slow).then(
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
    assert.ok(!hashingThreads().includes(doomed));
    const hash = await hashPassword("after the loss", cheap);
    assert.equal(await verifyPassword(hash, "after the loss"), true);
    assert.equal(hashingThreads().length, hashingThreadLimit());
  });
});

test("a process waits for its hash, then exits: idle hashing threads keep nothing alive", () => {
  // A script that only hashes: it must print the hash (the thread held the process open while it
  // worked) and then end on its own (the idle threads let it go), as the createsuperuser CLI does.
  const hasher = new URL("../../src/accounts/password-hasher.ts", import.meta.url).href;
  const script = `import(${JSON.stringify(hasher)}).then(async (m) => {
    await m.hashPassword("x", { memoryCost: 1024, timeCost: 1, parallelism: 1 });
    await new Promise((r) => setTimeout(r, 50)); // an idle thread after a hash, too
    process.stdout.write("hashed " + (await m.hashPassword("y", { memoryCost: 1024, timeCost: 1, parallelism: 1 })).slice(0, 9));
  });`;
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.equal(run.signal, null, `the process did not end by itself: ${run.stderr}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "hashed $argon2id");
});
