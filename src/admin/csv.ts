// CSV as RFC 4180 writes it, safe to open in a spreadsheet: text that a spreadsheet would run as a
// formula (=, +, -, @, and tab or carriage return first) gets a leading apostrophe.

export type CsvValue = string | number | boolean | null | undefined;

const formulaStart = /^[=+\-@\t\r]/;
/** A plain number ("-2.50") is read as a number, never as a formula: it needs no guard. */
const plainNumber = /^[+-]?\d+(?:\.\d+)?$/;
const needsQuotes = /[",\r\n]/;

/** One cell. Numbers, and text that is a plain number, are written as they are; other text is guarded. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const guarded = formulaStart.test(value) && !plainNumber.test(value) ? `'${value}` : value;
  return needsQuotes.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** One line, CRLF-terminated as RFC 4180 says. */
export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}
