// The signatures are checked with the Standard Webhooks project's own library, the one integrators
// use, not with our code: a delivery it accepts is one their receivers accept.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { newWebhookSecret, parseWebhookSecret, signatureHeaders } from "../../src/webhooks/signing.js";

const body = JSON.stringify({
  id: "evt_1",
  type: "referral.approved",
  timestamp: "2026-01-01T00:00:00Z",
  data: {},
});

function verifies(secret: string, payload: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(secret).verify(payload, headers);
    return true;
  } catch {
    return false;
  }
}

test("a new secret is whsec_ and the base64 of 32 random bytes, and parses back to them", () => {
  const secret = newWebhookSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(parseWebhookSecret(secret).length, 32);
  assert.notEqual(newWebhookSecret(), secret);
});

test("a malformed secret is refused", () => {
  const key = Buffer.alloc(32, 7).toString("base64");
  assert.equal(parseWebhookSecret(`whsec_${key}`).length, 32);
  for (const bad of ["", key, "whsec_", `whsec_${key.slice(0, -1)}`, `whsec_${key}!`, `whsec_ ${key}`]) {
    assert.throws(() => parseWebhookSecret(bad), Error, JSON.stringify(bad));
  }
  assert.throws(() => parseWebhookSecret(`whsec_${Buffer.alloc(16).toString("base64")}`), /24 to 64 bytes/);
  assert.throws(() => parseWebhookSecret(`whsec_${Buffer.alloc(65).toString("base64")}`), /24 to 64 bytes/);
});

test("a delivery signed with one secret verifies with it, and its headers are the specification's", () => {
  const secret = newWebhookSecret();
  const timestamp = new Date();
  const headers = signatureHeaders({ id: "evt_1", timestamp, body, secrets: [secret] });
  assert.deepEqual(Object.keys(headers).sort(), ["webhook-id", "webhook-signature", "webhook-timestamp"]);
  assert.equal(headers["webhook-id"], "evt_1");
  assert.equal(headers["webhook-timestamp"], String(Math.floor(timestamp.getTime() / 1000)));
  assert.match(headers["webhook-signature"], /^v1,[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
});

test("during a rotation both secrets sign, and either one alone verifies", () => {
  const [fresh, old] = [newWebhookSecret(), newWebhookSecret()];
  const headers = signatureHeaders({ id: "evt_2", timestamp: new Date(), body, secrets: [fresh, old] });
  assert.match(headers["webhook-signature"], /^v1,\S+ v1,\S+$/);
  assert.ok(verifies(fresh, body, headers), "the new secret");
  assert.ok(verifies(old, body, headers), "the previous secret");
  assert.ok(!verifies(newWebhookSecret(), body, headers), "a third secret");
});

test("a changed body, id or timestamp, or a wrong secret, fails", () => {
  const secret = newWebhookSecret();
  const timestamp = new Date();
  const headers = signatureHeaders({ id: "evt_3", timestamp, body, secrets: [secret] });
  assert.ok(verifies(secret, body, headers));
  assert.ok(!verifies(secret, body.replace("approved", "rejected"), headers), "body");
  assert.ok(!verifies(secret, `${body} `, headers), "re-serialised body");
  assert.ok(!verifies(secret, body, { ...headers, "webhook-id": "evt_4" }), "id");
  const earlier = String(Number(headers["webhook-timestamp"]) - 1);
  assert.ok(!verifies(secret, body, { ...headers, "webhook-timestamp": earlier }), "timestamp");
  assert.ok(!verifies(newWebhookSecret(), body, headers), "secret");
});

test("a timestamp outside the library's five minutes' tolerance fails, inside it passes", () => {
  const secret = newWebhookSecret();
  const at = (offsetSeconds: number) =>
    signatureHeaders({
      id: "evt_5",
      timestamp: new Date(Date.now() + offsetSeconds * 1000),
      body,
      secrets: [secret],
    });
  assert.ok(verifies(secret, body, at(-240)));
  assert.ok(verifies(secret, body, at(240)));
  assert.throws(() => new Webhook(secret).verify(body, at(-360)), /too old/);
  assert.throws(() => new Webhook(secret).verify(body, at(360)), /too new/);
});

test("no secret, no delivery", () => {
  assert.throws(() => signatureHeaders({ id: "evt_6", timestamp: new Date(), body, secrets: [] }), /secret/);
});

test("any id and JSON body round-trip through the library's verify", () => {
  const secrets = [newWebhookSecret(), newWebhookSecret()];
  fc.assert(
    fc.property(
      fc.string({ unit: "binary", minLength: 1 }),
      fc.json({ depthSize: "small" }),
      fc.integer({ min: -290, max: 290 }),
      fc.integer({ min: 1, max: 2 }),
      (id, payload, offsetSeconds, count) => {
        const timestamp = new Date(Date.now() + offsetSeconds * 1000);
        const headers = signatureHeaders({ id, timestamp, body: payload, secrets: secrets.slice(0, count) });
        assert.deepEqual(new Webhook(secrets[0] as string).verify(payload, headers), JSON.parse(payload));
      },
    ),
  );
});

test("any body, JSON or not, verifies as the exact text signed", () => {
  const secret = newWebhookSecret();
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (text) => {
      const headers = signatureHeaders({ id: "msg_1", timestamp: new Date(), body: text, secrets: [secret] });
      new Webhook(secret).verify(text, headers, { jsonParse: false });
    }),
  );
});
