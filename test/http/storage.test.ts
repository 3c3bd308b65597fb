// Data survives a restart, on PGlite's data folder and on PostgreSQL, and migrations apply once.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { type DatabaseOptions, migrateDatabase, openDatabase } from "../../src/db/connection.js";
import { Client, cheapHasher, tokenOf } from "../support/app.js";
import { createTestDatabase, migratedDataDir, onPostgres } from "../support/database.js";

async function startApp(options: DatabaseOptions) {
  const database = await openDatabase(options);
  await migrateDatabase(database);
  const hasher = cheapHasher();
  const app = await buildApp({ db: database.db, config: loadConfig({ NODE_ENV: "test" }), database, hasher });
  return {
    app,
    async stop() {
      await app.close();
      await database.close();
      await hasher.close();
    },
  };
}

test(`users, sessions and credit survive a restart (${onPostgres ? "PostgreSQL" : "PGlite data folder"})`, async () => {
  let options: DatabaseOptions;
  let cleanup: () => Promise<void>;
  if (onPostgres) {
    const fresh = await createTestDatabase();
    options = { databaseUrl: fresh.url };
    cleanup = () => fresh.drop();
  } else {
    const dir = await migratedDataDir();
    options = { dataDir: dir };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }

  const first = await startApp(options);
  const inviter = new Client(first.app);
  await inviter.signUp("persistent_inviter");
  const token = tokenOf((await inviter.dashboard()).referral_link);
  await new Client(first.app).signUp("persistent_invitee", "correct horse battery", token);
  await first.stop();

  // Started again: migrations run again without harm, and everything is where it was.
  const second = await startApp(options);
  try {
    const invitee = new Client(second.app);
    assert.equal((await invitee.logIn("persistent_invitee")).statusCode, 200);
    assert.equal((await invitee.dashboard()).balance, 10);
    const sameInviter = new Client(second.app);
    sameInviter.cookies.set("sessionid", inviter.cookies.get("sessionid") as string);
    const me = await sameInviter.dashboard();
    assert.equal(me.referred_count, 1);
    assert.equal(tokenOf(me.referral_link), token);
  } finally {
    await second.stop();
    await cleanup();
  }
});
