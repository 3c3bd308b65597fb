// Storage of webhook deliveries: one per event and endpoint that wants it (written with the event,
// src/events/events.ts), handed to the job queue like email (src/jobs/relay.ts), each attempt logged
// with its answer.
import { randomUUID } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import {
  bigintArray,
  type Database,
  dateOrNull,
  intArray,
  type Queryable,
  queryPreparedRows,
  queryRows,
  textArray,
} from "../db/connection.js";
import { events, users, webhookAttempts, webhookDeliveries, webhookEndpoints } from "../db/schema.js";
import { type MailDeps, outboxInsert } from "../email/outbox.js";
import { TEST_EVENT_TYPE } from "../events/events.js";
import { JOB_SCHEMA } from "../jobs/queue.js";
import { type AttemptVerdict, judgeAttempt } from "./attempt-rule.js";

/** Deliveries per job at most: a job's statements cost about the same for 1 or 200. */
export const JOB_SIZE = 200;

/** A delivery ready to hand to the job queue under `jobId`. */
export interface Claimed {
  id: number;
  jobId: string;
}

/** The job queue's queue (pg-boss) of webhook deliveries. */
export const WEBHOOK_QUEUE = "webhook";

/**
 * Waiting deliveries handed over to no job still to run (none queued, retrying or running names
 * them, and they have no job id of their own) written at least `seconds` ago: their process died
 * before handing them over, or their job ended without them. Each gets a job id, one per JOB_SIZE of
 * them, in the same UPDATE, for the caller to hand to the job queue under those ids; a job handed
 * over meanwhile that names them finds them taken and leaves them (deliveriesForJob). Which jobs are
 * still to run is pg-boss's own job table: a hand-over writes nothing to the deliveries it names.
 */
export async function claimUnhandedDeliveries(
  db: Queryable,
  seconds: number,
  limit: number,
): Promise<Claimed[]> {
  const jobId = randomUUID();
  const rows = await queryPreparedRows<Claimed>(
    db,
    sql`UPDATE ${webhookDeliveries} d SET job_id = md5(${jobId} || ':' || (w.n / ${JOB_SIZE}))::uuid
      FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM (
          SELECT id FROM ${webhookDeliveries} waiting
          WHERE status = 'pending' AND job_id IS NULL AND created_at <= now() - make_interval(secs => ${seconds})
            -- The ids the jobs still to run name, read once (a hashed set), not once per delivery.
            AND waiting.id NOT IN (
              SELECT jsonb_array_elements_text(j.data->'ids')::bigint FROM ${sql.raw(JOB_SCHEMA)}.job j
              WHERE j.name = ${WEBHOOK_QUEUE} AND j.state < 'completed'
            )
          ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED) locked) w
      WHERE d.id = w.id
      RETURNING d.id, d.job_id AS "jobId"`,
  );
  return rows.map((row) => ({ id: Number(row.id), jobId: row.jobId }));
}

/** Pending deliveries handed over at least `seconds` ago: their jobs, to hand over again. */
export async function deliveriesHandedOverBefore(
  db: Queryable,
  seconds: number,
  limit: number,
): Promise<Claimed[]> {
  const rows = await queryRows<Claimed>(
    db,
    sql`SELECT id, job_id AS "jobId" FROM ${webhookDeliveries}
      WHERE status = 'pending' AND job_id IS NOT NULL
        AND created_at < now() - make_interval(secs => ${seconds})
      ORDER BY id LIMIT ${limit}`,
  );
  return rows.map((row) => ({ id: Number(row.id), jobId: row.jobId }));
}

/**
 * "Still waiting", for the statements that find their deliveries by id (a job's, by the hundred):
 * the planner cannot prove the waiting deliveries' partial index's predicate from IS NOT DISTINCT
 * FROM, so it looks each id up by the primary key. Written `status = 'pending'`, it read the whole
 * partial index instead, dead entries and all until a vacuum (every delivery since the last one on
 * PGlite, which has no autovacuum): 27 ms for 64 deliveries at 17,000 made, 3.4 ms by the key.
 */
