// Graceful shutdown of the real server process: SIGTERM while sign-ups are in flight. Each one
// completes or fails cleanly (a 503, or a connection refused before it was accepted), the process
// exits 0, and the ledger is exact afterwards.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { openDatabase } from "../../src/db/connection.js";
import { generousLimits } from "../support/app.js";
import { balanceMismatches, countRows, ledgerOf } from "../support/ledger.js";
import { FetchClient, type ServerProcess, startServerProcess } from "../support/server-process.js";

let server: ServerProcess | undefined;
after(async () => server?.stop());

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function postSignup(client: FetchClient, username: string, ref: string) {
  return client.fetch(`/signup/?ref=${ref}`, {
    method: "POST",
    headers: {
      Accept: "application/json",
      "X-CSRFToken": client.getCookie("csrftoken") ?? "",
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: form({ username, password1: "correct horse battery", password2: "correct horse battery" }),
    // A request must never hang: a response or an error, well within the drain timeout.
    signal: AbortSignal.timeout(60_000),
  });
}

test("SIGTERM during a burst of sign-ups: each completes or fails cleanly, exit 0, ledger exact", {
  timeout: 180_000,
}, async () => {
  server = await startServerProcess({ ...generousLimits, LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_SECONDS: "20" });
  const inviter = new FetchClient(server.baseUrl);
  await inviter.fetch("/login/", { headers: { Accept: "application/json" } });
  assert.equal((await postSignup(inviter, "drain_inviter", "")).status, 200);
  const me = (await (await inviter.fetch("/", { headers: { Accept: "application/json" } })).json()) as {
    referral_link: string;
  };
  const ref = new URL(me.referral_link).searchParams.get("ref") as string;

  const clients = Array.from({ length: 16 }, () => new FetchClient(server?.baseUrl ?? ""));
  await Promise.all(clients.map((c) => c.fetch("/login/", { headers: { Accept: "application/json" } })));

  let sigtermAt = 0;
  const outcomes = clients.map(async (client, i) => {
    // Half go before the signal, half are sent just after it.
    if (i >= 8) await new Promise((r) => setTimeout(r, 120));
    try {
      const response = await postSignup(client, `drain_${i}`, ref);
      const body = await response.text();
      return { i, status: response.status, body, at: Date.now() };
    } catch (error) {
      return { i, status: 0, body: String((error as Error).cause ?? error), at: Date.now() };
    }
  });
  // Let the first eight reach the server (argon2 hashing keeps them busy), then ask it to stop.
  await new Promise((r) => setTimeout(r, 60));
  sigtermAt = Date.now();
  server.child.kill("SIGTERM");
  const results = await Promise.all(outcomes);
  const code = await server.exited;

  assert.equal(code, 0, server.output());
  assert.match(server.output(), /shutting down: finishing in-flight requests/);
  assert.match(server.output(), /stopped cleanly/);

  const succeeded = results.filter((r) => r.status === 200);
  const failed = results.filter((r) => r.status !== 200);
  for (const f of failed) {
    // Clean failures only: refused by the closing server, or no connection at all.
    assert.ok(f.status === 503 || f.status === 0, `sign-up ${f.i}: ${f.status} ${f.body}`);
    if (f.status === 0) assert.match(f.body, /ECONNREFUSED|ECONNRESET|other side closed|SocketError/);
  }
  assert.ok(
    succeeded.some((r) => r.at > sigtermAt),
    "at least one sign-up was still in flight at SIGTERM and completed",
  );

  // The database afterwards: exactly the sign-ups that got 200, and a balanced ledger.
  let handle = server.database?.handle;
  let reopened: Awaited<ReturnType<typeof openDatabase>> | undefined;
  if (!handle) {
    reopened = await openDatabase({ dataDir: server.dataDir as string });
    handle = reopened;
  }
  try {
    const counts = await countRows(handle.db);
    assert.equal(counts.users, 1 + succeeded.length);
    assert.deepEqual(await balanceMismatches(handle.db), []);
    const rewards = await ledgerOf(handle.db, "drain_inviter");
    assert.equal(rewards.length, Math.floor(succeeded.length / 5));
    assert.equal(counts.ledger, succeeded.length + Math.floor(succeeded.length / 5));
  } finally {
    await reopened?.close();
  }
  console.log(
    `shutdown: ${succeeded.length} sign-ups completed (${succeeded.filter((r) => r.at > sigtermAt).length} after SIGTERM), ` +
      `${failed.filter((r) => r.status === 503).length} refused with 503, ${failed.filter((r) => r.status === 0).length} not connected`,
  );
});
