// A model-based test of the programme (fast-check's commands): random sequences of clean and
// self-referred sign-ups, approvals, rejections, staff adjustments, deactivations and the end of the
// hold, run against the service and against a small in-memory model. After every command each user's
// balance, pending credit, referred count and active flag must be what the model says; after each
// run, every referral's status, signals and hold, and the ledger (each cached total against the sum of
// its entries).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { adjustBalance } from "../../src/admin/adjustments.js";
import { setUserActive } from "../../src/admin/user-status.js";
import { queryRows } from "../../src/db/connection.js";
import { approveDueReferrals, approveReferral, rejectReferral } from "../../src/referrals/review.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { type Client, createTestApp, type TestApp } from "../support/app.js";
import { onPostgres } from "../support/database.js";
import { ledgerMismatches, referralRows } from "../support/ledger.js";
import {
  freshClient,
  HOUR_MS,
  inviter,
  reviewDeps,
  type TestClock,
  testClock,
} from "../support/referrals.js";

const BONUS = 1000;
const REWARD = 1000;
/** A reward every 3rd referral, not every 5th: short sequences reach it often. */
const PER_REWARD = 3;
const LINK_LIMIT = 3;

interface ModelUser {
  name: string;
  balance: number;
  pending: number;
  referred: number;
  active: boolean;
  rejections: number;
}

interface ModelReferral {
  invitee: string;
  inviter: string;
  status: "approved" | "held" | "rejected";
  signals: string[];
  holdUntil: number | null;
}

interface Model {
  holdHours: number;
  users: ModelUser[];
  referrals: ModelReferral[];
  /** Referred sign-ups per link per clock hour (`name@hour`). */
  linkHits: Map<string, number>;
  nextName: number;
}

interface Real {
  t: TestApp;
  clock: TestClock;
  staffId: number;
  /** Each user's id, referral token and the browser that signed them up. */
  accounts: Map<string, { id: number; token: string; client: Client }>;
  /** The referral id of each invitee, read after their sign-up. */
  referralIds: Map<string, number>;
}

const userOf = (m: Model, name: string) => m.users.find((u) => u.name === name) as ModelUser;
const held = (m: Model) => m.referrals.filter((r) => r.status === "held");

/** The model's approval: the bonus posted; counted (and paid per PER_REWARD) only for an active inviter. */
function approveInModel(m: Model, referral: ModelReferral): boolean {
  referral.status = "approved";
  const invitee = userOf(m, referral.invitee);
  invitee.pending -= BONUS;
  invitee.balance += BONUS;
  const host = userOf(m, referral.inviter);
  if (!host.active) return false;
  host.referred += 1;
  if (host.referred % PER_REWARD === 0) host.balance += REWARD;
  return true;
}

/** The model's sign-up through `inviterName`'s link, from the inviter's own browser when `self`. */
function signUpInModel(m: Model, name: string, inviterName: string, self: boolean, now: number): void {
  const host = userOf(m, inviterName);
  const user: ModelUser = { name, balance: 0, pending: 0, referred: 0, active: true, rejections: 0 };
  m.users.push(user);
  // A deactivated inviter's link gives no referral.
  if (!host.active) {
    tally("sign-ups through a deactivated inviter's link");
    return;
  }
  const hour = `${inviterName}@${Math.floor(now / HOUR_MS)}`;
  const hits = (m.linkHits.get(hour) ?? 0) + 1;
  m.linkHits.set(hour, hits);
  const signals = [
    ...(self ? ["self_referral"] : []),
    ...(hits > LINK_LIMIT ? ["link_velocity"] : []),
    ...(host.rejections >= 1 ? ["earlier_rejections"] : []),
  ];
  const holdUntil = m.holdHours > 0 ? now + m.holdHours * HOUR_MS : null;
  const referral: ModelReferral = { invitee: name, inviter: inviterName, status: "held", signals, holdUntil };
  m.referrals.push(referral);
  user.pending = BONUS;
  if (signals.length === 0 && holdUntil === null) approveInModel(m, referral);
}