const stillWaiting = sql`d.status IS NOT DISTINCT FROM 'pending'`;

/** What a worker needs to send one delivery: its body, where to, and the secrets that sign it. */
export interface DeliveryToSend {
  id: number;
  endpointId: number;
  url: string;
  /** The current secret, and the previous one while it still signs. */
  secrets: string[];
  /** webhook-id: the event's id, the same on every attempt. */
  eventId: string;
  body: string;
}

/**
 * The body every endpoint receives, for a statement that reads the event as `ev`: the Standard
 * Webhooks shape, `{"id", "type", "timestamp", "data"}`, with the time in UTC to the millisecond.
 * Built by the statement, not from the event's columns read into objects and serialised again: a
 * job reads a few hundred at a time, and each column read costs (bench/README.md: events).
 */
const eventBody = sql`'{"id":' || to_json(ev.id)::text || ',"type":' || to_json(ev.type)::text
  || ',"timestamp":"' || to_char(ev.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  || '","data":' || ev.data::text || '}'`;

/**
 * The deliveries among `ids` that job `jobId` is to send: still waiting, not given to another job
 * by the sweep (a job run twice, its worker having died, finds its own again), their endpoint on
 * (or staff asked for them). A delivery whose endpoint staff turned off is marked skipped ("send
 * again" sends it, should they want it), as is one whose endpoint was deleted while its change was
 * being written. Nothing is written to the others: the sweep knows them from the job that names them.
 * Their endpoints are read once, not with each delivery.
 */
export async function deliveriesForJob(
  db: Queryable,
  ids: number[],
  jobId: string,
): Promise<Map<number, DeliveryToSend>> {
  const found = new Map<number, DeliveryToSend>();
  if (ids.length === 0) return found;
  const rows = await queryPreparedRows<{
    id: number | string;
    endpointId: number | string;
    manual: boolean;
    eventId: string;
    body: string;
  }>(
    db,
    sql`SELECT d.id, d.endpoint_id AS "endpointId", d.manual, ev.id AS "eventId", ${eventBody} AS body
      FROM ${webhookDeliveries} d JOIN ${events} ev ON ev.id = d.event_id
      WHERE d.id = ANY(${bigintArray(ids)}) AND ${stillWaiting}
        AND (d.job_id IS NULL OR d.job_id = ${jobId}::uuid)`,
  );
  if (rows.length === 0) return found;
  const endpoints = await endpointsToSendTo(db, [...new Set(rows.map((row) => Number(row.endpointId)))]);
  const skipped: { id: number; reason: string }[] = [];
  for (const row of rows) {
    const id = Number(row.id);
    const endpointId = Number(row.endpointId);
    const endpoint = endpoints.get(endpointId);
    if (!endpoint || !(endpoint.enabled || row.manual)) {
      skipped.push({ id, reason: endpoint ? "the endpoint was off" : "the endpoint was deleted" });
      continue;
    }
    found.set(id, {
      id,
      endpointId,
      url: endpoint.url,
      secrets: endpoint.secrets,
      eventId: row.eventId,
      body: row.body,
    });
  }
  if (skipped.length > 0) await skipDeliveries(db, skipped);
  return found;
}

/** Endpoints by id, as their deliveries need them: where, whether on, and the secrets that sign. */
async function endpointsToSendTo(
  db: Queryable,
  ids: number[],
): Promise<Map<number, { url: string; secrets: string[]; enabled: boolean }>> {
  const rows = await queryPreparedRows<{
    id: number | string;
    url: string;
    secret: string;
    previousSecret: string | null;
    enabled: boolean;
  }>(
    db,
    sql`SELECT id, url, secret, enabled,
        CASE WHEN previous_secret_expires_at > now() THEN previous_secret END AS "previousSecret"
      FROM ${webhookEndpoints} WHERE id = ANY(${bigintArray(ids)})`,
  );
  return new Map(
    rows.map(({ id, url, secret, previousSecret, enabled }) => [
      Number(id),
      { url, enabled, secrets: previousSecret ? [secret, previousSecret] : [secret] },
    ]),
  );
}

