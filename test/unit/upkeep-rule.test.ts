// The embedded database's upkeep rule (src/db/upkeep.ts): autovacuum's own thresholds.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { AUTOVACUUM, type TableActivity, upkeepDue } from "../../src/db/upkeep.js";

const quiet: TableActivity = {
  schema: "public",
  table: "sessions",
  liveRows: 10_000,
  deadRows: 0,
  insertedSinceVacuum: 0,
  modifiedSinceAnalyze: 0,
  xidAge: 1000,
};

test("a table is vacuumed once its dead rows pass 50 and a fifth of its live rows", () => {
  assert.equal(upkeepDue({ ...quiet, deadRows: 2050 }), null);
  assert.equal(upkeepDue({ ...quiet, deadRows: 2051 }), "vacuum");
  assert.equal(upkeepDue({ ...quiet, liveRows: 0, deadRows: 51 }), "vacuum", "an emptied queue table");
});

test("an insert-only table is vacuumed once its new rows pass 1000 and a fifth of the others", () => {
  assert.equal(upkeepDue({ ...quiet, insertedSinceVacuum: 3000, modifiedSinceAnalyze: 0 }), null);
  assert.equal(upkeepDue({ ...quiet, insertedSinceVacuum: 3001 }), "vacuum");
});

test("a table is analysed alone once a tenth of it changed since the last analysis", () => {
  assert.equal(upkeepDue({ ...quiet, modifiedSinceAnalyze: 1050 }), null);
  assert.equal(upkeepDue({ ...quiet, modifiedSinceAnalyze: 1051 }), "analyze");
  assert.equal(upkeepDue({ ...quiet, modifiedSinceAnalyze: 1051, deadRows: 5000 }), "vacuum");
});

test("a table whose rows near wraparound is vacuumed however quiet", () => {
  assert.equal(upkeepDue({ ...quiet, xidAge: 200_000_000 }), null);
  assert.equal(upkeepDue({ ...quiet, xidAge: 200_000_001 }), "vacuum");
});

test("nothing is due below every threshold, and past any one something is", () => {
  fc.assert(
    fc.property(
      fc.nat(1_000_000),
      fc.nat(1_000_000),
      fc.nat(1_000_000),
      fc.nat(1_000_000),
      fc.nat(400_000_000),
      (liveRows, deadRows, insertedSinceVacuum, modifiedSinceAnalyze, xidAge) => {
        const activity = { ...quiet, liveRows, deadRows, insertedSinceVacuum, modifiedSinceAnalyze, xidAge };
        const a = AUTOVACUUM;
        const vacuum =
          deadRows > a.vacuumThreshold + a.vacuumScaleFactor * liveRows ||
          insertedSinceVacuum > a.insertThreshold + a.insertScaleFactor * liveRows ||
          xidAge > a.freezeMaxAge;
        const analyze = modifiedSinceAnalyze > a.analyzeThreshold + a.analyzeScaleFactor * liveRows;
        return upkeepDue(activity) === (vacuum ? "vacuum" : analyze ? "analyze" : null);
      },
    ),
  );
});
