// Django's password hashes, as the import carries them over and the login verifies them.
import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { after, describe, test } from "node:test";
import { Algorithm, hash as argon2Hash } from "@node-rs/argon2";
import fc from "fast-check";
import {
  hashFormatOf,
  isDjangoHash,
  readDjangoHash,
  verifyDjangoHash,
  verifyStoredPassword,
} from "../../src/accounts/django-hashes.js";
import { cheapHasher } from "../support/app.js";

const hasher = cheapHasher();
after(() => hasher.close());

/** A hash as Django's PBKDF2PasswordHasher.encode writes it. */
function djangoPbkdf2(
  password: string,
  salt: string,
  iterations: number,
  digest: "sha256" | "sha1" = "sha256",
) {
  const key = pbkdf2Sync(password, salt, iterations, digest === "sha256" ? 32 : 20, digest);
  return `pbkdf2_${digest}$${iterations}$${salt}$${key.toString("base64")}`;
}

async function verifies(encoded: string, password: string): Promise<boolean> {
  const reading = readDjangoHash(encoded);
  assert.equal(reading.status, "usable", `${encoded} should be readable`);
  if (reading.status !== "usable") return false;
  return verifyDjangoHash(reading.hash, password, hasher);
}

describe("PBKDF2", () => {
  const known = "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=";

  test("the known Django 3.2 hash of lètmein verifies, and nothing else does", async () => {
    assert.equal(await verifies(known, "lètmein"), true);
    assert.equal(await verifies(known, "letmein"), false);
    assert.equal(await verifies(known, "Lètmein"), false);
    // Django never normalises a password: the decomposed è is another password.
    assert.equal(await verifies(known, "lètmein".normalize("NFD")), false);
  });

  test("reads the iterations, the salt and a key of the digest's length", () => {
    const reading = readDjangoHash(known);
    assert.equal(reading.status, "usable");
    if (reading.status !== "usable" || reading.hash.kind !== "pbkdf2") return;
    assert.equal(reading.hash.algorithm, "pbkdf2_sha256");
    assert.equal(reading.hash.iterations, 260_000);
    assert.equal(reading.hash.salt, "seasalt");
    assert.equal(reading.hash.key.length, 32);
  });

  test("pbkdf2_sha1 (Django's PBKDF2SHA1PasswordHasher) verifies too", async () => {
    const encoded = djangoPbkdf2("correct horse battery", "s4lt", 1000, "sha1");
    assert.equal(await verifies(encoded, "correct horse battery"), true);
    assert.equal(await verifies(encoded, "correct horse batterY"), false);
  });

  test("any password, salt and iteration count: its own hash verifies it, and only it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }),
        fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }),
        fc.stringMatching(/^[A-Za-z0-9]{1,24}$/),
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom("sha256" as const, "sha1" as const),
        async (password, other, salt, iterations, digest) => {
          const encoded = djangoPbkdf2(password, salt, iterations, digest);
          assert.equal(await verifies(encoded, password), true);
          assert.equal(await verifies(encoded, other), other === password);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("a hash altered anywhere is refused before any key is derived, or no longer verifies", async () => {
    const encoded = djangoPbkdf2("pw", "salt", 10);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: encoded.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1, unit: "binary-ascii" }),
        async (at, replacement) => {
          const altered = encoded.slice(0, at) + replacement + encoded.slice(at + 1);
          fc.pre(altered !== encoded);
          const reading = readDjangoHash(altered);
          if (reading.status === "usable") {
            // Only the salt or the iterations changed: a valid hash of something else.
            assert.equal(await verifyDjangoHash(reading.hash, "pw", hasher), false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test("malformed values are named as such, never thrown", () => {
    for (const value of [
      "pbkdf2_sha256$260000$seasalt",
      "pbkdf2_sha256$0$salt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
      "pbkdf2_sha256$-5$salt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
      "pbkdf2_sha256$99999999999$salt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
      "pbkdf2_sha256$260000$$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
      "pbkdf2_sha256$260000$salt$c2hvcnQ=",
      "pbkdf2_sha256$260000$salt$not base64!",
      "pbkdf2_sha256$260000$salt$key$extra",
      "pbkdf2_sha1$260000$salt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
    ]) {
      assert.equal(readDjangoHash(value).status, "malformed", value);
    }
  });

  test("the parser reads any text without throwing", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: "binary" }), (value) => {
        const reading = readDjangoHash(value);
        assert.ok(["usable", "unusable", "unsupported", "malformed"].includes(reading.status));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("argon2", () => {
  test("Django's argon2$argon2id$… verifies through the PHC form", async () => {
    const phc = await argon2Hash("correct horse battery", {
      algorithm: Algorithm.Argon2id,
      memoryCost: 64,
      timeCost: 1,
      parallelism: 2,
    });
    const django = `argon2${phc}`;
    assert.match(django, /^argon2\$argon2id\$v=19\$m=64,t=1,p=2\$/);
    assert.equal(await verifies(django, "correct horse battery"), true);
    assert.equal(await verifies(django, "correct horse batterY"), false);
  });

  test("the older form without a version (argon2i, v=16) verifies as argon2-cffi reads it", async () => {
    const phc = await argon2Hash("pw", {
      algorithm: Algorithm.Argon2i,
      memoryCost: 64,
      timeCost: 1,
      version: 0,
    });
    const django = `argon2${phc.replace("$v=16", "")}`;
    assert.match(django, /^argon2\$argon2i\$m=64/);
    assert.equal(await verifies(django, "pw"), true);
  });

  test("parameters beyond any Django release's are refused, so one row cannot hold a thread", () => {
    const tail = "$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    assert.equal(readDjangoHash(`argon2$argon2id$v=19$m=4194304,t=2,p=8${tail}`).status, "malformed");
    assert.equal(readDjangoHash(`argon2$argon2id$v=19$m=1024,t=0,p=8${tail}`).status, "malformed");
    assert.equal(readDjangoHash(`argon2$argon2id$v=18$m=1024,t=2,p=8${tail}`).status, "malformed");
    assert.equal(readDjangoHash(`argon2$argon2x$v=19$m=1024,t=2,p=8${tail}`).status, "malformed");
    assert.equal(readDjangoHash(`argon2$argon2id$v=19$m=102400,t=2,p=8${tail}`).status, "usable");
  });
});

describe("what cannot log in", () => {
  test('an unusable password (Django\'s "!…") or none at all', () => {
    assert.deepEqual(readDjangoHash("!Xk3u0c9XU1d7nZ6yCwQn3Qb6TqkDf2dH8s4VZr1w"), { status: "unusable" });
    assert.deepEqual(readDjangoHash(""), { status: "unusable" });
  });

  test("formats not verified here are named: bcrypt_sha256, md5, sha1, and anything unknown", () => {
    assert.deepEqual(
      readDjangoHash("bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuuV0Ykqv3p6mQlFJgkVZ5m9E3q1CZCu7S"),
      { status: "unsupported", format: "bcrypt_sha256" },
    );
    assert.deepEqual(readDjangoHash("md5$salt$0123"), { status: "unsupported", format: "md5" });
    assert.deepEqual(readDjangoHash("sha1$salt$0123"), { status: "unsupported", format: "sha1" });
    assert.deepEqual(readDjangoHash("plain text password"), {
      status: "unsupported",
      format: "unrecognised",
    });
    assert.equal(hashFormatOf(`${"x".repeat(41)}$1`), "unrecognised");
  });
});

describe("the login's check", () => {
  test("this service's argon2id, a Django PBKDF2 hash, and an unusable one", async () => {
    const own = await hasher.hash("pw one");
    assert.equal(isDjangoHash(own), false);
    assert.equal(await verifyStoredPassword(hasher, own, "pw one"), true);
    const django = djangoPbkdf2("pw two", "salt", 5);
    assert.equal(isDjangoHash(django), true);
    assert.equal(await verifyStoredPassword(hasher, django, "pw two"), true);
    assert.equal(await verifyStoredPassword(hasher, django, "pw one"), false);
    assert.equal(await verifyStoredPassword(hasher, "!unusable", ""), false);
  });

  test("a hash that logs nobody in costs the dummy hash's verification, as an unknown username does", async () => {
    const verified: string[] = [];
    const spy = {
      dummyHash: () => hasher.dummyHash(),
      verify(encoded: string, password: string) {
        verified.push(encoded);
        return hasher.verify(encoded, password);
      },
    };
    assert.equal(await verifyStoredPassword(spy, "!unusable", "anything"), false);
    assert.equal(await verifyStoredPassword(spy, "bcrypt_sha256$$2b$12$x", "anything"), false);
    const dummy = await hasher.dummyHash();
    assert.deepEqual(verified, [dummy, dummy]);
  });
});