/** Deliveries that will not be sent (their endpoint is off or gone), with the reason staff see. */
async function skipDeliveries(db: Queryable, skipped: { id: number; reason: string }[]): Promise<void> {
  await db.execute(sql`UPDATE ${webhookDeliveries} d SET status = 'skipped', last_error = s.reason
    FROM unnest(${bigintArray(skipped.map((s) => s.id))}, ${textArray(skipped.map((s) => s.reason))})
      AS s(id, reason)
    WHERE d.id = s.id AND ${stillWaiting}`);
}

/** What one attempt got back (src/webhooks/http-post.ts). */
export interface AttemptOutcome {
  ok: boolean;
  status: number | null;
  responseExcerpt: string;
  error: string | null;
  durationMs: number;
}

/**
 * Deliveries that were answered 2xx, in one statement however many: each delivered, with its
 * answer's code and first 1 KiB on its own row (no attempt row: webhook_attempts keeps the attempts
 * that failed), and their endpoints no longer failing. (A success needs no lock: whatever else
 * happens to the endpoint meanwhile, it has just answered.)
 */
export async function recordDelivered(
  db: Queryable,
  done: { deliveryId: number; outcome: AttemptOutcome }[],
): Promise<void> {
  if (done.length === 0) return;
  const ids = bigintArray(done.map((d) => d.deliveryId));
  // Arrays, not a VALUES list: one statement text however many, prepared once per connection. The
  // rows are found by `= ANY` (one scan of the primary key for all of them) and each takes its own
  // answer by its place in the arrays: joined to unnest(...) instead, each row was a search of its
  // own, and the statement cost half as much again (bench/README.md: events).
  await queryPreparedRows(
    db,
    sql`WITH marked AS (
      UPDATE ${webhookDeliveries} d SET attempts = d.attempts + 1, status = 'delivered', last_error = NULL,
        (last_status_code, last_duration_ms, last_response_excerpt) = (
          SELECT (${intArray(done.map((d) => d.outcome.status))})[i],
            (${intArray(done.map((d) => Math.round(d.outcome.durationMs)))})[i],
            (${textArray(done.map((d) => d.outcome.responseExcerpt))})[i]
          FROM array_position(${ids}, d.id) AS i),
        last_attempt_at = now(), delivered_at = now()
      WHERE d.id = ANY(${ids}) AND ${stillWaiting}
      RETURNING d.endpoint_id
    )
    UPDATE ${webhookEndpoints} SET failing_since = NULL
    WHERE failing_since IS NOT NULL AND id IN (SELECT endpoint_id FROM marked)`,
  );
}

/**
 * Logs an attempt and writes its verdict (attempt-rule.ts), under the endpoint's row lock so that
 * concurrent deliveries to one endpoint agree on when it started failing. An endpoint that has
 * failed too long is turned off, its waiting deliveries fail, and every staff member with a verified
 * address gets an email about it, in the same transaction.
 */
