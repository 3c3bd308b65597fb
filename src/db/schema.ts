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
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
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
    /** Cached sum of this user's ledger entries, written in the same transaction as each entry. */
    balanceCents: bigint("balance_cents", { mode: "number" }).notNull().default(0),
    isStaff: boolean("is_staff").notNull().default(false),
    isActive: boolean("is_active").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("users_username_key_uq").on(t.usernameKey),
    uniqueIndex("users_referral_token_uq").on(t.referralToken),
    index("users_invited_by_created_idx").on(t.invitedById, t.createdAt, t.id),
    index("users_created_at_idx").on(t.createdAt),
    // The admin's username search is a prefix match (LIKE 'ab%'), which needs pattern ops to use an index.
    index("users_username_key_pattern_idx").on(t.usernameKey.op("text_pattern_ops")),
    check("users_balance_not_negative", sql`${t.balanceCents} >= 0`),
  ],
);

export const ledgerKinds = ["invitee_bonus", "inviter_reward", "adjustment"] as const;
export type LedgerKind = (typeof ledgerKinds)[number];

export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    amountCents: bigint("amount_cents", { mode: "number" }).notNull(),
    kind: text("kind", { enum: ledgerKinds }).notNull(),
    /** The sign-up that caused this credit (null for a staff adjustment). */
    signupUserId: bigint("signup_user_id", { mode: "number" }).references(() => users.id),
    /** For an inviter reward: the referred count that reached the threshold. */
    referralCount: integer("referral_count"),
    /** Why, in words, for a staff adjustment. */
    reason: text("reason"),
    createdById: bigint("created_by_id", { mode: "number" }).references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("ledger_entries_user_created_idx").on(t.userId, t.createdAt, t.id),
    index("ledger_entries_created_at_idx").on(t.createdAt),
  ],
);

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