/** Every user's money, count and state, in the service and in the model, must agree. */
async function compareUsers(m: Model, r: Real, command: string): Promise<void> {
  tally(command);
  const rows = await queryRows<{
    name: string;
    balance: number;
    pending: number;
    referred: number;
    active: boolean;
  }>(
    r.t.deps.db,
    sql`SELECT username AS name, balance_cents::int AS balance, pending_cents::int AS pending,
               referred_count AS referred, is_active AS active
        FROM users WHERE NOT is_staff ORDER BY id`,
  );
  assert.deepEqual(
    rows,
    m.users.map(({ name, balance, pending, referred, active }) => ({
      name,
      balance,
      pending,
      referred,
      active,
    })),
  );
}

async function signUp(m: Model, r: Real, inviterName: string, self: boolean): Promise<void> {
  const name = `m${m.nextName++}`;
  const host = r.accounts.get(inviterName);
  assert.ok(host);
  const client = self ? host.client : freshClient(r.t);
  const response = await client.signUp(name, "correct horse battery", host.token);
  assert.equal(response.statusCode, 200, response.body);
  signUpInModel(m, name, inviterName, self, r.clock());
  const [row] = await queryRows<{ id: number; token: string }>(
    r.t.deps.db,
    sql`SELECT id::int AS id, referral_token AS token FROM users WHERE username = ${name}`,
  );
  assert.ok(row);
  r.accounts.set(name, { id: row.id, token: row.token, client });
  const [referral] = await queryRows<{ id: number }>(
    r.t.deps.db,
    sql`SELECT id::int AS id FROM referrals WHERE invitee_id = ${row.id}`,
  );
  if (referral) r.referralIds.set(name, referral.id);
}

let runs = 0;
const ran = new Map<string, number>();
const tally = (what: string) => ran.set(what, (ran.get(what) ?? 0) + 1);

type Cmd = fc.AsyncCommand<Model, Real>;

class SignUpWithoutLink implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    const name = `m${m.nextName++}`;
    const joined = await inviter(r.t, name);
    const id = await userIdOf(r.t.deps.db, name);
    r.accounts.set(name, { id, token: joined.token, client: joined.client });
    m.users.push({ name, balance: 0, pending: 0, referred: 0, active: true, rejections: 0 });
    await compareUsers(m, r, "no link");
  }
  toString = () => "sign up without a link";
}

class SignUpThroughLink implements Cmd {
  constructor(
    readonly pick: number,
    readonly self: boolean,
    /** Sign-ups one after another through the same link. */
    readonly times = 1,
  ) {
    this.label = `${times} ${self ? "self-referred" : "clean"} sign-up(s) through #${pick}`;
  }
  label: string;
  check = (m: Readonly<Model>) => m.users.length > 0;
  async run(m: Model, r: Real) {
    const host = m.users[this.pick % m.users.length] as ModelUser;
    this.label = `${this.times} ${this.self ? "self-referred" : "clean"} sign-up(s) through ${host.name}`;
    for (let i = 0; i < this.times; i++) {
      await signUp(m, r, host.name, this.self);
      await compareUsers(m, r, this.self ? "self" : "clean");
    }
  }
  toString = () => this.label;
}

class Decide implements Cmd {
  constructor(
    readonly pick: number,
    readonly approve: boolean,
  ) {
    this.label = `${approve ? "approve" : "reject"} held #${pick}`;
  }
  label: string;
  check = (m: Readonly<Model>) => held(m as Model).length > 0;
  async run(m: Model, r: Real) {
    const list = held(m);
    const referral = list[this.pick % list.length] as ModelReferral;
    this.label = `${this.approve ? "approve" : "reject"} ${referral.invitee}`;
    const decision = {
      referralId: r.referralIds.get(referral.invitee) as number,
      staffId: r.staffId,
      reason: null,
      staffNote: null,
    };
    const deps = reviewDeps(r.t, r.clock);
    if (this.approve) {
      const done = await approveReferral(deps, decision);
      const counted = approveInModel(m, referral);
      assert.equal(done?.counted, counted);
      if (!counted) tally("approvals for a deactivated inviter");
    } else {
      const done = await rejectReferral(deps, decision);
      assert.equal(done?.voidedCents, BONUS);
      referral.status = "rejected";
      userOf(m, referral.invitee).pending -= BONUS;
      userOf(m, referral.inviter).rejections += 1;
    }
    await compareUsers(m, r, this.approve ? "approve" : "reject");
  }
  toString = () => this.label;
}

