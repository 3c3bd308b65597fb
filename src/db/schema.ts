// The one truth about tables: drizzle-kit generates the SQL migrations in drizzle/ from this file.
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const users = pgTable(
  "users",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** As typed at sign-up, after NFKC normalisation. */
    username: text("username").notNull(),
    /** NFKC + case-folded: what uniqueness and login compare. */
    usernameKey: text("username_key").notNull(),
    passwordHash: text("password_hash").notNull(),
    referralToken: text("referral_token").notNull(),
    invitedById: bigint("invited_by_id", { mode: "number" }).references((): AnyPgColumn => users.id),
    /** How many people signed up through this user's link. */
    referredCount: integer("referred_count").notNull().default(0),
    /**
     * Sign-ups through this user's link in the earlier Django version since its last reward there
     * (0 to 4), carried over by `npm run import:django`: the reward rule counts them with
     * referred_count, so the next reward comes when it would have; "N joined" does not.
     */
    carriedReferrals: integer("carried_referrals").notNull().default(0),
    /** Cached sum of this user's posted ledger entries, written in the same transaction as each entry. */
    balanceCents: bigint("balance_cents", { mode: "number" }).notNull().default(0),
    /** Cached sum of this user's pending ledger entries (credits held for review). */
    pendingCents: bigint("pending_cents", { mode: "number" }).notNull().default(0),
    /** Visitors who opened this user's link (at most once per visitor per day), kept up by link_open_counts' flush. */
    linkOpens: bigint("link_opens", { mode: "number" }).notNull().default(0),
    /** The newest ledger entry the dashboard has announced as an event ("you earned $10"); 0: none yet. */
    announcedEntryId: bigint("announced_entry_id", { mode: "number" }).notNull().default(0),
    isStaff: boolean("is_staff").notNull().default(false),
    isActive: boolean("is_active").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** A verified address only (as typed, the domain lower-cased); one waiting is in email_tokens. */
    email: text("email"),
    /** What uniqueness compares: the key src/email/address.ts parseEmail gives. */
    emailKey: text("email_key"),
    /**
     * The address a verification link was last sent to and not yet confirmed (its token is in
     * email_tokens): kept here too so the session's row says it, with no query of its own.
     */
    pendingEmail: text("pending_email"),
    /** Which notifications this user wants by email (each on until turned off). */
    notifyFriendJoined: boolean("notify_friend_joined").notNull().default(true),
    notifyRewards: boolean("notify_rewards").notNull().default(true),
    notifyReview: boolean("notify_review").notNull().default(true),
    /** Set when the person deleted their account: the row stays, anonymised, for the ledger. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("users_username_key_uq").on(t.usernameKey),
    uniqueIndex("users_email_key_uq").on(t.emailKey),
    // Staff search users by an address waiting for confirmation too.
    index("users_pending_email_idx").on(t.pendingEmail).where(sql`pending_email IS NOT NULL`),
    uniqueIndex("users_referral_token_uq").on(t.referralToken),
    index("users_invited_by_created_idx").on(t.invitedById, t.createdAt, t.id),
    index("users_created_at_idx").on(t.createdAt),
    // The admin's username search is a prefix match (LIKE 'ab%'), which needs pattern ops to use an index.
    index("users_username_key_pattern_idx").on(t.usernameKey.op("text_pattern_ops")),
    check("users_balance_not_negative", sql`${t.balanceCents} >= 0`),
    check("users_pending_not_negative", sql`${t.pendingCents} >= 0`),
    check("users_carried_referrals_not_negative", sql`${t.carriedReferrals} >= 0`),
  ],
);

/** carried_over: the balance a user had in the earlier Django version, moved by `npm run import:django`. */
export const ledgerKinds = ["invitee_bonus", "inviter_reward", "adjustment", "carried_over"] as const;
export type LedgerKind = (typeof ledgerKinds)[number];

/** Posted entries make the balance; pending ones wait for a review; void ones were rejected. */
export const ledgerStatuses = ["posted", "pending", "void"] as const;
export type LedgerStatus = (typeof ledgerStatuses)[number];

export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    amountCents: bigint("amount_cents", { mode: "number" }).notNull(),
    kind: text("kind", { enum: ledgerKinds }).notNull(),
    status: text("status", { enum: ledgerStatuses }).notNull().default("posted"),
    /** For an inviter reward: the part not paid because the inviter reached the monthly limit. */
    cappedCents: bigint("capped_cents", { mode: "number" }),
    /** The sign-up that caused this credit (null for a staff adjustment). */
    signupUserId: bigint("signup_user_id", { mode: "number" }).references(() => users.id),
    /** For an inviter reward: the referred count that reached the threshold. */
    referralCount: integer("referral_count"),
    /** Why, in words, for a staff adjustment: the user sees it. */
    reason: text("reason"),
    /** For a staff adjustment: a note for staff only, never shown to the user. */
    staffNote: text("staff_note"),
    createdById: bigint("created_by_id", { mode: "number" }).references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("ledger_entries_user_created_idx").on(t.userId, t.createdAt, t.id),
    index("ledger_entries_created_at_idx").on(t.createdAt),
    index("ledger_entries_signup_idx").on(t.signupUserId),
  ],
);

