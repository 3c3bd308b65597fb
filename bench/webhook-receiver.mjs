// The bench's webhook receiver: answers every delivery 204 at once and keeps, per delivery, the lag
// from the event (its `timestamp`, written in the change's transaction) to the delivery's arrival.
// GET /stats gives what arrived since the last reset; GET /stats?reset=1 starts afresh.
import { createServer } from "node:http";

let lags = [];
/** CPU the receiver itself used since the last reset: it runs on the same cores as the server. */
let cpuFrom = process.cpuUsage();
const server = createServer((request, response) => {
  if (request.method === "GET") {
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
    if (request.url?.includes("reset=1")) {
      lags = [];
      cpuFrom = process.cpuUsage();
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(body);
    return;
  }
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const arrived = Date.now();
    try {
      const event = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      lags.push(arrived - Date.parse(event.timestamp));
    } catch {
      lags.push(-1);
    }
    response.writeHead(204);
    response.end();
  });
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