export async function recordAttempt(
  db: Database,
  attempt: {
    deliveryId: number;
    outcome: AttemptOutcome;
    now: number;
    giveUpMs: number;
    /** The job the delivery is retried under, should the verdict be to retry (the caller queues it). */
    retryJobId: string;
    mailStatus: MailDeps["initialStatus"];
  },
): Promise<(AttemptVerdict & { endpointId: number; attempts: number }) | null> {
  return db.transaction(async (tx) => {
    const [facts] = await queryRows<{
      endpointId: number;
      failingSince: Date | string | null;
      createdAt: Date | string;
      manual: boolean;
      attempts: number;
    }>(
      tx,
      sql`SELECT ep.id AS "endpointId", ep.failing_since AS "failingSince", d.created_at AS "createdAt", d.manual,
          d.attempts
        FROM ${webhookDeliveries} d JOIN ${webhookEndpoints} ep ON ep.id = d.endpoint_id
        WHERE d.id = ${attempt.deliveryId} AND d.status = 'pending'
        FOR UPDATE OF ep, d`,
    );
    if (!facts) return null;
    const endpointId = Number(facts.endpointId);
    const { outcome } = attempt;
    const verdict = judgeAttempt({
      ok: outcome.ok,
      now: attempt.now,
      deliveryCreatedAt: new Date(facts.createdAt).getTime(),
      endpointFailingSince: dateOrNull(facts.failingSince)?.getTime() ?? null,
      giveUpMs: attempt.giveUpMs,
      manual: facts.manual,
    });
    const failingSince =
      verdict.endpointFailingSince === null ? null : new Date(verdict.endpointFailingSince).toISOString();
    const durationMs = Math.round(outcome.durationMs);
    // A success is kept on the delivery's row alone, as recordDelivered keeps it.
    const logged = outcome.ok
      ? sql``
      : sql`logged AS (
        INSERT INTO ${webhookAttempts} (delivery_id, duration_ms, status_code, response_excerpt, error)
        VALUES (${attempt.deliveryId}, ${durationMs}, ${outcome.status}, ${outcome.responseExcerpt}, ${outcome.error})
      ), `;
    await tx.execute(sql`WITH ${logged}endpoint AS (
        UPDATE ${webhookEndpoints} SET failing_since = ${failingSince}::timestamptz WHERE id = ${endpointId}
      )
      UPDATE ${webhookDeliveries} SET attempts = attempts + 1, status = ${verdict.delivery},
        job_id = ${verdict.delivery === "pending" ? sql`${attempt.retryJobId}::uuid` : sql`job_id`},
        last_status_code = ${outcome.status}, last_error = ${outcome.error}, last_duration_ms = ${durationMs},
        last_response_excerpt = ${outcome.responseExcerpt}, last_attempt_at = now(),
        delivered_at = ${verdict.delivery === "delivered" ? sql`now()` : sql`NULL`}
      WHERE id = ${attempt.deliveryId}`);
    if (verdict.disableEndpoint) await turnOff(tx, endpointId, attempt.giveUpMs, attempt.mailStatus);
    return { ...verdict, endpointId, attempts: Number(facts.attempts) + 1 };
  });
}

/** The endpoint is off; what still waits for it fails; staff hear of it by email. */
async function turnOff(
  tx: Queryable,
  endpointId: number,
  giveUpMs: number,
  mailStatus: MailDeps["initialStatus"],
): Promise<void> {
  const hours = Math.round(giveUpMs / 3_600_000);
  await tx.execute(sql`WITH off AS (
      UPDATE ${webhookEndpoints} SET enabled = false, disabled_reason = 'failing'
      WHERE id = ${endpointId} RETURNING id, url
    ), dropped AS (
      UPDATE ${webhookDeliveries} SET status = 'failed', last_error = 'the endpoint was turned off'
      WHERE endpoint_id = ${endpointId} AND status = 'pending'
    )
    ${outboxInsert(sql`SELECT 'webhook_disabled', u.id, u.email,
        jsonb_build_object('username', u.username, 'url', off.url, 'endpoint_id', off.id, 'hours', ${hours}::int),
        ${mailStatus}
      FROM ${users} u, off WHERE u.is_staff AND u.is_active AND u.email IS NOT NULL`)}`);
}

/** "Send again": a new delivery of the same event (the same webhook-id) to the same endpoint. */
export async function redeliver(db: Queryable, deliveryId: number): Promise<number | null> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`INSERT INTO ${webhookDeliveries} (event_id, endpoint_id, manual)
      SELECT event_id, endpoint_id, true FROM ${webhookDeliveries} WHERE id = ${deliveryId}
      RETURNING id`,
  );
  return rows[0] ? Number(rows[0].id) : null;
}

/** "Send a test event": an event of its own type, delivered to this endpoint only. */
export async function sendTestEvent(
  db: Queryable,
  endpointId: number,
  staffId: number,
): Promise<number | null> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`WITH ep AS (SELECT id FROM ${webhookEndpoints} WHERE id = ${endpointId}),
      event AS (
        INSERT INTO ${events} (type, data)
        SELECT ${TEST_EVENT_TYPE}, jsonb_build_object('endpoint_id', ep.id, 'sent_by', ${staffId}::bigint) FROM ep
        RETURNING id
      )
      INSERT INTO ${webhookDeliveries} (event_id, endpoint_id, manual)
      SELECT event.id, ep.id, true FROM event, ep
      RETURNING id`,
  );
  return rows[0] ? Number(rows[0].id) : null;
}

