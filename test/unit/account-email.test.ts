// The pure parts of addresses, recovery and deletion: the sign-up form's optional address, the new
// password's checks, the link tokens, the counters that never name an address, the deleted names.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkNewPassword,
  checkSignupForm,
  deletedAccountName,
  isDeletedAccountName,
} from "../../src/accounts/forms.js";
import { linkEmailCounters } from "../../src/accounts/throttle.js";
import { emailTokenHashOf, hashEmailToken, newEmailToken } from "../../src/email/tokens.js";
import { FieldErrorList } from "../../src/errors.js";
import { emailStateJson } from "../../src/web/routes/email-address.js";
import { emailSection } from "../../src/web/views/address-pages.js";

const base = { username: "alice", password1: "correct horse battery", password2: "correct horse battery" };
const throttle = { windowSeconds: 900, loginFailuresPerWindow: 10, signupsPerWindow: 20 };

test("the sign-up's address is optional: missing, empty, blank or not text is none", () => {
  for (const email of [undefined, "", "   ", 42, null, ["a@b.example"]]) {
    const form = checkSignupForm(email === undefined ? base : { ...base, email });
    assert.deepEqual(form.errors, {}, String(email));
    assert.equal(form.value?.email, null);
  }
});

test("the sign-up's address is checked and kept as typed with the domain lower-cased", () => {
  const form = checkSignupForm({ ...base, email: "  Bob.Smith@Mail.Example.COM " });
  assert.deepEqual(form.value?.email, {
    address: "Bob.Smith@mail.example.com",
    key: "Bob.Smith@mail.example.com",
  });
  const bad = checkSignupForm({ ...base, email: "bob@" });
  assert.equal(bad.value, null);
  assert.equal(bad.email, null);
  assert.deepEqual(bad.errors, { email: ["Enter a valid email address."] });
  // With the other fields' errors, in one answer.
  const together = checkSignupForm({ username: "", password1: "x", password2: "y", email: "nope" });
  assert.deepEqual(Object.keys(together.errors).sort(), ["email", "password2", "username"]);
  // A good address is kept while other fields fail, so a taken one can be reported with them.
  assert.deepEqual(checkSignupForm({ ...base, password2: "other", email: "a@b.example" }).email, {
    address: "a@b.example",
    key: "a@b.example",
  });
});

test("a new password: the sign-up's rules, under password2 for JSON clients and password1 on pages", () => {
  const errors = new FieldErrorList();
  assert.equal(checkNewPassword({ password1: "123", password2: "123" }, "alice", "django", errors), null);
  assert.deepEqual(Object.keys(errors.fields), ["password2"]);
  const page = new FieldErrorList();
  assert.equal(checkNewPassword({ password1: "alice123", password2: "other" }, "alice", "page", page), null);
  assert.ok(page.fields.password1?.includes("The password is too similar to the username."));
  assert.deepEqual(page.fields.password2, ["The two password fields didn’t match."]);
  const fine = new FieldErrorList();
  assert.equal(
    checkNewPassword(
      { password1: "plum orbit lantern", password2: "plum orbit lantern" },
      "alice",
      "page",
      fine,
    ),
    "plum orbit lantern",
  );
  assert.ok(fine.empty);
});

test("link tokens: 256 random bits in the link, a hash of them stored, anything else never looked up", () => {
  const { token, hash } = newEmailToken();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(hash, hashEmailToken(token));
  assert.notEqual(hash, token);
  assert.equal(emailTokenHashOf(token), hash);
  assert.notEqual(newEmailToken().token, token);
  for (const bad of ["", "short", `${token}x`, `${token.slice(1)}=`, 42, null, undefined]) {
    assert.equal(emailTokenHashOf(bad), null, String(bad));
  }
});

test("the counters of link messages name a digest of the address, the same for any case of the domain", () => {
  const now = Date.parse("2026-11-29T10:07:00Z");
  const counters = linkEmailCounters("reset", "Ann@example.com", throttle, now);
  assert.doesNotMatch(counters.address.bucket, /Ann|example/);
  assert.match(counters.address.bucket, /^reset:addr:[A-Za-z0-9_-]{32}$/);
  assert.equal(counters.address.limit, 3);
  assert.equal(counters.accountPrefix, "reset:user:");
  assert.equal(counters.windowStart.toISOString(), "2026-11-29T10:00:00.000Z");
  assert.equal(linkEmailCounters("verify", "Ann@example.com", throttle, now).limit, 5);
  assert.notEqual(
    linkEmailCounters("verify", "Ann@example.com", throttle, now).address.bucket,
    counters.address.bucket,
  );
});

test("deleted accounts' names", () => {
  assert.equal(deletedAccountName(42), "deleted-42");
  assert.ok(isDeletedAccountName("deleted-42"));
  assert.ok(isDeletedAccountName("Deleted-7"));
  assert.ok(!isDeletedAccountName("deleted-"));
  assert.ok(!isDeletedAccountName("deleted-4x"));
  assert.ok(!isDeletedAccountName("undeleted-4"));
});

test("the addresses' state for programs and for the dashboard", () => {
  assert.deepEqual(emailStateJson({ email: null, pendingEmail: null }), {
    email: null,
    email_verified: false,
    email_pending: null,
  });
  assert.deepEqual(emailStateJson({ email: null, pendingEmail: "a@b.example" }), {
    email: "a@b.example",
    email_verified: false,
    email_pending: "a@b.example",
  });
  assert.deepEqual(emailStateJson({ email: "old@b.example", pendingEmail: "new@b.example" }), {
    email: "old@b.example",
    email_verified: true,
    email_pending: "new@b.example",
  });
  const now = Date.now();
  const user = { email: null, pendingEmail: "a@b.example" };
  assert.equal(emailSection(user, { pendingExpiresAt: new Date(now + 1000) }, now).pending?.expired, false);
  assert.equal(emailSection(user, { pendingExpiresAt: new Date(now) }, now).pending?.expired, true);
  // The link's row already forgotten by the housekeeping: expired.
  assert.equal(emailSection(user, { pendingExpiresAt: null }, now).pending?.expired, true);
});
