#!/usr/bin/env node
// Runs the test files with node:test through tsx. By default every file but the slow suites;
// `--slow` runs only those: the browser tests (test/e2e/) and the suites that start real server and
// CLI processes or seed large databases (test/slow/). `--e2e` runs only the browser tests.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...find(path));
    else if (name.endsWith(".test.ts")) files.push(path);
  }
  return files.sort();
}

const slowFolders = [join("test", "e2e"), join("test", "slow")];
const isSlow = (file) => slowFolders.some((folder) => file.startsWith(`${folder}/`));
const mode = process.argv.includes("--e2e") ? "e2e" : process.argv.includes("--slow") ? "slow" : "default";
const files = find("test").filter((file) =>
  mode === "e2e" ? file.startsWith(join("test", "e2e")) : mode === "slow" ? isSlow(file) : !isSlow(file),
);
const extra = process.argv.slice(2).filter((a) => a !== "--e2e" && a !== "--slow");
const suite = mode === "default" ? "" : ` (${mode})`;
console.log(
  `Running ${files.length} test files${suite} on ${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite"}`,
);
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", ...extra, ...files],
  { stdio: "inherit", env: { ...process.env, NODE_ENV: "test" } },
);
process.exit(result.status ?? 1);