export const referralStatuses = ["approved", "held", "rejected"] as const;
export type ReferralStatus = (typeof referralStatuses)[number];

/**
 * One row per sign-up through a link: who invited whom, and what became of it. A held referral's
 * credits are pending until staff (or the end of the hold) decide.
 */
export const referrals = pgTable(
  "referrals",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    inviterId: bigint("inviter_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    inviteeId: bigint("invitee_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    status: text("status", { enum: referralStatuses }).notNull(),
    /** The signals that held it (empty for a referral held only by the hold for everyone). */
    signals: text("signals").array().notNull().default(sql`'{}'::text[]`),
    /** The sign-up came from an address the inviter had used (not a signal on its own the first time). */
    sameAddress: boolean("same_address").notNull().default(false),
    /** When a referral held for everyone is approved on its own, unless a signal holds it. */
    holdUntil: timestamp("hold_until", { withTimezone: true }),
    /** The referral that completed a five after the inviter reached the monthly limit. */
    capped: boolean("capped").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    /** Null when decided by the end of the hold. */
    decidedById: bigint("decided_by_id", { mode: "number" }).references(() => users.id),
    /** Why, in words the invitee and the inviter see. */
    reason: text("reason"),
    /** Why, for staff only. */
    staffNote: text("staff_note"),
  },
  (t) => [
    uniqueIndex("referrals_invitee_uq").on(t.inviteeId),
    index("referrals_inviter_created_idx").on(t.inviterId, t.createdAt, t.id),
    index("referrals_status_created_idx").on(t.status, t.createdAt, t.id),
    index("referrals_created_at_idx").on(t.createdAt),
  ],
);

/**
 * Which Django user (auth_user.id) became which user, written by `npm run import:django` in the
 * transaction that creates the user: a second run imports only the Django users not listed here.
 */
export const djangoImports = pgTable("django_imports", {
  djangoId: integer("django_id").primaryKey(),
  userId: bigint("user_id", { mode: "number" })
    .notNull()
    .unique("django_imports_user_uq")
    .references(() => users.id),
  /** The username as Django had it, kept when the import renamed the user (a collision). */
  djangoUsername: text("django_username").notNull(),
  importedAt: timestamp("imported_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The addresses each account has signed up or logged in from, as keyed hashes (HMAC-SHA256 under a
 * key kept in service_secrets), never the address itself; deleted after the shared-address window.
 */
export const addressSightings = pgTable(
  "address_sightings",
  {
    addressHash: text("address_hash").notNull(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.addressHash, t.userId] }),
    index("address_sightings_user_idx").on(t.userId),
    index("address_sightings_seen_idx").on(t.lastSeenAt),
  ],
);

/** Counters of the referral signals (sign-ups per link and per address per hour), each with its end. */
export const signalCounters = pgTable(
  "signal_counters",
  {
    bucket: text("bucket").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    hits: integer("hits").notNull().default(0),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.bucket, t.windowStart] }),
    index("signal_counters_expires_idx").on(t.expiresAt),
  ],
);

/** Openings of each user's referral link per UTC day (each visitor counted once per link per day). */
export const linkOpenCounts = pgTable(
  "link_open_counts",
  {
    inviterId: bigint("inviter_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    day: text("day").notNull(),
    opens: integer("opens").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.inviterId, t.day] }), index("link_open_counts_day_idx").on(t.day)],
);

/** Texts and switches staff set from the admin console (name → value). */
export const programmeSettings = pgTable("programme_settings", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  updatedById: bigint("updated_by_id", { mode: "number" }).references(() => users.id),
});

/** Secrets the service makes for itself on first use and shares between its processes. */
export const serviceSecrets = pgTable("service_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
});

