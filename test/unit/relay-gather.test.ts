// The relay's gathering rule (src/jobs/relay.ts): a commit after a quiet spell goes almost at once;
// while commits keep coming, each hand-over gathers a whole window of them.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { gatherDelayMs } from "../../src/jobs/relay.js";

const gather = { quietMs: 10, busyMs: 200 };

test("after a quiet spell a commit is handed over after the short wait", () => {
  assert.equal(gatherDelayMs(200, gather), 10);
  assert.equal(gatherDelayMs(60_000, gather), 10);
  assert.equal(gatherDelayMs(Date.now(), gather), 10, "the first hand-over of a process");
});

test("within a window of the last hand-over, a commit waits for the whole window", () => {
  assert.equal(gatherDelayMs(0, gather), 200);
  assert.equal(gatherDelayMs(199, gather), 200);
});

test("the wait is never longer than the window, and 0 windows hand over at once", () => {
  fc.assert(
    fc.property(fc.nat(10_000_000), fc.nat(1000), fc.nat(1000), (since, a, b) => {
      const window = { quietMs: Math.min(a, b), busyMs: Math.max(a, b) };
      const delay = gatherDelayMs(since, window);
      return delay >= window.quietMs && delay <= window.busyMs;
    }),
  );
  assert.equal(gatherDelayMs(0, { quietMs: 0, busyMs: 0 }), 0);
});
