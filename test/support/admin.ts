// Staff accounts and audit reads for the admin tests.
import { sql } from "drizzle-orm";
import { createOrPromoteStaff } from "../../src/admin/staff.js";
import { type Database, queryRows } from "../../src/db/connection.js";
import { Client, type TestApp } from "./app.js";

/** Signs a person up through the site and makes them staff; their client stays logged in. */
export async function staffClient(
  t: TestApp,
  username: string,
  mode: "json" | "html" = "json",
): Promise<Client> {
  const client = new Client(t.app, mode);
  const response = await client.signUp(username);
  if (response.statusCode !== 200 && response.statusCode !== 302) {
    throw new Error(`sign-up of ${username} failed: ${response.statusCode} ${response.body}`);
  }
  await createOrPromoteStaff(t.deps.db, { username }, t.deps.hasher);
  return client;
}

export async function userIdOf(db: Database, username: string): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`SELECT id::int AS id FROM users WHERE username = ${username}`,
  );
  const row = rows[0];
  if (!row) throw new Error(`no user ${username}`);
  return row.id;
}

export interface AuditRow {
  actor: string | null;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  createdAt: Date;
}

export async function auditRows(db: Database): Promise<AuditRow[]> {
  const rows = await queryRows<{
    actor: string | null;
    action: string;
    target: string | null;
    details: string;
    created_at: string | Date;
  }>(
    db,
    sql`SELECT a.username AS actor, l.action, t.username AS target, l.details, l.created_at
        FROM audit_log l LEFT JOIN users a ON a.id = l.actor_id LEFT JOIN users t ON t.id = l.target_user_id
        ORDER BY l.id`,
  );
  return rows.map((r) => ({
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: JSON.parse(r.details),
    createdAt: new Date(r.created_at),
  }));
}

/** RFC 4180 parsing, to check what a spreadsheet would read back. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
