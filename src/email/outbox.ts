// The outbox's rows: written in the same transaction as the event that causes a message, handed to
// the job queue after the commit, and marked sent or failed by the worker (src/email/worker.ts).
import { type SQL, sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import { type OutboxKind, type OutboxStatus, outboxMessages, users } from "../db/schema.js";
import type { NotificationChoice } from "./messages.js";

/** What the use cases that cause a message are given. */
export interface MailDeps {
  /** "pending" with an SMTP server to send through; "kept" for staff to read without one. */
  initialStatus: "pending" | "kept";
  /** After a commit that wrote messages: hand them to the worker now rather than at its next sweep. */
  wake(): void;
}

/** Without an SMTP server and a worker: messages are kept, and nothing needs waking. */
export const keptMail: MailDeps = { initialStatus: "kept", wake: () => {} };

export interface NewMessage {
  kind: OutboxKind;
  userId: number | null;
  to: string;
  /** The values the message is rendered from (src/email/messages.ts): names, amounts, a token. */
  params: Record<string, string | number>;
}

/**
 * The one INSERT every writer of messages uses, inside the statement or transaction of its change:
 * `rows` is a SELECT (or VALUES) giving kind, user id, address, params (jsonb) and status, in order.
 */
export function outboxInsert(rows: SQL): SQL {
  return sql`INSERT INTO ${outboxMessages} (kind, user_id, to_address, params, status) ${rows}`;
}

/** Writes one message; call it inside the transaction of the change the message tells about. */
export async function enqueueEmail(db: Queryable, mail: MailDeps, message: NewMessage): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`${outboxInsert(sql`VALUES (${message.kind}, ${message.userId}, ${message.to},
      ${JSON.stringify(message.params)}::jsonb, ${mail.initialStatus})`)} RETURNING id`,
  );
  return Number(rows[0]?.id);
}

/**
 * For a statement that already has the user's row at hand (a CTE named `alias` with an `id`
 * column): a message to that user's verified address, if they have one and want this kind.
 * `paramsJson` is a jsonb expression over the same row.
 */
export function notificationInsert(options: {
  kind: OutboxKind;
  /** SQL naming the recipient's id (a column of a CTE, or a parameter). */
  userId: SQL;
  /** A users column that must be true: the person's choice for this kind. */
  wants: NotificationChoice;
  params: SQL;
  status: MailDeps["initialStatus"];
}): SQL {
  return outboxInsert(sql`SELECT ${options.kind}, u.id, u.email, ${options.params}, ${options.status}
    FROM ${users} u
    WHERE u.id = ${options.userId} AND u.email IS NOT NULL AND u.is_active AND u.${sql.raw(options.wants)}`);
}

