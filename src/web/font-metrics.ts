// What the share card needs to know about a TrueType font before resvg draws with it: which
// characters it has a glyph for, and how wide a line of text is. Read from the font's own tables
// (head, hhea, hmtx and cmap), so a name is laid out to fit without drawing it twice. Kerning is
// left out: it only ever makes a line a little narrower than measured here.

export interface FontMetrics {
  /** True when every character of the text has a glyph (no "missing glyph" box would be drawn). */
  covers(text: string): boolean;
  /** The text's advance width at this font size, in the same units as the size. */
  width(text: string, fontSize: number): number;
}

interface TableRecord {
  offset: number;
  length: number;
}

function tablesOf(font: Buffer): Map<string, TableRecord> {
  const tables = new Map<string, TableRecord>();
  const count = font.readUInt16BE(4);
  for (let i = 0; i < count; i++) {
    const at = 12 + i * 16;
    tables.set(font.toString("latin1", at, at + 4), {
      offset: font.readUInt32BE(at + 8),
      length: font.readUInt32BE(at + 12),
    });
  }
  return tables;
}

function table(tables: Map<string, TableRecord>, tag: string): TableRecord {
  const found = tables.get(tag);
  if (!found) throw new Error(`font has no ${tag} table`);
  return found;
}

/** The character-to-glyph map: a cmap subtable of format 12 (all of Unicode) or 4 (the BMP). */
function glyphMap(font: Buffer, cmap: TableRecord): (codePoint: number) => number {
  const count = font.readUInt16BE(cmap.offset + 2);
  const subtables: { platform: number; encoding: number; offset: number; format: number }[] = [];
  for (let i = 0; i < count; i++) {
    const at = cmap.offset + 4 + i * 8;
    const offset = cmap.offset + font.readUInt32BE(at + 4);
    subtables.push({
      platform: font.readUInt16BE(at),
      encoding: font.readUInt16BE(at + 2),
      offset,
      format: font.readUInt16BE(offset),
    });
  }
  const unicode = (s: { platform: number; encoding: number }) =>
    s.platform === 0 || (s.platform === 3 && (s.encoding === 1 || s.encoding === 10));

  const full = subtables.find((s) => unicode(s) && s.format === 12);
  if (full) {
    const groups: [start: number, end: number, glyph: number][] = [];
    const n = font.readUInt32BE(full.offset + 12);
    for (let i = 0; i < n; i++) {
      const at = full.offset + 16 + i * 12;
      groups.push([font.readUInt32BE(at), font.readUInt32BE(at + 4), font.readUInt32BE(at + 8)]);
    }
    return (cp) => {
      for (const [start, end, glyph] of groups) if (cp >= start && cp <= end) return glyph + cp - start;
      return 0;
    };
  }

  const bmp = subtables.find((s) => unicode(s) && s.format === 4);
  if (!bmp) throw new Error("font has no Unicode cmap of format 4 or 12");
  const at = bmp.offset;
  const segments = font.readUInt16BE(at + 6) / 2;
  const ends = at + 14;
  const starts = ends + segments * 2 + 2;
  const deltas = starts + segments * 2;
  const rangeOffsets = deltas + segments * 2;
  return (cp) => {
    if (cp > 0xffff) return 0;
    for (let i = 0; i < segments; i++) {
      if (cp > font.readUInt16BE(ends + i * 2)) continue;
      const start = font.readUInt16BE(starts + i * 2);
      if (cp < start) return 0;
      const delta = font.readInt16BE(deltas + i * 2);
      const rangeOffsetAt = rangeOffsets + i * 2;
      const rangeOffset = font.readUInt16BE(rangeOffsetAt);
      if (rangeOffset === 0) return (cp + delta) & 0xffff;
      const glyph = font.readUInt16BE(rangeOffsetAt + rangeOffset + (cp - start) * 2);
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}

export function readFontMetrics(font: Buffer): FontMetrics {
  const tables = tablesOf(font);
  const unitsPerEm = font.readUInt16BE(table(tables, "head").offset + 18);
  const advances = font.readUInt16BE(table(tables, "hhea").offset + 34);
  const hmtx = table(tables, "hmtx").offset;
  const glyphOf = glyphMap(font, table(tables, "cmap"));
  // Glyphs past the last full metric share its advance (monospaced tails), as the format says.
  const advanceOf = (glyph: number) => font.readUInt16BE(hmtx + Math.min(glyph, advances - 1) * 4);
  const widths = new Map<number, number>();
  const advanceOfChar = (cp: number) => {
    let w = widths.get(cp);
    if (w === undefined) {
      w = advanceOf(glyphOf(cp));
      widths.set(cp, w);
    }
    return w;
  };
  return {
    covers(text) {
      for (const ch of text) if (glyphOf(ch.codePointAt(0) as number) === 0) return false;
      return true;
    },
    width(text, fontSize) {
      let units = 0;
      for (const ch of text) units += advanceOfChar(ch.codePointAt(0) as number);
      return (units / unitsPerEm) * fontSize;
    },
  };
}
