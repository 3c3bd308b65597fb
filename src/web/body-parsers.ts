// Strict body parsers: a body that is not valid UTF-8, not well-formed, or that carries NUL
// characters is refused with a clear 400 instead of being silently "repaired".
import type { FastifyInstance } from "fastify";

export class BadBody extends Error {
  readonly statusCode = 400;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BadBody";
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
// NUL cannot be stored in PostgreSQL text; lone surrogates cannot be encoded as UTF-8.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing NUL is the point
const forbiddenCharacters = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new BadBody("invalid_encoding", "The request body is not valid UTF-8.");
  }
}

function checkText(value: string): string {
  if (forbiddenCharacters.test(value)) {
    throw new BadBody(
      "invalid_characters",
      "The request contains characters that are not allowed (NUL or lone surrogates).",
    );
  }
  return value;
}

/**
 * Form fields that a form may repeat, such as a checkbox per row: each becomes a list of every value
 * given, in order (a list of one when given once). Every other field is a string, the last value.
 */
export const listFormFields: ReadonlySet<string> = new Set(["ids"]);

export type FormFields = Record<string, string | string[]>;

/**
 * application/x-www-form-urlencoded, with percent-escapes that must decode to valid UTF-8. Last value
 * wins, except for the fields in listFormFields, which keep every value.
 */
export function parseFormBody(body: Buffer): FormFields {
  const text = decodeUtf8(body);
  const fields: FormFields = Object.create(null);
  if (text === "") return fields;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? "" : pair.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, " "));
      value = decodeURIComponent(rawValue.replace(/\+/g, " "));
    } catch {
      throw new BadBody("invalid_form", "The form body has a malformed percent-escape or invalid UTF-8.");
    }
    checkText(key);
    checkText(value);
    if (listFormFields.has(key)) {
      const list = fields[key];
      if (Array.isArray(list)) list.push(value);
      else fields[key] = [value];
    } else {
      fields[key] = value;
    }
  }
  return fields;
}

/** application/json: must be a JSON object; nested values are kept but only strings count as field values. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  const text = decodeUtf8(body);
  if (text.trim() === "") return Object.create(null);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadBody("invalid_json", "The request body is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BadBody("invalid_json", 'The JSON body must be an object, such as {"username": "..."}.');
  }
  const fields: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(parsed)) {
    checkText(key);
    if (typeof value === "string") checkText(value);
    fields[key] = value;
  }
  return fields;
}

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "buffer" }, (_req, body, done) => {
    try {
      done(null, parseFormBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
