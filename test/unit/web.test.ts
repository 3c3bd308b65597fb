import assert from "node:assert/strict";
import { validateHeaderValue } from "node:http";
import { describe, test } from "node:test";
import fc from "fast-check";
import { PAGE_SIZE_MAX } from "../../src/paging.js";
import { parseFormBody, parseJsonBody } from "../../src/web/body-parsers.js";
import { escapeHtml, html, toHtmlString, trustedHtml } from "../../src/web/html.js";
import { nextPageUrl, pageQueryProperties, pageRequest } from "../../src/web/pagination.js";
import { newCsrfToken, tokensMatch } from "../../src/web/plugins/csrf.js";
import { safeNextPath } from "../../src/web/safe-redirect.js";

describe("html templates", () => {
  test("interpolated values are escaped by default", () => {
    const name = `<script>alert("x")</script>'&`;
    assert.equal(
      toHtmlString(html`<p title="${name}">${name}</p>`),
      `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;</p>`,
    );
  });

  test("nested templates and trusted markup are not escaped twice", () => {
    const inner = html`<b>${"<i>"}</b>`;
    assert.equal(
      toHtmlString(html`<div>${inner}${trustedHtml("<svg></svg>")}</div>`),
      "<div><b>&lt;i&gt;</b><svg></svg></div>",
    );
  });

  test("arrays render each item, null and false render nothing", () => {
    assert.equal(toHtmlString(html`${["<a>", null, false, 3]}`), "&lt;a&gt;3");
    assert.equal(escapeHtml("`"), "&#96;");
  });
});

describe("safe next", () => {
  test("same-site paths are followed", () => {
    for (const next of ["/", "/history/", "/history/?page=2", "/a%20b"])
      assert.equal(safeNextPath(next), next);
  });

  test("known open-redirect bypasses are refused", () => {
    const bypasses = [
      "//evil.example",
      "/\\evil.example",
      "\\\\evil.example",
      "https://evil.example",
      "http:evil.example",
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "%2F%2Fevil.example",
      "/%2F/evil.example",
      "/%2Fevil.example",
      "/%5Cevil.example",
      "%252F%252Fevil.example",
      "/%252F%252Fevil.example",
      "/\tevil.example",
      "/ /evil.example",
      "/\n/evil.example",
      "evil.example",
      "///evil.example",
      "/%09/evil.example",
      "",
      "https:/\\evil.example",
    ];
    for (const next of bypasses) assert.equal(safeNextPath(next), null, JSON.stringify(next));
  });

  test("non-strings are refused", () => {
    assert.equal(safeNextPath(undefined), null);
    assert.equal(safeNextPath(["/"]), null);
  });

  test("look-alikes of / and \\ are refused, in the clear or percent-encoded", () => {
    const lookalikes = [
      "/\uff0fevil.example",
      "/%EF%BC%8Fevil.example",
      "%2F%EF%BC%8Fevil.example",
      "/\uff3cevil.example",
      "/\ufe68evil.example",
      "/\uff05\u0032F\uff05\u0032Fevil.example",
      "\uff0f\uff0fevil.example",
      "/\u0085/evil.example",
      "/\ud800",
      "/%ED%A0%80",
    ];
    for (const next of lookalikes) assert.equal(safeNextPath(next), null, JSON.stringify(next));
  });

  test("other characters are percent-encoded as Django's iri_to_uri does", () => {
    assert.equal(safeNextPath("/é"), "/%C3%A9");
    assert.equal(safeNextPath("/✓/😀?q=a|b^c`{d}"), "/%E2%9C%93/%F0%9F%98%80?q=a%7Cb%5Ec%60%7Bd%7D");
    // Its safe characters, and escapes already there, are kept.
    assert.equal(safeNextPath("/a#[]=:;$&()+,!?*@'~b%C3%A9"), "/a#[]=:;$&()+,!?*@'~b%C3%A9");
    assert.equal(safeNextPath('/"<x>'), "/%22%3Cx%3E");
  });

  // Strings built from the pieces that open redirects are made of, and arbitrary Unicode.
  const piece = fc.oneof(
    fc.constantFrom("/", "//", "\\", "%2F", "%2f", "%5C", "%25", "%", "\uff0f", "\uff3c", "\ufe68", "\uff05"),
    fc.constantFrom("%EF%BC%8F", "%C3%A9", "%ED%A0%80", "%00", "\t", "\n", "\u0085", "\u2028", ".", ":"),
    fc.constantFrom("http:", "javascript:", "@", "?", "#", "evil.example", "2F", "\ud800", "\udc00"),
    fc.string({ unit: "grapheme", maxLength: 4 }),
    fc.string({ unit: "binary", maxLength: 4 }),
  );
  const candidate = fc.oneof(
    fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join("")),
    fc.array(piece, { maxLength: 8 }).map((pieces) => `/${pieces.join("")}`),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }),
  );

  test("whatever next is, the answer is null or an ASCII same-site path a header can carry", () => {
    let followed = 0;
    fc.assert(
      fc.property(candidate, (next) => {
        const result = safeNextPath(next);
        if (result === null) return;
        followed++;
        assert.match(result, /^\/(?![/\\])[\x21-\x7e]*$/);
        assert.equal(new URL(result, "http://x.invalid").origin, "http://x.invalid");
        validateHeaderValue("location", result);
        // The answer is itself safe, and kept as it is.
        assert.equal(safeNextPath(result), result);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 3000) },
    );
    // Paths were followed too, or the property would prove little.
    assert.ok(followed > 100, `${followed} followed`);
  });

  test("a plain same-site path is kept as it is", () => {
    const segment = fc.string({ unit: fc.constantFrom(..."abcxyz019-._~"), minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.boolean(), (segments, slash) => {
        const path = `/${segments.join("/")}${slash ? "/" : ""}`;
        assert.equal(safeNextPath(path), path);
      }),
    );
  });
});

