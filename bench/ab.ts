// npm run bench:ab -- --a OTHER/dist/main.js [--b dist/main.js] [--rounds 3] [--only get,signup,login,open]
// Two builds in one run: each round runs every scenario on A and on B (ABBA order, so drift in the
// machine's speed falls on both), and the table gives each build's median and B's ratio to A.
import { pathToFileURL } from "node:url";
import { runBench, type ScenarioName } from "./run.js";
import { argValue, build, median, table } from "./support.js";

interface Reading {
  requestsPerSecond: number;
  p99: number;
}

async function main(): Promise<void> {
  const a = argValue("--a");
  if (!a) throw new Error("give --a, the other build's main.js (e.g. ../base/dist/main.js)");
  const b = argValue("--b") ?? "dist/main.js";
  const rounds = Number(argValue("--rounds") ?? 3);
  const duration = Number(argValue("--duration") ?? 10);
  const only = (argValue("--only")?.split(",") ?? ["get", "signup", "login", "open"]) as ScenarioName[];
  if (!process.argv.includes("--skip-build")) build();

  const readings = new Map<string, { a: Reading[]; b: Reading[] }>();
  for (let round = 0; round < rounds; round++) {
    const order: ["a" | "b", string][] =
      round % 2 === 0
        ? [
            ["a", a],
            ["b", b],
          ]
        : [
            ["b", b],
            ["a", a],
          ];
    for (const [side, entry] of order) {
      process.env.BENCH_SERVER_ENTRY = entry;
      const result = await runBench({
        users: 1000,
        duration,
        only,
        references: false,
        rounds: 1,
        label: `ab-${side}`,
      });
      for (const row of result.rows) {
        const seen = readings.get(row.scenario) ?? { a: [], b: [] };
        seen[side].push({ requestsPerSecond: row.figures.requestsPerSecond, p99: row.figures.p99 });
        readings.set(row.scenario, seen);
      }
    }
  }

  const rows = [...readings].map(([scenario, { a: ra, b: rb }]) => {
    const rpsA = median(ra.map((r) => r.requestsPerSecond));
    const rpsB = median(rb.map((r) => r.requestsPerSecond));
    return [
      scenario,
      `${rpsA.toFixed(0)} (${ra.map((r) => r.requestsPerSecond.toFixed(0)).join(", ")})`,
      `${rpsB.toFixed(0)} (${rb.map((r) => r.requestsPerSecond.toFixed(0)).join(", ")})`,
      `${((100 * rpsB) / rpsA).toFixed(1)}%`,
      `${median(ra.map((r) => r.p99)).toFixed(0)} / ${median(rb.map((r) => r.p99)).toFixed(0)}`,
    ];
  });
  console.log(`\nA = ${a}\nB = ${b}\n${rounds} rounds of ${duration} s, ABBA order\n`);
  console.log(
    table(["scenario", "A req/s median (rounds)", "B req/s median (rounds)", "B / A", "p99 ms A / B"], rows),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
