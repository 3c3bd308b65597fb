// node-postgres over the embedded PGlite: a pool whose clients speak PostgreSQL's wire protocol to
// PGlite in this process instead of to a server over a socket. The service then reaches PGlite
// exactly as it reaches PostgreSQL (src/db/connection.ts): the same driver, the same types, the same
// named prepared statements, which PGlite's own query() cannot keep (it parses, describes and plans
// every statement on every call).
//
// PGlite ships an adapter of its own (@electric-sql/pglite/node-postgres), but every client of a
// pool shares its one connection object there: a client the pool drops (node-postgres drops the
// client of every pool.query that fails, a unique violation included) ends that object, and the
// next client hears the end and fails. Here each client has a connection of its own, and all of one
// PGlite's connections send their messages in one queue, in the order they were sent: a dropped
// client's last messages (the Sync after an error) reach PGlite before the next client's first.
import { EventEmitter } from "node:events";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { serialize } from "pg-protocol";

/**
 * What every connection to one PGlite shares, as the one session it is: the queue of messages, and
 * the statements prepared in it (a new client must not prepare again what a dropped one did).
 */
interface Session {
  queue: Promise<void>;
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
}

const sessions = new WeakMap<PGlite, Session>();

function sessionOf(pglite: PGlite): Session {
  let session = sessions.get(pglite);
  if (!session) {
    session = { queue: Promise.resolve(), parsedStatements: {}, submittedNamedStatements: {} };
    sessions.set(pglite, session);
  }
  return session;
}

/** A backend message as PGlite parses it: the same shapes node-postgres's own parser gives. */
interface BackendMessage {
  name: string;
}

/**
 * What node-postgres's Client asks of its connection (pg/lib/connection.js), over PGlite: a
 * statement's messages are handed to PGlite together, and what PGlite answers is emitted by name,
 * as the socket's parser would. There is no startup or authentication: PGlite is ready once loaded.
 */
class PgliteConnection extends EventEmitter {
  /** Read and written by node-postgres's Client: the statements the session has prepared. */
  readonly parsedStatements: Record<string, string>;
  readonly submittedNamedStatements: Record<string, string>;
  _connecting = false;
  readonly stream = { destroy: () => this.end() };
  readonly #session: Session;
  #ended = false;
  /** The messages sent since the last Sync or Flush (#send). */
  #batch: Uint8Array[] = [];

  constructor(private readonly pglite: PGlite) {
    super();
    this.#session = sessionOf(pglite);
    this.parsedStatements = this.#session.parsedStatements;
    this.submittedNamedStatements = this.#session.submittedNamedStatements;
  }

  connect(): void {
    this._connecting = true;
    this.pglite.waitReady.then(
      () => this.emit("readyForQuery", { name: "readyForQuery", status: "I" }),
      (error: unknown) => this.emit("error", error),
    );
  }

  /**
   * Holds a message until the end of its batch: node-postgres sends a statement as Parse, Bind,
   * Describe, Execute and then Sync (or Flush), and PGlite runs a buffer of several messages in one
   * call as it runs one. Each call has a cost of its own besides the messages' (PGlite's buffers
   * and a sync of its file system), so a statement is one call, not five (bench/README.md).
   */
  #send(message: Uint8Array, endsBatch = false): void {
    if (this.#ended) return;
    this.#batch.push(message);
    if (endsBatch) this.#sendBatch();
  }

  #sendBatch(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    const message = batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch);
    this.#enqueue(async () => {
      const answers = (await this.pglite.execProtocolStream(message, {
        throwOnError: false,
      })) as BackendMessage[];
      for (const answer of answers) {
        this.emit(answer.name === "error" ? "errorMessage" : answer.name, answer);
      }
    });
  }

  /** Runs `step` after everything sent to this PGlite before it; its failure is the connection's. */
  #enqueue(step: () => Promise<void>): void {
    this.#session.queue = this.#session.queue.then(step).catch((error: unknown) => {
      if (this.listenerCount("error") > 0) this.emit("error", error);
    });
  }

  query(text: string): void {
    this.#send(serialize.query(text), true);
  }
  parse(query: Parameters<typeof serialize.parse>[0]): void {
    this.#send(serialize.parse(query));
  }
  bind(config: Parameters<typeof serialize.bind>[0]): void {
    this.#send(serialize.bind(config));
  }
  execute(config: Parameters<typeof serialize.execute>[0]): void {
    this.#send(serialize.execute(config));
  }
  describe(message: Parameters<typeof serialize.describe>[0]): void {
    this.#send(serialize.describe(message));
  }
  close(message: Parameters<typeof serialize.close>[0]): void {
    this.#send(serialize.close(message));
  }
  flush(): void {
    this.#send(serialize.flush(), true);
  }
  sync(): void {
    this.#send(serialize.sync(), true);
  }
  sendCopyFromChunk(chunk: Buffer): void {
    this.#send(serialize.copyData(chunk), true);
  }
  endCopyFrom(): void {
    this.#send(serialize.copyDone(), true);
  }
  sendCopyFail(message: string): void {
    this.#send(serialize.copyFail(message), true);
  }

  /** Heard once what was sent before has been answered; the connection is then done with. */
  end(): void {
    if (this.#ended) return;
    this.#sendBatch();
    this.#ended = true;
    this.#enqueue(async () => {
      this.emit("end");
      this.removeAllListeners();
    });
  }

  // A socket's settings and handshake, which a connection within the process has no use for.
  requestSsl(): void {}
  startup(): void {}
  password(): void {}
  cancel(): void {}
  ref(): void {}
  unref(): void {}
}

/**
 * A node-postgres pool over `pglite`: one client at a time (PGlite is one session), never closed
 * for idleness. A transaction holds the client, so other queries wait for it, as they would for
 * PGlite's own transaction().
 */
export function pglitePool(pglite: PGlite): pg.Pool {
  class PgliteClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connection: new PgliteConnection(pglite) } as pg.ClientConfig);
    }
  }
  const pool = new pg.Pool({ Client: PgliteClient, max: 1, idleTimeoutMillis: 0 });
  // A failure reaches the query that was running; an idle client's has no one else to tell.
  pool.on("error", () => {});
  return pool;
}
