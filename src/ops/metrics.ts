// Prometheus metrics (prom-client): requests by route and status, the programme's own counts,
// the database pool, and Node's defaults (event-loop lag, memory, GC). One registry per app.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { PasswordHasher } from "../accounts/password-hasher.js";
import type { DatabaseHandle } from "../db/connection.js";
import type { SignupResult } from "../referrals/signup.js";
import type { ServiceEvents } from "../web/app-deps.js";

export interface ServiceMetrics {
  registry: Registry;
  /** Hooks the routes call: sign-ups, rewards, failed logins, throttled requests. */
  events: ServiceEvents;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  databaseUnavailable(): void;
}

export function createMetrics(hasher: PasswordHasher, database?: DatabaseHandle): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method, route and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const signups = new Counter({
    name: "referral_signups_total",
    help: "Sign-ups, with or without a referral link.",
    registers: [registry],
  });
  const referredSignups = new Counter({
    name: "referral_referred_signups_total",
    help: "Sign-ups through a valid referral link.",
    registers: [registry],
  });
  const rewards = new Counter({
    name: "referral_rewards_paid_total",
    help: "Rewards credited, by kind (invitee_bonus, inviter_reward).",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const rewardCents = new Counter({
    name: "referral_rewards_paid_cents_total",
    help: "Credit paid out as rewards, in cents, by kind.",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const referralsCreated = new Counter({
    name: "referral_referrals_total",
    help: "Referrals as they were created, by status (approved at once, or held).",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const referralDecisions = new Counter({
    name: "referral_decisions_total",
    help: "Held referrals decided, by decision (approved, rejected) and by whom (staff, hold: the end of the hold for everyone).",
    labelNames: ["decision", "by"] as const,
    registers: [registry],
  });
  const referralDecisionCents = new Counter({
    name: "referral_decisions_cents_total",
    help: "Pending credit settled by decisions, in cents: posted (approved) or voided (rejected).",
    labelNames: ["decision"] as const,
    registers: [registry],
  });
  const linkOpens = new Counter({
    name: "referral_link_opens_total",
    help: "Referral links opened by a visitor not yet counted for that link that UTC day.",
    registers: [registry],
  });
  const loginFailures = new Counter({
    name: "referral_login_failures_total",
    help: "Logins refused for a wrong username or password.",
    registers: [registry],
  });
  const throttled = new Counter({
    name: "referral_throttled_requests_total",
    help: "Requests refused with 429, by kind (login, signup).",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const unavailable = new Counter({
    name: "referral_database_unavailable_total",
    help: "Requests answered 503 because the database could not be reached.",
    registers: [registry],
  });
  for (const kind of ["invitee_bonus", "inviter_reward"]) {
    rewards.inc({ kind }, 0);
    rewardCents.inc({ kind }, 0);
  }
  for (const kind of ["login", "signup"]) throttled.inc({ kind }, 0);
  for (const status of ["approved", "held"]) referralsCreated.inc({ status }, 0);
  for (const decision of ["approved", "rejected"]) {
    referralDecisionCents.inc({ decision }, 0);
    for (const by of ["staff", "hold"]) referralDecisions.inc({ decision, by }, 0);
  }
  const paid = (kind: "invitee_bonus" | "inviter_reward", cents: number) => {
    if (cents <= 0) return;
    rewards.inc({ kind });
    rewardCents.inc({ kind }, cents);
  };

  new Gauge({
    name: "password_hashing_threads",
    help: "Password hashing threads this process may run (one per core, shared among WEB_CONCURRENCY processes).",
    registers: [registry],
    collect() {
      this.set(hasher.load().threads);
    },
  });
  new Gauge({
    name: "password_hashes_in_flight",
    help: "Password hashes and verifications running or waiting for a hashing thread.",
    registers: [registry],
    collect() {
      this.set(hasher.load().inFlight);
    },
  });

  const pool = database?.pool;
  if (pool) {
    new Gauge({
      name: "db_pool_connections_in_use",
      help: "Database connections checked out of the pool.",
      registers: [registry],
      collect() {
        this.set(pool.totalCount - pool.idleCount);
      },
    });
    new Gauge({
      name: "db_pool_connections_idle",
      help: "Open database connections waiting in the pool.",
      registers: [registry],
      collect() {
        this.set(pool.idleCount);
      },
    });
    new Gauge({
      name: "db_pool_waiting_requests",
      help: "Queries waiting for a free database connection.",
      registers: [registry],
      collect() {
        this.set(pool.waitingCount);
      },
    });
    new Gauge({
      name: "db_pool_max_connections",
      help: "The pool's size (DATABASE_POOL_SIZE).",
      registers: [registry],
      collect() {
        this.set(pool.options.max ?? 10);
      },
    });
  }

  const events: Required<ServiceEvents> = {
    signedUp(result: SignupResult) {
      signups.inc();
      if (result.referralStatus === null) return;
      referredSignups.inc();
      referralsCreated.inc({ status: result.referralStatus });
      if (result.referralStatus === "approved") paid("invitee_bonus", result.inviteeRewardCents);
      paid("inviter_reward", result.inviterRewardCents);
    },
    referralDecided(decision) {
      referralDecisions.inc({ decision: decision.status, by: decision.by });
      referralDecisionCents.inc({ decision: decision.status }, decision.amountCents);
      if (decision.status === "approved") paid("invitee_bonus", decision.amountCents);
      paid("inviter_reward", decision.inviterRewardCents);
    },
    loginFailed() {
      loginFailures.inc();
    },
    linkOpened() {
      linkOpens.inc();
    },
    throttled(kind) {
      throttled.inc({ kind });
    },
  };

  return {
    registry,
    events,
    observeRequest(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    databaseUnavailable() {
      unavailable.inc();
    },
  };
}

/** Calls every given hook set in turn; one that throws does not stop the others. */
export function combineEvents(...sets: (Partial<ServiceEvents> | undefined)[]): ServiceEvents {
  const present = sets.filter((s): s is Partial<ServiceEvents> => s !== undefined);
  const each = (call: (s: Partial<ServiceEvents>) => void) => {
    for (const s of present) {
      try {
        call(s);
      } catch {
        // Counting must never break a request.
      }
    }
  };
  return {
    signedUp: (result) => each((s) => s.signedUp?.(result)),
    loginFailed: () => each((s) => s.loginFailed?.()),
    throttled: (kind) => each((s) => s.throttled?.(kind)),
    referralDecided: (decision) => each((s) => s.referralDecided?.(decision)),
    linkOpened: () => each((s) => s.linkOpened?.()),
  };
}
