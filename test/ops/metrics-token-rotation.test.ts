// METRICS_TOKEN may name two tokens, comma-separated, so a scraper and the service can move to a new
// token one after the other without a window of 401s (docs/deploy.md, "Rotating secrets").
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../src/config.js";
import { createTestApp, type TestApp } from "../support/app.js";

describe("METRICS_TOKEN during a rotation", () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ METRICS_TOKEN: " old-scrape-token , new-scrape-token " });
  });
  after(async () => t.close());

  const scrape = (authorization?: string) =>
    t.app.inject({ method: "GET", url: "/metrics", headers: authorization ? { authorization } : {} });

  test("reads a comma-separated list, ignoring spaces and empty items; one token is a list of one", () => {
    assert.deepEqual(loadConfig({ METRICS_TOKEN: "a-token, b-token,," }).metricsTokens, [
      "a-token",
      "b-token",
    ]);
    assert.deepEqual(loadConfig({ METRICS_TOKEN: "only-one" }).metricsTokens, ["only-one"]);
    assert.deepEqual(loadConfig({ METRICS_TOKEN: " , " }).metricsTokens, []);
    assert.deepEqual(loadConfig({}).metricsTokens, []);
  });

  test("either token opens /metrics", async () => {
    for (const token of ["old-scrape-token", "new-scrape-token"]) {
      const response = await scrape(`Bearer ${token}`);
      assert.equal(response.statusCode, 200, token);
      assert.match(response.body, /http_requests_total/);
    }
  });

  test("anything else is 401: no token, another token, both together, a part of one", async () => {
    for (const authorization of [
      undefined,
      "Bearer other-token",
      "Bearer old-scrape-token,new-scrape-token",
      "Bearer old-scrape",
      "Bearer ",
    ]) {
      const response = await scrape(authorization);
      assert.equal(response.statusCode, 401, String(authorization));
      assert.equal(response.headers["www-authenticate"], 'Bearer realm="metrics"');
    }
  });
});
