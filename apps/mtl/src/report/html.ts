import { escapeInlineScript, type InlineScript } from './assets.js';
import type { Chart } from './charts.js';

/** Text as HTML (element content or a quoted attribute value). */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON to be read back with `JSON.parse(el.textContent)` from a `<script type="application/json">`:
 * `<` is written as `\u003c` so no value (a config string, a task name) can close the element.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A number for a table cell: fixed decimals for usual magnitudes, exponent form for the rest. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(3);
  return x.toFixed(a >= 1000 ? 1 : 4);
}

export interface Cell {
  text: string;
  numeric?: boolean;
  className?: string;
}

/** A table; `cells` are escaped here. */
export function table(
  className: string,
  headers: readonly Cell[],
  rows: readonly (readonly Cell[])[],
): string {
  const cell = (tag: string, c: Cell) => {
    const classes = [c.numeric ? 'num' : '', c.className ?? ''].filter((s) => s !== '').join(' ');
    return `<${tag}${classes ? ` class="${classes}"` : ''}>${escapeHtml(c.text)}</${tag}>`;
  };
  return (
    `<table class="${escapeHtml(className)}"><thead><tr>${headers.map((h) => cell('th', h)).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => cell('td', c)).join('')}</tr>`).join('\n')}</tbody></table>`
  );
}

export interface Section {
  id: string;
  title: string;
  /** Trusted HTML (built with the helpers here). */
  html: string;
}

export interface PageArgs {
  title: string;
  /** Trusted HTML for the lines under the title. */
  header: string;
  sections: readonly Section[];
  charts: readonly Chart[];
  libraries: readonly InlineScript[];
}

/** Everything is inline and nothing may be fetched: the policy makes the browser refuse any request. */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:";

const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6475; --line: #dfe3ea; --accent: #4c78a8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: #fafbfc; }
header.top { padding: 18px 28px 12px; background: #fff; border-bottom: 1px solid var(--line); }
header.top h1 { margin: 0 0 4px; font-size: 20px; }
header.top .meta { color: var(--muted); font-size: 13px; }
header.top .meta code { font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e8f0fa; color: #244b78; margin-right: 6px; }
.badge.progress { background: #fff3d6; color: #7a5200; }
nav { margin-top: 8px; font-size: 13px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; }
main { padding: 8px 28px 40px; max-width: 1400px; }
section { margin-top: 22px; }
section > h2 { font-size: 16px; margin: 0 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px; min-width: 120px; min-height: 60px; }
.chart[data-rendered="error"] { color: #b00020; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); font-size: 13px; }
th, td { padding: 4px 12px; text-align: left; border-bottom: 1px solid #eef0f4; vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pos { color: #2e7d32; } td.neg { color: #c62828; }
.pivots { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
table.pivot caption { caption-side: top; text-align: left; font-weight: 600; padding: 0 0 4px; }
table.pivot tbody th { font-weight: 500; background: #fff; white-space: nowrap; }
table.pivot th.run { text-align: center; border-left: 1px solid var(--line); }
table.pivot td.group-start { border-left: 1px solid var(--line); }
table.pivot td.best { font-weight: 700; }
table.pivot td.empty { color: #b0b6c0; }
tbody tr:hover { background: #f7f9fc; }
pre.config { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; overflow: auto; max-height: 640px; font-size: 12px; line-height: 1.4; }
p.note { color: var(--muted); margin: 6px 0; }
footer { color: var(--muted); font-size: 12px; padding: 0 28px 24px; }
`;

/**
 * Draws every chart with vega-embed into its `<div data-chart>`; marks each div and then the body
 * with `data-rendered="ok"` or `"error"` so a reader (or a test) knows when drawing is over. The
 * expression interpreter (`ast: true`) keeps Vega from compiling code at run time, which the page's
 * policy forbids.
 */
const INIT = `
(function () {
  var charts = JSON.parse(document.getElementById('mtl-charts').textContent);
  var options = { mode: 'vega-lite', renderer: 'svg', ast: true, actions: { export: true, source: false, compiled: false, editor: false } };
  var done = charts.map(function (c) {
    var el = document.getElementById(c.id);
    return vegaEmbed(el, c.spec, options).then(
      function () { el.setAttribute('data-rendered', 'ok'); },
      function (e) {
        el.setAttribute('data-rendered', 'error');
        el.textContent = 'This chart could not be drawn: ' + (e && e.message ? e.message : e);
        console.error('chart ' + c.id + ':', e);
        throw e;
      });
  });
  Promise.allSettled(done).then(function (results) {
    var ok = results.every(function (r) { return r.status === 'fulfilled'; });
    document.body.setAttribute('data-rendered', ok ? 'ok' : 'error');
  });
})();
`;

/** A chart's placeholder, filled in the browser. */
export function chartDiv(chart: Chart): string {
  const best =
    chart.best === undefined || chart.best.length === 0
      ? ''
      : ` data-best-steps="${escapeHtml(chart.best.map((b) => b.step).join(' '))}"`;
  return `<div class="chart" id="${escapeHtml(chart.id)}" data-chart="${escapeHtml(chart.section)}" data-rows="${chart.rows}"${best} aria-label="${escapeHtml(chart.title)}"></div>`;
}

/** The whole self-contained page. */
export function renderPage(args: PageArgs): string {
  const nav = args.sections.map((s) => `<a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a>`).join('');
  const sections = args.sections
    .map((s) => `<section id="${escapeHtml(s.id)}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`)
    .join('\n');
  const specs = args.charts.map((c) => ({ id: c.id, spec: c.spec }));
  const libs = args.libraries
    .map((l) => `<script data-lib="${escapeHtml(l.name)}">${l.code}</script>`)
    .join('\n');
  const versions = args.libraries.map((l) => `${l.name} ${l.version}`).join(', ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mtl report">
<title>${escapeHtml(args.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
${args.header}
<nav>${nav}</nav>
</header>
<main>
${sections}
</main>
<footer>Written by <code>mtl report</code>; opens offline (charts drawn with ${escapeHtml(versions)}, inlined).</footer>
<script type="application/json" id="mtl-charts">${jsonForScript(specs)}</script>
${libs}
<script>${escapeInlineScript(INIT)}</script>
</body>
</html>
`;
}
