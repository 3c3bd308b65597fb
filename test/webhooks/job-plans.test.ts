// A job's statements find its deliveries by their ids through the primary key, however many
// deliveries the waiting deliveries' partial index still holds dead entries for (until a vacuum;
// PGlite has no autovacuum). Planned through that index, their cost grew with every delivery made.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { type Database, queryRows } from "../../src/db/connection.js";
import { recordEvent } from "../../src/events/events.js";
import { deliveriesForJob, recordDelivered } from "../../src/webhooks/deliveries.js";
import { createEndpoint, updateEndpoint } from "../../src/webhooks/endpoints.js";
import { newWebhookSecret } from "../../src/webhooks/signing.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const dialect = new PgDialect();
let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.drop());

/** The database, keeping the text and parameters of every statement run through it. */
function capturing(db: Database): { db: Database; statements: { text: string; params: unknown[] }[] } {
  const statements: { text: string; params: unknown[] }[] = [];
  const session = new Proxy(db._.session, {
    get(target, key, receiver) {
      if (key === "prepareQuery") {
        return (built: { sql: string; params: unknown[] }, ...rest: unknown[]) => {
          statements.push({ text: built.sql, params: built.params });
          return (target.prepareQuery as (...args: unknown[]) => unknown).call(target, built, ...rest);
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
  const proxied = new Proxy(db, {
    get(target, key, receiver) {
      if (key === "_") return { ...target._, session };
      if (key === "execute") {
        return (query: SQL) => {
          const built = dialect.sqlToQuery(query);
          statements.push({ text: built.sql, params: built.params });
          return target.execute(query);
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { db: proxied as Database, statements };
}

/** The indexes a statement's plan reads webhook_deliveries through. */
async function deliveryIndexesOf(statement: { text: string; params: unknown[] }): Promise<string[]> {
  const { db } = database.handle;
  const explained = await db.transaction(async (tx) => {
    const client = tx._.session as unknown as {
      client: { query: (text: string, params: unknown[]) => Promise<{ rows: Record<string, unknown>[] }> };
    };
    return client.client.query(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.params);
  });
  const indexes: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    const index = String(node["Index Name"] ?? "");
    if (index.startsWith("webhook_deliveries")) indexes.push(index);
    else if (node["Relation Name"] === "webhook_deliveries" && node["Node Type"] === "Seq Scan") {
      indexes.push("a sequential scan");
    }
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const plan = explained.rows[0]?.["QUERY PLAN"];
  const parsed = (typeof plan === "string" ? JSON.parse(plan) : plan) as { Plan: Record<string, unknown> }[];
  walk(parsed[0]?.Plan ?? {});
  return indexes;
}

test("a job's statements look its deliveries up by primary key, not through the waiting ones' index", async () => {
  const { db } = database.handle;
  const on = await createEndpoint(db, {
    url: "https://hooks.example.com/on",
    description: "plans",
    eventTypes: ["user.created"],
    secret: newWebhookSecret(),
    createdById: null,
  });
  const off = await createEndpoint(db, {
    url: "https://hooks.example.com/off",
    description: "plans, off",
    eventTypes: ["user.created"],
    secret: newWebhookSecret(),
    createdById: null,
  });
  // Many deliveries made and recorded: the partial index keeps their entries until a vacuum.
  for (let i = 0; i < 20; i++) {
    await db.execute(sql`WITH e AS (
        INSERT INTO events (type, data) SELECT 'user.created', jsonb_build_object('user_id', n)
        FROM generate_series(1, 100) AS n RETURNING id
      ) INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT e.id, ${on} FROM e`);
    await db.execute(sql`UPDATE webhook_deliveries SET status = 'delivered' WHERE status = 'pending'`);
  }
  const ids = [
    ...(await recordEvent(db, "user.created", { user_id: 1 })),
    ...(await recordEvent(db, "user.created", { user_id: 2 })),
  ];
  assert.equal(ids.length, 4);
  await updateEndpoint(db, off, {
    url: "https://hooks.example.com/off",
    description: "plans, off",
    eventTypes: ["user.created"],
    enabled: false,
  });

  const job = capturing(db);
  const found = await deliveriesForJob(job.db, ids, "00000000-0000-4000-8000-000000000001");
  await recordDelivered(
    job.db,
    [...found.keys()].map((deliveryId) => ({
      deliveryId,
      outcome: { ok: true, status: 200, responseExcerpt: "", error: null, durationMs: 3 },
    })),
  );
  // The read, its endpoints, the skip of the endpoint that is off, and the record.
  assert.equal(job.statements.length, 4);
  const ofDeliveries = job.statements.filter((statement) => statement.text.includes('"webhook_deliveries"'));
  assert.equal(ofDeliveries.length, 3);
  for (const statement of ofDeliveries) {
    const indexes = await deliveryIndexesOf(statement);
    assert.ok(indexes.length > 0, statement.text);
    assert.deepEqual(
      indexes.filter((index) => index !== "webhook_deliveries_pkey"),
      [],
      `${statement.text}\nreads webhook_deliveries through ${indexes.join(", ")}`,
    );
  }
  const statuses = await queryRows<{ status: string; n: number }>(
    db,
    sql`SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE id = ANY(${`{${ids.join(",")}}`}::bigint[]) GROUP BY status ORDER BY status`,
  );
  assert.deepEqual(statuses, [
    { status: "delivered", n: 2 },
    { status: "skipped", n: 2 },
  ]);
});

test("each delivery recorded at once keeps its own answer: code, time taken and excerpt", async () => {
  const { db } = database.handle;
  await createEndpoint(db, {
    url: "https://hooks.example.com/answers",
    description: "plans, answers",
    eventTypes: ["user.created"],
    secret: newWebhookSecret(),
    createdById: null,
  });
  const ids = [
    ...(await recordEvent(db, "user.created", { user_id: 5 })),
    ...(await recordEvent(db, "user.created", { user_id: 6 })),
    ...(await recordEvent(db, "user.created", { user_id: 7 })),
  ];
  const excerpts = ['{"ok": true, "list": [1,2]}', "", 'a "quoted", back\\slashed {é} NULL'];
  const done = ids.slice(0, 3).map((deliveryId, i) => ({
    deliveryId,
    outcome: {
      ok: true,
      status: [200, 204, 202][i] as number,
      responseExcerpt: excerpts[i] as string,
      error: null,
      durationMs: [12.4, 7, 3001][i] as number,
    },
  }));
  // In another order than the ids: each row finds its own answer by its place.
  await recordDelivered(db, [...done].reverse());
  const rows = await queryRows<{ id: number; status: string; code: number; ms: number; excerpt: string }>(
    db,
    sql`SELECT id, status, last_status_code AS code, last_duration_ms AS ms, last_response_excerpt AS excerpt
      FROM webhook_deliveries WHERE id = ANY(${`{${ids.join(",")}}`}::bigint[]) ORDER BY id`,
  );
  assert.deepEqual(
    rows.slice(0, 3).map((row) => ({ ...row, id: Number(row.id) })),
    done.map(({ deliveryId, outcome }) => ({
      id: deliveryId,
      status: "delivered",
      code: outcome.status,
      ms: Math.round(outcome.durationMs),
      excerpt: outcome.responseExcerpt,
    })),
  );
});
