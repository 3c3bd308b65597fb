import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { outboxKinds, outboxStatuses } from "../../src/db/schema.js";
import { EMAIL_INVALID, EMAIL_TOO_LONG, maskEmail, parseEmail } from "../../src/email/address.js";
import { renderMessage, resetLinkShownToStaff } from "../../src/email/messages.js";
import { escapeHtml } from "../../src/web/html.js";

describe("email addresses", () => {
  test("the domain's case does not matter; the local part is kept as typed", () => {
    assert.deepEqual(parseEmail("  Alice.Smith@Example.COM "), {
      address: "Alice.Smith@example.com",
      key: "Alice.Smith@example.com",
    });
    assert.equal(
      (parseEmail("bob@EXAMPLE.org") as { key: string }).key,
      (parseEmail("bob@example.ORG") as { key: string }).key,
    );
  });

  test("what is not an address is refused with Django's message", () => {
    for (const bad of [
      "",
      "@",
      "a@",
      "@b.com",
      "a b@c.com",
      "a@b",
      "a@-b.com",
      "a@b.c",
      "a..b@c.com",
      "a@b..com",
    ]) {
      assert.deepEqual(parseEmail(bad), { error: EMAIL_INVALID }, bad);
    }
    assert.deepEqual(parseEmail(`${"a".repeat(250)}@b.com`), { error: EMAIL_TOO_LONG });
  });

  test("masking keeps the first letter and the domain only", () => {
    assert.equal(maskEmail("alice@example.com"), "a…@example.com");
  });
});

describe("messages", () => {
  test("every kind renders a subject, text and HTML in which every value is escaped", () => {
    fc.assert(
      // Values that are markup: none may reach the HTML part as markup.
      fc.property(
        fc.constantFrom(...outboxKinds),
        fc.string(),
        fc.string(),
        (kind, plainName, plainOther) => {
          const name = `<b>${plainName}`;
          const other = `<i title="${plainOther}">`;
          const params = { username: name, friend: other, reason: other, token: "t0k", amount_cents: 1234 };
          const message = renderMessage(kind, params, { origin: "https://refer.test" });
          assert.ok(message.subject.length > 0);
          assert.ok(message.text.includes(name), "the text part says the name as is");
          assert.ok(!message.html.includes("<b>") && !message.html.includes("<i "), "markup went through");
          assert.ok(message.html.includes(escapeHtml(name)), "the name is there, escaped");
        },
      ),
    );
  });

  test("a notification's footer links to its unsubscribe address; a reset has none", () => {
    const unsubscribeUrl = "https://refer.test/email/unsubscribe/?token=1.notify_rewards.x";
    const reward = renderMessage(
      "reward_earned",
      { username: "a", amount_cents: 1000 },
      {
        origin: "https://refer.test",
        unsubscribeUrl,
      },
    );
    assert.ok(reward.text.includes(unsubscribeUrl));
    assert.ok(reward.html.includes(unsubscribeUrl.replace(/&/g, "&amp;")));
    const reset = renderMessage(
      "password_reset",
      { username: "a", token: "abc" },
      { origin: "https://refer.test" },
    );
    assert.match(reset.text, /https:\/\/refer\.test\/password\/reset\/\?token=abc/);
    assert.doesNotMatch(reset.text, /unsubscribe/);
  });
});

describe("what staff may read at /admin/outbox/", () => {
  test("a reset link only where staff carry the mail: kept, outside production", () => {
    for (const nodeEnv of ["development", "test", "production"]) {
      for (const status of outboxStatuses) {
        assert.equal(
          resetLinkShownToStaff({ kind: "password_reset", status }, nodeEnv),
          status === "kept" && nodeEnv !== "production",
          `${status} in ${nodeEnv}`,
        );
      }
    }
  });

  test("every other kind's link is shown whatever its status", () => {
    for (const kind of outboxKinds.filter((k) => k !== "password_reset")) {
      for (const status of outboxStatuses) {
        assert.equal(resetLinkShownToStaff({ kind, status }, "production"), true, `${kind} ${status}`);
      }
    }
  });
});
