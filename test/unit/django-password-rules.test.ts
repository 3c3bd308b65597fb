// The password rules against Django 3.2's own validators: test/fixtures/django-password-validation.json
// holds their verdicts (written by the Python script beside it), so no Python is needed here.
// Where Django refuses a password the messages must be Django's, word for word and in its order;
// where Django accepts one, the only extra refusal allowed is zxcvbn's "too common".
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { djangoCommonPasswordText } from "../../src/accounts/django-common-passwords.js";
import { messages } from "../../src/accounts/messages.js";
import { notEntirelyNumeric, passwordProblems } from "../../src/accounts/password-policy.js";

interface DjangoVerdicts {
  commonList: { entries: number; sha256: string; tally: Record<string, number> };
  isdigitRanges: [number, number][];
  cases: [username: string, password: string, messages: string[]][];
}

const django: DjangoVerdicts = JSON.parse(
  readFileSync(new URL("../fixtures/django-password-validation.json", import.meta.url), "utf8"),
);
const commonList = djangoCommonPasswordText.split("\n").map((line) => line.trim());

test("the shipped list is Django's, entry for entry", () => {
  assert.equal(commonList.length, django.commonList.entries);
  assert.equal(createHash("sha256").update(commonList.join("\n")).digest("hex"), django.commonList.sha256);
});

test("every entry of Django's list is refused as too common, with Django's other messages", () => {
  const tally: Record<string, number> = {};
  for (const entry of commonList) {
    const problems = passwordProblems(entry, { username: "" });
    // The list is ASCII: Django adds "too short" under 8 characters and "entirely numeric" for digits.
    const expected = [
      ...(entry.length < 8 ? [messages.passwordTooShort(8)] : []),
      messages.passwordTooCommon,
      ...(/^[0-9]+$/.test(entry) ? [messages.passwordEntirelyNumeric] : []),
    ];
    assert.deepEqual(problems, expected, entry);
    const key = problems.join(" | ");
    tally[key] = (tally[key] ?? 0) + 1;
  }
  assert.deepEqual(tally, django.commonList.tally);
});

test("entries are matched whatever their case and the whitespace Python strips around them", () => {
  for (const entry of commonList) {
    const disguised = `\u001c\u3000${entry.toUpperCase()} \u0085\t`;
    assert.ok(
      passwordProblems(disguised, { username: "" }).includes(messages.passwordTooCommon),
      JSON.stringify(disguised),
    );
  }
});

test("Django's verdicts on chosen and generated passwords, with and without a username", () => {
  let refusedBeyondDjango = 0;
  for (const [username, password, expected] of django.cases) {
    const problems = passwordProblems(password, { username });
    const label = JSON.stringify([username, password]);
    if (expected.length > 0) {
      assert.deepEqual(problems, expected, label);
    } else {
      if (problems.length > 0) refusedBeyondDjango++;
      assert.ok(problems.length === 0 || problems.join() === messages.passwordTooCommon, label);
    }
  }
  // Most of what Django accepts is accepted here too: the extra rule is not a blanket refusal.
  const accepted = django.cases.filter(([, , expected]) => expected.length === 0).length;
  assert.ok(refusedBeyondDjango < accepted / 4, `${refusedBeyondDjango} of ${accepted}`);
});

test("the issue's examples: listed words with digits are too common, other digits are numeric", () => {
  for (const password of ["computer2", "justdoit1", "baseball17", "simpsons1", "jessica23", "lonewolf1"]) {
    assert.deepEqual(passwordProblems(password, { username: "" }), [messages.passwordTooCommon], password);
  }
  for (const password of ["²⁷³⁹¹⁴⁵⁶⁸⁰", "₃₁₄₁₅₉₂₆₅₃", "①②③④⑤⑥⑦⑧", "٠١٢٣٤٥٦٧٨٩", "１２３４５６７８"]) {
    assert.deepEqual(
      passwordProblems(password, { username: "" }),
      [messages.passwordEntirelyNumeric],
      password,
    );
  }
  // Numbers that are not digits to Python: ⑩ and ½ have numeric values but no digit value.
  for (const password of ["⑩⑪⑫⑬⑭⑮⑯⑰", "½½½½½½½½", "ⅠⅡⅢⅣⅤⅥⅦⅧ", "一二三四五六七八"]) {
    assert.equal(notEntirelyNumeric.check(password, { username: "" }), null, password);
  }
});

test("entirely numeric means Python's str.isdigit(), for every code point", () => {
  const digits = new Set<number>();
  for (const [first, last] of django.isdigitRanges) for (let c = first; c <= last; c++) digits.add(c);
  const wrong: string[] = [];
  for (let code = 0; code <= 0x10ffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const numeric = notEntirelyNumeric.check(String.fromCodePoint(code).repeat(2), { username: "" }) !== null;
    if (numeric !== digits.has(code)) wrong.push(code.toString(16));
  }
  assert.deepEqual(wrong, []);
  // A digit among other characters does not make the password numeric.
  assert.equal(notEntirelyNumeric.check("①②③a", { username: "" }), null);
});
