// Use case: move the earlier Django version's users into this service (`npm run import:django`).
// One transaction around everything: the checks refuse before the first write, the copy runs in
// batches inside it, and the reconciliation decides whether it commits.

import { hashFormatOf, readDjangoHash } from "../accounts/django-hashes.js";
import { usernameKey } from "../accounts/username.js";
import type { Database, Queryable } from "../db/connection.js";
import { isDjangoReferralToken } from "../referrals/token.js";
import {
  accountOf,
  type Collision,
  type DjangoUser,
  importedName,
  type NamePlan,
  type NewLinkReason,
  planNames,
  type Refusal,
  type Rename,
  rowRefusals,
  TokenDecisions,
} from "./plan.js";
import type { DjangoSource, SourceTotals } from "./source.js";
import {
  importedDjangoIds,
  lockImports,
  namesTakenHere,
  recordImport,
  type TargetTotals,
  tokensTakenHere,
  totalsOfThisRun,
  writeAccounts,
} from "./store.js";

export interface ImportOptions {
  /** Run everything, then roll it back: the report, and nothing written. */
  dryRun: boolean;
  /** Rename the users whose names collide instead of refusing (plan.ts, planNames). */
  renameCollisions: boolean;
  /** Users per written batch. */
  batchSize: number;
}

/** What the command shows while it copies. */
export interface ImportProgress {
  checked(rows: number): void;
  start(total: number): void;
  advance(done: number, total: number): void;
  stop(): void;
}

export interface ReconciliationRow {
  label: string;
  django: bigint;
  here: bigint;
}

export interface Reconciliation {
  rows: ReconciliationRow[];
  /** Django users with no account here once the run is done: must be 0. */
  missing: number;
  djangoUsers: number;
  ok: boolean;
}

export interface ImportReport {
  dryRun: boolean;
  djangoUsers: number;
  /** Imported by earlier runs. */
  alreadyHere: number;
  /** Written by this run (rolled back again for a dry run). */
  imported: number;
  refusals: Refusal[];
  collisions: Collision[];
  renames: Rename[];
  keptAgainstRules: NamePlan["keptAgainstRules"];
  newLinks: Record<NewLinkReason, number>;
  /** Password hashes by Django format ("pbkdf2_sha256", "argon2", …; "unusable" for none). */
  hashFormats: Record<string, number>;
  reconciliation: Reconciliation | null;
}

/** The import stopped before writing: rows it cannot carry, or collisions without --rename-collisions. */
export class ImportRefused extends Error {
  constructor(readonly report: ImportReport) {
    super("the import was refused: nothing was written");
    this.name = "ImportRefused";
  }
}

/** The target's totals differ from the source's: everything was rolled back. */
export class ReconciliationFailed extends Error {
  constructor(readonly report: ImportReport) {
    super("the reconciliation failed: nothing was written");
    this.name = "ReconciliationFailed";
  }
}

/** Thrown to roll a dry run back; carries its report out of the transaction. */
class DryRunDone extends Error {
  constructor(readonly report: ImportReport) {
    super("dry run");
  }
}

const CHECK_BATCH = 5000;

export async function importFromDjango(
  source: DjangoSource,
  target: Database,
  options: ImportOptions,
  progress: ImportProgress,
): Promise<ImportReport> {
  try {
    return await target.transaction(async (tx) => {
      await lockImports(tx);
      const before = await importedDjangoIds(tx);
      const check = await checkSource(tx, source, new Set(before), progress);
      const report = reportOf(options, check, before.length);
      if (report.refusals.length > 0 || (report.collisions.length > 0 && !options.renameCollisions)) {
        throw new ImportRefused(report);
      }
      const written = await copyUsers(tx, source, check, options.batchSize, progress);
      report.imported = written.length;
      report.reconciliation = reconcile(
        await source.totals(before),
        await totalsOfThisRun(tx),
        await source.countMissing([...before, ...written]),
        report.djangoUsers,
      );
      if (!report.reconciliation.ok) throw new ReconciliationFailed(report);
      if (written.length > 0) {
        const balance = report.reconciliation.rows.find((row) => row.label === "balances (cents)");
        await recordImport(tx, {
          users: written.length,
          renamed: report.renames.length,
          balance_cents: String(balance?.here ?? 0n),
        });
      }
      if (options.dryRun) throw new DryRunDone(report);
      return report;
    });
  } catch (error) {
    if (error instanceof DryRunDone) return error.report;
    throw error;
  } finally {
    progress.stop();
  }
}

interface SourceCheck {
  djangoUsers: number;
  /** The Django users this run imports, with what each needs to know. */
  candidates: number;
  refusals: Refusal[];
  names: NamePlan;
  tokens: TokenDecisions;
  /** Django ids whose link gets a new token. */
  newLinkIds: Set<number>;
  hashFormats: Record<string, number>;
  imported: ReadonlySet<number>;
}

