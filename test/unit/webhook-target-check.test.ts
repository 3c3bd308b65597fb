// Where webhooks may go: the static check of an endpoint's address, the address rules, and the
// lookup that checks what a name resolves to before connecting.
import assert from "node:assert/strict";
import type { LookupAddress, LookupOptions } from "node:dns";
import { test } from "node:test";
import {
  allowedAddressProblem,
  checkDeliveryUrl,
  checkWebhookUrl,
  isRefusedAddress,
  safeLookup,
  type TargetPolicy,
} from "../../src/webhooks/target-check.js";

const production: TargetPolicy = { requireHttps: true, allowedAddresses: [] };
const lenient: TargetPolicy = { requireHttps: false, allowedAddresses: [] };
const local: TargetPolicy = { requireHttps: false, allowedAddresses: ["127.0.0.1"] };

const internal = /private, local or reserved network address/;

// [address, policy, why it is refused]
const refused: [string, TargetPolicy, RegExp][] = [
  ["http://127.0.0.1/", lenient, /127\.0\.0\.1, a private, local or reserved/],
  ["http://localhost/", lenient, /this server itself \(localhost\)/],
  ["http://LOCALHOST./hook", lenient, /localhost/],
  ["http://api.localhost/", lenient, /localhost/],
  ["http://[::1]/", lenient, /::1, a private/],
  ["http://0.0.0.0/", lenient, internal],
  ["http://10.1.2.3/", lenient, internal],
  ["http://172.16.0.1/", lenient, internal],
  ["http://172.31.255.255/", lenient, internal],
  ["http://192.168.1.1/", lenient, internal],
  ["http://169.254.169.254/latest/meta-data/", lenient, /169\.254\.169\.254/],
  ["http://[fe80::1]/", lenient, internal],
  ["http://[fd00::1]/", lenient, internal],
  ["http://[::ffff:127.0.0.1]/", lenient, /::ffff:7f00:1/],
  ["http://[::ffff:7f00:1]/", lenient, internal],
  ["http://[::ffff:a9fe:a9fe]/", lenient, internal],
  ["http://[64:ff9b::a9fe:a9fe]/", lenient, internal],
  ["http://[2002:7f00:1::]/", lenient, internal],
  ["http://[::]/", lenient, internal],
  ["http://[ff02::1]/", lenient, internal],
  ["http://2130706433/", lenient, /127\.0\.0\.1/],
  ["http://0x7f.1/", lenient, /127\.0\.0\.1/],
  ["http://127.1/", lenient, /127\.0\.0\.1/],
  ["http://0177.0.0.1/", lenient, /127\.0\.0\.1/],
  ["http://100.64.0.1/", lenient, internal],
  ["http://198.18.0.1/", lenient, internal],
  ["http://224.0.0.1/", lenient, internal],
  ["http://255.255.255.255/", lenient, internal],
  ["http://user:pass@example.com/", lenient, /must not contain a user name or password/],
  ["https://user@example.com/", production, /must not contain a user name or password/],
  ["ftp://example.com/", lenient, /must start with https:\/\/ or http:\/\//],
  ["file:///etc/passwd", lenient, /must start with https:\/\/ or http:\/\//],
  ["javascript:alert(1)", lenient, /must start with https:\/\/ or http:\/\//],
  ["ftp://example.com/", production, /must start with https:\/\/\.$/],
  ["http://example.com/", production, /must use https:\/\//],
  ["example.com/hook", lenient, /Enter a full web address/],
  ["", lenient, /Enter a full web address/],
  ["http://", lenient, /Enter a full web address/],
  [`https://example.com/${"a".repeat(2000)}`, production, /too long: at most 2000 characters/],
  ["http://127.0.0.2/", local, internal],
  ["http://[::1]/", local, internal],
];

test("addresses webhooks must not go to are refused, each with its reason", () => {
  for (const [text, policy, reason] of refused) {
    const checked = checkWebhookUrl(text, policy);
    assert.equal(checked.ok, false, text);
    if (!checked.ok) assert.match(checked.reason, reason, text);
  }
});

test("public addresses are allowed, and internal ones the policy allows", () => {
  const allowed: [string, TargetPolicy][] = [
    ["https://example.com/hook", production],
    ["https://example.com:8443/hook?key=1", production],
    ["http://example.com/hook", lenient],
    ["https://93.184.215.14/", production],
    ["https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", production],
    ["https://[64:ff9b::5db8:d70e]/", production],
    ["http://127.0.0.1:1234/", local],
    ["http://localhost:1234/", local],
    [`https://example.com/${"a".repeat(1970)}`, production],
    ["http://10.1.2.3/", { requireHttps: false, allowedAddresses: ["10.0.0.0/8"] }],
    ["http://[::ffff:10.1.2.3]/", { requireHttps: false, allowedAddresses: ["10.0.0.0/8"] }],
    ["http://[fd00::1]/", { requireHttps: false, allowedAddresses: ["fd00::/8"] }],
  ];
  for (const [text, policy] of allowed) {
    const checked = checkWebhookUrl(text, policy);
    assert.ok(checked.ok, `${text}: ${checked.ok ? "" : checked.reason}`);
    assert.equal(checked.url.href, new URL(text).href);
  }
});

test("the check before each delivery leaves names to the lookup, literal addresses it refuses", () => {
  assert.equal(checkDeliveryUrl("http://localhost:1234/", lenient).ok, true);
  assert.equal(checkDeliveryUrl("http://127.0.0.1:1234/", lenient).ok, false);
  assert.equal(checkDeliveryUrl("http://example.com/", production).ok, false);
});

test("the address rules: IPv4, IPv6, IPv4 inside IPv6, and the allowed list", () => {
  const refusedAddresses = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "100.127.255.255",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "192.0.0.8",
    "192.0.2.1",
    "192.168.0.1",
    "198.19.255.255",
    "198.51.100.7",
    "203.0.113.9",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "[::1]",
    "fc00::1",
    "fdff:ffff::1",
    "fe80::1",
    "fe80::1%eth0",
    "febf::1",
    "ff02::1",
    "64:ff9b::7f00:1",
    "64:ff9b::10.0.0.1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:192.168.1.1",
    "::127.0.0.1",
    "not an address",
    "",
    "example.com",
  ];
  for (const address of refusedAddresses) assert.ok(isRefusedAddress(address, lenient), address);
  const publicAddresses = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.169.0.1",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
  ];
  for (const address of publicAddresses) assert.ok(!isRefusedAddress(address, lenient), address);

  const allowing = (...allowedAddresses: string[]): TargetPolicy => ({
    requireHttps: false,
    allowedAddresses,
  });
  assert.ok(!isRefusedAddress("127.0.0.1", allowing("127.0.0.1")));
  assert.ok(isRefusedAddress("127.0.0.2", allowing("127.0.0.1")));
  assert.ok(!isRefusedAddress("::ffff:127.0.0.1", allowing("127.0.0.1")));
  assert.ok(!isRefusedAddress("10.200.0.1", allowing("10.0.0.0/8")));
  assert.ok(isRefusedAddress("192.168.0.1", allowing("10.0.0.0/8")));
  assert.ok(!isRefusedAddress("::1", allowing("::1")));
  assert.ok(!isRefusedAddress("fd12::1", allowing("fc00::/7")));
  assert.throws(() => isRefusedAddress("127.0.0.1", allowing("localhost")), /not an IP address/);
});

test("the allowed addresses setting's entries are IPs or CIDRs", () => {
  for (const entry of ["127.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "::1", "fd00::/8", "::/128"]) {
    assert.equal(allowedAddressProblem(entry), null, entry);
  }
  for (const entry of ["localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/x", ""]) {
    assert.notEqual(allowedAddressProblem(entry), null, entry);
  }
});

function lookUp(
  policy: TargetPolicy,
  hostname: string,
  options: LookupOptions,
): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve) => {
    safeLookup(policy)(hostname, options, (error, address, family) => resolve({ error, address, family }));
  });
}

