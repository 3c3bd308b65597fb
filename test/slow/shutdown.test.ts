// Graceful shutdown of the real server, as one process and as WEB_CONCURRENCY=2 (PostgreSQL only).
// SIGTERM in the middle of a burst of sign-ups and logins over keep-alive and fresh connections:
// every request the server had received, or that came over a connection it had accepted, gets its
// whole response (no reset, no 503), and a new connection once the port is closed is refused.
// SIGTERM after clients gave up on requests still being handled: the database closes only after
// those handlers. Each time the process exits 0 with no error in its log, and the ledger is exact.
import assert from "node:assert/strict";
import { Agent, type ClientRequest, request } from "node:http";
import { after, test } from "node:test";
import { openDatabase } from "../../src/db/connection.js";
import { generousLimits } from "../support/app.js";
import { onPostgres } from "../support/database.js";
import { balanceMismatches, countRows, ledgerOf } from "../support/ledger.js";
import { rememberSetCookies, type ServerProcess, startServerProcess } from "../support/server-process.js";

const servers: ServerProcess[] = [];
after(async () => {
  for (const server of servers) await server.stop();
});

const password = "correct horse battery";

interface Outcome {
  label: string;
  /** 0 when no complete response came. */
  status: number;
  body: string;
  /** Why no complete response came: ECONNRESET, ECONNREFUSED, … */
  error?: string;
  /** The response said `Connection: close`. */
  closes: boolean;
}

interface Sent {
  outcome: Promise<Outcome>;
  /** Resolves once the request (but a held last byte) has been handed to the socket. */
  written: Promise<void>;
  /** Sends a held request's last byte. */
  release(): void;
  /** Closes the request's connection, as a client that gives up. */
  abandon(): void;
}

/** A browser over node:http: on one keep-alive connection of its own, or on a new one per request. */
class Browser {
  readonly cookies = new Map<string, string>();
  private readonly agent: Agent | false;

  constructor(
    private readonly port: number,
    keepAlive: boolean,
  ) {
    this.agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
  }

  /** With `hold`, the body's last byte waits for release(): the server has the request but cannot finish it. */
  send(label: string, method: string, path: string, fields?: Record<string, string>, hold = false): Sent {
    const body = fields ? Buffer.from(new URLSearchParams(fields).toString()) : undefined;
    const headers: Record<string, string> = {
      accept: "application/json",
      "x-csrftoken": this.cookies.get("csrftoken") ?? "",
    };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (body) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers["content-length"] = String(body.length);
    }
    let markWritten = () => {};
    const written = new Promise<void>((resolve) => {
      markWritten = resolve;
    });
    let req: ClientRequest | undefined;
    const outcome = new Promise<Outcome>((resolve) => {
      const failed = (error: NodeJS.ErrnoException) =>
        resolve({ label, status: 0, body: "", error: error.code ?? error.message, closes: false });
      req = request(
        { host: "127.0.0.1", port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("error", failed);
          res.on("end", () => {
            this.remember(res.headers["set-cookie"] ?? []);
            resolve({
              label,
              status: res.statusCode ?? 0,
              body: text,
              closes: res.headers.connection === "close",
            });
          });
        },
      );
      req.on("error", failed);
    });
    const sending = req as ClientRequest;
    if (!body) sending.end(markWritten);
    else if (hold) sending.write(body.subarray(0, -1), markWritten);
    else sending.end(body, markWritten);
    return {
      outcome,
      written,
      release: () => sending.end(body?.subarray(-1)),
      abandon: () => sending.destroy(),
    };
  }

  close(): void {
    if (this.agent) this.agent.destroy();
  }

  private remember(lines: string[]): void {
    rememberSetCookies(this.cookies, lines);
  }
}

async function ok(sent: Sent): Promise<Outcome> {
  const outcome = await sent.outcome;
  assert.equal(outcome.status, 200, `${outcome.label}: ${outcome.status} ${outcome.error ?? outcome.body}`);
  return outcome;
}

