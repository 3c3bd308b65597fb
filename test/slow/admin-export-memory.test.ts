// Exporting 100,000 rows keeps memory flat: the CSV is streamed in keyset batches, so the heap
// holds about one batch at a time, never the whole table or the whole file.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { sql } from "drizzle-orm";
import { staffClient } from "../support/admin.js";
import { createTestApp, type TestApp } from "../support/app.js";
import { onPostgres } from "../support/database.js";

const ROWS = 100_000;
/** Growth of live memory (JS heap and buffers, measured after a GC) allowed while streaming: a few batches and buffers, far below the file's size. */
const MAX_LIVE_GROWTH_BYTES = 5 * 1024 * 1024;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let t: TestApp;
let baseUrl: string;
let cookie: string;

before(async () => {
  t = await createTestApp();
  const staff = await staffClient(t, "exporter");
  cookie = [...staff.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  await t.deps.db.execute(
    sql`INSERT INTO users (username, username_key, password_hash, referral_token, referred_count, balance_cents, created_at)
        SELECT 'bulk_user_' || i, 'bulk_user_' || i, 'not-a-hash', 'bulk-token-' || i, i % 7, (i % 500) * 10,
               now() - make_interval(mins => i)
        FROM generate_series(1, ${ROWS - 1}) AS i`,
  );
  await t.deps.db.execute(
    sql`INSERT INTO ledger_entries (user_id, amount_cents, kind, reason, created_at)
        SELECT u.id, 1000, 'adjustment', 'bulk credit, with "quotes" and a comma', u.created_at
        FROM users u WHERE u.username LIKE 'bulk\\_user\\_%'`,
  );
  baseUrl = await t.app.listen({ port: 0, host: "127.0.0.1" });
});
after(async () => t.close());

async function measureExport(path: string) {
  gc();
  const baseline = process.memoryUsage();
  const live = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external;
  let peakLive = live(baseline);
  let peakRss = baseline.rss;
  const response = await fetch(`${baseUrl}${path}`, { headers: { cookie } });
  assert.equal(response.status, 200);
  assert.ok(response.body);
  let bytes = 0;
  let lines = 0;
  let nextSample = 0;
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    const text = decoder.decode(chunk, { stream: true });
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
    if (bytes >= nextSample) {
      gc();
      const now = process.memoryUsage();
      peakLive = Math.max(peakLive, live(now));
      peakRss = Math.max(peakRss, now.rss);
      nextSample = bytes + 256 * 1024;
    }
  }
  return { bytes, lines, liveGrowth: peakLive - live(baseline), rssGrowth: peakRss - baseline.rss };
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

for (const [name, path, expectedLines] of [
  ["users", "/admin/export/users.csv", ROWS + 1],
  ["ledger", "/admin/export/ledger.csv", ROWS - 1 + 1],
] as const) {
  test(`exporting ${name} (${expectedLines - 1} rows, ${onPostgres ? "PostgreSQL" : "PGlite"}) keeps memory flat`, async () => {
    const result = await measureExport(path);
    // Reason cells hold a quoted comma but no line break, so lines count rows.
    assert.equal(result.lines, expectedLines);
    console.log(
      `${name}.csv: ${result.lines - 1} rows, ${mib(result.bytes)} streamed; live memory (heap + external) grew at most ${mib(result.liveGrowth)}, RSS ${mib(result.rssGrowth)}`,
    );
    assert.ok(
      result.bytes > MAX_LIVE_GROWTH_BYTES,
      `the file (${mib(result.bytes)}) is larger than the bound`,
    );
    assert.ok(
      result.liveGrowth < MAX_LIVE_GROWTH_BYTES,
      `live memory grew by ${mib(result.liveGrowth)} while streaming ${mib(result.bytes)}`,
    );
  });
}
