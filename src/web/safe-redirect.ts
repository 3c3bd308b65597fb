// The login page's `next`: followed only when it is a path on this site.

const base = "http://this-site.invalid";

/**
 * Django's iri_to_uri: quote() with its safe characters, so the header is ASCII (Node refuses
 * other characters in a header with an exception, or sends Latin-1 bytes raw). `%` is kept, so
 * existing escapes stay as they are. Throws on a lone surrogate, as UTF-8 cannot encode one.
 */
function iriToUri(iri: string): string {
  return iri.replace(/[^A-Za-z0-9_.~\-/#%[\]=:;$&()+,!?*@']/gu, (ch) => encodeURIComponent(ch));
}

/**
 * The forms `next` could take on its way to a browser or a server behind it: percent-decoded,
 * NFKC-normalised (a fullwidth solidus "／" becomes "/", "％" becomes "%"), and decoded again, a few
 * rounds over, so that "%252F%252F" or "/％2F％2F" cannot smuggle "//" past the checks. Null when a
 * percent-escape is malformed.
 */
function formsOf(next: string): string[] | null {
  const forms = [next];
  let current = next;
  for (let round = 0; round < 4; round++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      return null;
    }
    const normalised = decoded.normalize("NFKC");
    forms.push(decoded, normalised);
    if (normalised === current) break;
    current = normalised;
  }
  return forms;
}

/**
 * Returns `next`, percent-encoded to ASCII as Django's iri_to_uri would, when it is a same-site
 * path; otherwise null. Refuses absolute and scheme-relative URLs (`//host`, `/\host`), backslashes,
 * control characters, and the same tricks hidden behind percent-encoding or look-alike characters.
 */
export function safeNextPath(next: unknown): string | null {
  if (typeof next !== "string" || next === "" || next.length > 2048) return null;
  // Browsers drop tabs and newlines inside URLs, so "/\t/evil" would become "//evil".
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\s]/.test(next)) return null;
  const forms = formsOf(next);
  if (forms === null) return null;
  for (const form of forms) {
    if (!form.startsWith("/") || form.startsWith("//") || form.includes("\\")) return null;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (/[\u0000-\u001f\u007f-\u009f]/.test(form)) return null;
  }
  let uri: string;
  try {
    uri = iriToUri(next);
  } catch {
    return null;
  }
  // A parser's view: resolved against our own origin it must stay on our origin.
  let url: URL;
  try {
    url = new URL(uri, base);
  } catch {
    return null;
  }
  return url.origin === base ? uri : null;
}
