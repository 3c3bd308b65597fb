// The runtime's limit: a bare node:http server answering every request with the dashboard's JSON body.
import { createServer } from "node:http";

const body = Buffer.from(process.env.BENCH_BODY ?? "{}");
const server = createServer((_request, response) => {
  response.writeHead(200, {
    "content-type": "application/json; charset=utf-8",
    "content-length": body.length,
  });
  response.end(body);
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
