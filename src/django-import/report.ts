// What `npm run import:django` prints: the report of a run, and its reconciliation as a table.
import type { ImportReport, Reconciliation } from "./import.js";

/** Lists longer than this are cut in the report, with a count of the rest. */
const LISTED = 50;

function listed<T>(items: readonly T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, LISTED).map((item) => `  ${line(item)}`);
  if (items.length > LISTED) lines.push(`  … and ${items.length - LISTED} more`);
  return lines;
}

const quoted = (name: string) => JSON.stringify(name);

/** The reconciliation as an aligned table: one row per measure, Django's figure beside this service's. */
export function reconciliationTable(reconciliation: Reconciliation): string[] {
  const header = ["", "Django", "here", ""];
  const body = reconciliation.rows.map((row) => [
    row.label,
    row.django.toString(),
    row.here.toString(),
    row.django === row.here ? "ok" : "DIFFERS",
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((cells) => (cells[i] ?? "").length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 || i === 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const here = reconciliation.djangoUsers - reconciliation.missing;
  return [
    format(header),
    ...body.map(format),
    reconciliation.missing === 0
      ? `Every Django user has an account here (${here} of ${reconciliation.djangoUsers}).`
      : `DIFFERS: ${reconciliation.missing} of ${reconciliation.djangoUsers} Django users have no account here.`,
  ];
}

export function describeReport(report: ImportReport): string[] {
  const lines: string[] = [];
  const what = report.dryRun ? "Dry run (nothing was written)" : "Import";
  lines.push(
    `${what}: ${report.djangoUsers} Django users, ${report.alreadyHere} imported by earlier runs, ` +
      `${report.imported} ${report.dryRun ? "would be imported" : "imported now"}.`,
  );
  if (report.refusals.length > 0) {
    lines.push(`Refused: ${report.refusals.length} problem(s) with Django users; nothing was written:`);
    lines.push(...listed(report.refusals, (r) => `#${r.djangoId} ${quoted(r.username)}: ${r.reason}`));
  }
  if (report.collisions.length > 0) {
    const renaming = report.renames.length > 0;
    lines.push(
      renaming
        ? `Names that are one name here (NFKC, case folded), renamed by --rename-collisions:`
        : `Refused: ${report.collisions.length} name(s) that several users would share here (NFKC, case folded); ` +
            "nothing was written. Rename them in Django, or give --rename-collisions (the oldest id keeps the " +
            "name, the others become NAME-<django id>):",
    );
    lines.push(
      ...listed(report.collisions, (c) => {
        const users = c.djangoUsers.map((u) => `#${u.djangoId} ${quoted(u.username)}`).join(", ");
        const holder = c.takenHere
          ? `; taken here by user ${c.takenHere.userId} ${quoted(c.takenHere.username)}`
          : "";
        return c.key === "" ? `(empty once stripped): ${users}` : `${quoted(c.key)}: ${users}${holder}`;
      }),
    );
  }
  if (report.renames.length > 0) {
    lines.push(`Renamed: ${report.renames.length}:`);
    lines.push(...listed(report.renames, (r) => `#${r.djangoId} ${quoted(r.from)} → ${quoted(r.to)}`));
  }
  if (report.keptAgainstRules.length > 0) {
    lines.push(
      `Kept as they were, though the sign-up form refuses such names (they log in as before): ${report.keptAgainstRules.length}:`,
    );
    lines.push(...listed(report.keptAgainstRules, (k) => `#${k.djangoId} ${quoted(k.username)}`));
  }
  const formats = Object.entries(report.hashFormats).sort(([a], [b]) => a.localeCompare(b));
  if (formats.length > 0) {
    lines.push(`Password hashes: ${formats.map(([name, n]) => `${name} ${n}`).join(", ")}.`);
  }
  if ((report.hashFormats.unusable ?? 0) > 0) {
    lines.push(
      "  Users without a usable password are imported but cannot log in until their password is reset.",
    );
  }
  const links = report.newLinks;
  const newLinks = links["no link"] + links.malformed + links.shared;
  if (newLinks > 0) {
    lines.push(
      `New referral links: ${newLinks} (no link in Django: ${links["no link"]}, malformed token: ${links.malformed}, ` +
        `token shared with an older user: ${links.shared}); every other link keeps working.`,
    );
  }
  if (report.reconciliation) {
    lines.push(`Reconciliation (the users of this run, Django against here):`);
    lines.push(...reconciliationTable(report.reconciliation).map((line) => `  ${line}`));
  }
  return lines;
}
