// The production build with a constant password "hash", to measure what a sign-up costs besides
// argon2id (HTTP, the password rules, the database) without the hasher's noise. Never a server to run
// for real: every account it makes has the same unusable hash. Used as
//   BENCH_SERVER_ENTRY=bench/server-without-hashing.mjs npx tsx bench/run.ts --only signup --no-references
import { createPasswordHasher } from "../dist/accounts/password-hasher.js";
import { buildApp } from "../dist/app.js";
import { loadConfig } from "../dist/config.js";
import { openDatabaseOrExplain } from "../dist/ops/startup.js";

const constantHash =
  "$argon2id$v=19$m=19456,t=2,p=1$bm90LWEtcmVhbC1zYWx0$bm90LWEtcmVhbC1oYXNoLW5vdC1hLXJlYWwtaGFzaA";
const config = loadConfig(process.env);
const database = await openDatabaseOrExplain(config, { migrate: true });
const real = createPasswordHasher({ threads: 1 });
const hasher = { ...real, hash: async () => constantHash };
const app = await buildApp({ db: database.db, config, database, hasher });
await app.listen({ port: config.port, host: config.host });
