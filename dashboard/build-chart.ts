// The build-duration chart of an app: its last 50 builds as bars (inline SVG), told apart by pattern
// and label as well as colour, with a text summary and the same numbers as a table.
import type { Build } from './api.js';
import { h, status, table, time, type Child } from './dom.js';

export type BarKind = 'succeeded' | 'failed' | 'other';
export interface Bar {
  readonly build: Build;
  readonly seconds: number;
  readonly kind: BarKind;
}
export interface ChartModel {
  readonly bars: readonly Bar[];
  /** The top of the axis, in seconds (a round number above the longest bar). */
  readonly max: number;
  readonly counts: Readonly<Record<BarKind, number>>;
}

export const CHART_BUILDS = 50;

/** Finished builds that ran (newest first from the API) → the last 50, oldest first. Pure. */
export function chartModel(builds: readonly Build[]): ChartModel {
  const bars: Bar[] = [];
  for (const b of builds) {
    if (bars.length === CHART_BUILDS) break;
    if (b.status === 'queued' || b.status === 'running' || !b.startedAt || !b.finishedAt) continue;
    const seconds = (Date.parse(b.finishedAt) - Date.parse(b.startedAt)) / 1000;
    if (!Number.isFinite(seconds) || seconds < 0) continue;
    bars.push({ build: b, seconds, kind: b.status === 'succeeded' ? 'succeeded' : b.status === 'failed' ? 'failed' : 'other' });
  }
  bars.reverse();
  const longest = Math.max(0, ...bars.map((b) => b.seconds));
  const counts = { succeeded: 0, failed: 0, other: 0 };
  for (const b of bars) counts[b.kind]++;
  return { bars, max: niceMax(longest), counts };
}

/** 1, 2, 5 × 10ⁿ at or above `s` (at least 1 s). Pure. */
export function niceMax(s: number): number {
  if (s <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(s));
  for (const m of [1, 2, 5, 10]) if (m * p >= s) return m * p;
  return 10 * p;
}

/** "850 ms", "12.3 s", "2 min 5 s". Pure. */
export function seconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The chart's words for screen readers (and everyone: it is shown under the chart). Pure. */
export function chartSummary(m: ChartModel): string {
  if (m.bars.length === 0) return 'No finished builds yet.';
  const sorted = [...m.bars].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor(sorted.length / 2)];
  const longest = sorted[sorted.length - 1];
  const latest = m.bars[m.bars.length - 1];
  const other = m.counts.other > 0 ? `, ${m.counts.other} canceled or abandoned` : '';
  const parts = [`${m.bars.length} build${m.bars.length === 1 ? '' : 's'}: ${m.counts.succeeded} succeeded, ${m.counts.failed} failed${other}`];
  if (median && longest && latest) {
    parts.push(`median ${seconds(median.seconds)}`, `longest ${seconds(longest.seconds)} (#${longest.build.number})`, `latest #${latest.build.number} ${latest.build.status} in ${seconds(latest.seconds)}`);
  }
  return `${parts.join('; ')}.`;
}

const NS = 'http://www.w3.org/2000/svg';
function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string | number>> = {}, ...children: readonly (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

const W = 720;
const H = 200;
const LEFT = 56;
const BOTTOM = 22;
const TOP = 14;

const label: Readonly<Record<BarKind, string>> = { succeeded: 'Succeeded (solid)', failed: 'Failed (hatched, marked ✗)', other: 'Canceled or abandoned (dotted)' };

function patterns(): SVGDefsElement {
  return s(
    'defs',
    {},
    s('pattern', { id: 'bar-failed', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, s('rect', { width: 6, height: 6, class: 'fill-failed' }), s('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'hatch' })),
    s('pattern', { id: 'bar-other', width: 5, height: 5, patternUnits: 'userSpaceOnUse' }, s('rect', { width: 5, height: 5, class: 'fill-other' }), s('circle', { cx: 2.5, cy: 2.5, r: 1.1, class: 'dot' })),
  );
}

const fillOf = (k: BarKind): string => (k === 'succeeded' ? 'bar bar-succeeded' : `bar bar-${k}`);

function swatch(k: BarKind): SVGSVGElement {
  return s('svg', { width: 18, height: 12, viewBox: '0 0 18 12', 'aria-hidden': 'true', focusable: 'false' }, s('rect', { width: 18, height: 12, class: fillOf(k) }));
}

/** The chart, its legend, its summary and (in a disclosure) its table. */
export function buildChart(builds: readonly Build[], app: string): HTMLElement[] {
  const m = chartModel(builds);
  const summary = chartSummary(m);
  if (m.bars.length === 0) return [h('p', { class: 'empty', id: 'chart-summary' }, summary)];
  const plotW = W - LEFT - 8;
  const plotH = H - TOP - BOTTOM;
  const slot = plotW / Math.max(m.bars.length, 10);
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number): number => TOP + plotH - (v / m.max) * plotH;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-svg-title', 'aria-describedby': 'chart-summary', id: 'build-chart' });
  svg.append(s('title', { id: 'chart-svg-title' }, `Build durations of ${app}, oldest to newest`), patterns());
  // Axis: 0, half and the top, with grid lines.
  for (const v of [0, m.max / 2, m.max]) {
    svg.append(s('line', { x1: LEFT, x2: W - 8, y1: y(v), y2: y(v), class: 'grid' }), s('text', { x: LEFT - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, seconds(v)));
  }
  m.bars.forEach((bar, i) => {
    const x = LEFT + i * slot + (slot - barW) / 2;
    const top = y(bar.seconds);
    const height = Math.max(1, TOP + plotH - top);
    const rect = s('rect', { x, y: TOP + plotH - height, width: barW, height, class: fillOf(bar.kind), 'data-build': bar.build.number, 'data-kind': bar.kind });
    rect.append(s('title', {}, `#${bar.build.number} ${bar.build.status} in ${seconds(bar.seconds)}`));
    svg.append(rect);
    if (bar.kind === 'failed') svg.append(s('text', { x: x + barW / 2, y: TOP + plotH - height - 3, class: 'mark', 'text-anchor': 'middle' }, '✗'));
  });
  const first = m.bars[0];
  const last = m.bars[m.bars.length - 1];
  if (first && last) {
    svg.append(s('text', { x: LEFT, y: H - 6, class: 'axis' }, `#${first.build.number}`), s('text', { x: W - 8, y: H - 6, class: 'axis', 'text-anchor': 'end' }, `#${last.build.number}`));
  }
  const kinds = (['succeeded', 'failed', 'other'] as const).filter((k) => k !== 'other' || m.counts.other > 0);
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' }, ...kinds.map((k) => h('li', {}, swatch(k), ` ${label[k]}`)));
  const rows = [...m.bars].reverse().map((b) => ({
    key: `#${b.build.number}`,
    cells: [h('a', { href: `#/builds/${b.build.id}` }, `#${b.build.number}`), status(b.build.status), seconds(b.seconds), time(b.build.startedAt)] satisfies Child[],
  }));
  return [
    h('figure', { class: 'chart-figure' }, svg, h('figcaption', {}, legend, h('p', { id: 'chart-summary', class: 'small' }, summary))),
    h('details', { class: 'chart-table' }, h('summary', {}, 'The durations as a table'), table(`Durations of the last ${m.bars.length} builds, newest first`, ['Build', 'Status', 'Took', 'Started'], rows)),
  ];
}
