// Every setting, read from the environment once, validated, with defaults.
import { allowedAddressProblem } from "./webhooks/target-check.js";

export interface ProgramConfig {
  /** Credit for a newcomer who signs up through a valid link. */
  inviteeRewardCents: number;
  /** Credit for the inviter, paid once per `referralsPerInviterReward` referred sign-ups. */
  inviterRewardCents: number;
  referralsPerInviterReward: number;
}

export interface ThrottleConfig {
  /** Failed logins allowed per username, and per client address, within the window. */
  loginFailuresPerWindow: number;
  /** Sign-ups allowed per client address within the window. */
  signupsPerWindow: number;
  windowSeconds: number;
}

/** The referral signals, the hold for everyone and the monthly cap (docs/referral-review.md). */
export interface IntegrityConfig {
  /** REFERRAL_SIGNALS=off: no signal is looked at, as before referrals could be held. */
  signalsOn: boolean;
  /** A sign-up from a browser holding the inviter's session or device cookie is held. */
  selfReferral: boolean;
  /** Days an address the inviter used counts as theirs; 0 turns the signal off. */
  sharedAddressDays: number;
  /** Referred sign-ups through one link per hour before the next is held; 0: off. */
  linkSignupsPerHour: number;
  /** Referred sign-ups from one address per hour before the next is held; 0: off. */
  addressSignupsPerHour: number;
  /** Rejected referrals of an inviter (within `rejectionsWindowDays`) that hold their next; 0: off. */
  rejectionsBeforeHold: number;
  rejectionsWindowDays: number;
  /** Hours every referral waits before it is approved on its own; 0: approved at once. */
  holdHours: number;
  /** Most inviter reward cents per inviter per calendar month (UTC); null: no limit. */
  monthlyCapCents: number | null;
}

export interface Config {
  port: number;
  host: string;
  /** Unset: embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  nodeEnv: string;
  logLevel: string;
  /** Trust X-Forwarded-* from a proxy in front (load balancer, Cloud Run): all, a hop count, or addresses. */
  trustProxy: boolean | number | string;
  /** Host names the service answers to (Django's ALLOWED_HOSTS); empty: any well-formed host. */
  allowedHosts: string[];
  /** Database connections per process (node-postgres pool). */
  poolSize: number;
  /** Worker processes sharing the port (node:cluster); PostgreSQL only. */
  webConcurrency: number;
  /** Added to the process's nice value for the password-hashing threads (Linux); 0 keeps it. */
  hashingThreadNice: number;
  program: ProgramConfig;
  throttle: ThrottleConfig;
  integrity: IntegrityConfig;
  session: {
    /** Absolute lifetime of a session: two weeks, as the earlier version. */
    maxAgeSeconds: number;
    /** A session unused for this long ends. */
    idleSeconds: number;
  };
  /** Seconds to let in-flight requests finish on SIGTERM. */
  shutdownTimeoutSeconds: number;
  /**
   * Bearer tokens GET /metrics accepts (METRICS_TOKEN, comma-separated: two while one is rotated);
   * empty: open.
   */
  metricsTokens: string[];
  /** The origin referral links are built on (https://refer.example.com); unset: the request's own. */
  publicOrigin: string | undefined;
  /** Maximum request body, in bytes. */
  bodyLimitBytes: number;
  email: EmailConfig;
  api: ApiConfig;
  webhooks: WebhookConfig;
}

/** /api/v1/ (src/api/): programs holding an API key. */
export interface ApiConfig {
  /** Requests each key may make per minute; the next gets 429 with Retry-After. */
  requestsPerMinute: number;
  /** Hours an Idempotency-Key's first answer is kept and given back to repeats. */
  idempotencyHours: number;
}

/** Webhooks (src/webhooks/): endpoints staff register, events delivered by the job queue. */
export interface WebhookConfig {
  /** WEBHOOKS=off: events are still written, but no process delivers them. */
  enabled: boolean;
  /** Endpoints must be https (on in production unless WEBHOOK_REQUIRE_HTTPS=off). */
  requireHttps: boolean;
  /** Internal addresses (IPs or CIDRs) endpoints may reach anyway; empty: none (SSRF protection). */
  allowedAddresses: string[];
  /** How long one delivery attempt may take, connection and answer. */
  timeoutMs: number;
  /** The first retry's delay; each next one doubles (with jitter). */
  retryDelaySeconds: number;
  /** A delivery keeps being retried this long; an endpoint failing this long is turned off. */
  giveUpHours: number;
  /** After a secret is rotated, the old one keeps signing beside the new for this long. */
  secretOverlapHours: number;
  /** Events (with their deliveries and attempts) older than this are deleted, unless still being delivered. */
  eventRetentionDays: number;
}