class Adjust implements Cmd {
  constructor(
    readonly pick: number,
    readonly cents: number,
    readonly remove: boolean,
  ) {
    this.label = `${remove ? "remove" : "add"} ${cents} for #${pick}`;
  }
  label: string;
  check = (m: Readonly<Model>) => (this.remove ? m.users.some((u) => u.balance > 0) : m.users.length > 0);
  async run(m: Model, r: Real) {
    const candidates = this.remove ? m.users.filter((u) => u.balance > 0) : m.users;
    const user = candidates[this.pick % candidates.length] as ModelUser;
    const amount = this.remove ? -(1 + (this.cents % user.balance)) : this.cents;
    this.label = `adjust ${user.name} by ${amount}`;
    const done = await adjustBalance(r.t.deps.db, r.staffId, r.accounts.get(user.name)?.id as number, {
      amountCents: amount,
      reason: "model",
    });
    user.balance += amount;
    assert.equal(done.balanceCents, user.balance);
    await compareUsers(m, r, "adjust");
  }
  toString = () => this.label;
}

class SetActive implements Cmd {
  constructor(
    readonly pick: number,
    readonly active: boolean,
  ) {
    this.label = `${active ? "reactivate" : "deactivate"} #${pick}`;
  }
  label: string;
  check = (m: Readonly<Model>) => m.users.length > 0;
  async run(m: Model, r: Real) {
    const user = m.users[this.pick % m.users.length] as ModelUser;
    this.label = `${this.active ? "reactivate" : "deactivate"} ${user.name}`;
    const change = await setUserActive(
      r.t.deps.db,
      r.staffId,
      r.accounts.get(user.name)?.id as number,
      this.active,
    );
    assert.equal(change.changed, user.active !== this.active);
    user.active = this.active;
    await compareUsers(m, r, "set active");
  }
  toString = () => this.label;
}

class HoldEnds implements Cmd {
  constructor(readonly hours: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.clock.advance(this.hours * HOUR_MS);
    const now = r.clock();
    const due = held(m).filter(
      (ref) => ref.signals.length === 0 && ref.holdUntil !== null && ref.holdUntil <= now,
    );
    const approved = await approveDueReferrals(reviewDeps(r.t, r.clock));
    const counted = due.map((ref) => approveInModel(m, ref));
    assert.equal(approved.length, due.length);
    assert.equal(approved.filter((a) => a.counted).length, counted.filter(Boolean).length);
    await compareUsers(m, r, "hold ends");
  }
  toString = () => `${this.hours} hours pass; the hold job runs`;
}

/** Most sign-ups go through the first few users' links, so that rewards and the hourly limit are reached. */
const inviterPick = fc.oneof(
  { arbitrary: fc.constant(0), weight: 2 },
  { arbitrary: fc.nat({ max: 3 }), weight: 2 },
  { arbitrary: fc.nat(), weight: 1 },
);

const commandArbs = [
  fc.constant(new SignUpWithoutLink()),
  fc
    .tuple(inviterPick, fc.integer({ min: 1, max: 4 }))
    .map(([pick, times]) => new SignUpThroughLink(pick, false, times)),
  inviterPick.map((pick) => new SignUpThroughLink(pick, false)),
  inviterPick.map((pick) => new SignUpThroughLink(pick, true)),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, approve]) => new Decide(pick, approve)),
  fc.nat().map((pick) => new Decide(pick, true)),
  fc.nat().map((pick) => new Decide(pick, true)),
  fc
    .tuple(fc.nat(), fc.integer({ min: 1, max: 5000 }), fc.boolean())
    .map(([pick, cents, remove]) => new Adjust(pick, cents, remove)),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, active]) => new SetActive(pick, active)),
  fc.integer({ min: 1, max: 30 }).map((hours) => new HoldEnds(hours)),
];

