// One delivery attempt against a real receiver on 127.0.0.1.
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { deliveryTarget, postWebhook } from "../../src/webhooks/http-post.js";
import type { TargetPolicy } from "../../src/webhooks/target-check.js";

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  received: Received[];
  /** What the receiver does once it has read a request: answers by default with 200 "thanks". */
  answer: (response: http.ServerResponse) => void;
  server: http.Server;
}

async function startReceiver(): Promise<Receiver> {
  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    receiver.received.push({ method: request.method, url: request.url, headers: request.headers, body });
    receiver.answer(response);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: [],
    answer: (response) => response.end("thanks"),
    server,
  };
  return receiver;
}

const local: TargetPolicy = { requireHttps: false, allowedAddresses: ["127.0.0.1"] };
const body = JSON.stringify({
  id: "evt_1",
  type: "test",
  timestamp: "2026-01-01T00:00:00Z",
  data: { é: "ü" },
});
const signature = {
  "webhook-id": "evt_1",
  "webhook-timestamp": "1767225600",
  "webhook-signature": "v1,abc=",
};

let receiver: Receiver;
let other: Receiver;
before(async () => {
  [receiver, other] = await Promise.all([startReceiver(), startReceiver()]);
});
after(async () => {
  for (const { server } of [receiver, other]) {
    server.closeAllConnections();
    server.close();
  }
});

/** One attempt at the receiver with the test's body and headers, 5 s to answer. */
function postToReceiver(extra: Partial<Parameters<typeof postWebhook>[0]> = {}) {
  return postWebhook({
    url: receiver.url,
    headers: signature,
    body,
    timeoutMs: 5000,
    policy: local,
    ...extra,
  });
}

function reset(answer: Receiver["answer"]) {
  receiver.received = [];
  other.received = [];
  receiver.answer = answer;
}

test("a 2xx answer is a delivery: the receiver sees the exact body and the headers", async () => {
  reset((response) => response.writeHead(202).end("accepted, ça va"));
  const outcome = await postWebhook({
    url: `${receiver.url}/hooks/in?x=1`,
    headers: signature,
    body,
    timeoutMs: 5000,
    policy: local,
  });
  assert.deepEqual(
    { ...outcome, durationMs: 0 },
    {
      status: 202,
      responseExcerpt: "accepted, ça va",
      error: null,
      durationMs: 0,
      ok: true,
    },
  );
  assert.ok(outcome.durationMs >= 0);
  assert.equal(receiver.received.length, 1);
  const [got] = receiver.received as [Received];
  assert.equal(got.method, "POST");
  assert.equal(got.url, "/hooks/in?x=1");
  assert.equal(got.body, body);
  assert.equal(got.headers["content-type"], "application/json");
  assert.equal(got.headers["content-length"], String(Buffer.byteLength(body)));
  assert.equal(got.headers["user-agent"], "referral-service-webhooks/1.0");
  assert.equal(got.headers["webhook-id"], "evt_1");
  assert.equal(got.headers["webhook-timestamp"], "1767225600");
  assert.equal(got.headers["webhook-signature"], "v1,abc=");
});

test("the user agent can be named", async () => {
  reset((response) => response.end());
  const outcome = await postToReceiver({ userAgent: "test-agent/2" });
  assert.equal(outcome.ok, true);
  assert.equal(outcome.responseExcerpt, "");
  assert.equal(receiver.received[0]?.headers["user-agent"], "test-agent/2");
});

test("a 500 is not a delivery, and only the first 1 KiB of its answer is kept, whole characters only", async () => {
  // One byte, then two-byte characters: byte 1024 falls in the middle of one.
  const answer = `x${"é".repeat(5 * 1024)}`;
  reset((response) => response.writeHead(500, { "content-type": "text/plain" }).end(answer));
  const outcome = await postToReceiver();
  assert.equal(outcome.status, 500);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error, null);
  assert.ok(Buffer.byteLength(outcome.responseExcerpt) <= 1024);
  assert.ok(answer.startsWith(outcome.responseExcerpt));
  assert.equal(outcome.responseExcerpt, `x${"é".repeat(511)}`);
});

test("a NUL byte in the answer is kept as U+FFFD: PostgreSQL's text cannot hold it", async () => {
  reset((response) => response.writeHead(200, { "content-type": "text/plain" }).end("ok\u0000done"));
  const outcome = await postToReceiver();
  assert.equal(outcome.ok, true);
  assert.equal(outcome.responseExcerpt, "ok\uFFFDdone");
});

test("an endless answer is cut after 1 KiB: the connection is closed, not read to its end", {
  timeout: 20_000,
}, async (t) => {
  const chunk = Buffer.alloc(16 * 1024, "a");
  const closed = new Promise<void>((resolve) => {
    reset((response) => {
      response.on("close", resolve);
      response.writeHead(200);
      const more = () => {
        while (!response.destroyed && response.write(chunk)) {}
      };
      response.on("drain", more);
      more();
    });
  });
  t.after(() => receiver.server.closeAllConnections());
  // Long enough that only the cut, not the timeout, can end this test.
  const outcome = await postToReceiver({ timeoutMs: 120_000 });
  assert.equal(outcome.ok, true);
  assert.equal(outcome.responseExcerpt, "a".repeat(1024));
  await closed;
});

test("a redirect is not followed and is not a delivery", async () => {
  reset((response) => response.writeHead(302, { location: `${other.url}/elsewhere` }).end());
  const outcome = await postToReceiver();
  assert.equal(outcome.status, 302);
  assert.equal(outcome.ok, false);
  assert.equal(receiver.received.length, 1);
  assert.equal(other.received.length, 0, "the redirect's target received nothing");
});

