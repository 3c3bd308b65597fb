// Bar charts drawn on the server as SVG: no script, and no style attributes (the CSP forbids them).
// Colours come from Bootstrap's text-* classes through fill="currentColor".
import { shortDay } from "../../format.js";
import { html, type SafeHtml } from "../html.js";

export interface ChartSeries {
  name: string;
  /** A Bootstrap text colour class, e.g. "text-primary". */
  colorClass: string;
  values: readonly number[];
}

export interface BarChartSpec {
  id: string;
  title: string;
  /** One label per bar (days as YYYY-MM-DD are shortened to "Nov 3"). */
  labels: readonly string[];
  /** Stacked from the first series up. */
  series: readonly ChartSeries[];
  format: (value: number) => string;
  /** Counts: whole-number ticks. */
  integer?: boolean;
}

const WIDTH = 720;
const HEIGHT = 260;
const LEFT = 64;
const RIGHT = 12;
const TOP = 14;
const BOTTOM = 30;

/**
 * The smallest "round" number at least `value`: 1, 2, 2.5 or 5 times a power of ten, or for counts
 * (`integer`) 1, 2, 4, 5 or 8 times one, so that the axis ticks are whole numbers.
 */
export function niceCeiling(value: number, integer = false): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const multiples = integer ? [1, 2, 4, 5, 8, 10] : [1, 2, 2.5, 5, 10];
  for (const m of multiples) if (m * power >= value) return Math.max(1, m * power);
  return 10 * power;
}

/** Where the axis gets a line and a label: quarters, or for counts only whole numbers. */
export function axisTicks(max: number, integer: boolean): number[] {
  const steps = !integer || max % 4 === 0 ? 4 : max % 2 === 0 ? 2 : 1;
  return Array.from({ length: steps + 1 }, (_, i) => (max * i) / steps);
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** Which bars get an x-axis label: about eight, always the first and the last, never crowded. */
function labelledIndexes(count: number): Set<number> {
  const step = Math.max(1, Math.ceil(count / 8));
  const chosen = new Set<number>();
  for (let i = 0; i < count; i += step) chosen.add(i);
  const last = count - 1;
  const previous = last - (last % step);
  if (count > 1 && previous !== last) {
    if (last - previous < step / 2) chosen.delete(previous);
    chosen.add(last);
  }
  return chosen;
}

export function barChart(spec: BarChartSpec): SafeHtml {
  const count = spec.labels.length;
  const totals = spec.labels.map((_, i) => spec.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = niceCeiling(Math.max(0, ...totals), spec.integer ?? false);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = count > 0 ? plotWidth / count : plotWidth;
  const barWidth = count > 90 ? slot : slot * 0.75;
  const y = (value: number) => TOP + plotHeight - (value / max) * plotHeight;
  const ticks = axisTicks(max, spec.integer ?? false);
  const labelled = labelledIndexes(count);
  const titleId = `${spec.id}-title`;

  const bars = spec.labels.map((label, i) => {
    let base = 0;
    const x = LEFT + i * slot + (slot - barWidth) / 2;
    const parts = spec.series.map((s) => {
      const value = s.values[i] ?? 0;
      const top = y(base + value);
      const bottom = y(base);
      base += value;
      return value > 0
        ? html`<rect x="${round(x)}" y="${round(top)}" width="${round(Math.max(barWidth, 0.5))}" height="${round(bottom - top)}" fill="currentColor" class="${s.colorClass}"></rect>`
        : null;
    });
    const tip = `${shortDay(label)}: ${spec.series.map((s) => `${s.name} ${spec.format(s.values[i] ?? 0)}`).join(", ")}`;
    return html`<g class="chart-bar"><title>${tip}</title>${parts}<rect x="${round(LEFT + i * slot)}" y="${TOP}" width="${round(slot)}" height="${plotHeight}" fill="transparent"></rect></g>`;
  });

  return html`<figure class="mb-0" id="${spec.id}">
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" class="chart d-block h-auto" role="img" aria-labelledby="${titleId}" font-size="12">
<title id="${titleId}">${spec.title}</title>
${ticks.map(
  (
    t,
  ) => html`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${round(y(t))}" y2="${round(y(t))}" stroke="currentColor" class="text-body-tertiary" stroke-width="1" stroke-opacity="${t === 0 ? 1 : 0.35}"></line>
<text x="${LEFT - 6}" y="${round(y(t) + 4)}" text-anchor="end" fill="currentColor" class="text-body-secondary">${spec.format(t)}</text>`,
)}
${bars}
${spec.labels.map((label, i) =>
  labelled.has(i)
    ? i === count - 1 && count > 1
      ? // The last label ends at the plot's edge, so it is never cut off.
        html`<text x="${WIDTH - RIGHT}" y="${HEIGHT - 10}" text-anchor="end" fill="currentColor" class="text-body-secondary">${shortDay(label)}</text>`
      : html`<text x="${round(LEFT + i * slot + slot / 2)}" y="${HEIGHT - 10}" text-anchor="middle" fill="currentColor" class="text-body-secondary">${shortDay(label)}</text>`
    : null,
)}
</svg>
${
  spec.series.length > 1
    ? html`<figcaption class="small text-body-secondary mt-1">${spec.series.map(
        (s) =>
          html`<span class="me-3 text-nowrap"><svg width="12" height="12" class="align-baseline" aria-hidden="true"><rect width="12" height="12" rx="2" fill="currentColor" class="${s.colorClass}"></rect></svg> ${s.name}</span>`,
      )}</figcaption>`
    : null
}
</figure>`;
}

export interface HorizontalBar {
  label: string;
  value: number;
  href?: string;
}

/** Ranked bars with their labels, for the top referrers. */
export function horizontalBarChart(spec: {
  id: string;
  title: string;
  bars: readonly HorizontalBar[];
  colorClass: string;
  format: (value: number) => string;
}): SafeHtml {
  const rowHeight = 26;
  const labelWidth = 170;
  const valueWidth = 60;
  const height = Math.max(1, spec.bars.length) * rowHeight + 8;
  const max = Math.max(1, ...spec.bars.map((b) => b.value));
  const plot = WIDTH - labelWidth - valueWidth;
  const titleId = `${spec.id}-title`;
  const shorten = (text: string) => ([...text].length > 22 ? `${[...text].slice(0, 21).join("")}…` : text);
  return html`<figure class="mb-0" id="${spec.id}">
<svg viewBox="0 0 ${WIDTH} ${height}" width="100%" class="chart d-block h-auto" role="img" aria-labelledby="${titleId}" font-size="13">
<title id="${titleId}">${spec.title}</title>
${spec.bars.map((bar, i) => {
  const top = 4 + i * rowHeight;
  const width = Math.max(2, (bar.value / max) * plot);
  return html`<g><title>${bar.label}: ${spec.format(bar.value)}</title>
<text x="${labelWidth - 8}" y="${top + 17}" text-anchor="end" fill="currentColor" class="text-body">${shorten(bar.label)}</text>
<rect x="${labelWidth}" y="${top + 4}" width="${round(width)}" height="${rowHeight - 8}" rx="2" fill="currentColor" class="${spec.colorClass}"></rect>
<text x="${round(labelWidth + width + 6)}" y="${top + 17}" fill="currentColor" class="text-body-secondary">${spec.format(bar.value)}</text></g>`;
})}
</svg>
</figure>`;
}