/**
 * One app per setting of the hold, each with a clock the run replaces: a run starts from an emptied
 * database (every table truncated, as the test pool empties a PGlite), so the model starts from the
 * database's state without paying for a new database per run.
 */
interface RunApp {
  t: TestApp;
  setClock(clock: TestClock): void;
}
const apps = new Map<number, RunApp>();

async function appFor(holdHours: number): Promise<RunApp> {
  let app = apps.get(holdHours);
  if (!app) {
    let current = testClock();
    const t = await createTestApp(
      {
        REFERRAL_HOLD_HOURS: String(holdHours),
        REFERRAL_LINK_SIGNUPS_PER_HOUR: String(LINK_LIMIT),
        REFERRALS_PER_INVITER_REWARD: String(PER_REWARD),
        // Long enough that the test clock never moves a rejection out of it.
        REFERRAL_REJECTIONS_WINDOW_DAYS: "3650",
      },
      { clock: () => current() },
    );
    app = {
      t,
      setClock(clock) {
        current = clock;
      },
    };
    apps.set(holdHours, app);
  } else {
    await emptyDatabase(app.t);
  }
  return app;
}

async function emptyDatabase(t: TestApp): Promise<void> {
  const [row] = await queryRows<{ tables: string }>(
    t.deps.db,
    sql`SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') AS tables FROM pg_tables WHERE schemaname = 'public'`,
  );
  await t.deps.db.execute(sql.raw(`TRUNCATE ${row?.tables} RESTART IDENTITY CASCADE`));
}

after(async () => {
  for (const app of apps.values()) await app.t.close();
  console.log(`referral-model: ${runs} runs`, JSON.stringify(Object.fromEntries([...ran].sort())));
});

test(`random sequences of sign-ups, decisions, adjustments, deactivations and hold ends agree with the model (${onPostgres ? "PostgreSQL" : "PGlite"})`, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(0, 24),
      fc.commands(commandArbs, { maxCommands: 25, size: "max" }),
      async (holdHours, commands) => {
        runs += 1;
        const { t, setClock } = await appFor(holdHours);
        const clock = testClock();
        setClock(clock);
        const real: Real = { t, clock, staffId: 0, accounts: new Map(), referralIds: new Map() };
        const model: Model = { holdHours, users: [], referrals: [], linkHits: new Map(), nextName: 0 };
        await fc.asyncModelRun(async () => {
          await staffClient(t, "model_staff");
          real.staffId = await userIdOf(t.deps.db, "model_staff");
          const joined = await inviter(t, "root");
          real.accounts.set("root", {
            id: await userIdOf(t.deps.db, "root"),
            token: joined.token,
            client: joined.client,
          });
          model.users.push({
            name: "root",
            balance: 0,
            pending: 0,
            referred: 0,
            active: true,
            rejections: 0,
          });
          return { model, real };
        }, commands);
        for (const ref of model.referrals) {
          tally(`referral ${ref.status}${ref.signals.length ? ` (${ref.signals.join("+")})` : ""}`);
        }
        for (const user of model.users) {
          if (user.referred >= PER_REWARD) tally("inviters paid a reward");
          if (user.referred >= 2 * PER_REWARD) tally("inviters paid two rewards");
        }

        const stored = await referralRows(t.deps.db);
        assert.deepEqual(
          stored.map((s) => ({
            invitee: s.invitee,
            inviter: s.inviter,
            status: s.status,
            signals: s.signals,
            holdUntil: s.holdUntil?.getTime() ?? null,
          })),
          model.referrals,
        );
        assert.deepEqual(await ledgerMismatches(t.deps.db), []);
      },
    ),
    { numRuns: 20 },
  );
});
