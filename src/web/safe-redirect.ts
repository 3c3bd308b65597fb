// The login page's `next`: followed only when it is a path on this site.

/**
 * Returns `next` when it is a same-site path, otherwise null. Refuses absolute and
 * scheme-relative URLs (`//host`, `/\host`), backslashes, control characters, and the same
 * tricks hidden behind percent-encoding.
 */
export function safeNextPath(next: unknown): string | null {
  if (typeof next !== "string" || next === "" || next.length > 2048) return null;
  let decoded = next;
  // Decode repeatedly so %252F%252F cannot smuggle "//" past the checks below.
  for (let i = 0; i < 3; i++) {
    let once: string;
    try {
      once = decodeURIComponent(decoded);
    } catch {
      return null;
    }
    if (once === decoded) break;
    decoded = once;
  }
  // Browsers drop tabs and newlines inside URLs, so "/\t/evil" would become "//evil".
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\s]/.test(next) || /[\u0000-\u001f\u007f]/.test(decoded)) return null;
  for (const candidate of [next, decoded]) {
    if (!candidate.startsWith("/")) return null;
    if (candidate.startsWith("//")) return null;
    if (candidate.includes("\\")) return null;
  }
  // A parser's view: resolved against our own origin it must stay on our origin.
  const base = "http://this-site.invalid";
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return null;
  }
  if (url.origin !== base) return null;
  return next;
}