export const sessions = pgTable(
  "sessions",
  {
    /** SHA-256 of the cookie's value: a database leak gives no usable cookie. */
    idHash: text("id_hash").primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    userAgent: text("user_agent"),
    clientAddress: text("client_address"),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_at_idx").on(t.expiresAt)],
);

/**
 * Browsers that have logged in to an account: the device cookie's SHA-256 beside the user. A known
 * browser keeps logging in with the right password while strangers exhaust the username's limit.
 */
export const knownDevices = pgTable(
  "known_devices",
  {
    deviceHash: text("device_hash").notNull(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.deviceHash, t.userId] }), index("known_devices_user_idx").on(t.userId)],
);

/** Fixed-window counters for throttling, shared by every server process. */
export const throttleCounters = pgTable(
  "throttle_counters",
  {
    bucket: text("bucket").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    hits: integer("hits").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.bucket, t.windowStart] }),
    index("throttle_counters_window_idx").on(t.windowStart),
  ],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    actorId: bigint("actor_id", { mode: "number" }).references(() => users.id),
    /** Set when the change came through the API (/api/v1/): the key it was made with. */
    apiKeyId: bigint("api_key_id", { mode: "number" }).references((): AnyPgColumn => apiKeys.id),
    action: text("action").notNull(),
    targetUserId: bigint("target_user_id", { mode: "number" }).references(() => users.id),
    details: text("details").notNull().default("{}"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("audit_log_created_idx").on(t.createdAt, t.id),
    index("audit_log_target_idx").on(t.targetUserId, t.createdAt, t.id),
  ],
);

export const emailTokenPurposes = ["verify", "reset"] as const;
export type EmailTokenPurpose = (typeof emailTokenPurposes)[number];

/**
 * Single-use links sent by email: verifying an address (the address waits here until verified) and
 * resetting a password. Only a SHA-256 of the token is kept.
 */
export const emailTokens = pgTable(
  "email_tokens",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    purpose: text("purpose", { enum: emailTokenPurposes }).notNull(),
    /** The address the link was sent to (for "verify": the address it verifies). */
    email: text("email").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("email_tokens_hash_uq").on(t.tokenHash),
    index("email_tokens_user_idx").on(t.userId, t.purpose, t.createdAt),
    index("email_tokens_expires_idx").on(t.expiresAt),
  ],
);

export const outboxKinds = [
  "verify_email",
  "password_reset",
  "friend_joined",
  "reward_earned",
  "referral_approved",
  "referral_rejected",
  /** To staff: a webhook endpoint failed for too long and was turned off. */
  "webhook_disabled",
] as const;
export type OutboxKind = (typeof outboxKinds)[number];

/**
 * pending: waiting for the worker; sent; failed: gave up after its retries; kept: written with no
 * SMTP server configured, kept for staff to read at /admin/outbox/.
 */
export const outboxStatuses = ["pending", "sent", "failed", "kept"] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

/**
 * Email to send, written in the same transaction as the event that causes it (src/email/). The
 * worker renders it from kind + params when it sends, so a row is small and SQL can write it.
 */
export const outboxMessages = pgTable(
  "outbox_messages",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    kind: text("kind", { enum: outboxKinds }).notNull(),
    userId: bigint("user_id", { mode: "number" }).references(() => users.id),
    toAddress: text("to_address").notNull(),
    /** The message's values (names, amounts, a link's token); emptied once sent. */
    params: jsonb("params").notNull().default({}),
    status: text("status", { enum: outboxStatuses }).notNull(),
    /** The job queue's job (pg-boss), set when the dispatcher hands the message to it. */
    jobId: uuid("job_id"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true }),
  },
  (t) => [
    index("outbox_messages_created_idx").on(t.createdAt, t.id),
    index("outbox_messages_undispatched_idx").on(t.id).where(sql`status = 'pending' AND job_id IS NULL`),
    index("outbox_messages_user_idx").on(t.userId, t.createdAt),
  ],
);

export const apiKeyScopes = ["read", "write"] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/**
 * Keys that open /api/v1/ (src/api/). Only a SHA-256 of the whole key is kept; `prefix` is the
 * part shown to staff and looked up first. A revoked key stays listed (the audit log names it).
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** What staff call it; the audit log shows writes under this name. */
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull(),
    scope: text("scope", { enum: apiKeyScopes }).notNull(),
    createdById: bigint("created_by_id", { mode: "number" }).references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedById: bigint("revoked_by_id", { mode: "number" }).references(() => users.id),
  },
  (t) => [uniqueIndex("api_keys_prefix_uq").on(t.prefix)],
);

