// `npm run import:django`'s use case end to end: a Django 3.x database made on the local PostgreSQL
// server, imported into the test database (PGlite, or PostgreSQL with DATABASE_URL), then used over
// HTTP: the old passwords log in and are upgraded, the old links sign people up, the money and the
// progress toward rewards carried over exactly, and a second run imports only what is new.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Algorithm, hash as argon2Hash } from "@node-rs/argon2";
import { sql } from "drizzle-orm";
import { messages } from "../../src/accounts/messages.js";
import { parametersOf } from "../../src/accounts/password-hasher.js";
import { queryRows } from "../../src/db/connection.js";
import {
  type ImportOptions,
  type ImportProgress,
  ImportRefused,
  type ImportReport,
  importFromDjango,
  ReconciliationFailed,
} from "../../src/django-import/import.js";
import { describeReport } from "../../src/django-import/report.js";
import { openDjangoSource } from "../../src/django-import/source.js";
import { approveReferral } from "../../src/referrals/review.js";
import { auditRows, staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import {
  createDjangoDatabase,
  type DjangoDatabase,
  type DjangoUserSeed,
  djangoPbkdf2,
  djangoToken,
} from "../support/django.js";
import { countRows, entriesOf, ledgerMismatches, referralOf } from "../support/ledger.js";
import { reviewDeps } from "../support/referrals.js";

/** The known value: Django 3.2's default hasher, 260,000 iterations, for "lètmein". */
const KNOWN_HASH = "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=";
const KNOWN_PASSWORD = "lètmein";

let t: TestApp;
let django: DjangoDatabase;

/** Generated users: a password each, a balance, a progress, a join date. */
const generated = Array.from({ length: 24 }, (_, i) => ({
  username: `gen_user_${i}`,
  password: `generated pass ${i} ✓`,
  balance: (i * 7) % 23,
  peopleInvited: i % 5,
  token: djangoToken(),
  dateJoined: new Date(Date.UTC(2019, i % 12, 1 + i, 10, i, 30, 123) + 0.456).toISOString(),
  isStaff: i % 8 === 0,
  isActive: i % 11 !== 5,
}));
const carolToken = djangoToken();

function seeds(): DjangoUserSeed[] {
  return [
    ...generated.map((g) => ({
      username: g.username,
      password: djangoPbkdf2(g.password, 10 + (g.balance % 3)),
      isStaff: g.isStaff,
      isActive: g.isActive,
      dateJoined: g.dateJoined,
      profile: { balance: g.balance, peopleInvited: g.peopleInvited, token: g.token },
    })),
    {
      username: "Zoë",
      password: KNOWN_HASH,
      profile: { balance: 12, peopleInvited: 0, token: djangoToken() },
    },
    // Three sign-ups through her link since her last reward in Django.
    {
      username: "carol",
      password: djangoPbkdf2("carol's old password"),
      profile: { balance: 40, peopleInvited: 3, token: carolToken },
    },
    { username: "no_profile", password: djangoPbkdf2("no profile password"), profile: null },
    {
      username: "no_link",
      password: djangoPbkdf2("no link password"),
      profile: { balance: 3, peopleInvited: 1, token: null },
    },
    {
      username: "locked_out",
      password: "!Xk3u0c9XU1d7nZ6yCwQn3Qb6TqkDf2dH8s4VZr1w",
      profile: { balance: 5, peopleInvited: 0, token: djangoToken() },
    },
    // A name from before Django's validators: the sign-up form refuses the space, the login finds it.
    { username: "john smith", password: djangoPbkdf2("john's password"), email: "john@example.com" },
  ];
}

const djangoUserCount = () => seeds().length;

before(async () => {
  t = await createTestApp();
  django = await createDjangoDatabase();
  await django.addUsers(seeds());
  // Django's argon2 (argon2-cffi's form after "argon2"), made here with the same library.
  const phc = await argon2Hash("argon2 password", {
    algorithm: Algorithm.Argon2id,
    memoryCost: 64,
    timeCost: 1,
    parallelism: 2,
  });
  await django.addUsers([
    {
      username: "argon_user",
      password: `argon2${phc}`,
      profile: { balance: 1, peopleInvited: 4, token: djangoToken() },
    },
  ]);
});
after(async () => {
  await t?.close();
  await django?.drop();
});

interface Recorded extends ImportProgress {
  advances: number[];
  total: number | null;
}

function recorder(): Recorded {
  const recorded: Recorded = {
    advances: [],
    total: null,
    checked() {},
    start(total) {
      recorded.total = total;
    },
    advance(done) {
      recorded.advances.push(done);
    },
    stop() {},
  };
  return recorded;
}

async function runImport(options: Partial<ImportOptions> = {}, progress: ImportProgress = recorder()) {
  const source = await openDjangoSource(django.url);
  try {
    return await importFromDjango(
      source,
      t.deps.db,
      { dryRun: false, renameCollisions: false, batchSize: 7, ...options },
      progress,
    );
  } finally {
    await source.close();
  }
}

async function targetCounts() {
  const [row] = await queryRows<{ imports: number; audit: number }>(
    t.deps.db,
    sql`SELECT (SELECT count(*) FROM django_imports)::int AS imports, (SELECT count(*) FROM audit_log)::int AS audit`,
  );
  return { ...(await countRows(t.deps.db)), ...(row as { imports: number; audit: number }) };
}

async function storedUser(username: string) {
  const [row] = await queryRows<{
    id: number;
    username: string;
    password_hash: string;
    referral_token: string;
    balance_cents: number;
    carried_referrals: number;
    referred_count: number;
    is_staff: boolean;
    is_active: boolean;
    created_at: string;
  }>(
    t.deps.db,
    sql`SELECT id::int, username, password_hash, referral_token, balance_cents::int, carried_referrals,
               referred_count, is_staff, is_active,
               to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_at
        FROM users WHERE username = ${username}`,
  );
  if (!row) throw new Error(`no user ${username}`);
  return row;
}

function reconciliationOf(report: ImportReport) {
  assert.ok(report.reconciliation, "a reconciliation");
  return Object.fromEntries(
    report.reconciliation.rows.map((row) => [row.label, [row.django, row.here]]),
  ) as Record<string, [bigint, bigint]>;
}

describe("the first run", () => {
  test("a dry run goes through everything, reports, and writes nothing", async () => {
    const report = await runImport({ dryRun: true });
    assert.equal(report.dryRun, true);
    assert.equal(report.imported, djangoUserCount() + 1);
    assert.equal(report.reconciliation?.ok, true);
    assert.deepEqual(await targetCounts(), {
      users: 0,
      ledger: 0,
      sessions: 0,
      signupsCounted: 0,
      imports: 0,
      audit: 0,
    });
    assert.match(describeReport(report).join("\n"), /^Dry run \(nothing was written\)/);
  });

  test("imports every user in batches, and the reconciliation matches to the cent", async () => {
    const progress = recorder();
    const report = await runImport({}, progress);
    const total = djangoUserCount() + 1;
    assert.equal(report.imported, total);
    assert.equal(report.alreadyHere, 0);
    assert.equal(progress.total, total);
    // Batches of 7: a line or a bar step per batch.
    assert.deepEqual(
      progress.advances,
      Array.from({ length: Math.ceil(total / 7) }, (_, i) => Math.min(total, (i + 1) * 7)),
    );
    const cents =
      BigInt(generated.reduce((sum, g) => sum + g.balance, 0) + 12 + 40 + 0 + 3 + 5 + 0 + 1) * 100n;
    const staff = BigInt(generated.filter((g) => g.isStaff).length);
    const active = BigInt(total - generated.filter((g) => !g.isActive).length);
    const progressSum = BigInt(generated.reduce((sum, g) => sum + g.peopleInvited, 0) + 3 + 1 + 4);
    assert.deepEqual(reconciliationOf(report), {
      users: [BigInt(total), BigInt(total)],
      staff: [staff, staff],
      active: [active, active],
      "balances (cents)": [cents, cents],
      "opening ledger entries (cents)": [cents, cents],
      "progress toward rewards": [progressSum, progressSum],
    });
    assert.equal(report.reconciliation?.missing, 0);
    const printed = describeReport(report).join("\n");
    assert.match(printed, new RegExp(`balances \\(cents\\)\\s+${cents}\\s+${cents}\\s+ok`));
    assert.match(printed, new RegExp(`Every Django user has an account here \\(${total} of ${total}\\)`));
    assert.deepEqual(await ledgerMismatches(t.deps.db), []);
    const audit = (await auditRows(t.deps.db)).filter((a) => a.action === "users_imported");
    assert.deepEqual(
      audit.map((a) => a.details),
      [{ via: "import:django", users: total, renamed: 0, balance_cents: String(cents) }],
    );
  });

  test("each balance is one opening entry in cents; flags and join dates carry over", async () => {
    for (const g of generated) {
      const user = await storedUser(g.username);
      assert.equal(user.balance_cents, g.balance * 100);
      assert.equal(user.carried_referrals, g.peopleInvited);
      assert.equal(user.referred_count, 0, "nobody joined here yet");
      assert.equal(user.is_staff, g.isStaff);
      assert.equal(user.is_active, g.isActive);
      assert.equal(`${user.created_at.slice(0, 23)}Z`, g.dateJoined);
      assert.equal(user.referral_token, g.token, "the old link's token");
      const entries = await entriesOf(t.deps.db, g.username);
      assert.deepEqual(
        entries.map((e) => [e.kind, e.amountCents, e.status]),
        g.balance === 0 ? [] : [["carried_over", g.balance * 100, "posted"]],
      );
    }
    const [words] = await queryRows<{ reason: string }>(
      t.deps.db,
      sql`SELECT reason FROM ledger_entries WHERE kind = 'carried_over' LIMIT 1`,
    );
    assert.equal(words?.reason, "Balance carried over from the earlier version");
    const noProfile = await storedUser("no_profile");
    assert.equal(noProfile.balance_cents, 0);
    assert.match(noProfile.referral_token, /^[A-Za-z0-9_-]{22}$/, "a new link for a user without one");
    assert.match((await storedUser("no_link")).referral_token, /^[A-Za-z0-9_-]{22}$/);
  });

  test("the history shows the carried-over balance in the programme's words", async () => {
    const zoe = new Client(t.app);
    assert.equal((await zoe.logIn("zoë", KNOWN_PASSWORD)).statusCode, 200);
    const history = (await zoe.get("/history/")).json() as {
      entries: { kind: string; reason: string; amount_cents: number }[];
    };
    assert.deepEqual(
      history.entries.map((e) => [e.kind, e.amount_cents, e.reason]),
      [["carried_over", 1200, "Balance carried over from the earlier version"]],
    );
  });
});

describe("staff", () => {
  test("see the import in the audit log, and the opening entry on the user's page", async () => {
    const staff = await staffClient(t, "import_watcher", "html");
    const home = await staff.get("/admin/");
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /Users imported from the Django version/);
    assert.match(home.body, new RegExp(`${djangoUserCount() + 1} user\\(s\\), 0 renamed`));
    const page = await staff.get(`/admin/users/${await userIdOf(t.deps.db, "carol")}/`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Carried over/);
    assert.match(page.body, /Balance carried over from the earlier version/);
    assert.match(page.body, /<td data-label="By">import<\/td>/);
  });
});

