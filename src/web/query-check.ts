// Query strings get the checks bodies get (body-parsers.ts): their percent-escapes must decode to
// valid UTF-8 without NUL, or the request is refused with 400 before any route reads them. Fastify's
// parser decodes %00 to NUL, which PostgreSQL refuses in text (a 500), and passes an undecodable
// value on as its raw escapes, a silent repair the body parsers do not make either.
import type { FastifyInstance } from "fastify";
import { BadRequest } from "../errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const hexDigit = /^[0-9A-Fa-f]{2}$/;
const invalidUtf8 = "The query string is not valid UTF-8 once its percent-escapes are decoded.";

/**
 * Why the query string (what follows "?") must be refused, or null when it may be read. A referral
 * token (`ref`) that cannot be decoded is only a malformed token, which the sign-up ignores as the
 * earlier version did: it never fails the request.
 */
export function queryStringProblem(query: string): string | null {
  for (const pair of query.split("&")) {
    if (/^ref(=|$)/.test(pair)) continue;
    const problem = pairProblem(pair);
    if (problem) return problem;
  }
  return null;
}

function pairProblem(query: string): string | null {
  // Plain ASCII without escapes, the usual case, has nothing to decode.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what is looked for
  if (!/[%\u0000\u0080-\uffff]/.test(query)) return null;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let k = 0; k < query.length; k++) {
    const code = query.charCodeAt(k);
    const hex = query.slice(k + 1, k + 3);
    if (code === 0x25 && hexDigit.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      k += 2;
    } else if (code < 0x80) {
      // A "%" without two hex digits after it is a literal "%", as Django's parser takes it.
      bytes.push(code);
    } else {
      const char = String.fromCodePoint(query.codePointAt(k) as number);
      if (char.length === 1 && code >= 0xd800 && code <= 0xdfff) return invalidUtf8;
      bytes.push(...encoder.encode(char));
      k += char.length - 1;
    }
  }
  let text: string;
  try {
    text = utf8.decode(new Uint8Array(bytes));
  } catch {
    return invalidUtf8;
  }
  return text.includes("\u0000") ? "The query string contains characters that are not allowed (NUL)." : null;
}

export function registerQueryCheck(app: FastifyInstance): void {
  // A callback hook: on every request, an async one costs a promise for nothing.
  app.addHook("onRequest", (request, _reply, done) => {
    const start = request.url.indexOf("?");
    const problem = start === -1 ? null : queryStringProblem(request.url.slice(start + 1));
    done(problem ? new BadRequest("bad_query", problem) : undefined);
  });
}