/**
 * The first answer to a write sent with an `Idempotency-Key` header, per key: a repeat gets it back
 * and writes nothing. `request_hash` tells a repeat from a different request under the same key.
 */
export const apiIdempotencyKeys = pgTable(
  "api_idempotency_keys",
  {
    apiKeyId: bigint("api_key_id", { mode: "number" })
      .notNull()
      .references(() => apiKeys.id),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    statusCode: integer("status_code").notNull(),
    responseBody: text("response_body").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.key] }), index("api_idempotency_created_idx").on(t.createdAt)],
);

/**
 * What happened, for integrations (src/events/): written in the same statement or transaction as
 * the change it reports, with one delivery per webhook endpoint that wants its type. Only ever
 * inserted: a change pays for two index entries, nothing more.
 */
export const events = pgTable("events", {
  seq: bigserial("seq", { mode: "number" }).primaryKey(),
  /** The stable id integrators see (and the deliveries' webhook-id): evt_ and 32 hex digits. */
  id: text("id")
    .notNull()
    .default(sql`'evt_' || replace(gen_random_uuid()::text, '-', '')`)
    .unique("events_id_uq"),
  type: text("type").notNull(),
  data: jsonb("data").notNull(),
  occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Where staff send events (/admin/webhooks/). The secrets sign deliveries (Standard Webhooks). */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  url: text("url").notNull(),
  description: text("description").notNull().default(""),
  eventTypes: text("event_types").array().notNull(),
  enabled: boolean("enabled").notNull().default(true),
  /** whsec_…: shown to staff once, when made or rotated. */
  secret: text("secret").notNull(),
  /** The secret before the last rotation, still signing beside the new one until it expires. */
  previousSecret: text("previous_secret"),
  previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true }),
  /** The first failure since the last success; null while deliveries succeed. */
  failingSince: timestamp("failing_since", { withTimezone: true }),
  /** Why it is off when the service turned it off (failing for too long); null otherwise. */
  disabledReason: text("disabled_reason"),
  createdById: bigint("created_by_id", { mode: "number" }).references(() => users.id),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const webhookDeliveryStatuses = ["pending", "delivered", "failed", "skipped"] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

/** One event to one endpoint: handed to the job queue like an email, retried until it is answered. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    // No foreign keys: their checks were most of what a delivery cost the change that writes it
    // (bench/README.md, events). The delivery is written with its event, for endpoints the same
    // statement reads; deleting an endpoint or purging events deletes their deliveries, and a
    // delivery whose endpoint was deleted meanwhile is skipped by the worker.
    eventId: text("event_id").notNull(),
    endpointId: bigint("endpoint_id", { mode: "number" }).notNull(),
    status: text("status", { enum: webhookDeliveryStatuses }).notNull().default("pending"),
    /** The job queue's job (pg-boss) that took the delivery (claimForJob), or the sweep's. */
    jobId: uuid("job_id"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    /**
     * The last attempt's time taken and answer's first 1 KiB. An attempt that succeeds is kept here
     * alone (webhook_attempts keeps the others): a delivery made at the first try writes no row
     * besides its own.
     */
    lastDurationMs: integer("last_duration_ms"),
    lastResponseExcerpt: text("last_response_excerpt"),
    /** Staff asked for it ("send again", "send a test event"). */
    manual: boolean("manual").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true }),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
  },
  (t) => [
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.id),
    // None on event_id: only the purge would use it, and every delivery paid for it twice (its
    // insert and its record); the purge goes by the deliveries' own age (src/events/events.ts).
    // The sweep's: the waiting few among every delivery kept (src/webhooks/deliveries.ts).
    index("webhook_deliveries_pending_idx").on(t.id).where(sql`status = 'pending'`),
  ],
);

/**
 * The attempts of a delivery that did not succeed (the one that did is on the delivery's own row):
 * when, how long, the answer's code and its first 1 KiB, or why there was none.
 */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deliveryId: bigint("delivery_id", { mode: "number" })
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attemptedAt: timestamp("attempted_at", { withTimezone: true }).notNull().defaultNow(),
    durationMs: integer("duration_ms").notNull(),
    statusCode: integer("status_code"),
    responseExcerpt: text("response_excerpt").notNull().default(""),
    error: text("error"),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId, t.id)],
);