export interface DeliveryRow {
  id: number;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  manual: boolean;
  createdAt: Date;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
}

const deliveryColumns = sql`d.id, d.event_id AS "eventId", ev.type AS "eventType", d.status, d.attempts,
  d.last_status_code AS "lastStatusCode", d.last_error AS "lastError", d.manual, d.created_at AS "createdAt",
  d.last_attempt_at AS "lastAttemptAt", d.delivered_at AS "deliveredAt"`;

function deliveryOf(row: DeliveryRow): DeliveryRow {
  return {
    ...row,
    id: Number(row.id),
    createdAt: new Date(row.createdAt),
    lastAttemptAt: dateOrNull(row.lastAttemptAt),
    deliveredAt: dateOrNull(row.deliveredAt),
  };
}

/** An endpoint's delivery log, newest first, from before `beforeId` when given. */
export async function listDeliveries(
  db: Queryable,
  endpointId: number,
  page: { beforeId?: number; status?: string; limit: number },
): Promise<DeliveryRow[]> {
  const conditions: SQL[] = [sql`d.endpoint_id = ${endpointId}`];
  if (page.beforeId !== undefined) conditions.push(sql`d.id < ${page.beforeId}`);
  if (page.status) conditions.push(sql`d.status = ${page.status}`);
  const rows = await queryRows<DeliveryRow>(
    db,
    sql`SELECT ${deliveryColumns} FROM ${webhookDeliveries} d JOIN ${events} ev ON ev.id = d.event_id
      WHERE ${sql.join(conditions, sql` AND `)} ORDER BY d.id DESC LIMIT ${page.limit}`,
  );
  return rows.map(deliveryOf);
}

export interface AttemptRow {
  /** null: the attempt that succeeded, kept on the delivery's own row. */
  id: number | null;
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  responseExcerpt: string;
  error: string | null;
}

/** One delivery with its event's body and every attempt, oldest first. */
export async function deliveryDetail(
  db: Queryable,
  endpointId: number,
  deliveryId: number,
): Promise<{ delivery: DeliveryRow; body: string; attempts: AttemptRow[] } | null> {
  const rows = await queryRows<
    DeliveryRow & {
      body: string;
      lastDurationMs: number | null;
      lastResponseExcerpt: string | null;
    }
  >(
    db,
    sql`SELECT ${deliveryColumns}, ${eventBody} AS body,
        d.last_duration_ms AS "lastDurationMs", d.last_response_excerpt AS "lastResponseExcerpt"
      FROM ${webhookDeliveries} d JOIN ${events} ev ON ev.id = d.event_id
      WHERE d.id = ${deliveryId} AND d.endpoint_id = ${endpointId}`,
  );
  const row = rows[0];
  if (!row) return null;
  const failed = await queryRows<AttemptRow>(
    db,
    sql`SELECT id, attempted_at AS "attemptedAt", duration_ms AS "durationMs", status_code AS "statusCode",
        response_excerpt AS "responseExcerpt", error
      FROM ${webhookAttempts} WHERE delivery_id = ${deliveryId} ORDER BY id`,
  );
  const attempts: AttemptRow[] = failed.map((attempt) => ({
    ...attempt,
    id: Number(attempt.id),
    attemptedAt: new Date(attempt.attemptedAt),
  }));
  const delivery = deliveryOf(row);
  // The success, on the delivery's row (a delivery made before it was kept there has an attempt row).
  if (delivery.status === "delivered" && delivery.lastAttemptAt && row.lastDurationMs !== null) {
    attempts.push({
      id: null,
      attemptedAt: delivery.lastAttemptAt,
      durationMs: row.lastDurationMs,
      statusCode: delivery.lastStatusCode,
      responseExcerpt: row.lastResponseExcerpt ?? "",
      error: null,
    });
  }
  return { delivery, body: row.body, attempts };
}
