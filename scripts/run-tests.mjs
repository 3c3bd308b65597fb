#!/usr/bin/env node
// Runs the test files with node:test through tsx, in a few processes side by side (shards), each
// running its share of the files one after another (test/support/shard.ts). By default every file
// but the slow suites; `--slow` runs only those: the browser tests (test/e2e/) and the suites that
// start real server and CLI processes or seed large databases (test/slow/); `--e2e` runs only the
// browser tests. Files named on the command line run alone; other arguments go to node (for example
// --test-name-pattern=login).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
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

const args = process.argv.slice(2);
const named = args.filter((a) => a.endsWith(".test.ts"));
const nodeArgs = args.filter((a) => !a.endsWith(".test.ts") && a !== "--e2e" && a !== "--slow");
const slowFolders = [join("test", "e2e"), join("test", "slow")];
const isSlow = (file) => slowFolders.some((folder) => file.startsWith(`${folder}/`));
const mode = args.includes("--e2e") ? "e2e" : args.includes("--slow") ? "slow" : "default";
const files =
  named.length > 0
    ? named
    : find("test").filter((file) =>
        mode === "e2e"
          ? file.startsWith(join("test", "e2e"))
          : mode === "slow"
            ? isSlow(file)
            : !isSlow(file),
      );

// The slow suites start servers, CLIs and browsers of their own and wait on them: one file at a
// time each, as before. The default suite is spread over one process per core.
const shardCount = Math.max(
  1,
  Math.min(
    files.length,
    Number(process.env.TEST_SHARDS) || (mode === "default" ? availableParallelism() : 2),
  ),
);

// Longest first onto the least loaded shard, by the times of this checkout's last run; in a fresh
// clone, by the times kept in test/timings-pglite.json (a run of the default suite on PGlite, copied
// from the cache file below: refresh it when files come or go); by file size for a file in neither.
// On a slow 2-core VM a fresh clone's first run, balanced by size (and its database templates still
// to make), took 101 s; balanced by kept times, 75-90 s.
const cacheDir = join("node_modules", ".cache", "referral-tests");
const timingsFile = join(cacheDir, `timings-${process.env.DATABASE_URL ? "postgres" : "pglite"}.json`);
const readTimings = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {});
const last = readTimings(timingsFile);
const kept = readTimings(join("test", "timings-pglite.json"));
const weight = (file) => last[file] ?? kept[file] ?? statSync(file).size / 10;
// A load run saturates both cores for its length: a browser test beside it waits on a starved
// password hash past its timeout. Such files run after the others, on their own.
const alone = new Set([join("test", "slow", "database-outage.test.ts")]);
const shards = Array.from({ length: shardCount }, () => ({ files: [], load: 0 }));
for (const file of [...files].filter((f) => !alone.has(f)).sort((a, b) => weight(b) - weight(a))) {
  const lightest = shards.reduce((a, b) => (b.load < a.load ? b : a));
  lightest.files.push(file);
  lightest.load += weight(file);
}

const suite = mode === "default" ? "" : ` (${mode})`;
console.log(
  `Running ${files.length} test files${suite} on ${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite"} in ${shardCount} processes`,
);
mkdirSync(cacheDir, { recursive: true });
const started = Date.now();
const runShard = (shard, index) =>
  new Promise((resolve) => {
    const out = join(cacheDir, `shard-${process.pid}-${index}.json`);
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--test-reporter=spec",
        ...nodeArgs,
        join("test", "support", "shard.ts"),
        ...shard.files,
      ],
      { stdio: "inherit", env: { ...process.env, NODE_ENV: "test", TEST_TIMINGS_FILE: out } },
    );
    child.on("exit", (code, signal) => {
      let timings = {};
      try {
        timings = JSON.parse(readFileSync(out, "utf8"));
        rmSync(out);
      } catch {}
      resolve({ ok: code === 0, code: code ?? signal, timings });
    });
  });
const results = await Promise.all(shards.filter((shard) => shard.files.length > 0).map(runShard));
const lonely = files.filter((f) => alone.has(f));
if (lonely.length > 0) results.push(await runShard({ files: lonely }, shards.length));
writeFileSync(timingsFile, JSON.stringify(Object.assign(last, ...results.map((r) => r.timings)), null, 1));
const failed = results.filter((r) => !r.ok);
console.log(
  `\n${files.length} test files in ${shardCount} processes: ${failed.length === 0 ? "all passed" : `${failed.length} process(es) failed (exit ${failed.map((r) => r.code).join(", ")})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failed.length === 0 ? 0 : 1);
