// The audit log: who did what to whom, and when. Written in the same transaction as the change it records.
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Queryable } from "../db/connection.js";
import { apiKeys, auditLog, users } from "../db/schema.js";
import { afterId, idCursor, type Page, type PageRequest, pageOf } from "../paging.js";

/** Audit entries per page, unless the request asks for another number. */
export const AUDIT_PER_PAGE = 50;

export type AuditAction =
  | "balance_adjusted"
  | "user_deactivated"
  | "user_reactivated"
  | "staff_created"
  | "staff_granted"
  | "users_exported"
  | "ledger_exported"
  | "referral_approved"
  | "referral_rejected"
  | "session_ended"
  | "referral_link_regenerated"
  | "credit_text_changed"
  /** `npm run import:django` moved users over from the earlier Django version. */
  | "users_imported"
  /** Staff sent a new link to the address a user has waiting for confirmation. */
  | "email_verification_resent"
  /** The person deleted their own account (actor and target are the anonymised account). */
  | "account_deleted"
  /** Webhook endpoints (/admin/webhooks/): details hold endpoint_id and url. */
  | "webhook_endpoint_created"
  | "webhook_endpoint_updated"
  | "webhook_endpoint_deleted"
  | "webhook_secret_rotated"
  /** API keys (/admin/api-keys/): details hold the key's id, name, prefix and scope. */
  | "api_key_created"
  | "api_key_revoked";

/** Who made a change: a staff member (their user id), or a program holding an API key. */
export type Actor = number | ApiKeyActor;

export interface ApiKeyActor {
  apiKeyId: number;
  /** The key's name, as staff gave it: what the events and the audit log show. */
  keyName: string;
}

/** The audit log's columns for an actor. */
export function auditActor(actor: Actor): { actorId: number | null; apiKeyId: number | null } {
  return typeof actor === "number"
    ? { actorId: actor, apiKeyId: null }
    : { actorId: null, apiKeyId: actor.apiKeyId };
}

/** How an event names who made a change (src/events/). */
export function eventActor(actor: Actor): Record<string, string | number> {
  return typeof actor === "number"
    ? { type: "staff", user_id: actor }
    : { type: "api_key", api_key_id: actor.apiKeyId, name: actor.keyName };
}

export interface AuditRecord {
  /** Null when done from the command line (createsuperuser) or through an API key. */
  actorId: number | null;
  /** The API key the change was made with (/api/v1/), if it was. */
  apiKeyId?: number | null;
  action: AuditAction;
  targetUserId?: number | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(db: Queryable, record: AuditRecord): Promise<void> {
  await db.insert(auditLog).values({
    actorId: record.actorId,
    apiKeyId: record.apiKeyId ?? null,
    action: record.action,
    targetUserId: record.targetUserId ?? null,
    details: JSON.stringify(record.details ?? {}),
  });
}

export interface AuditEntry {
  id: number;
  action: string;
  actorId: number | null;
  actorUsername: string | null;
  /** The API key's name, for a change made through /api/v1/. */
  apiKeyName: string | null;
  targetUserId: number | null;
  targetUsername: string | null;
  details: Record<string, unknown>;
  createdAt: Date;
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The newest entries first, by the time each shows; the cursor (an entry's id) pages back through older ones.
 * An entry's time is its transaction's start, and a transaction that waited on a lock (two adjustments
 * to one balance) writes its entry after a later-started one: ordered by id, the page would show the
 * times out of order. Ordered by (time, id), as the ledger is.
 */
export async function listAudit(
  db: Queryable,
  page: PageRequest,
  options: { targetUserId?: number | undefined } = {},
): Promise<Page<AuditEntry>> {
  const actor = alias(users, "actor");
  const target = alias(users, "target");
  const conditions: SQL[] = [];
  const after = afterId(page.cursor);
  if (after !== null) {
    conditions.push(
      sql`(${auditLog.createdAt}, ${auditLog.id}) <
          (SELECT created_at, id FROM audit_log WHERE id = ${after})`,
    );
  }
  if (options.targetUserId !== undefined) conditions.push(eq(auditLog.targetUserId, options.targetUserId));
  const rows = await db
    .select({
      id: auditLog.id,
      action: auditLog.action,
      actorId: auditLog.actorId,
      actorUsername: actor.username,
      apiKeyName: apiKeys.name,
      targetUserId: auditLog.targetUserId,
      targetUsername: target.username,
      details: auditLog.details,
      createdAt: auditLog.createdAt,
    })
    .from(auditLog)
    .leftJoin(actor, eq(actor.id, auditLog.actorId))
    .leftJoin(apiKeys, eq(apiKeys.id, auditLog.apiKeyId))
    .leftJoin(target, eq(target.id, auditLog.targetUserId))
    .where(conditions.length ? and(...conditions) : undefined)
    // The order of audit_log_created_idx, and of audit_log_target_idx for one user's entries.
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(page.size + 1);
  return pageOf(
    rows.map((row) => ({ ...row, details: parseDetails(row.details) })),
    page.size,
    (last) => idCursor(last.id),
  );
}
