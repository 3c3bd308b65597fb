#!/usr/bin/env node
// Runs every test file under test/ with node:test through tsx. `--e2e` runs only the browser tests.
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

const onlyE2e = process.argv.includes("--e2e");
const files = find("test").filter((f) => (onlyE2e ? f.startsWith(join("test", "e2e")) : true));
const extra = process.argv.slice(2).filter((a) => a !== "--e2e");
console.log(`Running ${files.length} test files on ${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite"}`);
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", ...extra, ...files],
  { stdio: "inherit", env: { ...process.env, NODE_ENV: "test" } },
);
process.exit(result.status ?? 1);
