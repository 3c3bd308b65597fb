// The admin console's pure parts: CSV cells, the adjustment form, periods, the K-factor, list queries, charts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkAdjustmentForm, parseDollars } from "../../src/admin/adjustments.js";
import { csvCell, csvRow } from "../../src/admin/csv.js";
import { likePrefix, parseUserListQuery } from "../../src/admin/directory.js";
import { daysOf, kFactor, PeriodError, parsePeriod, referredShare } from "../../src/admin/stats.js";
import { ValidationError } from "../../src/errors.js";
import { toHtmlString } from "../../src/web/html.js";
import { axisTicks, barChart, niceCeiling } from "../../src/web/views/svg-chart.js";

describe("CSV cells", () => {
  test("plain text and numbers are written as they are", () => {
    assert.equal(csvCell("alice"), "alice");
    assert.equal(csvCell(42), "42");
    assert.equal(csvCell(-250), "-250");
    assert.equal(csvCell("-2.50"), "-2.50");
    assert.equal(csvCell(true), "true");
    assert.equal(csvCell(null), "");
    assert.equal(csvCell(undefined), "");
  });

  test("commas, quotes and line breaks are quoted, with quotes doubled", () => {
    assert.equal(csvCell("a,b"), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell("two\nlines"), '"two\nlines"');
    assert.equal(csvCell("cr\rhere"), '"cr\rhere"');
  });

  test("text a spreadsheet would run as a formula gets a leading apostrophe", () => {
    assert.equal(csvCell("=1+1"), "'=1+1");
    assert.equal(csvCell("+cmd"), "'+cmd");
    assert.equal(csvCell("-minus"), "'-minus");
    assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
    assert.equal(csvCell("\tx"), "'\tx");
    assert.equal(csvCell('=HYPERLINK("x","y")'), `"'=HYPERLINK(""x"",""y"")"`);
    assert.equal(csvCell("a=b"), "a=b");
  });

  test("a row ends with CRLF", () => {
    assert.equal(csvRow(["a", 1, null, "b,c"]), 'a,1,,"b,c"\r\n');
  });
});

describe("the adjustment form", () => {
  test("dollars become cents", () => {
    assert.equal(parseDollars("12"), 1200);
    assert.equal(parseDollars("12.5"), 1250);
    assert.equal(parseDollars("12.05"), 1205);
    assert.equal(parseDollars(" $1,000.99 "), 100099);
    assert.equal(parseDollars("0.01"), 1);
    for (const bad of ["", "1.234", "-1", "1e3", "abc", "1.", ".5", "١٢"])
      assert.equal(parseDollars(bad), null, bad);
  });

  test("remove makes the amount negative and the reason is trimmed", () => {
    assert.deepEqual(checkAdjustmentForm({ direction: "remove", amount: "4", reason: "  why  " }), {
      amountCents: -400,
      reason: "why",
      note: null,
    });
    assert.deepEqual(checkAdjustmentForm({ direction: "add", amount: 3, reason: "json number" }), {
      amountCents: 300,
      reason: "json number",
      note: null,
    });
  });

  test("the staff note is optional, trimmed, and at most 2000 characters", () => {
    const form = { direction: "add", amount: "1", reason: "why" };
    assert.equal(checkAdjustmentForm({ ...form, note: "  for staff  " }).note, "for staff");
    assert.equal(checkAdjustmentForm({ ...form, note: "   " }).note, null);
    assert.throws(
      () => checkAdjustmentForm({ ...form, note: "n".repeat(2001) }),
      (error: unknown) =>
        error instanceof ValidationError &&
        error.fields.note?.[0] === "Ensure this value has at most 2000 characters (it has 2001).",
    );
  });

  test("every problem is reported together", () => {
    assert.throws(
      () => checkAdjustmentForm({}),
      (error: unknown) =>
        error instanceof ValidationError &&
        JSON.stringify(Object.keys(error.fields)) === JSON.stringify(["direction", "amount", "reason"]),
    );
  });
});