export interface OutboxRow {
  id: number;
  kind: OutboxKind;
  userId: number | null;
  toAddress: string;
  params: Record<string, string | number>;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

/**
 * Gives every pending message not yet queued a job id and returns them, for the caller to hand to
 * the job queue under those ids. A message whose hand-over was lost (the process died between the
 * two) keeps its id and is handed over again by the sweep (handedOverBefore): the queue ignores an
 * id it already has, so no message is queued twice.
 */
export async function claimForQueue(db: Queryable, limit: number): Promise<{ id: number; jobId: string }[]> {
  return queryRows<{ id: number; jobId: string }>(
    db,
    sql`UPDATE ${outboxMessages} SET job_id = gen_random_uuid()
      WHERE id IN (SELECT id FROM ${outboxMessages} WHERE status = 'pending' AND job_id IS NULL
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING id, job_id AS "jobId"`,
  );
}

/** Pending messages handed to the queue at least `seconds` ago: their jobs, to hand over again. */
export async function handedOverBefore(
  db: Queryable,
  seconds: number,
  limit: number,
): Promise<{ id: number; jobId: string }[]> {
  return queryRows<{ id: number; jobId: string }>(
    db,
    sql`SELECT id, job_id AS "jobId" FROM ${outboxMessages}
      WHERE status = 'pending' AND job_id IS NOT NULL
        AND created_at < now() - make_interval(secs => ${seconds})
      ORDER BY id LIMIT ${limit}`,
  );
}

/** The message to send, if it still waits; none when it was sent (a job run twice) or failed. */
export async function pendingMessage(db: Queryable, id: number): Promise<OutboxRow | null> {
  const rows = await queryRows<OutboxRow>(db, sql`${selectRows} WHERE id = ${id} AND status = 'pending'`);
  return rows[0] ? rowOf(rows[0]) : null;
}

/** Sent: the link's token and the other values are dropped; what was sent stays listed. */
export async function markSent(db: Queryable, id: number): Promise<void> {
  await db.execute(
    sql`UPDATE ${outboxMessages} SET status = 'sent', sent_at = now(), attempts = attempts + 1,
      last_error = NULL, params = '{}'::jsonb
      WHERE id = ${id} AND status = 'pending'`,
  );
}

/** One more failed attempt; the last allowed one marks the message failed. Returns the new status. */
export async function recordFailure(
  db: Queryable,
  id: number,
  error: string,
  maxAttempts: number,
): Promise<OutboxStatus | null> {
  const rows = await queryRows<{ status: OutboxStatus }>(
    db,
    sql`UPDATE ${outboxMessages}
      SET attempts = attempts + 1, last_error = ${error.slice(0, 500)},
        status = CASE WHEN attempts + 1 >= ${maxAttempts} THEN 'failed' ELSE status END,
        params = CASE WHEN attempts + 1 >= ${maxAttempts} THEN '{}'::jsonb ELSE params END
      WHERE id = ${id} AND status = 'pending'
      RETURNING status`,
  );
  return rows[0]?.status ?? null;
}

/** bigint ids come back as strings (node-postgres gives bigint as text): numbers, both ways. */
function rowOf(row: OutboxRow): OutboxRow {
  return { ...row, id: Number(row.id), userId: row.userId === null ? null : Number(row.userId) };
}

const selectRows = sql`SELECT id, kind, user_id AS "userId", to_address AS "toAddress", params, status,
  attempts, last_error AS "lastError", created_at AS "createdAt", sent_at AS "sentAt"
  FROM ${outboxMessages}`;

/** Staff's list, newest first, optionally one status or one recipient's messages. */
export async function listOutbox(
  db: Queryable,
  filter: { status?: OutboxStatus; userId?: number; beforeId?: number; limit: number },
): Promise<OutboxRow[]> {
  const conditions: SQL[] = [sql`true`];
  if (filter.status) conditions.push(sql`status = ${filter.status}`);
  if (filter.userId !== undefined) conditions.push(sql`user_id = ${filter.userId}`);
  if (filter.beforeId !== undefined) conditions.push(sql`id < ${filter.beforeId}`);
  const rows = await queryRows<OutboxRow>(
    db,
    sql`${selectRows} WHERE ${sql.join(conditions, sql` AND `)} ORDER BY id DESC LIMIT ${filter.limit}`,
  );
  return rows.map(rowOf);
}

export async function outboxMessage(db: Queryable, id: number): Promise<OutboxRow | null> {
  const rows = await queryRows<OutboxRow>(db, sql`${selectRows} WHERE id = ${id}`);
  return rows[0] ? rowOf(rows[0]) : null;
}

/** How many messages are in each status, for staff and the metrics. */
export async function outboxCounts(db: Queryable): Promise<Record<OutboxStatus, number>> {
  const rows = await queryRows<{ status: OutboxStatus; n: number }>(
    db,
    sql`SELECT status, count(*)::int AS n FROM ${outboxMessages} GROUP BY status`,
  );
  const counts: Record<OutboxStatus, number> = { pending: 0, sent: 0, failed: 0, kept: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}
