// Events: what happened, for the systems beside the service (webhooks, src/webhooks/). Each is written
// in the same statement or transaction as the change it reports, with a delivery for each webhook
// endpoint that wants it, so a change that rolls back leaves neither and a change that commits always
// has both. After the commit the relay hands the deliveries to the job queue (src/webhooks/worker.ts).
import { type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { type Queryable, queryRows } from "../db/connection.js";
import { events, webhookDeliveries, webhookEndpoints } from "../db/schema.js";

/** Every event type, with what its `data` holds (docs/webhooks.md lists them for integrators). */
export const eventTypes = {
  "user.created": "A person signed up: user_id, username, invited_by_id (null without a link).",
  "user.deactivated": "Staff or an API key deactivated an account: user_id, username, by.",
  "user.reactivated": "Staff or an API key reactivated an account: user_id, username, by.",
  "referral.created":
    "A sign-up through someone's link: inviter_id, invitee_id, status (approved, or held for review).",
  "referral.approved": "A held referral was approved: inviter_id, invitee_id, by (staff or hold).",
  "referral.rejected": "A held referral was rejected: inviter_id, invitee_id, by.",
  "reward.granted":
    "Credit paid for a referral: user_id, amount_cents, reason (invitee_bonus or inviter_reward), invitee_id.",
  "balance.adjusted":
    "Staff or an API key added or removed credit: user_id, amount_cents, balance_cents, reason, by.",
} as const;

export type EventType = keyof typeof eventTypes;
export const eventTypeNames = Object.keys(eventTypes) as EventType[];

/** Sent only to the endpoint staff asked for it from /admin/webhooks/. */
export const TEST_EVENT_TYPE = "webhook.test";

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(eventTypes, value);
}

/** What the use cases that write events are given: the hand-over of their deliveries. */
export interface EventDeps {
  /**
   * After the commit: the deliveries written with the change (their ids, from the statement that
   * wrote them) go to the webhook worker now. Ids a process never hands over (it died first) are
   * found by the worker's sweep.
   */
  wake(deliveryIds: readonly number[]): void;
}

export const noEventWake: EventDeps = { wake: () => {} };

/** An event a statement writes: its CTE's name, its type, and a SELECT giving each event's data. */
export interface StatementEvent {
  name: string;
  type: EventType;
  /** One jsonb column, the event's data, per event to write (no row: no event). */
  dataRows: SQL;
}

/**
 * For a statement that has its rows at hand: a CTE per entry writing its events, then the CTE
 * `event_deliveries`, a delivery of each of them for each webhook endpoint that is on and wants its
 * type, all in one INSERT (read their ids with deliveryIds). Put them in the change's own statement:
 * the events and their deliveries commit or roll back with the change.
 */
export function eventCtes(written: readonly StatementEvent[]): SQL {
  const ctes = written.map(
    ({ name, type, dataRows }) => sql`${sql.raw(name)} AS (
      INSERT INTO ${events} (type, data) SELECT ${type}, data FROM (${dataRows}) AS event_data(data)
      RETURNING id, type
    )`,
  );
  const all = sql.raw(written.map(({ name }) => `SELECT id, type FROM ${name}`).join(" UNION ALL "));
  return sql.join([...ctes, sql`event_deliveries AS (${deliveriesFor(sql`(${all})`)})`], sql`, `);
}

/**
 * A column for the statement's final SELECT: the ids of the deliveries eventCtes wrote, as a
 * bigint[] (read it with deliveryIdsFrom).
 */
export const deliveryIds = sql`ARRAY(SELECT id FROM event_deliveries)`;

/** A deliveryIds column as numbers (node-postgres gives bigints as text). */
export function deliveryIdsFrom(column: readonly (number | string)[] | null | undefined): number[] {
  return (column ?? []).map(Number);
}

/** One delivery of each event in `written` (id and type) per endpoint that wants it. */
function deliveriesFor(written: SQL): SQL {
  return sql`INSERT INTO ${webhookDeliveries} (event_id, endpoint_id)
    SELECT e.id, ep.id FROM ${written} e JOIN ${webhookEndpoints} ep ON ep.enabled AND e.type = ANY(ep.event_types)
    RETURNING id`;
}

/**
 * Writes one event and its deliveries, and returns the deliveries' ids for EventDeps.wake after the
 * commit; call it inside the transaction of the change it reports.
 */
export async function recordEvent(
  db: Queryable,
  type: EventType,
  data: Record<string, unknown>,
): Promise<number[]> {
  const rows = await queryRows<{ id: number | string }>(
    db,
    sql`WITH written AS (
      INSERT INTO ${events} (type, data) VALUES (${type}, ${JSON.stringify(data)}::jsonb) RETURNING id, type
    ) ${deliveriesFor(sql`written`)}`,
  );
  return rows.map((row) => Number(row.id));
}

const PURGE_BATCH = 5000;
const MAX_BIGINT = sql.raw("9223372036854775807");

/**
 * Deletes what is older than `before`, in batches, oldest first, so that a long backlog is cleared
 * over a few housekeeping runs without one long transaction: deliveries made before it that are no
 * longer waiting, with their attempts, and events that happened before it, except those with a
 * delivery still waiting. Deliveries go by their own age, along their primary key: there is no
 * index on their event (schema.ts). (One staff sent again since, of an event now gone, leaves the
 * endpoint's log with its event and goes at its own age.) Returns the events deleted.
 */
export async function purgeEventsBefore(db: Queryable, before: Date, maxBatches = 20): Promise<number> {
  const cutoff = sql`${before.toISOString()}::timestamptz`;
  await deleteOldest(db, {
    table: webhookDeliveries,
    key: "id",
    time: "created_at",
    cutoff,
    also: sql`status <> 'pending'`,
    maxBatches,
  });
  return deleteOldest(db, {
    table: events,
    key: "seq",
    time: "occurred_at",
    cutoff,
    // The waiting deliveries are few (their own index): their events, read once.
    also: sql`id NOT IN (SELECT event_id FROM ${webhookDeliveries} WHERE status = 'pending')`,
    maxBatches,
  });
}

/**
 * Deletes the rows of `table` from before `cutoff` (by its column `time`) for which `also` holds,
 * PURGE_BATCH at a time in the order of `key`, which grows with time: the scan stops at the first
 * row since, not at the table's end. By an array of keys, not IN (...): the delete goes by the
 * primary key, never through the whole table. Returns how many.
 */
async function deleteOldest(
  db: Queryable,
  of: { table: PgTable; key: string; time: string; cutoff: SQL; also: SQL; maxBatches: number },
): Promise<number> {
  const { table, cutoff } = of;
  const [key, time] = [sql.raw(of.key), sql.raw(of.time)];
  let deleted = 0;
  for (let batch = 0; batch < of.maxBatches; batch++) {
    const rows = await queryRows<{ gone: number }>(
      db,
      sql`WITH since AS (SELECT ${key} FROM ${table} WHERE ${time} >= ${cutoff} ORDER BY ${key} LIMIT 1)
      DELETE FROM ${table} WHERE ${key} = ANY(ARRAY(
        SELECT ${key} FROM ${table}
        WHERE ${key} < coalesce((SELECT ${key} FROM since), ${MAX_BIGINT}) AND ${time} < ${cutoff} AND ${of.also}
        ORDER BY ${key} LIMIT ${PURGE_BATCH}
      )) RETURNING 1 AS gone`,
    );
    deleted += rows.length;
    if (rows.length < PURGE_BATCH) break;
  }
  return deleted;
}
