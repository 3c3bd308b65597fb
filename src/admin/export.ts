// CSV exports of users and of the ledger, streamed: rows are read in keyset batches (id > last,
// ORDER BY id, LIMIT n), each a short query of its own, and the next batch is read only when the
// response has taken the previous one. Memory stays flat however many rows there are, and no
// transaction or connection is held while a slow client downloads.
import { Readable } from "node:stream";
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import { decimalDollars, isoTime } from "../format.js";
import { csvRow } from "./csv.js";

export const EXPORT_BATCH_ROWS = 1000;

interface UserExportRow {
  id: number;
  username: string;
  created_at: Date | string;
  inviter_username: string | null;
  referred_count: number;
  balance_cents: number | string;
  is_active: boolean;
  is_staff: boolean;
}

export const usersCsvHeader = [
  "id",
  "username",
  "joined_at",
  "invited_by",
  "referred_count",
  "balance",
  "balance_cents",
  "is_active",
  "is_staff",
];

export async function* usersCsvLines(db: Queryable, batchRows = EXPORT_BATCH_ROWS): AsyncGenerator<string> {
  yield csvRow(usersCsvHeader);
  let last = 0;
  for (;;) {
    const rows = await queryRows<UserExportRow>(
      db,
      sql`SELECT u.id::int AS id, u.username, u.created_at, i.username AS inviter_username, u.referred_count,
                 u.balance_cents, u.is_active, u.is_staff
          FROM users u LEFT JOIN users i ON i.id = u.invited_by_id
          WHERE u.id > ${last} ORDER BY u.id LIMIT ${batchRows}`,
    );
    if (rows.length === 0) return;
    let chunk = "";
    for (const row of rows) {
      const cents = Number(row.balance_cents);
      chunk += csvRow([
        Number(row.id),
        row.username,
        isoTime(row.created_at),
        row.inviter_username,
        row.referred_count,
        decimalDollars(cents),
        cents,
        row.is_active,
        row.is_staff,
      ]);
    }
    last = Number(rows[rows.length - 1]?.id);
    yield chunk;
    if (rows.length < batchRows) return;
  }
}

interface LedgerExportRow {
  id: number;
  created_at: Date | string;
  user_id: number;
  username: string;
  kind: string;
  amount_cents: number | string;
  signup_username: string | null;
  referral_count: number | null;
  reason: string | null;
  created_by: string | null;
  status: string;
  capped_cents: number | string | null;
}

export const ledgerCsvHeader = [
  "id",
  "created_at",
  "user_id",
  "username",
  "kind",
  "amount",
  "amount_cents",
  "signup_username",
  "referral_count",
  "reason",
  "created_by",
  "status",
  "capped_cents",
];

export async function* ledgerCsvLines(db: Queryable, batchRows = EXPORT_BATCH_ROWS): AsyncGenerator<string> {
  yield csvRow(ledgerCsvHeader);
  let last = 0;
  for (;;) {
    const rows = await queryRows<LedgerExportRow>(
      db,
      sql`SELECT l.id::int AS id, l.created_at, l.user_id::int AS user_id, u.username, l.kind, l.amount_cents,
                 s.username AS signup_username, l.referral_count, l.reason, c.username AS created_by,
                 l.status, l.capped_cents
          FROM ledger_entries l
          JOIN users u ON u.id = l.user_id
          LEFT JOIN users s ON s.id = l.signup_user_id
          LEFT JOIN users c ON c.id = l.created_by_id
          WHERE l.id > ${last} ORDER BY l.id LIMIT ${batchRows}`,
    );
    if (rows.length === 0) return;
    let chunk = "";
    for (const row of rows) {
      const cents = Number(row.amount_cents);
      chunk += csvRow([
        Number(row.id),
        isoTime(row.created_at),
        Number(row.user_id),
        row.username,
        row.kind,
        decimalDollars(cents),
        cents,
        row.signup_username,
        row.referral_count,
        row.reason,
        row.created_by,
        row.status,
        row.capped_cents === null ? null : Number(row.capped_cents),
      ]);
    }
    last = Number(rows[rows.length - 1]?.id);
    yield chunk;
    if (rows.length < batchRows) return;
  }
}

/** A byte stream that pulls the next batch only when the reader wants more (backpressure). */
export function csvStream(lines: AsyncGenerator<string>): Readable {
  return Readable.from(lines, { objectMode: false, highWaterMark: 64 * 1024 });
}