export interface EmailConfig {
  /** smtp:// or smtps:// with credentials; unset: messages are kept in the outbox for staff to read. */
  smtpUrl: string | undefined;
  /** The From header: `Referrals <no-reply@example.com>`. */
  from: string;
  /** Attempts before a message is marked failed (with exponential backoff between them). */
  maxAttempts: number;
  /** Seconds before the first retry; each next one waits about twice as long (and a random part). */
  retryDelaySeconds: number;
  /** A send not finished in this long (a worker that died) is tried again. */
  leaseSeconds: number;
  /** How often the job queue's maintenance runs (expired leases, retention). */
  maintenanceSeconds: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function text(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? fallback : raw.trim();
}

function trustProxy(env: Env): boolean | number | string {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || raw === "" || raw === "false" || raw === "0") return false;
  if (raw === "true") return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  // A comma-separated list of addresses or CIDR ranges, as Fastify accepts.
  if (/^[0-9a-fA-F.:/, ]+$/.test(raw)) return raw;
  throw new ConfigError(
    "TRUST_PROXY",
    `must be true, false, a hop count or a list of addresses, got "${raw}"`,
  );
}

/** Django's ALLOWED_HOSTS: names, `.example.com` for a domain and its subdomains, or `*`. */
function allowedHosts(env: Env, nodeEnv: string, hasPublicOrigin: boolean): string[] {
  const hosts = (env.ALLOWED_HOSTS ?? "")
    .split(",")
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== "");
  for (const host of hosts) {
    if (host !== "*" && !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$|^\[[0-9a-f:.]+\]$/.test(host)) {
      throw new ConfigError("ALLOWED_HOSTS", `"${host}" is not a host name (example.com, .example.com or *)`);
    }
  }
  if (hosts.length === 0 && nodeEnv === "production" && !hasPublicOrigin) {
    throw new ConfigError(
      "ALLOWED_HOSTS",
      "must name the hosts the service answers to in production (e.g. refer.example.com), unless PUBLIC_ORIGIN is set",
    );
  }
  return hosts;
}

function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL?.trim();
  if (raw === undefined || raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      "DATABASE_URL",
      "is not a valid URL (expected postgres://user:password@host:port/database)",
    );
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(
      "DATABASE_URL",
      `must start with postgres:// or postgresql://, got "${url.protocol}//"`,
    );
  }
  return raw;
}

function publicOrigin(env: Env): string | undefined {
  const raw = env.PUBLIC_ORIGIN?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("PUBLIC_ORIGIN", `is not a valid URL, got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError("PUBLIC_ORIGIN", `must be an http:// or https:// origin, got "${raw}"`);
  }
  return url.origin;
}

function smtpUrl(env: Env): string | undefined {
  const raw = env.SMTP_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("SMTP_URL", "is not a valid URL (smtp://user:password@host:587)");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    throw new ConfigError("SMTP_URL", `must start with smtp:// or smtps://, got "${url.protocol}//"`);
  }
  return raw;
}

/** WEBHOOK_ALLOWED_ADDRESSES: IPs or CIDRs, comma-separated; refused at start if one is not. */
function allowedAddresses(env: Env): string[] {
  const entries = (env.WEBHOOK_ALLOWED_ADDRESSES ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const entry of entries) {
    const problem = allowedAddressProblem(entry);
    if (problem) throw new ConfigError("WEBHOOK_ALLOWED_ADDRESSES", problem);
  }
  return entries;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  throw new ConfigError(name, `must be on or off, got "${env[name]}"`);
}

/**
 * Sign-ups per address per window. With the referral signals on, the limit is only a brake on bots:
 * money is guarded by the signals, so a crowd behind one address (an office, a venue) is let in.
 */
export const BOT_BRAKE_SIGNUPS_PER_WINDOW = 1000;
const SIGNUPS_PER_WINDOW_WITHOUT_SIGNALS = 20;

