import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  hashPassword,
  maxConcurrentHashes,
  verifyPassword,
  withHashSlot,
} from "../../src/accounts/password-hasher.js";

const cheap = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe("password hashing concurrency", () => {
  test("no more hashes run at once than there are cores; the rest wait and all finish", async () => {
    let running = 0;
    let most = 0;
    const jobs = Array.from({ length: maxConcurrentHashes * 3 + 1 }, (_, i) =>
      withHashSlot(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return i;
      }),
    );
    assert.deepEqual(await Promise.all(jobs), [...jobs.keys()]);
    assert.equal(most, maxConcurrentHashes);
  });

  test("a failing hash gives its slot back", async () => {
    const failures = Array.from({ length: maxConcurrentHashes + 1 }, () =>
      withHashSlot(async () => {
        throw new Error("boom");
      }).catch((e: Error) => e.message),
    );
    assert.deepEqual(await Promise.all(failures), Array(maxConcurrentHashes + 1).fill("boom"));
    let ran = 0;
    await Promise.all(
      Array.from({ length: maxConcurrentHashes }, () =>
        withHashSlot(async () => {
          ran++;
        }),
      ),
    );
    assert.equal(ran, maxConcurrentHashes);
  });

  test("hashes made while others queue still verify", async () => {
    const hashes = await Promise.all(
      Array.from({ length: maxConcurrentHashes * 2 }, (_, i) => hashPassword(`pw-${i}`, cheap)),
    );
    const results = await Promise.all(hashes.map((h, i) => verifyPassword(h, `pw-${i}`)));
    assert.deepEqual(results, Array(hashes.length).fill(true));
    assert.equal(await verifyPassword(hashes[0] as string, "wrong"), false);
  });
});
