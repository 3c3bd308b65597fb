// Reading what the email paths wrote: the links in the outbox (kept without SMTP_URL) and in
// messages received over SMTP, and the state of an account's addresses.
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../../src/db/connection.js";
import type { ReceivedMail } from "./smtp.js";

/** The token of the newest message of this kind to this address, as the outbox keeps it before sending. */
export async function outboxToken(db: Database, to: string, kind = "verify_email"): Promise<string> {
  const rows = await queryRows<{ token: string | null }>(
    db,
    sql`SELECT params->>'token' AS token FROM outbox_messages
      WHERE to_address = ${to} AND kind = ${kind} ORDER BY id DESC LIMIT 1`,
  );
  const token = rows[0]?.token;
  if (!token) throw new Error(`no ${kind} message to ${to}`);
  return token;
}

/** How many messages of this kind were written to this address. */
export async function outboxCount(db: Database, to: string, kind: string): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM outbox_messages WHERE to_address = ${to} AND kind = ${kind}`,
  );
  return Number(rows[0]?.n ?? 0);
}

export interface AddressRow {
  email: string | null;
  emailKey: string | null;
  pendingEmail: string | null;
}

export async function addressesOf(db: Database, username: string): Promise<AddressRow> {
  const rows = await queryRows<{
    email: string | null;
    email_key: string | null;
    pending_email: string | null;
  }>(db, sql`SELECT email, email_key, pending_email FROM users WHERE username = ${username}`);
  const row = rows[0];
  if (!row) throw new Error(`no user ${username}`);
  return { email: row.email, emailKey: row.email_key, pendingEmail: row.pending_email };
}

/** The link a received message carries (its path and query), from its plain-text part. */
export function linkIn(mail: ReceivedMail, path: string): string {
  const text = mail.parsed.text ?? "";
  const match = new RegExp(`https?://[^\\s/]+(${path.replace(/[/?]/g, "\\$&")}\\?token=[A-Za-z0-9_-]+)`).exec(
    text,
  );
  if (!match?.[1]) throw new Error(`no ${path} link in: ${text}`);
  return match[1];
}

export function tokenInLink(link: string): string {
  return new URL(link, "http://x").searchParams.get("token") ?? "";
}