test("a receiver that never answers: the attempt ends at its timeout, with no status", async () => {
  reset(() => {});
  const outcome = await postToReceiver({ timeoutMs: 300 });
  assert.equal(outcome.status, null);
  assert.equal(outcome.ok, false);
  assert.match(outcome.error ?? "", /No answer within 300 ms \(timeout\)/);
  assert.equal(receiver.received.length, 1);
});

test("an answer whose body stalls keeps its status: the endpoint has answered", async () => {
  reset((response) => {
    response.writeHead(200);
    response.write("part");
  });
  const outcome = await postToReceiver({ timeoutMs: 300 });
  assert.deepEqual(
    { status: outcome.status, ok: outcome.ok, error: outcome.error, excerpt: outcome.responseExcerpt },
    { status: 200, ok: true, error: null, excerpt: "part" },
  );
});

test("a target checked once serves a job's deliveries: its path, query and IPv6 literal host kept", async () => {
  reset((response) => response.end("ok"));
  const port = new URL(receiver.url).port;
  const target = deliveryTarget(`http://[::ffff:127.0.0.1]:${port}/hooks/in?v=2`, local);
  const outcomes = await Promise.all([1, 2].map(() => postToReceiver({ url: target })));
  assert.deepEqual(
    outcomes.map((o) => [o.ok, o.status, o.responseExcerpt]),
    [
      [true, 200, "ok"],
      [true, 200, "ok"],
    ],
  );
  assert.deepEqual(
    receiver.received.map((r) => [r.method, r.url, r.body]),
    [
      ["POST", "/hooks/in?v=2", body],
      ["POST", "/hooks/in?v=2", body],
    ],
  );
  // A refused address stays refused, made into a target or not.
  const refused = deliveryTarget(`http://[::ffff:127.0.0.1]:${port}/`, { ...local, allowedAddresses: [] });
  const outcome = await postToReceiver({ url: refused });
  assert.equal(outcome.status, null);
  assert.match(outcome.error ?? "", /private, local or reserved/);
  assert.equal(receiver.received.length, 2);
});

test("a refused target is not connected to: 127.0.0.1 without it being allowed, in any spelling", async () => {
  reset((response) => response.end());
  const port = new URL(receiver.url).port;
  const spellings = [receiver.url, `http://[::ffff:127.0.0.1]:${port}/`, `http://2130706433:${port}/`];
  for (const allowedAddresses of [[], ["10.0.0.0/8"]]) {
    for (const url of spellings) {
      const policy = { requireHttps: false, allowedAddresses };
      const outcome = await postWebhook({ url, headers: signature, body, timeoutMs: 5000, policy });
      assert.equal(outcome.status, null, url);
      assert.equal(outcome.ok, false, url);
      assert.match(outcome.error ?? "", /a private, local or reserved network address/, url);
    }
  }
  assert.equal(receiver.received.length, 0);
  // The same spellings once 127.0.0.1 is allowed: they did reach the receiver, so the refusal above
  // was the check's doing.
  for (const url of spellings) {
    assert.equal(
      (await postWebhook({ url, headers: signature, body, timeoutMs: 5000, policy: local })).ok,
      true,
      url,
    );
  }
  assert.equal(receiver.received.length, 3);
});

test("a name that resolves to loopback is refused before connecting", async () => {
  reset((response) => response.end());
  const port = new URL(receiver.url).port;
  const outcome = await postWebhook({
    url: `http://localhost:${port}/`,
    headers: signature,
    body,
    timeoutMs: 5000,
    policy: { requireHttps: false, allowedAddresses: [] },
  });
  assert.equal(outcome.status, null);
  assert.match(
    outcome.error ?? "",
    /^localhost resolves to (127\.0\.0\.1|::1), a private, local or reserved/,
  );
  assert.equal(receiver.received.length, 0);
});

test("a name that resolves to an allowed address is delivered to", async () => {
  reset((response) => response.end("ok"));
  const port = new URL(receiver.url).port;
  const outcome = await postWebhook({
    url: `http://localhost:${port}/`,
    headers: signature,
    body,
    timeoutMs: 5000,
    policy: { requireHttps: false, allowedAddresses: ["127.0.0.1", "::1"] },
  });
  assert.equal(outcome.error, null);
  assert.equal(outcome.ok, true);
  assert.equal(receiver.received[0]?.body, body);
});

test("http:// is refused when https is required, and a malformed address is an error, not a throw", async () => {
  reset((response) => response.end());
  const https = await postWebhook({
    url: receiver.url,
    headers: signature,
    body,
    timeoutMs: 5000,
    policy: { requireHttps: true, allowedAddresses: ["127.0.0.1"] },
  });
  assert.match(https.error ?? "", /must use https/);
  const malformed = await postWebhook({
    url: "not a url",
    headers: signature,
    body,
    timeoutMs: 5000,
    policy: local,
  });
  assert.match(malformed.error ?? "", /full web address/);
  const badHeader = await postWebhook({
    url: receiver.url,
    headers: { ...signature, "webhook-id": "evt\r\nx: y" },
    body,
    timeoutMs: 5000,
    policy: local,
  });
  assert.equal(badHeader.status, null);
  assert.ok(badHeader.error);
  assert.equal(receiver.received.length, 0);
});

test("a closed port is an error with the system's reason", async () => {
  const closed = http.createServer();
  closed.listen(0, "127.0.0.1");
  await once(closed, "listening");
  const { port } = closed.address() as AddressInfo;
  closed.close();
  await once(closed, "close");
  const outcome = await postWebhook({
    url: `http://127.0.0.1:${port}/`,
    headers: signature,
    body,
    timeoutMs: 5000,
    policy: local,
  });
  assert.equal(outcome.status, null);
  assert.match(outcome.error ?? "", /ECONNREFUSED/);
});