test("the lookup refuses a name that resolves to loopback, with or without all: true", async () => {
  for (const options of [{}, { all: true }, { family: 4 }, { all: true, family: 4 }]) {
    const { error } = await lookUp(lenient, "localhost", options);
    assert.equal(error?.code, "EWEBHOOKTARGET", JSON.stringify(options));
    assert.match(
      error?.message ?? "",
      /^localhost resolves to (127\.0\.0\.1|::1), a private, local or reserved/,
    );
  }
});

test("the lookup refuses a literal internal address, and answers an allowed one in both shapes", async () => {
  assert.equal((await lookUp(lenient, "169.254.169.254", {})).error?.code, "EWEBHOOKTARGET");
  assert.equal((await lookUp(lenient, "::ffff:127.0.0.1", { all: true })).error?.code, "EWEBHOOKTARGET");
  assert.deepEqual(await lookUp(local, "127.0.0.1", {}), { error: null, address: "127.0.0.1", family: 4 });
  const all = await lookUp(local, "127.0.0.1", { all: true });
  assert.equal(all.error, null);
  assert.deepEqual(all.address, [{ address: "127.0.0.1", family: 4 }]);
  const named = await lookUp(local, "localhost", { family: 4, all: true });
  assert.deepEqual(named.address, [{ address: "127.0.0.1", family: 4 }]);
});

test("the lookup passes a resolver's own error on", async () => {
  const { error } = await lookUp(lenient, "no-such-host.invalid", {});
  assert.ok(error);
  assert.notEqual(error.code, "EWEBHOOKTARGET");
});
