// Idempotency-Key for the API's writes: the first answer to a key is kept, and a repeat of the same
// request gets it back without writing anything. It is done in the database, so it holds across
// processes and under concurrency: the key's row is inserted first, in the same transaction as the
// write. A concurrent repeat's INSERT … ON CONFLICT DO NOTHING waits on the primary key for that
// transaction to end, then finds the row committed and reads the answer in it; if the first
// rolled back (an error), the repeat's insert goes ahead and it does the work itself.
import { createHash } from "node:crypto";
import { lt, sql } from "drizzle-orm";
import { type Database, type Queryable, queryRows, type Transaction } from "../db/connection.js";
import { apiIdempotencyKeys } from "../db/schema.js";
import { ApiError } from "./errors.js";

/** 1 to 255 printable ASCII characters (a UUID is the usual choice). */
export const IDEMPOTENCY_KEY_PATTERN = "^[\\x20-\\x7E]{1,255}$";

/** What a request asks for, as a digest: the same request always gives the same one. */
export function requestFingerprint(request: unknown): string {
  return createHash("sha256").update(canonicalJson(request)).digest("hex");
}

/** JSON with every object's keys sorted, so two equal requests never differ by their order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export interface Answer {
  statusCode: number;
  body: unknown;
}

export interface IdempotentAnswer extends Answer {
  /** True when this is the kept answer to an earlier request with the same key. */
  replayed: boolean;
}

export class IdempotencyKeyReused extends ApiError {
  constructor() {
    super(
      422,
      "idempotency_key_reused",
      "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
    );
  }
}

/**
 * Runs `work` once per (API key, Idempotency-Key): inside the transaction that also writes the
 * key's row and, after the work, its answer. An error from `work` rolls everything back, the key's
 * row included, so the same key may be tried again.
 */
export async function runIdempotent(
  db: Database,
  id: { apiKeyId: number; key: string; fingerprint: string },
  work: (tx: Transaction) => Promise<Answer>,
): Promise<IdempotentAnswer> {
  return db.transaction(async (tx) => {
    const claimed = await queryRows<{ claimed: number }>(
      tx,
      sql`INSERT INTO ${apiIdempotencyKeys} (api_key_id, key, request_hash, status_code, response_body)
          VALUES (${id.apiKeyId}, ${id.key}, ${id.fingerprint}, 0, '')
          ON CONFLICT (api_key_id, key) DO NOTHING
          RETURNING 1 AS claimed`,
    );
    if (claimed.length === 0) {
      // Committed by the request that claimed the key (a statement sees what committed before it).
      const [kept] = await queryRows<{ request_hash: string; status_code: number; response_body: string }>(
        tx,
        sql`SELECT request_hash, status_code, response_body FROM ${apiIdempotencyKeys}
            WHERE api_key_id = ${id.apiKeyId} AND key = ${id.key}`,
      );
      // Deleted by the housekeeping in between: as good as never seen, but this request lost its turn.
      if (!kept) {
        throw new ApiError(
          409,
          "idempotency_conflict",
          "Send the request again with the same Idempotency-Key.",
        );
      }
      if (kept.request_hash !== id.fingerprint) throw new IdempotencyKeyReused();
      return { statusCode: Number(kept.status_code), body: JSON.parse(kept.response_body), replayed: true };
    }
    const answer = await work(tx);
    await tx.execute(
      sql`UPDATE ${apiIdempotencyKeys}
          SET status_code = ${answer.statusCode}, response_body = ${JSON.stringify(answer.body)}
          WHERE api_key_id = ${id.apiKeyId} AND key = ${id.key}`,
    );
    return { ...answer, replayed: false };
  });
}

/** Forgets the answers kept since before `before` (the housekeeping, after API_IDEMPOTENCY_HOURS). */
export async function purgeIdempotencyKeysBefore(db: Queryable, before: Date): Promise<number> {
  const deleted = await db
    .delete(apiIdempotencyKeys)
    .where(lt(apiIdempotencyKeys.createdAt, before))
    .returning({ key: apiIdempotencyKeys.key });
  return deleted.length;
}
