// What one delivery attempt decides (src/webhooks/attempt-rule.ts): delivered, retried, given up,
// and when an endpoint has failed long enough to be turned off.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type AttemptFacts, judgeAttempt, retryDelayMs } from "../../src/webhooks/attempt-rule.js";

const HOUR = 3_600_000;
const base: AttemptFacts = {
  ok: false,
  now: 100 * HOUR,
  deliveryCreatedAt: 100 * HOUR,
  endpointFailingSince: null,
  giveUpMs: 72 * HOUR,
  manual: false,
};

describe("judgeAttempt", () => {
  test("a 2xx delivers, and the endpoint is failing no more", () => {
    assert.deepEqual(judgeAttempt({ ...base, ok: true, endpointFailingSince: 99 * HOUR }), {
      delivery: "delivered",
      endpointFailingSince: null,
      disableEndpoint: false,
    });
  });

  test("a first failure starts the endpoint's clock and is retried", () => {
    assert.deepEqual(judgeAttempt(base), {
      delivery: "pending",
      endpointFailingSince: base.now,
      disableEndpoint: false,
    });
  });

  test("an earlier failure keeps the clock where it started", () => {
    const verdict = judgeAttempt({ ...base, endpointFailingSince: 90 * HOUR });
    assert.equal(verdict.endpointFailingSince, 90 * HOUR);
    assert.equal(verdict.delivery, "pending");
  });

  test("failing for the whole give-up time turns the endpoint off and fails the delivery", () => {
    assert.deepEqual(judgeAttempt({ ...base, endpointFailingSince: base.now - 72 * HOUR }), {
      delivery: "failed",
      endpointFailingSince: base.now - 72 * HOUR,
      disableEndpoint: true,
    });
    assert.equal(
      judgeAttempt({ ...base, endpointFailingSince: base.now - 72 * HOUR + 1 }).disableEndpoint,
      false,
    );
  });

  test("a delivery as old as the give-up time is failed, though its endpoint stays on", () => {
    const verdict = judgeAttempt({
      ...base,
      deliveryCreatedAt: base.now - 72 * HOUR,
      endpointFailingSince: base.now,
    });
    assert.deepEqual(verdict, { delivery: "failed", endpointFailingSince: base.now, disableEndpoint: false });
  });

  test("staff's manual try is tried once, and neither starts the clock nor turns the endpoint off", () => {
    assert.deepEqual(judgeAttempt({ ...base, manual: true }), {
      delivery: "failed",
      endpointFailingSince: null,
      disableEndpoint: false,
    });
    assert.equal(
      judgeAttempt({ ...base, manual: true, endpointFailingSince: base.now - 100 * HOUR }).disableEndpoint,
      false,
    );
    assert.equal(judgeAttempt({ ...base, manual: true, ok: true }).delivery, "delivered");
  });

  test("property: only a failure turns an endpoint off, and a turned-off endpoint's delivery is failed", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 200 * HOUR }),
        fc.option(fc.integer({ min: 0, max: 200 * HOUR })),
        (ok, manual, age, failingFor) => {
          const verdict = judgeAttempt({
            ...base,
            ok,
            manual,
            deliveryCreatedAt: base.now - age,
            endpointFailingSince: failingFor === null ? null : base.now - failingFor,
          });
          if (verdict.disableEndpoint) assert.ok(!ok && !manual && verdict.delivery === "failed");
          if (ok) assert.equal(verdict.delivery, "delivered");
          if (verdict.delivery === "pending") assert.ok(!ok && !manual && age < base.giveUpMs);
        },
      ),
    );
  });
});

describe("retryDelayMs", () => {
  test("doubles from the first delay, with up to as much again at random", () => {
    assert.equal(
      retryDelayMs(1, 30_000, () => 0),
      30_000,
    );
    assert.equal(
      retryDelayMs(2, 30_000, () => 0),
      60_000,
    );
    assert.equal(
      retryDelayMs(3, 30_000, () => 0.5),
      180_000,
    );
    assert.equal(
      retryDelayMs(1, 30_000, () => 0.999),
      59_970,
    );
  });

  test("the waits of a delivery retried until it is given up span three days in a few dozen tries", () => {
    let waited = 0;
    let attempts = 0;
    while (waited < 72 * HOUR) {
      attempts++;
      waited += retryDelayMs(attempts, 30_000, () => 0);
    }
    assert.ok(attempts <= 16, `${attempts} attempts`);
  });

  test("no wait is longer than a day, however many attempts", () => {
    assert.equal(
      retryDelayMs(40, 30_000, () => 0.999),
      24 * HOUR,
    );
  });
});
