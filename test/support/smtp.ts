// A real SMTP server for the tests (smtp-server), keeping every message it receives parsed
// (mailparser), and able to refuse or stall on purpose.
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  to: string;
  parsed: ParsedMail;
  /** The header's value as sent, for headers mailparser turns into objects. */
  header(name: string): string | undefined;
}

export interface TestSmtpServer {
  url: string;
  received: ReceivedMail[];
  /** Resolves with the first received message (now or later) that matches. */
  waitFor(match: (mail: ReceivedMail) => boolean): Promise<ReceivedMail>;
  /** How the server answers DATA from now on: accept, refuse (451), or hold it until released. */
  setMode(mode: "accept" | "refuse" | "stall"): void;
  /** Resolves when a message has reached DATA while the server stalls. */
  stalled(): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const waiters: { match: (mail: ReceivedMail) => boolean; resolve: (mail: ReceivedMail) => void }[] = [];
  let mode: "accept" | "refuse" | "stall" = "accept";
  let stallWaiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      if (mode === "stall") {
        // Read nothing and never answer: the sender waits until its socket or its process ends.
        for (const wake of stallWaiters.splice(0)) wake();
        stream.on("error", () => {});
        return;
      }
      simpleParser(stream)
        .then((parsed) => {
          if (mode === "refuse") {
            callback(Object.assign(new Error("Try again later"), { responseCode: 451 }));
            return;
          }
          const to = session.envelope.rcptTo.map((r) => r.address).join(",");
          const mail: ReceivedMail = {
            to,
            parsed,
            header: (name) => {
              const line = parsed.headerLines.find((h) => h.key === name.toLowerCase());
              return line ? line.line.slice(line.line.indexOf(":") + 1).trim() : undefined;
            },
          };
          received.push(mail);
          for (const waiter of [...waiters]) {
            if (waiter.match(mail)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(mail);
            }
          }
          callback();
        })
        .catch(callback);
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    waitFor(match) {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    setMode(next) {
      mode = next;
    },
    stalled() {
      return new Promise((resolve) => stallWaiters.push(resolve));
    },
    close() {
      stallWaiters = [];
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
