// API keys (/api/v1/): made and revoked by staff at /admin/api-keys/, presented by programs as
// `Authorization: Bearer rk_…`. A key is 32 random bytes; only a SHA-256 of the whole key is kept,
// with its first characters (the prefix) in the clear, so staff can tell keys apart and a request's
// key is found through the prefix's unique index.
import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { ThrottleCounter } from "../accounts/throttle.js";
import { recordAudit } from "../admin/audit.js";
import { type Database, type Queryable, queryPreparedRows } from "../db/connection.js";
import { isUniqueViolation } from "../db/errors.js";
import { type ApiKeyScope, apiKeyScopes, apiKeys, users } from "../db/schema.js";
import { reserveHitsFrom } from "../db/throttle-counters.js";
import { FieldErrorList } from "../errors.js";

/** What every key starts with: says what it is when it turns up in a file or a log. */
export const KEY_START = "rk_";
/** The random part: 32 bytes in base64url. */
const SECRET_LENGTH = 43;
/** Characters of the random part kept in the clear (48 of its 256 bits). */
const PREFIX_SECRET_CHARS = 8;
const keyPattern = new RegExp(`^${KEY_START}[A-Za-z0-9_-]{${SECRET_LENGTH}}$`);

export const API_KEY_NAME_MAX_LENGTH = 100;

export interface NewKeyMaterial {
  /** The whole key: shown once, never stored. */
  key: string;
  prefix: string;
  secretHash: string;
}

export function generateApiKey(): NewKeyMaterial {
  const key = `${KEY_START}${randomBytes(32).toString("base64url")}`;
  return { key, prefix: prefixOf(key), secretHash: hashApiKey(key) };
}

export function prefixOf(key: string): string {
  return key.slice(0, KEY_START.length + PREFIX_SECRET_CHARS);
}

/**
 * SHA-256 of the whole key, hex. A fast hash is enough: the key is 256 random bits, not a password
 * anyone could guess, and comparing digests in SQL tells a timing observer nothing about the key.
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Whether the text has a key's shape (anything else is refused without a query). */
export function isApiKeyShaped(text: string): boolean {
  return keyPattern.test(text);
}

export interface ApiKeyForm {
  name: string;
  scope: ApiKeyScope;
}

/** The form staff make a key with: a name (what the audit log will call it) and a scope. */
export function checkApiKeyForm(input: Record<string, unknown>): ApiKeyForm {
  const errors = new FieldErrorList();
  const name = typeof input.name === "string" ? input.name.trim() : "";
  if (name === "") errors.add("name", "This field is required.");
  else if ([...name].length > API_KEY_NAME_MAX_LENGTH) {
    errors.add(
      "name",
      `Ensure this value has at most ${API_KEY_NAME_MAX_LENGTH} characters (it has ${[...name].length}).`,
    );
  }
  const scope = input.scope;
  if (typeof scope !== "string" || !(apiKeyScopes as readonly string[]).includes(scope)) {
    errors.add("scope", 'Choose "read" or "write".');
  }
  errors.throwIfAny();
  return { name, scope: scope as ApiKeyScope };
}

export interface CreatedApiKey {
  id: number;
  name: string;
  prefix: string;
  scope: ApiKeyScope;
  createdAt: Date;
  /** The whole key, for the one answer that shows it. */
  key: string;
}

/** Makes a key and writes the audit log in one transaction; the whole key is returned, never kept. */
export async function createApiKey(db: Database, staffId: number, form: ApiKeyForm): Promise<CreatedApiKey> {
  // Two keys sharing a prefix (48 random bits) is all but impossible; a new key is drawn if it happens.
  for (let attempt = 1; ; attempt++) {
    const material = generateApiKey();
    try {
      return await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(apiKeys)
          .values({
            name: form.name,
            prefix: material.prefix,
            secretHash: material.secretHash,
            scope: form.scope,
            createdById: staffId,
          })
          .returning({ id: apiKeys.id, createdAt: apiKeys.createdAt });
        const created = row as { id: number; createdAt: Date };
        await recordAudit(tx, {
          actorId: staffId,
          action: "api_key_created",
          details: { api_key_id: created.id, name: form.name, prefix: material.prefix, scope: form.scope },
        });
        return { ...created, name: form.name, prefix: material.prefix, scope: form.scope, key: material.key };
      });
    } catch (error) {
      if (attempt < 3 && isUniqueViolation(error, "api_keys_prefix_uq")) continue;
      throw error;
    }
  }
}