describe("body parsers", () => {
  test("form bodies decode + and percent-escapes, the last value wins", () => {
    assert.deepEqual({ ...parseFormBody(Buffer.from("a=1&b=x+y%21&a=2&c")) }, { a: "2", b: "x y!", c: "" });
  });

  test("a field of the allow-list keeps every value, in order; other repeated fields keep the last", () => {
    assert.deepEqual(
      { ...parseFormBody(Buffer.from("ids=3&a=1&ids=1&a=2&ids=%32")) },
      { ids: ["3", "1", "2"], a: "2" },
    );
    assert.deepEqual({ ...parseFormBody(Buffer.from("ids=7")) }, { ids: ["7"] }, "a list of one");
    assert.deepEqual({ ...parseFormBody(Buffer.from("idsx=1&idsx=2&Ids=1&Ids=2")) }, { idsx: "2", Ids: "2" });
    assert.throws(() => parseFormBody(Buffer.from("ids=1&ids=%00")), /not allowed/);
  });

  test("invalid UTF-8, bad percent-escapes and NUL are refused", () => {
    assert.throws(() => parseFormBody(Buffer.from([0x61, 0x3d, 0xff])), /not valid UTF-8/);
    assert.throws(() => parseFormBody(Buffer.from("a=%FF")), /malformed/);
    assert.throws(() => parseFormBody(Buffer.from("a=%E0%A4")), /malformed/);
    assert.throws(() => parseFormBody(Buffer.from("a=%00")), /not allowed/);
  });

  test("JSON bodies must be objects of valid text", () => {
    assert.deepEqual({ ...parseJsonBody(Buffer.from('{"a":"b"}')) }, { a: "b" });
    assert.throws(() => parseJsonBody(Buffer.from("[1]")), /must be an object/);
    assert.throws(() => parseJsonBody(Buffer.from("{")), /not valid JSON/);
    assert.throws(() => parseJsonBody(Buffer.from('{"a":"\\u0000"}')), /not allowed/);
    assert.throws(() => parseJsonBody(Buffer.from('{"a":"\\ud800"}')), /not allowed/);
  });

  test("__proto__ in a body cannot pollute prototypes", () => {
    const parsed = parseJsonBody(Buffer.from('{"__proto__":{"polluted":"yes"}}'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(parsed), null);
  });
});

describe("csrf tokens", () => {
  test("compare equal only when identical", () => {
    assert.equal(tokensMatch("abc", "abc"), true);
    assert.equal(tokensMatch("abc", "abd"), false);
    assert.equal(tokensMatch("abc", "abcd"), false);
  });

  test("new tokens are 32 random bytes, never repeated across the buffer's refills", () => {
    // 1,000 tokens span several refills of the 128-token buffer they are drawn from.
    const tokens = Array.from({ length: 1000 }, () => newCsrfToken());
    assert.equal(new Set(tokens).size, tokens.length);
    for (const token of tokens) assert.equal(Buffer.from(token, "base64url").length, 32, token);
  });
});

describe("page parameters", () => {
  test("the limit's pattern takes exactly the counts 1 to PAGE_SIZE_MAX written in 1 to 3 digits, or nothing", () => {
    const pattern = new RegExp(pageQueryProperties.limit.pattern, "u");
    for (let n = 0; n < 1000; n++) {
      for (const written of new Set([String(n), String(n).padStart(2, "0"), String(n).padStart(3, "0")])) {
        assert.equal(pattern.test(written), n >= 1 && n <= PAGE_SIZE_MAX, written);
      }
    }
    assert.ok(pattern.test(""));
    for (const bad of ["0001", "1e1", " 5", "5 ", "+5", "0x10", "1.0", "١"])
      assert.ok(!pattern.test(bad), bad);
  });

  test("a page request reads the limit, with an empty cursor or limit meaning none", () => {
    assert.deepEqual(pageRequest({}, 20), { cursor: null, size: 20 });
    assert.deepEqual(pageRequest({ cursor: "", limit: "" }, 50), { cursor: null, size: 50 });
    assert.deepEqual(pageRequest({ cursor: "17", limit: "007" }, 50), { cursor: "17", size: 7 });
  });

  test("the next page's address keeps the rest of the query", () => {
    assert.equal(nextPageUrl("/history/", null, { limit: "2" }), null);
    assert.equal(nextPageUrl("/history/", "17", { limit: undefined }), "/history/?cursor=17");
    assert.equal(
      nextPageUrl("/admin/users/", "WyJ1c2VybmFtZSJd", { q: "a&b", sort: "username", limit: "" }),
      "/admin/users/?cursor=WyJ1c2VybmFtZSJd&q=a%26b&sort=username",
    );
  });
});
