// The audit log: who did what to whom, and when. Written in the same transaction as the change it records.
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Queryable } from "../db/connection.js";
import { auditLog, users } from "../db/schema.js";
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
  | "account_deleted";

export interface AuditRecord {
  /** Null when done from the command line (createsuperuser). */
  actorId: number | null;
  action: AuditAction;
  targetUserId?: number | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(db: Queryable, record: AuditRecord): Promise<void> {
  await db.insert(auditLog).values({
    actorId: record.actorId,
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
      targetUserId: auditLog.targetUserId,
      targetUsername: target.username,
      details: auditLog.details,
      createdAt: auditLog.createdAt,
    })
    .from(auditLog)
    .leftJoin(actor, eq(actor.id, auditLog.actorId))
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
