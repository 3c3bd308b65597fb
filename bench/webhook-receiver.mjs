// The bench's webhook receiver: answers every delivery 204 at once and keeps, per delivery, the lag
// from the event (its `timestamp`, written in the change's transaction) to the delivery's arrival.
// GET /stats gives what arrived since the last reset; GET /stats?reset=1 starts afresh.
//
// It stands in for an integrator's server, which never runs on the service's cores; here it does,
// so it is a bare HTTP/1.1 responder over `net` (requests with a Content-Length, kept alive) rather
// than node:http: it takes about a third of the CPU per request, and disturbs the measurement less.
// Its CPU is still reported (cpuSeconds), and the bench's figures are read with it running.
//
// GET /burn?ms=N makes it spin N ms of every second (0: stop), to check the bench's estimate of the
// rate with the receiver off the machine (bench/run.ts, --burn).
import { createServer } from "node:net";

let burning;
function burn(msPerSecond) {
  clearInterval(burning);
  if (!(msPerSecond > 0)) return;
  // Every 10 ms, a hundredth of the asked time, so that the load is even over each round.
  burning = setInterval(() => {
    const until = performance.now() + msPerSecond / 100;
    while (performance.now() < until);
  }, 10);
}

let lags = [];
/** CPU the receiver itself used since the last reset: it runs on the same cores as the server. */
let cpuFrom = process.cpuUsage();

const HEAD_END = Buffer.from("\r\n\r\n");
const NO_CONTENT = Buffer.from("HTTP/1.1 204 No Content\r\nconnection: keep-alive\r\n\r\n");

function stats(reset) {
  const sorted = [...lags].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
  const cpu = process.cpuUsage(cpuFrom);
  const body = JSON.stringify({
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? null,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  });
  if (reset) {
    lags = [];
    cpuFrom = process.cpuUsage();
  }
  return Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n${body}`,
  );
}

/** The event's timestamp, as the delivery's body gives it (the service's own JSON: no spaces). */
function lagOf(body, arrived) {
  const match = /"timestamp":"([^"]+)"/.exec(body.toString("utf8"));
  return match ? arrived - Date.parse(match[1]) : -1;
}

const server = createServer((socket) => {
  let pending = Buffer.alloc(0);
  socket.setNoDelay(true);
  socket.on("data", (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const headEnd = pending.indexOf(HEAD_END);
      if (headEnd < 0) return;
      const head = pending.subarray(0, headEnd).toString("latin1");
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const end = headEnd + HEAD_END.length + length;
      if (pending.length < end) return;
      const body = pending.subarray(headEnd + HEAD_END.length, end);
      pending = pending.subarray(end);
      const burnAsked = /^GET \/burn\?ms=(\d+)/.exec(head);
      if (burnAsked) {
        burn(Number(burnAsked[1]));
        socket.write(NO_CONTENT);
      } else if (head.startsWith("GET ")) {
        socket.write(stats(head.includes("reset=1")));
      } else {
        lags.push(lagOf(body, Date.now()));
        socket.write(NO_CONTENT);
      }
    }
  });
  socket.on("error", () => socket.destroy());
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