describe("passwords keep working", () => {
  test("every generated user logs in with their Django password, which becomes argon2id at once", async () => {
    for (const g of generated.filter((g) => g.isActive)) {
      const before = await storedUser(g.username);
      assert.match(before.password_hash, /^pbkdf2_sha256\$/);
      const wrong = await new Client(t.app).logIn(g.username, `${g.password}!`);
      assert.equal(wrong.statusCode, 400);
      assert.equal(
        (await storedUser(g.username)).password_hash,
        before.password_hash,
        "a failed login changes nothing",
      );
      const client = new Client(t.app);
      assert.equal((await client.logIn(g.username.toUpperCase(), g.password)).statusCode, 200, g.username);
      assert.equal((await client.dashboard()).balance_cents, g.balance * 100);
      const upgraded = (await storedUser(g.username)).password_hash;
      assert.equal(parametersOf(upgraded)?.algorithm, "argon2id");
      assert.equal(t.deps.hasher.needsRehash(upgraded), false);
      assert.equal((await new Client(t.app).logIn(g.username, g.password)).statusCode, 200, "and again");
    }
  });

  test("the known Django 3.2 hash of lètmein, and Django's argon2, log in and are upgraded", async () => {
    // Zoë logged in above (the history test): her hash is argon2id now, and still takes lètmein.
    assert.equal(parametersOf((await storedUser("Zoë")).password_hash)?.algorithm, "argon2id");
    assert.equal((await new Client(t.app).logIn("ZOË", KNOWN_PASSWORD)).statusCode, 200);
    assert.match((await storedUser("argon_user")).password_hash, /^argon2\$argon2id\$/);
    assert.equal((await new Client(t.app).logIn("argon_user", "argon2 password")).statusCode, 200);
    assert.match((await storedUser("argon_user")).password_hash, /^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
  });

  test("a deactivated Django user is told so, and only with the right password", async () => {
    const inactive = generated.find((g) => !g.isActive);
    assert.ok(inactive);
    const right = await new Client(t.app).logIn(inactive.username, inactive.password);
    assert.deepEqual(right.json(), { __all__: [messages.inactiveAccount] });
    const wrong = await new Client(t.app).logIn(inactive.username, "not it at all");
    assert.deepEqual(wrong.json(), { __all__: [messages.invalidLogin] });
  });

  test("an unusable password logs nobody in, answered as a wrong password", async () => {
    const response = await new Client(t.app).logIn("locked_out", "");
    assert.equal(response.statusCode, 400);
    const attempt = await new Client(t.app).logIn("locked_out", "!Xk3u0c9XU1d7nZ6yCwQn3Qb6TqkDf2dH8s4VZr1w");
    assert.deepEqual(attempt.json(), { __all__: [messages.invalidLogin] });
    assert.match((await storedUser("locked_out")).password_hash, /^!/);
  });

  test("a name the sign-up form refuses logs in as it did in Django", async () => {
    const client = new Client(t.app);
    assert.equal((await client.logIn("  john smith ", "john's password")).statusCode, 200);
  });
});

describe("links keep working", () => {
  test("an old link names its inviter, its card is theirs, and the newcomer gets $10", async () => {
    const form = await new Client(t.app).get(`/signup/?ref=${carolToken}`);
    assert.deepEqual(form.json(), { referral: { valid: true, inviter: "carol", reward_cents: 1000 } });
    const card = await new Client(t.app).get(`/signup/card.png?ref=${carolToken}`);
    const nobody = await new Client(t.app).get(`/signup/card.png?ref=${djangoToken()}`);
    assert.equal(card.statusCode, 200);
    assert.notEqual(card.headers.etag, nobody.headers.etag, "carol's own card, not the programme's");

    const first = new Client(t.app);
    assert.equal((await first.signUp("newcomer_one", "correct horse battery", carolToken)).statusCode, 200);
    assert.equal((await first.dashboard()).balance_cents, 1000);
    assert.deepEqual(
      (await entriesOf(t.deps.db, "carol")).map((e) => e.kind),
      ["carried_over"],
      "3 carried + 1: no reward yet",
    );
  });

  test("the carried progress counts: the 2nd sign-up after the import pays the inviter", async () => {
    const carol = new Client(t.app);
    assert.equal((await carol.logIn("carol", "carol's old password")).statusCode, 200);
    let dashboard = (await carol.dashboard()) as Awaited<ReturnType<Client["dashboard"]>> & {
      referrals_until_next_reward: number;
    };
    assert.equal(dashboard.referred_count, 1, "only the one who joined here");
    assert.equal(dashboard.referrals_until_next_reward, 1);
    assert.equal(tokenOf(dashboard.referral_link), carolToken, "her dashboard shows her old link");

    const second = new Client(t.app);
    assert.equal((await second.signUp("newcomer_two", "correct horse battery", carolToken)).statusCode, 200);
    assert.equal((await second.dashboard()).balance_cents, 1000);
    assert.deepEqual(
      (await entriesOf(t.deps.db, "carol")).map((e) => [e.kind, e.amountCents, e.referralCount]),
      [
        ["carried_over", 4000, null],
        ["inviter_reward", 1000, 5],
      ],
    );
    dashboard = (await carol.dashboard()) as typeof dashboard;
    assert.equal(dashboard.balance_cents, 5000);
    assert.equal(dashboard.referred_count, 2, '"N joined" counts only people who joined here');
    assert.equal(dashboard.referrals_until_next_reward, 5);
    const page = await carol.get("/", { accept: "text/html" });
    assert.match(page.body, /2 joined/);
    assert.match(page.body, /1 reward earned/);
    assert.deepEqual(await ledgerMismatches(t.deps.db), []);
  });

  test("a held sign-up through an old link counts the carried progress once approved", async () => {
    // argon_user had 4 toward the next reward in Django; a sign-up from their own browser is held.
    const browser = new Client(t.app);
    assert.equal((await browser.logIn("argon_user", "argon2 password")).statusCode, 200);
    const token = tokenOf((await browser.dashboard()).referral_link);
    await browser.post("/logout/");
    assert.equal((await browser.signUp("argon_friend", "correct horse battery", token)).statusCode, 200);
    const referral = await referralOf(t.deps.db, "argon_friend");
    assert.equal(referral.status, "held");
    assert.deepEqual(
      (await entriesOf(t.deps.db, "argon_user")).map((e) => e.kind),
      ["carried_over"],
    );
    await approveReferral(reviewDeps(t), {
      referralId: referral.id,
      staffId: null,
      reason: null,
      staffNote: null,
    });
    assert.deepEqual(
      (await entriesOf(t.deps.db, "argon_user")).map((e) => [e.kind, e.amountCents, e.referralCount]),
      [
        ["carried_over", 100, null],
        ["inviter_reward", 1000, 5],
      ],
    );
  });

  test("a user who had no link in Django shares the new one", async () => {
    const client = new Client(t.app);
    assert.equal((await client.logIn("no_profile", "no profile password")).statusCode, 200);
    const token = tokenOf((await client.dashboard()).referral_link);
    assert.match(token, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual((await new Client(t.app).get(`/signup/?ref=${token}`)).json(), {
      referral: { valid: true, inviter: "no_profile", reward_cents: 1000 },
    });
  });
});

describe("running it again", () => {
  test("a second run imports nothing, and finds the users who joined Django since", async () => {
    const again = await runImport();
    assert.equal(again.imported, 0);
    assert.equal(again.alreadyHere, djangoUserCount() + 1);
    assert.equal(again.reconciliation?.ok, true);
    assert.equal(reconciliationOf(again).users?.[1], 0n);
    const before = await targetCounts();

    await django.addUsers([
      {
        username: "late_joiner",
        password: djangoPbkdf2("late password"),
        profile: { balance: 7, peopleInvited: 2, token: djangoToken() },
      },
    ]);
    const third = await runImport();
    assert.equal(third.imported, 1);
    assert.deepEqual(reconciliationOf(third)["balances (cents)"], [700n, 700n]);
    const after = await targetCounts();
    assert.equal(after.users, before.users + 1);
    assert.equal(after.imports, before.imports + 1);
    assert.equal((await new Client(t.app).logIn("late_joiner", "late password")).statusCode, 200);
  });
});

describe("refusals", () => {
  async function refusedWith(options: Partial<ImportOptions> = {}): Promise<ImportReport> {
    const before = await targetCounts();
    let report: ImportReport | undefined;
    await assert.rejects(runImport(options), (error: unknown) => {
      if (!(error instanceof ImportRefused)) return false;
      report = error.report;
      return true;
    });
    assert.deepEqual(await targetCounts(), before, "nothing was written");
    return report as ImportReport;
  }

  test("names that are one name here stop the import and are listed, unless --rename-collisions", async () => {
    const ids = await django.addUsers([
      { username: "BOB", password: djangoPbkdf2("bob one") },
      { username: "ｂｏｂ", password: djangoPbkdf2("bob two") },
      { username: "Carol", password: djangoPbkdf2("other carol") },
      { username: "Bob", password: djangoPbkdf2("bob three") },
    ]);
    const [bigBob, wideBob, otherCarol, bob] = ids as [number, number, number, number];
    const refused = await refusedWith();
    assert.deepEqual(refused.renames, []);
    assert.deepEqual(
      refused.collisions.map((c) => [
        c.key,
        c.djangoUsers.map((u) => u.djangoId),
        c.takenHere?.username ?? null,
      ]),
      [
        ["bob", [bigBob, wideBob, bob], null],
        ["carol", [otherCarol], "carol"],
      ],
    );
    const printed = describeReport(refused).join("\n");
    assert.match(printed, /Refused: 2 name\(s\) that several users would share here/);
    assert.match(printed, new RegExp(`"bob": #${bigBob} "BOB", #${wideBob} "ｂｏｂ", #${bob} "Bob"`));
    assert.match(printed, new RegExp(`"carol": #${otherCarol} "Carol"; taken here by user \\d+ "carol"`));

    const renamed = await runImport({ renameCollisions: true });
    assert.equal(renamed.imported, 4);
    assert.deepEqual(
      renamed.renames.map((r) => [r.from, r.to]),
      [
        ["ｂｏｂ", `bob-${wideBob}`],
        ["Carol", `Carol-${otherCarol}`],
        ["Bob", `Bob-${bob}`],
      ],
    );
    assert.equal(renamed.reconciliation?.ok, true);
    // The oldest keeps the name; the others log in with their new one.
    assert.equal((await new Client(t.app).logIn("bob", "bob one")).statusCode, 200);
    assert.equal((await new Client(t.app).logIn(`bob-${wideBob}`, "bob two")).statusCode, 200);
    assert.equal((await new Client(t.app).logIn(`carol-${otherCarol}`, "other carol")).statusCode, 200);
    assert.equal((await new Client(t.app).logIn("carol", "carol's old password")).statusCode, 200);
    const [mapped] = await queryRows<{ django_username: string }>(
      t.deps.db,
      sql`SELECT django_username FROM django_imports WHERE django_id = ${wideBob}`,
    );
    assert.equal(mapped?.django_username, "ｂｏｂ", "the mapping keeps the name Django had");
  });

  test("a hash format not verified here is refused by name, and nothing is written", async () => {
    const [id] = await django.addUsers([
      {
        username: "bcrypt_user",
        password: "bcrypt_sha256$$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
      },
    ]);
    const refused = await refusedWith();
    assert.deepEqual(refused.refusals, [
      {
        djangoId: id,
        username: "bcrypt_user",
        reason: 'its password hash is in the "bcrypt_sha256" format, which this service does not verify',
      },
    ]);
    assert.match(describeReport(refused).join("\n"), /bcrypt_sha256/);
    await django.client.query("DELETE FROM referral_sample_profile WHERE user_id = $1", [id]);
    await django.client.query("DELETE FROM auth_user WHERE id = $1", [id]);
  });

  test("a reconciliation that differs fails the run and rolls everything back", async () => {
    await django.addUsers([
      {
        username: "lost_money",
        password: djangoPbkdf2("pw"),
        profile: { balance: 9, peopleInvited: 0, token: djangoToken() },
      },
    ]);
    // A fault in the target: opening entries silently dropped.
    await t.deps.db.execute(sql`CREATE FUNCTION drop_opening() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN IF NEW.kind = 'carried_over' THEN RETURN NULL; END IF; RETURN NEW; END $$`);
    await t.deps.db.execute(sql`CREATE TRIGGER drop_opening BEFORE INSERT ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION drop_opening()`);
    const before = await targetCounts();
    try {
      let report: ImportReport | undefined;
      await assert.rejects(runImport(), (error: unknown) => {
        if (!(error instanceof ReconciliationFailed)) return false;
        report = error.report;
        return true;
      });
      assert.deepEqual(reconciliationOf(report as ImportReport)["opening ledger entries (cents)"], [
        900n,
        0n,
      ]);
      assert.match(
        describeReport(report as ImportReport).join("\n"),
        /opening ledger entries \(cents\)\s+900\s+0\s+DIFFERS/,
      );
      assert.deepEqual(await targetCounts(), before, "rolled back");
    } finally {
      await t.deps.db.execute(sql`DROP TRIGGER drop_opening ON ledger_entries`);
      await t.deps.db.execute(sql`DROP FUNCTION drop_opening()`);
    }
    assert.equal((await runImport()).imported, 1, "imported once the fault is gone");
  });
});