/** The first pass over the source: every row checked, every name and token decided, nothing written. */
async function checkSource(
  tx: Queryable,
  source: DjangoSource,
  imported: ReadonlySet<number>,
  progress: ImportProgress,
): Promise<SourceCheck> {
  const candidates: { djangoId: number; username: string }[] = [];
  const refusals: Refusal[] = [];
  const tokens = new TokenDecisions();
  const newLinkIds = new Set<number>();
  const hashFormats: Record<string, number> = {};
  let djangoUsers = 0;
  for (let after = 0; ; ) {
    const rows = await source.usersAfter(after, CHECK_BATCH);
    if (rows.length === 0) break;
    after = (rows[rows.length - 1] as DjangoUser).id;
    djangoUsers += rows.length;
    progress.checked(djangoUsers);
    const fresh = rows.filter((row) => !imported.has(row.id));
    const tokensHere = await tokensTakenHere(
      tx,
      fresh.flatMap((row) => (isDjangoReferralToken(row.token) ? [row.token] : [])),
    );
    for (const row of fresh) {
      refusals.push(...rowRefusals(row));
      candidates.push({ djangoId: row.id, username: row.username });
      if (!tokens.decide(row.token, tokensHere)) newLinkIds.add(row.id);
      const format =
        readDjangoHash(row.password).status === "unusable" ? "unusable" : hashFormatOf(row.password);
      hashFormats[format] = (hashFormats[format] ?? 0) + 1;
    }
  }
  const names = await planNamesHere(tx, candidates);
  return {
    djangoUsers,
    candidates: candidates.length,
    refusals,
    names,
    tokens,
    newLinkIds,
    hashFormats,
    imported,
  };
}

/** planNames against the names taken here, asked again for the new names until none is taken. */
async function planNamesHere(
  tx: Queryable,
  candidates: { djangoId: number; username: string }[],
): Promise<NamePlan> {
  const keys = new Set(
    candidates
      .map((c) => importedName(c.username))
      .filter((n) => n !== "")
      .map(usernameKey),
  );
  const taken = await namesTakenHere(tx, [...keys]);
  for (;;) {
    const plan = planNames(candidates, taken);
    const renamedKeys = plan.renames.map((r) => usernameKey(r.to)).filter((key) => !taken.has(key));
    const more = await namesTakenHere(tx, renamedKeys);
    if (more.size === 0) return plan;
    for (const [key, holder] of more) taken.set(key, holder);
  }
}

/** The second pass: the same rows (one snapshot), written a batch per statement. The Django ids written. */
async function copyUsers(
  tx: Queryable,
  source: DjangoSource,
  check: SourceCheck,
  batchSize: number,
  progress: ImportProgress,
): Promise<number[]> {
  const renameOf = new Map(check.names.renames.map((r) => [r.djangoId, r.to]));
  const written: number[] = [];
  progress.start(check.candidates);
  for (let after = 0; ; ) {
    const rows = await source.usersAfter(after, batchSize);
    if (rows.length === 0) break;
    after = (rows[rows.length - 1] as DjangoUser).id;
    const accounts = rows
      .filter((row) => !check.imported.has(row.id))
      .map((row) => accountOf(row, renameOf.get(row.id), !check.newLinkIds.has(row.id)));
    const count = await writeAccounts(tx, accounts);
    if (count !== accounts.length) throw new Error(`a batch wrote ${count} of ${accounts.length} users`);
    written.push(...accounts.map((a) => a.djangoId));
    if (accounts.length > 0) progress.advance(written.length, check.candidates);
  }
  return written;
}

function reportOf(options: ImportOptions, check: SourceCheck, alreadyHere: number): ImportReport {
  return {
    dryRun: options.dryRun,
    djangoUsers: check.djangoUsers,
    alreadyHere,
    imported: 0,
    refusals: check.refusals,
    collisions: check.names.collisions,
    renames: options.renameCollisions ? check.names.renames : [],
    keptAgainstRules: check.names.keptAgainstRules,
    newLinks: check.tokens.newLinks,
    hashFormats: check.hashFormats,
    reconciliation: null,
  };
}

/** Source against target for this run's users, and nobody left behind. */
export function reconcile(
  django: SourceTotals,
  here: TargetTotals,
  missing: number,
  djangoUsers: number,
): Reconciliation {
  const rows: ReconciliationRow[] = [
    { label: "users", django: django.users, here: here.users },
    { label: "staff", django: django.staff, here: here.staff },
    { label: "active", django: django.active, here: here.active },
    { label: "balances (cents)", django: django.balanceCents, here: here.balanceCents },
    { label: "opening ledger entries (cents)", django: django.balanceCents, here: here.ledgerCents },
    { label: "progress toward rewards", django: django.carriedReferrals, here: here.carriedReferrals },
  ];
  return {
    rows,
    missing,
    djangoUsers,
    ok: missing === 0 && rows.every((row) => row.django === row.here),
  };
}
