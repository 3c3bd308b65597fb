// One supported Node.js range, said the same way everywhere: package.json's engines, the README,
// the image's Node.js, CI (npm ci --engine-strict), and no installed package that needs a newer
// Node.js than the range's lowest version (npm ci would warn EBADENGINE there, and the package may
// not run).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import semver from "semver";

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), "utf8");

const range = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
const lowest = semver.minVersion(range);

interface LockedPackage {
  version?: string;
  engines?: Record<string, string> | string[];
}
const locked = Object.entries(
  (JSON.parse(read("package-lock.json")) as { packages: Record<string, LockedPackage> }).packages,
).filter(([path]) => path !== "");

/** The packages (path@version: their range) whose engines.node the given Node.js version does not meet. */
function packagesRefusing(version: string): string[] {
  return locked.flatMap(([path, pkg]) => {
    const wanted = !pkg.engines || Array.isArray(pkg.engines) ? undefined : pkg.engines.node;
    if (wanted === undefined || semver.satisfies(version, wanted)) return [];
    return [`${path.replace(/^.*node_modules\//, "")}@${pkg.version}: ${wanted}`];
  });
}

describe("the supported Node.js range", () => {
  test("package.json's engines.node is a range with a lowest version", () => {
    assert.ok(semver.validRange(range), range);
    assert.ok(lowest, range);
  });

  test("no installed package needs a newer Node.js than the range's lowest version", () => {
    assert.deepEqual(packagesRefusing((lowest as semver.SemVer).version), []);
  });

  test("the image's Node.js is in the range, and every installed package runs on it", () => {
    const majors = [...read("Dockerfile").matchAll(/^FROM node:(\d+)-/gm)].map((m) => m[1]);
    assert.ok(majors.length >= 2, "both stages name node:<major>-…");
    assert.equal(new Set(majors).size, 1, `one Node.js in every stage: ${majors}`);
    // The lowest release of the image's major that the range takes (the tag may be any of them).
    const image = semver.minVersion(`${range} ^${majors[0]}.0.0`);
    assert.ok(image && semver.satisfies(image, range), `node:${majors[0]} is outside ${range}`);
    assert.deepEqual(packagesRefusing(image.version), []);
  });

  test("the README and CI say the same range", () => {
    const floor = `${lowest?.major}.${lowest?.minor}`;
    assert.equal(range, `>=${floor}`, "the README's wording below fits a lowest version only");
    assert.match(read("README.md"), new RegExp(`Node\\.js ${floor.replace(".", "\\.")} or newer`));
    // npm refuses to install when the running Node.js is outside the range, or a package needs more.
    assert.match(read(".ci/run"), /^npm ci .*--engine-strict/m);
  });
});