/** Requests the server (every worker) has received so far, scrapes of /metrics left out. */
async function requestsReceived(port: number): Promise<number> {
  const metrics = (await ok(new Browser(port, false).send("scrape", "GET", "/metrics"))).body;
  let answered = 0;
  for (const [, labels = "", n] of metrics.matchAll(/^http_requests_total\{([^}]*)\} (\d+)$/gm)) {
    if (!labels.includes('route="/metrics"')) answered += Number(n);
  }
  // In flight: this scrape, and every request received and not yet answered.
  const inFlight = Number(/^http_requests_in_flight (\d+)$/m.exec(metrics)?.[1]);
  return answered + inFlight - 1;
}

/** Waits, scrape after scrape, until the server has received `count` requests. */
async function receivedReaches(port: number, count: number): Promise<void> {
  for (;;) if ((await requestsReceived(port)) >= count) return;
}

function describeOutcomes(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.status === 0 ? (o.error ?? "no response") : String(o.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n}× ${key}`).join(", ");
}

/** The inviter, two members to log in as, and the browsers a scenario opens (closed by close()). */
class Programme {
  readonly members = ["drain_member_0", "drain_member_1"];
  /** Labels of the requests that are sign-ups. */
  readonly signups = new Set<string>();
  private readonly browsers: Browser[] = [];
  private ref = "";

  constructor(readonly port: number) {}

  async setUp(): Promise<void> {
    const inviter = this.browser(false);
    await ok(inviter.send("csrf", "GET", "/login/"));
    const fields = { username: "drain_inviter", password1: password, password2: password };
    await ok(inviter.send("inviter", "POST", "/signup/", fields));
    const me = JSON.parse((await ok(inviter.send("me", "GET", "/"))).body) as { referral_link: string };
    this.ref = new URL(me.referral_link).searchParams.get("ref") as string;
    await Promise.all(
      this.members.map(async (username) => {
        const b = this.browser(false);
        await ok(b.send("csrf", "GET", "/login/"));
        await ok(
          b.send(username, "POST", "/signup/", { username, password1: password, password2: password }),
        );
      }),
    );
  }

  browser(keepAlive: boolean): Browser {
    const b = new Browser(this.port, keepAlive);
    this.browsers.push(b);
    return b;
  }

  /** `n` browsers with their CSRF cookie; a keep-alive one keeps its connection open, idle, from here on. */
  async ready(keepAlive: boolean, n: number): Promise<Browser[]> {
    const group = Array.from({ length: n }, () => this.browser(keepAlive));
    await Promise.all(group.map((b) => ok(b.send("csrf", "GET", "/login/"))));
    return group;
  }

  /** The i-th attempt: even ones sign up through the inviter's link, odd ones log in as a member. */
  attempt(b: Browser, label: string, i: number, hold = false): Sent {
    if (i % 2 === 1) {
      const username = this.members[(i >> 1) % this.members.length] as string;
      return b.send(label, "POST", "/login/", { username, password }, hold);
    }
    this.signups.add(label);
    const fields = { username: `drain_${label}`, password1: password, password2: password };
    return b.send(label, "POST", `/signup/?ref=${this.ref}`, fields, hold);
  }

  close(): void {
    for (const b of this.browsers) b.close();
  }
}

/** Once the server has exited: `signedUp` sign-ups through the link besides the members, and a balanced ledger. */
async function checkLedger(server: ServerProcess, programme: Programme, signedUp?: number): Promise<void> {
  let handle = server.database?.handle;
  let reopened: Awaited<ReturnType<typeof openDatabase>> | undefined;
  if (!handle) {
    reopened = await openDatabase({ dataDir: server.dataDir as string });
    handle = reopened;
  }
  try {
    const counts = await countRows(handle.db);
    // Unknown for requests whose client gave up: whatever was written, all of it.
    const referred = signedUp ?? counts.users - 1 - programme.members.length;
    assert.equal(counts.users, 1 + programme.members.length + referred);
    assert.deepEqual(await balanceMismatches(handle.db), []);
    assert.equal((await ledgerOf(handle.db, "drain_inviter")).length, Math.floor(referred / 5));
    assert.equal(counts.ledger, referred + Math.floor(referred / 5));
  } finally {
    await reopened?.close();
  }
}

/** The process's exit and log: exit 0, no error line, no query on a closed pool, each process stopped cleanly. */
function checkExit(server: ServerProcess, code: number | null, workers: number): void {
  const output = server.output();
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /Cannot use a pool after calling end/);
  assert.doesNotMatch(output, /"level":50/, "no error in the log");
  assert.equal((output.match(/stopped cleanly/g) ?? []).length, workers, output);
}

function tally(output: string): string {
  const pool = (output.match(/Cannot use a pool after calling end/g) ?? []).length;
  return `pool errors ${pool}; error lines ${(output.match(/"level":50/g) ?? []).length}`;
}

async function burstThenSigterm(server: ServerProcess, workers: number): Promise<void> {
  const programme = new Programme(Number(new URL(server.baseUrl).port));
  const { port, members } = programme;
  try {
    await programme.setUp();
    const heldBrowsers = [...(await programme.ready(false, 6)), ...(await programme.ready(true, 4))];
    const runningBrowsers = await programme.ready(true, 6);
    const lateBrowsers = await programme.ready(true, 4);
    const streamBrowsers = await programme.ready(true, 4);
    await Promise.all(
      streamBrowsers.map((b, i) =>
        ok(b.send("login", "POST", "/login/", { username: members[i % members.length] as string, password })),
      ),
    );

    // Requests the server has but cannot finish until the test sends their last byte: the drain
    // cannot end before everything else below has had its answer.
    const received = await requestsReceived(port);
    const held = heldBrowsers.map((b, i) => programme.attempt(b, `held_${i}`, i, true));
    await Promise.all(held.map((h) => h.written));
    await receivedReaches(port, received + held.length);
    // Logged-in browsers asking for the dashboard back to back over their keep-alive connection,
    // across the signal, until an answer closes the connection or a request fails.
    const firstAnswers: Promise<void>[] = [];
    const streams = streamBrowsers.map((b, i) => {
      let answered = () => {};
      firstAnswers.push(
        new Promise((resolve) => {
          answered = resolve;
        }),
      );
      return (async () => {
        const outcomes: Outcome[] = [];
        for (let n = 0; ; n++) {
          const outcome = await b.send(`stream_${i}_${n}`, "GET", "/").outcome;
          outcomes.push(outcome);
          answered();
          if (outcome.status !== 200 || outcome.closes) return outcomes;
        }
      })();
    });
    await Promise.all(firstAnswers);
    // Whole requests over open keep-alive connections, the signal right behind them.
    const running = runningBrowsers.map((b, i) => programme.attempt(b, `running_${i}`, i));
    await Promise.all(running.map((r) => r.written));
    server.child.kill("SIGTERM");

    // Keep-alive connections idle since before the signal, used once every process is draining and
    // the port is closed; and a new connection, which must be refused.
    await server.waitForOutput(/stopped accepting connections/);
    await server.waitForOutput(/shutting down: finishing in-flight requests/, workers);
    const late = lateBrowsers.map((b, i) => programme.attempt(b, `late_${i}`, i));
    const newConnection = programme.browser(false).send("new connection", "GET", "/login/");
    const runningOutcomes = await Promise.all(running.map((s) => s.outcome));
    const lateOutcomes = await Promise.all(late.map((s) => s.outcome));
    const streamOutcomes = (await Promise.all(streams)).flat();
    const refused = await newConnection.outcome;
    for (const h of held) h.release();
    const heldOutcomes = await Promise.all(held.map((h) => h.outcome));
    const code = await server.closed;
    const output = server.output();

    const all = [...heldOutcomes, ...runningOutcomes, ...lateOutcomes, ...streamOutcomes];
    console.log(
      `shutdown (${workers} process${workers > 1 ? "es" : ""}): held ${describeOutcomes(heldOutcomes)}; ` +
        `running ${describeOutcomes(runningOutcomes)}; late ${describeOutcomes(lateOutcomes)}; ` +
        `streams ${describeOutcomes(streamOutcomes)}; new connection ${describeOutcomes([refused])}; ` +
        `${tally(output)}; exit ${code}`,
    );
    for (const o of all) assert.equal(o.status, 200, `${o.label}: ${o.status} ${o.error ?? o.body}`);
    // Answered once the drain had begun: the connection takes no further request.
    for (const o of [...heldOutcomes, ...lateOutcomes]) assert.ok(o.closes, `${o.label} kept its connection`);
    assert.equal(
      refused.error,
      "ECONNREFUSED",
      `a new connection after the listener closed: ${JSON.stringify(refused)}`,
    );
    checkExit(server, code, workers);
    await checkLedger(
      server,
      programme,
      all.filter((o) => programme.signups.has(o.label) && o.status === 200).length,
    );
  } finally {
    programme.close();
  }
}

/**
 * Sign-ups and logins whose clients give up once the server has them, the signal right behind:
 * their handlers run on with no connection left, and the database must stay open until they end.
 */
async function abandonThenSigterm(
  server: ServerProcess,
  workers: number,
  sigterm: () => void,
): Promise<void> {
  const programme = new Programme(Number(new URL(server.baseUrl).port));
  try {
    await programme.setUp();
    const group = await programme.ready(false, 6);
    const received = await requestsReceived(programme.port);
    const sent = group.map((b, i) => programme.attempt(b, `gone_${i}`, i));
    await Promise.all(sent.map((s) => s.written));
    await receivedReaches(programme.port, received + sent.length);
    for (const s of sent) s.abandon();
    sigterm();
    const code = await server.closed;
    console.log(
      `abandoned (${workers} process${workers > 1 ? "es" : ""}): ${tally(server.output())}; exit ${code}`,
    );
    checkExit(server, code, workers);
    await checkLedger(server, programme);
  } finally {
    programme.close();
  }
}

const env = { ...generousLimits, LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_SECONDS: "60" };

test("SIGTERM during a burst of sign-ups and logins: one process answers every request it accepted, exits 0", {
  timeout: 180_000,
}, async () => {
  const server = await startServerProcess(env);
  servers.push(server);
  await burstThenSigterm(server, 1);
});

test("SIGTERM during a burst with WEB_CONCURRENCY=2: every worker answers every request it accepted, exit 0", {
  timeout: 180_000,
  skip: onPostgres ? false : "several workers need PostgreSQL (set DATABASE_URL)",
}, async () => {
  const server = await startServerProcess({ ...env, WEB_CONCURRENCY: "2" });
  servers.push(server);
  await server.waitForOutput(/referral service ready/, 2);
  await burstThenSigterm(server, 2);
});

test("SIGTERM after clients gave up on their requests: one process closes the database only after their handlers", {
  timeout: 180_000,
}, async () => {
  const server = await startServerProcess(env);
  servers.push(server);
  await abandonThenSigterm(server, 1, () => server.child.kill("SIGTERM"));
});

// The signal goes to the whole process group, as Ctrl-C or some supervisors send it: each worker
// hears it twice, from the primary and by itself.
test("SIGTERM to the process group after clients gave up, WEB_CONCURRENCY=2: each worker closes the database after their handlers", {
  timeout: 180_000,
  skip: onPostgres ? false : "several workers need PostgreSQL (set DATABASE_URL)",
}, async () => {
  const server = await startServerProcess({ ...env, WEB_CONCURRENCY: "2" }, { ownProcessGroup: true });
  servers.push(server);
  await server.waitForOutput(/referral service ready/, 2);
  await abandonThenSigterm(server, 2, () => process.kill(-(server.child.pid as number), "SIGTERM"));
});
