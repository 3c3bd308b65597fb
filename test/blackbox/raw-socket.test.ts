// Hostile bytes straight onto the socket of the real server: malformed HTTP gets a 4xx, nothing gets a
// 5xx, and the server keeps serving afterwards.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

let server: ServerProcess;
before(async () => {
  server = await startServerProcess();
});
after(async () => server.stop());

/**
 * Sends the bytes and reads the answer. With `halfClose` the socket's sending side is closed at
 * once, as a client that has said all it will say; Node's server then answers only what is ready
 * before it notices, so a request whose page needs the database is sent without it.
 */
function raw(bytes: Buffer, halfClose = true): Promise<string> {
  const { port } = new URL(server.baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => {
      answer += d.toString("latin1");
    });
    socket.on("end", () => resolve(answer));
    socket.on("close", () => resolve(answer));
    // The server may answer and close before all our bytes are written: keep what it said.
    socket.on("error", () => resolve(answer));
    socket.setTimeout(5000, () => {
      socket.destroy();
      resolve(answer);
    });
    if (halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

const cases: [string, Buffer][] = [
  [
    "invalid UTF-8 in the path",
    Buffer.concat([
      Buffer.from("GET /signup/"),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ]),
  ],
  [
    "a control character in a header",
    Buffer.from("GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0001b\r\nConnection: close\r\n\r\n"),
  ],
  [
    "a header without a colon",
    Buffer.from("GET / HTTP/1.1\r\nHost: x\r\nnonsense\r\nConnection: close\r\n\r\n"),
  ],
  [
    "64 KiB of headers",
    Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(65_536)}\r\nConnection: close\r\n\r\n`),
  ],
  [
    "both Content-Length and Transfer-Encoding",
    Buffer.from(
      "POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
    ),
  ],
  [
    "a body longer than its Content-Length says, then garbage",
    Buffer.from(
      "POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}GARBAGE\r\n\r\n",
    ),
  ],
  [
    "a form body of invalid UTF-8",
    Buffer.concat([
      Buffer.from(
        "POST /signup/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nCookie: csrftoken=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\nX-CSRFToken: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\nContent-Length: 12\r\nConnection: close\r\n\r\nusername=",
      ),
      Buffer.from([0xc3, 0x28, 0xff]),
    ]),
  ],
  [
    "a chunked body over the size limit",
    Buffer.from(
      `POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${`10000\r\n${"a".repeat(65_536)}\r\n`.repeat(2)}0\r\n\r\n`,
    ),
  ],
  ["a bare LF request", Buffer.from("GET / HTTP/1.1\nHost: x\n\n")],
];

for (const [name, bytes] of cases) {
  test(`${name}: a 4xx, never a 5xx`, async () => {
    const answer = await raw(bytes);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
    assert.ok(status >= 400 && status < 500, `${name}: ${answer.slice(0, 120) || "(no answer)"}`);
  });
}

test("invalid UTF-8 in a referral token is an ignored token: the sign-up form, not an error", async () => {
  const answer = await raw(
    Buffer.from("GET /signup/?ref=%FF%FE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    false,
  );
  assert.match(answer, /^HTTP\/1\.1 200/);
  assert.match(answer, /action="\/signup\/"/);
});

test("invalid UTF-8 elsewhere in the query is refused with 400 bad_query, as it is in a body", async () => {
  const answer = await raw(
    Buffer.from(
      "GET /login/?next=%FF%FE HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
    ),
  );
  assert.match(answer, /^HTTP\/1\.1 400/);
  assert.match(answer, /"error":"bad_query"/);
});

test("the server still answers afterwards", async () => {
  const response = await fetch(`${server.baseUrl}/login/`, { headers: { accept: "application/json" } });
  assert.equal(response.status, 200);
  assert.match(server.output(), /^(?![\s\S]*"level":50)/, "no error was logged");
});

test("and it shuts down cleanly: no request is left counted as in flight", async () => {
  // The request before "GARBAGE" was answered, and its socket destroyed as the answer went out.
  // A shutdown that waits out SHUTDOWN_TIMEOUT_SECONDS for a request exits 1.
  server.child.kill("SIGTERM");
  assert.equal(await server.closed, 0, server.output());
  assert.doesNotMatch(server.output(), /outlived SHUTDOWN_TIMEOUT_SECONDS|shutdown did not complete/);
});
