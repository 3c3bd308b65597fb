// Query strings get the checks bodies get: percent-escapes that are not UTF-8, or that decode to NUL,
// are refused with 400 bad_query before a route reads them, and no query string, however hostile,
// makes an admin page answer 5xx.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
let staff: Client;
let staffPage: Client;
let staffId: number;

before(async () => {
  t = await createTestApp();
  staff = await staffClient(t, "query_boss");
  staffPage = await staffClient(t, "query_boss_html", "html");
  staffId = await userIdOf(t.deps.db, "query_boss");
});
after(async () => t.close());

/** Percent-encodes every byte, so any value fits a URL. */
function escapeAll(bytes: Uint8Array): string {
  return [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
}

/** Whether the bytes an escaped value stands for are UTF-8 text without NUL. */
function isCleanText(bytes: Uint8Array): boolean {
  try {
    return !new TextDecoder("utf-8", { fatal: true }).decode(bytes).includes("\u0000");
  } catch {
    return false;
  }
}

describe("bad query strings", () => {
  test("GET /admin/users/?q=%00 answers 400 bad_query, not a 500 from PostgreSQL", async () => {
    const response = await staff.get("/admin/users/?q=%00");
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      error: "bad_query",
      message: "The query string contains characters that are not allowed (NUL).",
    });
    const page = await staffPage.get("/admin/users/?q=%00");
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /not allowed \(NUL\)/);
    assert.ok(page.headers["content-security-policy"]);
  });

  test("escapes that are not UTF-8 are refused, in values and in names, on every route", async () => {
    const invalid = ["%FF", "%C3%28", "%ED%A0%80", "%C0%80", "%F4%90%80%80", "%E2%82"];
    for (const url of ["/admin/users/?q=", "/signup/?x=", "/login/?next=", "/?", "/nowhere/?x="]) {
      for (const sequence of invalid) {
        const response = await staff.get(`${url}${sequence}`);
        assert.equal(response.statusCode, 400, url + sequence);
        assert.equal(response.json().error, "bad_query", url + sequence);
      }
    }
    const inName = await staff.get("/admin/users/?%FF=1");
    assert.equal(inName.statusCode, 400);
  });

  test("a referral token that cannot be decoded is ignored, as any malformed token is", async () => {
    for (const sequence of ["%FF%FE", "%00", "%E2%82"]) {
      const form = await staff.get(`/signup/?ref=${sequence}`, { accept: "text/html" });
      assert.equal(form.statusCode, 200, sequence);
      const signup = await new Client(t.app).post(`/signup/?ref=${sequence}`, {
        username: `mangled_${sequence.replace(/%/g, "")}`,
        password1: "correct horse battery",
        password2: "correct horse battery",
      });
      assert.equal(signup.statusCode, 200, sequence);
    }
  });

  test("UTF-8 text, a literal % and other control characters are read as before", async () => {
    for (const query of [
      "q=%C3%A9t%C3%A9",
      "q=%F0%9F%98%80",
      "q=100%",
      "q=%zz",
      "q=%",
      "q=%09tab",
      "q=a+b",
    ]) {
      const response = await staff.get(`/admin/users/?${query}`);
      assert.equal(response.statusCode, 200, query);
    }
  });
});

describe("admin query parameters never give a 5xx", () => {
  const routes = () => [
    { path: "/admin/", params: ["before"] },
    { path: "/admin/users/", params: ["q", "sort", "dir", "page"] },
    { path: `/admin/users/${staffId}/`, params: ["ledger_before", "notice"] },
    { path: "/admin/stats/", params: ["from", "to", "days"] },
  ];
  // A value as a form would send it (any string, lone surrogates included, as UTF-8), as raw
  // bytes that need not be UTF-8, or as ASCII left unescaped.
  const value = fc.oneof(
    fc.string({ unit: "binary" }).map((text) => ({ bytes: new TextEncoder().encode(text), raw: false })),
    fc.string({ unit: "grapheme" }).map((text) => ({ bytes: new TextEncoder().encode(text), raw: false })),
    fc.uint8Array({ maxLength: 12 }).map((bytes) => ({ bytes, raw: false })),
    fc
      .string({ unit: fc.constantFrom(..."abc019-_.~%+!$'()*,;:@/?=[]") })
      .map((text) => ({ bytes: new TextEncoder().encode(text), raw: true })),
    fc
      .constantFrom("0", "1", "999999999999999", "-1", "2024-01-01", "username", "asc", "7", "%00")
      .map((text) => ({ bytes: new TextEncoder().encode(text), raw: true })),
  );

  test("every parameter of every admin page, with arbitrary values, in JSON and HTML", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(3),
        fc.array(fc.tuple(fc.nat(3), value), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (routeIndex, pairs, html) => {
          const route = routes()[routeIndex] as { path: string; params: string[] };
          let clean = true;
          const query = pairs
            .map(([paramIndex, { bytes, raw }]) => {
              const name = route.params[paramIndex % route.params.length] as string;
              // A raw "%" followed by two hex digits is an escape; the other raw text is ASCII.
              const sent = raw ? new TextDecoder().decode(bytes) : escapeAll(bytes);
              clean &&= isCleanText(raw ? decodeEscapes(sent) : bytes);
              return `${name}=${sent}`;
            })
            .join("&");
          const response = await (html ? staffPage : staff).get(`${route.path}?${query}`);
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          const label = `${response.statusCode} for ${route.path}?${query}: ${response.body.slice(0, 200)}`;
          assert.ok(response.statusCode < 500, label);
          const badQuery =
            response.statusCode === 400 &&
            /The query string (is not valid UTF-8|contains characters that are not allowed)/.test(
              response.body,
            );
          assert.equal(badQuery, !clean, label);
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
    // Both sides were met: refused query strings and pages that answered.
    assert.ok((statuses.get(200) ?? 0) > 20 && (statuses.get(400) ?? 0) > 20, JSON.stringify([...statuses]));
  });
});

/** The bytes a query text stands for: %XX escapes as their byte, a lone % and ASCII as themselves. */
function decodeEscapes(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let k = 0; k < text.length; k++) {
    const hex = text.slice(k + 1, k + 3);
    if (text[k] === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      k += 2;
    } else bytes.push(text.charCodeAt(k));
  }
  return new Uint8Array(bytes);
}
