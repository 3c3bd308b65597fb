import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, createTestApp } from "../support/app.js";

test("referral links are built on PUBLIC_ORIGIN when it is set, whatever Host the request names", async () => {
  const t = await createTestApp({ PUBLIC_ORIGIN: "https://refer.example.com" });
  try {
    const client = new Client(t.app);
    await client.signUp("origin_user");
    const response = await client.get("/", { host: "attacker.example" });
    assert.match(
      response.json().referral_link,
      /^https:\/\/refer\.example\.com\/signup\/\?ref=[A-Za-z0-9_-]{22}$/,
    );
  } finally {
    await t.close();
  }
});

test("the referral token never changes: the same link at every visit and after a new login", async () => {
  const t = await createTestApp();
  try {
    const client = new Client(t.app);
    await client.signUp("stable_user");
    const first = (await client.dashboard()).referral_link;
    assert.equal((await client.dashboard()).referral_link, first);
    const again = new Client(t.app);
    await again.logIn("stable_user");
    assert.equal((await again.dashboard()).referral_link, first);
  } finally {
    await t.close();
  }
});