export class ApiKeyNotFound extends Error {
  constructor() {
    super("api key not found");
    this.name = "ApiKeyNotFound";
  }
}

/** Revokes a key at once: its next request gets 401. `changed` is false when it was revoked already. */
export async function revokeApiKey(
  db: Database,
  staffId: number,
  keyId: number,
): Promise<{ changed: boolean }> {
  return db.transaction(async (tx) => {
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()`, revokedById: staffId })
      .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
      .returning({ name: apiKeys.name, prefix: apiKeys.prefix });
    const row = revoked[0];
    if (!row) {
      const exists = await tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, keyId));
      if (exists.length === 0) throw new ApiKeyNotFound();
      return { changed: false };
    }
    await recordAudit(tx, {
      actorId: staffId,
      action: "api_key_revoked",
      details: { api_key_id: keyId, name: row.name, prefix: row.prefix },
    });
    return { changed: true };
  });
}

export interface ApiKeyRow {
  id: number;
  name: string;
  prefix: string;
  scope: ApiKeyScope;
  createdAt: Date;
  createdByUsername: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  revokedByUsername: string | null;
}

function selectKeys(db: Queryable) {
  const creator = alias(users, "creator");
  const revoker = alias(users, "revoker");
  return db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      scope: apiKeys.scope,
      createdAt: apiKeys.createdAt,
      createdByUsername: creator.username,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
      revokedByUsername: revoker.username,
    })
    .from(apiKeys)
    .leftJoin(creator, eq(creator.id, apiKeys.createdById))
    .leftJoin(revoker, eq(revoker.id, apiKeys.revokedById));
}

/** Every key, the ones in use first, newest first; revoked keys stay listed (the audit log names them). */
export async function listApiKeys(db: Queryable): Promise<ApiKeyRow[]> {
  return selectKeys(db).orderBy(
    sql`${apiKeys.revokedAt} IS NOT NULL`,
    desc(apiKeys.createdAt),
    desc(apiKeys.id),
  );
}

export async function apiKeyById(db: Queryable, keyId: number): Promise<ApiKeyRow | null> {
  const found = await selectKeys(db).where(eq(apiKeys.id, keyId));
  return found[0] ?? null;
}

/** How often a key's last_used_at is written at most: a request a minute shows the same time. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

export type KeyCheck =
  | { status: "unknown" }
  | { status: "revoked" }
  | { status: "throttled"; id: number }
  | { status: "ok"; id: number; name: string; scope: ApiKeyScope };

/**
 * One statement per request: finds the key by its prefix and hash, reserves one request on the
 * key's counter for this minute (atomic, shared by every process: at most `counter.limit` get
 * through however many arrive together), and writes last_used_at when it is a minute old or more.
 * A revoked key reserves nothing.
 */
export async function checkApiKey(
  db: Queryable,
  key: string,
  counter: Omit<ThrottleCounter, "bucket">,
  now: Date,
): Promise<KeyCheck> {
  const nowText = now.toISOString();
  const rows = await queryPreparedRows<{
    id: string | number;
    name: string;
    scope: ApiKeyScope;
    revoked: boolean;
    reserved: boolean;
  }>(
    db,
    sql`WITH found AS (
          SELECT id, name, scope, revoked_at IS NOT NULL AS revoked FROM ${apiKeys}
          WHERE prefix = ${prefixOf(key)} AND secret_hash = ${hashApiKey(key)}
        ),
        hit AS (
          ${reserveHitsFrom(sql`SELECT 'api:key:' || id AS bucket FROM found WHERE NOT revoked`, counter)}
        ),
        -- A data-modifying CTE runs whether or not the query reads it.
        touched AS (
          UPDATE ${apiKeys} SET last_used_at = ${nowText}::timestamptz
          WHERE id = (SELECT id FROM found WHERE NOT revoked)
            AND (last_used_at IS NULL
                 OR last_used_at <= ${nowText}::timestamptz - make_interval(secs => ${LAST_USED_RESOLUTION_SECONDS}))
          RETURNING id
        )
        SELECT found.id, found.name, found.scope, found.revoked, EXISTS (SELECT 1 FROM hit) AS reserved
        FROM found`,
  );
  const row = rows[0];
  if (!row) return { status: "unknown" };
  if (row.revoked) return { status: "revoked" };
  const id = Number(row.id);
  if (!row.reserved) return { status: "throttled", id };
  return { status: "ok", id, name: row.name, scope: row.scope };
}
