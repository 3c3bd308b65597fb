// Signing a webhook delivery the Standard Webhooks way (https://www.standardwebhooks.com/), so that
// integrators can verify it with that project's libraries in any language instead of our own code:
// `webhook-signature` is `v1,<base64 HMAC-SHA256 of "<id>.<unix seconds>.<body>">`, keyed with the
// base64-decoded part of a `whsec_…` secret. Several space-separated signatures may be sent; a
// receiver accepts the delivery when any one of them matches, which is what lets a secret rotate
// without a moment when deliveries fail: during the overlap both the new and the old secret sign.
import { createHmac, randomBytes } from "node:crypto";

const prefix = "whsec_";

// The specification asks for keys of 24 to 64 bytes; ours are 32.
const minKeyBytes = 24;
const maxKeyBytes = 64;

// Strict base64 (padding included): Buffer.from(…, "base64") would quietly skip anything else, and a
// secret pasted with a stray character must be refused, not turned into another key.
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `${prefix}${randomBytes(32).toString("base64")}`;
}

/** The HMAC key inside a `whsec_…` secret. Throws when the secret is malformed. */
export function parseWebhookSecret(secret: string): Buffer {
  if (!secret.startsWith(prefix)) throw new Error("A webhook secret starts with whsec_.");
  const encoded = secret.slice(prefix.length);
  if (!base64Pattern.test(encoded)) throw new Error("A webhook secret is whsec_ followed by base64.");
  const key = Buffer.from(encoded, "base64");
  if (key.length < minKeyBytes || key.length > maxKeyBytes) {
    throw new Error(`A webhook secret holds ${minKeyBytes} to ${maxKeyBytes} bytes.`);
  }
  return key;
}

export type SignatureHeaders = Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>;

/**
 * The three headers of one delivery. `secrets` are the endpoint's current secret and, during a
 * rotation, the previous one: each adds a `v1,` signature. `body` is signed as the exact string sent
 * (UTF-8), so the caller must send this very string.
 */
export function signatureHeaders(input: {
  id: string;
  timestamp: Date;
  body: string;
  secrets: string[];
}): SignatureHeaders {
  return webhookSigner(input.secrets)(input);
}

/**
 * signatureHeaders for many deliveries to one endpoint: its secrets are read into keys once (a
 * job's deliveries to an endpoint share them), not once per delivery.
 */
export function webhookSigner(
  secrets: string[],
): (delivery: { id: string; timestamp: Date; body: string }) => SignatureHeaders {
  if (secrets.length === 0) throw new Error("A webhook delivery needs at least one secret.");
  const keys = secrets.map(parseWebhookSecret);
  return ({ id, timestamp, body }) => {
    const seconds = Math.floor(timestamp.getTime() / 1000);
    if (!Number.isSafeInteger(seconds)) throw new Error("A webhook delivery needs a valid timestamp.");
    const signed = `${id}.${seconds}.${body}`;
    const signatures = keys.map(
      (key) => `v1,${createHmac("sha256", key).update(signed, "utf8").digest("base64")}`,
    );
    return {
      "webhook-id": id,
      "webhook-timestamp": String(seconds),
      "webhook-signature": signatures.join(" "),
    };
  };
}