function integrity(env: Env): IntegrityConfig {
  const signalsOn = onOff(env, "REFERRAL_SIGNALS", true);
  const cap = env.REFERRAL_MONTHLY_CAP_CENTS?.trim();
  return {
    signalsOn,
    selfReferral: signalsOn && onOff(env, "REFERRAL_SELF_SIGNAL", true),
    sharedAddressDays: signalsOn ? integer(env, "REFERRAL_SHARED_ADDRESS_DAYS", 30, 0, 365) : 0,
    linkSignupsPerHour: signalsOn ? integer(env, "REFERRAL_LINK_SIGNUPS_PER_HOUR", 10, 0, 1_000_000) : 0,
    addressSignupsPerHour: signalsOn ? integer(env, "REFERRAL_ADDRESS_SIGNUPS_PER_HOUR", 5, 0, 1_000_000) : 0,
    rejectionsBeforeHold: signalsOn ? integer(env, "REFERRAL_REJECTIONS_BEFORE_HOLD", 1, 0, 1_000_000) : 0,
    rejectionsWindowDays: integer(env, "REFERRAL_REJECTIONS_WINDOW_DAYS", 90, 1, 3650),
    holdHours: integer(env, "REFERRAL_HOLD_HOURS", 0, 0, 24 * 365),
    monthlyCapCents:
      cap === undefined || cap === ""
        ? null
        : integer(env, "REFERRAL_MONTHLY_CAP_CENTS", 0, 0, 1_000_000_000_000),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = text(env, "NODE_ENV", "development");
  const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
  const logLevel = text(env, "LOG_LEVEL", nodeEnv === "test" ? "silent" : "info");
  if (!logLevels.includes(logLevel)) {
    throw new ConfigError("LOG_LEVEL", `must be one of ${logLevels.join(", ")}, got "${logLevel}"`);
  }
  const origin = publicOrigin(env);
  const referralIntegrity = integrity(env);
  return {
    port: integer(env, "PORT", 8000, 0, 65535),
    host: text(env, "HOST", "0.0.0.0"),
    databaseUrl: databaseUrl(env),
    dataDir: text(env, "DATA_DIR", "./data"),
    nodeEnv,
    logLevel,
    trustProxy: trustProxy(env),
    allowedHosts: allowedHosts(env, nodeEnv, origin !== undefined),
    poolSize: integer(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
    webConcurrency: integer(env, "WEB_CONCURRENCY", 1, 1, 256),
    hashingThreadNice: integer(env, "HASHING_THREAD_NICE", 10, 0, 19),
    program: {
      inviteeRewardCents: integer(env, "INVITEE_REWARD_CENTS", 1000, 0, 100_000_000),
      inviterRewardCents: integer(env, "INVITER_REWARD_CENTS", 1000, 0, 100_000_000),
      referralsPerInviterReward: integer(env, "REFERRALS_PER_INVITER_REWARD", 5, 1, 1_000_000),
    },
    throttle: {
      loginFailuresPerWindow: integer(env, "LOGIN_FAILURES_PER_WINDOW", 10, 1, 1_000_000),
      signupsPerWindow: integer(
        env,
        "SIGNUPS_PER_WINDOW",
        referralIntegrity.signalsOn ? BOT_BRAKE_SIGNUPS_PER_WINDOW : SIGNUPS_PER_WINDOW_WITHOUT_SIGNALS,
        1,
        1_000_000,
      ),
      windowSeconds: integer(env, "THROTTLE_WINDOW_SECONDS", 900, 1, 86_400 * 30),
    },
    integrity: referralIntegrity,
    session: {
      maxAgeSeconds: integer(env, "SESSION_MAX_AGE_SECONDS", 14 * 24 * 3600, 60, 365 * 24 * 3600),
      idleSeconds: integer(env, "SESSION_IDLE_SECONDS", 7 * 24 * 3600, 60, 365 * 24 * 3600),
    },
    shutdownTimeoutSeconds: integer(env, "SHUTDOWN_TIMEOUT_SECONDS", 10, 0, 3600),
    metricsTokens: (env.METRICS_TOKEN ?? "")
      .split(",")
      .map((token) => token.trim())
      .filter((token) => token !== ""),
    publicOrigin: origin,
    bodyLimitBytes: integer(env, "BODY_LIMIT_BYTES", 64 * 1024, 1024, 100 * 1024 * 1024),
    email: {
      smtpUrl: smtpUrl(env),
      from: text(env, "MAIL_FROM", "Referral programme <no-reply@localhost>"),
      maxAttempts: integer(env, "MAIL_MAX_ATTEMPTS", 15, 1, 100),
      retryDelaySeconds: integer(env, "MAIL_RETRY_DELAY_SECONDS", 5, 1, 3600),
      leaseSeconds: integer(env, "MAIL_LEASE_SECONDS", 60, 1, 3600),
      maintenanceSeconds: integer(env, "JOBS_MAINTENANCE_SECONDS", 60, 1, 3600),
    },
    api: {
      requestsPerMinute: integer(env, "API_REQUESTS_PER_MINUTE", 600, 1, 1_000_000),
      idempotencyHours: integer(env, "API_IDEMPOTENCY_HOURS", 24, 1, 24 * 30),
    },
    webhooks: {
      enabled: onOff(env, "WEBHOOKS", true),
      requireHttps: onOff(env, "WEBHOOK_REQUIRE_HTTPS", nodeEnv === "production"),
      allowedAddresses: allowedAddresses(env),
      timeoutMs: integer(env, "WEBHOOK_TIMEOUT_SECONDS", 10, 1, 120) * 1000,
      retryDelaySeconds: integer(env, "WEBHOOK_RETRY_DELAY_SECONDS", 30, 1, 3600),
      giveUpHours: integer(env, "WEBHOOK_GIVE_UP_HOURS", 72, 1, 24 * 30),
      secretOverlapHours: integer(env, "WEBHOOK_SECRET_OVERLAP_HOURS", 24, 0, 24 * 30),
      // At least a month: longer than any delivery is retried (WEBHOOK_GIVE_UP_HOURS, at most 30 days).
      eventRetentionDays: integer(env, "EVENT_RETENTION_DAYS", 90, 31, 36_500),
    },
  };
}
