// The production hasher: argon2id at OWASP's parameters, weaker hashes flagged for an upgrade, and a
// dummy hash for unknown usernames.
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { after, describe, test } from "node:test";
import { Algorithm, hash as argon2Hash } from "@node-rs/argon2";
import {
  createPasswordHasher,
  parametersOf,
  recommendedParameters,
  threadsPerProcess,
} from "../../src/accounts/password-hasher.js";

const hasher = createPasswordHasher();
after(() => hasher.close());

describe("the production hasher", () => {
  test("hashes with argon2id at least at OWASP's parameters (19 MiB, 2 iterations)", async () => {
    const encoded = await hasher.hash("correct horse battery");
    const params = parametersOf(encoded);
    assert.ok(params);
    assert.equal(params.algorithm, "argon2id");
    assert.ok(params.memoryCost >= 19_456);
    assert.ok(params.timeCost >= 2);
    assert.deepEqual(
      { memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism },
      recommendedParameters,
    );
    assert.equal(await hasher.verify(encoded, "correct horse battery"), true);
    assert.equal(await hasher.verify(encoded, "correct horse batterY"), false);
    assert.equal(await hasher.verify("not a hash at all", "correct horse battery"), false);
  });

  test("flags a weaker or foreign hash for re-hashing, and not its own", async () => {
    const weak = await argon2Hash("pw", { algorithm: Algorithm.Argon2id, memoryCost: 4096, timeCost: 1 });
    const argon2i = await argon2Hash("pw", { algorithm: Algorithm.Argon2i, ...recommendedParameters });
    assert.equal(hasher.needsRehash(weak), true);
    assert.equal(hasher.needsRehash(argon2i), true);
    assert.equal(hasher.needsRehash("pbkdf2_sha256$260000$salt$hash"), true);
    assert.equal(hasher.needsRehash(await hasher.hash("pw")), false);
  });

  test("the dummy hash is made once, at the same cost, and no password verifies against it", async () => {
    const dummy = await hasher.dummyHash();
    assert.equal(await hasher.dummyHash(), dummy);
    assert.deepEqual(parametersOf(dummy), parametersOf(await hasher.hash("x")));
    assert.equal(await hasher.verify(dummy, ""), false);
  });

  test("processes sharing the cores (WEB_CONCURRENCY) each get their share of threads, at least one", () => {
    const cores = availableParallelism();
    assert.equal(threadsPerProcess(1), cores);
    assert.equal(threadsPerProcess(2), Math.max(1, Math.floor(cores / 2)));
    assert.equal(threadsPerProcess(cores * 4), 1);
    assert.equal(hasher.load().threads, cores);
  });
});
