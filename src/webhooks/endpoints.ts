// Storage of webhook endpoints: where staff send events (/admin/webhooks/), with the secrets that
// sign what is sent there.
import { sql } from "drizzle-orm";
import { dateOrNull, type Queryable, queryRows } from "../db/connection.js";
import { webhookDeliveries, webhookEndpoints } from "../db/schema.js";

export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  /** The service turned it off (failing for too long); null when on, or turned off by staff. */
  disabledReason: string | null;
  failingSince: Date | null;
  /** When the previous secret stops signing; null when there is none. */
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
}

export interface EndpointSummary extends WebhookEndpoint {
  pending: number;
  failed: number;
  lastDeliveredAt: Date | null;
}

const columns = sql`e.id, e.url, e.description, e.event_types AS "eventTypes", e.enabled,
  e.disabled_reason AS "disabledReason", e.failing_since AS "failingSince",
  e.previous_secret_expires_at AS "previousSecretExpiresAt", e.created_at AS "createdAt"`;

function endpointOf<T extends WebhookEndpoint>(row: T): T {
  return {
    ...row,
    id: Number(row.id),
    failingSince: dateOrNull(row.failingSince),
    previousSecretExpiresAt: dateOrNull(row.previousSecretExpiresAt),
    createdAt: new Date(row.createdAt),
  };
}

export async function createEndpoint(
  db: Queryable,
  endpoint: {
    url: string;
    description: string;
    eventTypes: string[];
    secret: string;
    createdById: number | null;
  },
): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`INSERT INTO ${webhookEndpoints} (url, description, event_types, secret, created_by_id)
      VALUES (${endpoint.url}, ${endpoint.description}, ${sql`ARRAY[${sql.join(
        endpoint.eventTypes.map((type) => sql`${type}`),
        sql`, `,
      )}]::text[]`}, ${endpoint.secret}, ${endpoint.createdById})
      RETURNING id`,
  );
  return Number(rows[0]?.id);
}

/** Every endpoint with how its deliveries stand, newest first. */
export async function listEndpoints(db: Queryable): Promise<EndpointSummary[]> {
  const rows = await queryRows<EndpointSummary>(
    db,
    sql`SELECT ${columns},
        (SELECT count(*) FROM ${webhookDeliveries} d WHERE d.endpoint_id = e.id AND d.status = 'pending')::int AS pending,
        (SELECT count(*) FROM ${webhookDeliveries} d WHERE d.endpoint_id = e.id AND d.status = 'failed')::int AS failed,
        (SELECT max(delivered_at) FROM ${webhookDeliveries} d WHERE d.endpoint_id = e.id) AS "lastDeliveredAt"
      FROM ${webhookEndpoints} e ORDER BY e.id DESC`,
  );
  return rows.map((row) => ({
    ...endpointOf(row),
    pending: Number(row.pending),
    failed: Number(row.failed),
    lastDeliveredAt: dateOrNull(row.lastDeliveredAt),
  }));
}

export async function findEndpoint(db: Queryable, id: number): Promise<WebhookEndpoint | null> {
  const rows = await queryRows<WebhookEndpoint>(
    db,
    sql`SELECT ${columns} FROM ${webhookEndpoints} e WHERE e.id = ${id}`,
  );
  return rows[0] ? endpointOf(rows[0]) : null;
}

/** Staff change the address, the description, the event types or whether it is on. */
export async function updateEndpoint(
  db: Queryable,
  id: number,
  change: { url: string; description: string; eventTypes: string[]; enabled: boolean },
): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`UPDATE ${webhookEndpoints} SET url = ${change.url}, description = ${change.description},
        event_types = ${sql`ARRAY[${sql.join(
          change.eventTypes.map((type) => sql`${type}`),
          sql`, `,
        )}]::text[]`},
        enabled = ${change.enabled},
        -- Turned on again by staff: the failures so far no longer count toward turning it off.
        failing_since = CASE WHEN ${change.enabled}::boolean AND NOT enabled THEN NULL ELSE failing_since END,
        disabled_reason = CASE WHEN ${change.enabled}::boolean THEN NULL ELSE disabled_reason END
      WHERE id = ${id} RETURNING id`,
  );
  return rows.length > 0;
}

/**
 * A new secret; the current one becomes the previous and keeps signing beside it for `overlapHours`
 * (0: it stops at once), so receivers can switch without missing a delivery.
 */
export async function rotateSecret(
  db: Queryable,
  id: number,
  secret: string,
  overlapHours: number,
): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`UPDATE ${webhookEndpoints} SET previous_secret = secret, secret = ${secret},
        previous_secret_expires_at = now() + make_interval(hours => ${overlapHours})
      WHERE id = ${id} RETURNING id`,
  );
  return rows.length > 0;
}

/**
 * Deleted with its deliveries and their attempts. (Deliveries name their endpoint without a foreign
 * key, schema.ts: a delivery a sign-up writes while this runs is skipped by the worker instead.)
 */
export async function deleteEndpoint(db: Queryable, id: number): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`WITH gone AS (DELETE FROM ${webhookEndpoints} WHERE id = ${id} RETURNING id),
      deliveries AS (DELETE FROM ${webhookDeliveries} WHERE endpoint_id IN (SELECT id FROM gone))
      SELECT id FROM gone`,
  );
  return rows.length > 0;
}
