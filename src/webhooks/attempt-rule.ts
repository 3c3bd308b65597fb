// What one delivery attempt decides: the delivery's status, whether its endpoint now counts as
// failing, and whether it has failed for so long that it is turned off. Pure: the worker reads the
// facts under the endpoint's row lock and writes the verdict (src/webhooks/deliveries.ts).

export interface AttemptFacts {
  /** The receiver answered 2xx. */
  ok: boolean;
  now: number;
  /** When the delivery was made (with its event, or by staff's "send again"). */
  deliveryCreatedAt: number;
  /** The endpoint's first failure since its last success, before this attempt; null: none. */
  endpointFailingSince: number | null;
  /** How long a delivery is retried, and how long an endpoint may fail before it is turned off. */
  giveUpMs: number;
  /** Staff asked for it ("send again", "send a test event"): tried once, the answer shown to them. */
  manual: boolean;
}

export interface AttemptVerdict {
  delivery: "delivered" | "pending" | "failed";
  /** The endpoint's failing-since after this attempt. */
  endpointFailingSince: number | null;
  /** It has failed for `giveUpMs`: turn it off and tell staff. */
  disableEndpoint: boolean;
}

export function judgeAttempt(facts: AttemptFacts): AttemptVerdict {
  if (facts.ok) return { delivery: "delivered", endpointFailingSince: null, disableEndpoint: false };
  // A manual try that fails says nothing new about an endpoint staff are looking at: it neither
  // starts the clock nor turns the endpoint off.
  if (facts.manual) {
    return { delivery: "failed", endpointFailingSince: facts.endpointFailingSince, disableEndpoint: false };
  }
  const failingSince = facts.endpointFailingSince ?? facts.now;
  const disableEndpoint = facts.now - failingSince >= facts.giveUpMs;
  const givenUp = disableEndpoint || facts.now - facts.deliveryCreatedAt >= facts.giveUpMs;
  return { delivery: givenUp ? "failed" : "pending", endpointFailingSince: failingSince, disableEndpoint };
}

const DAY_MS = 86_400_000;

/**
 * The wait before the next try of a delivery that has failed `attempts` times: the first delay,
 * doubled for each attempt after the first, plus up to as much again at random (so that deliveries
 * that failed together do not all come back together), never more than a day.
 */
export function retryDelayMs(
  attempts: number,
  firstDelayMs: number,
  random: () => number = Math.random,
): number {
  const nominal = firstDelayMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30);
  return Math.min(DAY_MS, Math.round(nominal * (1 + random())));
}