describe("periods and programme figures", () => {
  const today = new Date("2026-03-10T15:00:00Z");

  test("a preset ends today and includes it", () => {
    assert.deepEqual(parsePeriod({ days: "7" }, today), {
      from: "2026-03-04",
      to: "2026-03-10",
      presetDays: 7,
    });
    assert.deepEqual(parsePeriod({}, today), { from: "2026-02-09", to: "2026-03-10", presetDays: 30 });
    assert.equal(parsePeriod({ days: "8" }, today).presetDays, 30);
  });

  test("dates give a custom period, both days included", () => {
    const period = parsePeriod({ from: "2024-02-27", to: "2024-03-01" }, today);
    assert.deepEqual(daysOf(period), ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"]);
    assert.equal(daysOf(parsePeriod({ from: "2024-01-01", to: "2024-01-01" })).length, 1);
  });

  test("nonsense dates are refused with a message", () => {
    for (const query of [
      { from: "2024-03-02", to: "2024-03-01" },
      { from: "2023-02-29", to: "2023-03-01" },
      { from: "2024-03-01" },
      { from: "01/03/2024", to: "2024-03-02" },
      { from: "2020-01-01", to: "2022-01-02" },
    ]) {
      assert.throws(() => parsePeriod(query, today), PeriodError, JSON.stringify(query));
    }
  });

  test("the K-factor and the referred share", () => {
    assert.equal(kFactor(4, 10), 0.4);
    assert.equal(kFactor(30, 20), 1.5);
    assert.equal(kFactor(3, 0), null);
    assert.equal(referredShare(1, 4), 0.25);
    assert.equal(referredShare(0, 0), null);
  });
});

describe("the users list query", () => {
  test("sort and direction come only from the whitelist", () => {
    assert.deepEqual(parseUserListQuery({ sort: "balance", dir: "asc", q: " al " }), {
      search: "al",
      sort: "balance",
      direction: "asc",
    });
    const hostile = parseUserListQuery({ sort: "password_hash", dir: "; DROP" });
    assert.equal(hostile.sort, "joined");
    assert.equal(hostile.direction, "desc");
    assert.equal(parseUserListQuery({ sort: "toString" }).sort, "joined", "no inherited names");
    assert.equal(parseUserListQuery({ sort: "username" }).direction, "asc", "names read A to Z by default");
  });

  test("LIKE wildcards are escaped", () => {
    assert.equal(likePrefix("a_b%c\\"), "a\\_b\\%c\\\\%");
  });
});

describe("SVG charts", () => {
  test("axis maxima are round numbers", () => {
    assert.equal(niceCeiling(0), 1);
    assert.equal(niceCeiling(7), 10);
    assert.equal(niceCeiling(13), 20);
    assert.equal(niceCeiling(230), 250);
    assert.equal(niceCeiling(4100), 5000);
    assert.equal(niceCeiling(7, true), 8);
    assert.equal(niceCeiling(23, true), 40);
    assert.equal(niceCeiling(0.3, true), 1);
    assert.deepEqual(axisTicks(8, true), [0, 2, 4, 6, 8]);
    assert.deepEqual(axisTicks(10, true), [0, 5, 10]);
    assert.deepEqual(axisTicks(1, true), [0, 1]);
    assert.deepEqual(axisTicks(10, false), [0, 2.5, 5, 7.5, 10]);
  });

  test("a chart escapes its labels and uses no style attribute", () => {
    const svg = toHtmlString(
      barChart({
        id: "c",
        title: "<t>",
        labels: ["2026-01-01", "2026-01-02"],
        series: [{ name: '"x"', colorClass: "text-primary", values: [1, 3] }],
        format: String,
      }),
    );
    assert.match(svg, /<title id="c-title">&lt;t&gt;<\/title>/);
    assert.match(svg, /&quot;x&quot; 3/);
    assert.doesNotMatch(svg, /style=/);
    assert.equal((svg.match(/class="text-primary"/g) ?? []).length, 2);
  });
});
