import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkLoginForm, checkSignupForm } from "../../src/accounts/forms.js";
import { messages } from "../../src/accounts/messages.js";
import { commonPasswordCount, passwordProblems, quickRatio } from "../../src/accounts/password-policy.js";
import { normalizeUsername, usernameKey, usernameProblems } from "../../src/accounts/username.js";

const strong = "correct horse battery";

describe("usernames", () => {
  test("letters, digits and @ . + - _ are valid, in any script", () => {
    for (const name of ["alice", "bob.smith+test@example.com", "a_b-c", "Zoë", "用户", "иван", "user42"]) {
      assert.deepEqual(usernameProblems(name), [], name);
    }
  });

  test("spaces, punctuation and control characters are not", () => {
    for (const name of ["a b", "a/b", "<script>", "a\u0000b", "a\tb", "x'; DROP TABLE users;--", "a#b"]) {
      assert.deepEqual(usernameProblems(name), [messages.invalidUsername], JSON.stringify(name));
    }
  });

  test("more than 150 characters gives Django's message with the count", () => {
    assert.deepEqual(usernameProblems("a".repeat(151)), [
      "Ensure this value has at most 150 characters (it has 151).",
    ]);
    assert.deepEqual(usernameProblems("a".repeat(150)), []);
  });

  test("length counts characters, not UTF-16 units", () => {
    assert.deepEqual(usernameProblems("𝒜".repeat(150)), []);
  });

  test("the key is NFKC-normalised and case-folded", () => {
    assert.equal(usernameKey("Alice"), usernameKey("ALICE"));
    assert.equal(usernameKey("ａｌｉｃｅ"), usernameKey("alice"));
    assert.equal(usernameKey("straße"), usernameKey("STRASSE"));
    assert.notEqual(usernameKey("alice"), usernameKey("alicia"));
    assert.equal(normalizeUsername("ａｌｉｃｅ"), "alice");
  });
});

describe("password rules", () => {
  test("a password of 123 breaks the last three rules, reported together", () => {
    assert.deepEqual(passwordProblems("123", { username: "alice" }), [
      "This password is too short. It must contain at least 8 characters.",
      "This password is too common.",
      "This password is entirely numeric.",
    ]);
  });

  test("a strong password passes every rule", () => {
    assert.deepEqual(passwordProblems(strong, { username: "alice" }), []);
  });

  test("a password like the username is too similar", () => {
    assert.deepEqual(passwordProblems("alice2024x", { username: "alice2024" }), [
      messages.passwordTooSimilar,
    ]);
    assert.deepEqual(passwordProblems("smith.john!", { username: "john.smith" }), [
      messages.passwordTooSimilar,
    ]);
  });

  test("a long password sharing a few letters with a short username is fine", () => {
    assert.deepEqual(passwordProblems("a quiet meadow at dawn", { username: "al" }), []);
  });

  test("common passwords come from a list of tens of thousands, case-insensitively", () => {
    assert.ok(commonPasswordCount() > 20_000);
    assert.deepEqual(passwordProblems("Password1", { username: "zed" }), [messages.passwordTooCommon]);
    assert.deepEqual(passwordProblems("qwertyuiop", { username: "zed" }), [messages.passwordTooCommon]);
  });

  test("an all-digit password that is long and rare is still refused as numeric", () => {
    assert.deepEqual(passwordProblems("804719263501", { username: "zed" }), [
      messages.passwordEntirelyNumeric,
    ]);
  });

  test("quickRatio matches difflib's quick_ratio", () => {
    assert.equal(quickRatio("abcd", "bcde"), 0.75);
    assert.equal(quickRatio("", ""), 1);
    assert.equal(quickRatio("aaa", "a"), 0.5);
  });
});

describe("sign-up form", () => {
  test("every missing field is required", () => {
    const { errors } = checkSignupForm({});
    assert.deepEqual(errors, {
      username: [messages.required],
      password1: [messages.required],
      password2: [messages.required],
    });
  });

  test("blank and whitespace-only usernames are required, not invalid", () => {
    assert.deepEqual(checkSignupForm({ username: "   ", password1: strong, password2: strong }).errors, {
      username: [messages.required],
    });
  });

  test("mismatched passwords give only the mismatch message, under password2", () => {
    assert.deepEqual(
      checkSignupForm({ username: "alice", password1: strong, password2: `${strong}!` }).errors,
      {
        password2: ["The two password fields didn’t match."],
      },
    );
  });

  test("a password over 1,024 characters is refused before any rule or hash", () => {
    const long = "x".repeat(1025);
    const { errors, value: form } = checkSignupForm({ username: "alice", password1: long, password2: long });
    assert.equal(form, null);
    assert.deepEqual(errors.password1, ["Ensure this value has at most 1024 characters (it has 1025)."]);
  });

  test("non-string values count as missing", () => {
    assert.deepEqual(checkSignupForm({ username: 5, password1: ["a"], password2: { a: 1 } }).errors, {
      username: [messages.required],
      password1: [messages.required],
      password2: [messages.required],
    });
  });

  test("a valid form is cleaned: the username trimmed and NFKC-normalised", () => {
    const { value: form, errors } = checkSignupForm({
      username: " ａｌｉｃｅ ",
      password1: strong,
      password2: strong,
    });
    assert.deepEqual(errors, {});
    assert.deepEqual(form, { username: "alice", password: strong, email: null });
  });

  test("login needs both fields", () => {
    assert.deepEqual(checkLoginForm({ username: "" }).errors, {
      username: [messages.required],
      password: [messages.required],
    });
  });
});
