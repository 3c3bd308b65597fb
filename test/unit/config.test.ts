import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("configuration", () => {
  test("defaults: port 8000, all addresses, PGlite in ./data, $10 / $10 / every 5th", () => {
    const config = loadConfig({});
    assert.equal(config.port, 8000);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.dataDir, "./data");
    assert.deepEqual(config.program, {
      inviteeRewardCents: 1000,
      inviterRewardCents: 1000,
      referralsPerInviterReward: 5,
    });
    assert.equal(config.session.maxAgeSeconds, 14 * 24 * 3600);
    assert.equal(config.trustProxy, false);
    assert.equal(config.hashingThreadNice, 10);
  });

  test("the programme's three numbers come from the environment", () => {
    const config = loadConfig({
      INVITEE_REWARD_CENTS: "500",
      INVITER_REWARD_CENTS: "2500",
      REFERRALS_PER_INVITER_REWARD: "3",
    });
    assert.deepEqual(config.program, {
      inviteeRewardCents: 500,
      inviterRewardCents: 2500,
      referralsPerInviterReward: 3,
    });
  });

  test("a bad value stops start-up with a message naming the variable", () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ PORT: "eighty" }, /^PORT: must be a whole number/],
      [{ PORT: "70000" }, /^PORT: must be between 0 and 65535/],
      [{ REFERRALS_PER_INVITER_REWARD: "0" }, /^REFERRALS_PER_INVITER_REWARD/],
      [{ INVITEE_REWARD_CENTS: "10.5" }, /^INVITEE_REWARD_CENTS/],
      [{ DATABASE_URL: "mysql://x" }, /^DATABASE_URL: must start with postgres:\/\//],
      [{ DATABASE_URL: "not a url" }, /^DATABASE_URL: is not a valid URL/],
      [{ TRUST_PROXY: "maybe" }, /^TRUST_PROXY/],
      [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL/],
      [{ PUBLIC_ORIGIN: "ftp://x" }, /^PUBLIC_ORIGIN/],
      [{ HASHING_THREAD_NICE: "20" }, /^HASHING_THREAD_NICE: must be between 0 and 19/],
      [{ HASHING_THREAD_NICE: "-5" }, /^HASHING_THREAD_NICE: must be between 0 and 19/],
    ];
    for (const [env, message] of bad) {
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    }
  });

  test("TRUST_PROXY takes true, a hop count or addresses", () => {
    assert.equal(loadConfig({ TRUST_PROXY: "true" }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: "2" }).trustProxy, 2);
    assert.equal(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 127.0.0.1" }).trustProxy, "10.0.0.0/8, 127.0.0.1");
  });

  test("PUBLIC_ORIGIN is reduced to its origin", () => {
    assert.equal(
      loadConfig({ PUBLIC_ORIGIN: "https://refer.example.com/some/path" }).publicOrigin,
      "https://refer.example.com",
    );
  });
});
