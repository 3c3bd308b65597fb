// Telling a database outage apart from a bug, and describing database errors without their
// parameters (drizzle puts every bound value, password hashes included, in its error messages).

/** Socket errors meaning the server cannot be reached or went away. */
const socketCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOENT", // a Unix socket (Cloud SQL's /cloudsql/…) that is not there
]);

/** SQLSTATEs of an unavailable server: admin or crash shutdown, starting up, too many connections. */
const unavailableStates = new Set(["57P01", "57P02", "57P03", "53300", "53400"]);

/** node-postgres reports lost connections and pool time-outs by message only. */
const unavailableMessages = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /client has encountered a connection error/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /Connection terminated unexpectedly/i,
];

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current && chain.length < 6 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** True when the error (or one of its causes) says the database is unreachable, not that a query is wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of causes(error)) {
    if (typeof e !== "object" || e === null) continue;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      if (socketCodes.has(code) || unavailableStates.has(code) || code.startsWith("08")) return true;
    }
    // AggregateError (several addresses refused, e.g. localhost on ::1 and 127.0.0.1).
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some((x) => isDatabaseUnavailable(x))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && unavailableMessages.some((p) => p.test(message))) return true;
  }
  return false;
}

export interface ErrorSummary {
  type: string;
  message: string;
  code?: string;
  /** The SQL text of a failed query: parameterised, so it holds no values. */
  query?: string;
  stack?: string;
}

/**
 * What is safe to log about an error: its type, code and the innermost message, never the bound
 * parameters of a query (drizzle's message lists them) and never a connection string.
 */
export function summarizeError(error: unknown): ErrorSummary {
  const chain = causes(error);
  const outer = chain[0] as { name?: string; query?: unknown; stack?: string } | undefined;
  const innermost = chain[chain.length - 1] as
    | { message?: unknown; code?: unknown; name?: string }
    | undefined;
  const hasParams = outer && typeof outer === "object" && "params" in outer;
  let message =
    typeof innermost?.message === "string" ? innermost.message : String(innermost ?? "unknown error");
  if (hasParams && chain.length === 1) message = "Failed query (parameters withheld)";
  message = message.replace(/postgres(ql)?:\/\/[^\s'"]+/gi, "postgres://…");
  const summary: ErrorSummary = {
    type: typeof outer?.name === "string" ? outer.name : typeof error,
    message: message.split("\n")[0]?.slice(0, 500) ?? "",
  };
  if (typeof innermost?.code === "string") summary.code = innermost.code;
  if (typeof outer?.query === "string") summary.query = outer.query.slice(0, 300);
  // A stack starts with the message; drizzle's message holds the parameters, so skip that part.
  if (!hasParams && typeof outer?.stack === "string") {
    summary.stack = outer.stack.replace(/postgres(ql)?:\/\/[^\s'"]+/gi, "postgres://…");
  }
  return summary;
}

/** True when the error (or one of its causes) is a unique violation of the named constraint or index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return causes(error).some((e) => {
    if (typeof e !== "object" || e === null) return false;
    const { code, constraint: violated } = e as { code?: unknown; constraint?: unknown };
    return code === "23505" && violated === constraint;
  });
}
