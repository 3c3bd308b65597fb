// One test process running several test files, one after another: each file becomes a suite of its
// own, so its before/after hooks stay its own, while the imports, the compiled WebAssembly and the
// test databases (reuseDatabases) are paid for once per process instead of once per file.
// scripts/run-tests.mjs starts a few of these side by side. Each file's time is written to the file
// named by TEST_TIMINGS_FILE, which the runner reads to balance the next run.
import { writeFileSync } from "node:fs";
import { after, before, describe } from "node:test";
import { pathToFileURL } from "node:url";
import { reuseDatabases } from "./database.js";

const closeDatabases = reuseDatabases();
const timings: Record<string, number> = {};
for (const file of process.argv.slice(2)) {
  describe(file, async () => {
    let started = 0;
    before(() => {
      started = performance.now();
    });
    after(() => {
      timings[file] = Math.round(performance.now() - started);
    });
    await import(pathToFileURL(file).href);
  });
}

after(async () => {
  await closeDatabases();
  const out = process.env.TEST_TIMINGS_FILE;
  if (out) writeFileSync(out, JSON.stringify(timings));
});
