import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReportResult, report } from '../commands/report.js';
import { run as runCli } from '../main.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const MAX_BYTES = 2 * 1024 * 1024;

/** The report kinds the issue asks for, each a fixture folder; `runs` overlays three of them. */
const KINDS = ['multitask', 'vmtl', 'compare', 'in-progress', 'single-epoch', 'runs'] as const;
type Kind = (typeof KINDS)[number];
/** The runs overlaid by the `runs` page, in the order given. */
const OVERLAID = ['multitask', 'multitask-lr', 'single-epoch'] as const;

/** Reads a metrics file by hand (complete lines only), independently of the code under test. */
function metricLines(file: string): Record<string, number | null>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().startsWith('{') && l.trim().endsWith('}'))
    .map((l) => JSON.parse(l) as Record<string, number | null>);
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** What each page must show, worked out from the fixture files alone. */
interface Expected {
  charts: string[];
  /** Every value the score pivot must show: run label -> scores.json. */
  scores: Record<string, Record<string, number>>;
  /** Run label -> step of its best checkpoint (the lowest logged value of its checkpoint metric). */
  best: Record<string, number>;
  /** Distinct steps logged (all runs). */
  steps: number[];
  /** Chart id -> number of points a curve chart draws (finite values of the task's keys). */
  curvePoints: Record<string, number>;
  scoreRows: number;
  /** Tasks of the mixing heatmaps (T), if any. */
  mixingTasks: number;
  heatmaps: string[];
  compareKeys: number;
  compareTasks: number;
  reconstructionPoints: number;
}

/**
 * The step of a run's best checkpoint worked out from the files alone: the lowest (its metric is a
 * loss) logged value of the resolved config's checkpointMetric, the first one on a tie.
 */
function bestStep(runDir: string): number | undefined {
  const config = readFileSync(join(runDir, 'config.resolved.yaml'), 'utf8');
  const metric = /^ {2}checkpointMetric: (.+)$/m.exec(config)?.[1];
  if (metric === undefined) return undefined;
  let best: [number, number] | undefined;
  for (const line of metricLines(join(runDir, 'metrics.jsonl'))) {
    const v = line[metric];
    if (typeof v === 'number' && (best === undefined || v < best[1])) best = [line.step as number, v];
  }
  return best?.[0];
}

function expected(kind: Kind, dir: string): Expected {
  const runDirs =
    kind === 'runs' ? OVERLAID.map((k) => join(dir, k)) : [kind === 'compare' ? join(dir, 'multitask') : dir];
  const labels = kind === 'runs' ? [...OVERLAID] : [basename(runDirs[0]!)];
  const scores: Record<string, Record<string, number>> = {};
  const best: Record<string, number> = {};
  runDirs.forEach((d, i) => {
    const f = join(d, 'scores.json');
    if (existsSync(f)) scores[labels[i]!] = readJson(f);
    const b = bestStep(d);
    if (b !== undefined) best[labels[i]!] = b;
  });
  const lines = runDirs.flatMap((d) => metricLines(join(d, 'metrics.jsonl')));
  const steps = [...new Set(lines.map((l) => l.step as number))].sort((a, b) => a - b);
  const runDir = runDirs[0]!;
  const tasks = [...new Set(lines.flatMap((l) => Object.keys(l)).filter((k) => k.includes('/')))].map(
    (k) => k.split('/')[0]!,
  );
  const curvePoints: Record<string, number> = {};
  for (const task of new Set(tasks)) {
    curvePoints[`curves-${task}`] = lines
      .flatMap((l) => Object.entries(l))
      .filter(([k, v]) => k.startsWith(`${task}/`) && typeof v === 'number').length;
  }
  const scoreRows = Object.values(scores).reduce((n, s) => n + Object.keys(s).length, 0);
  const mixingFile = join(runDir, 'mixing.json');
  const mixing =
    kind !== 'runs' && existsSync(mixingFile)
      ? readJson<{ tasks: string[]; alpha: unknown; beta: unknown }>(mixingFile)
      : undefined;
  const heatmaps = mixing === undefined ? [] : ['mixing-alpha', ...(mixing.beta ? ['mixing-beta'] : [])];
  const cmpFile = join(dir, 'comparison.json');
  const cmp = existsSync(cmpFile)
    ? readJson<{ perKey: object; perTask: object }>(cmpFile)
    : { perKey: {}, perTask: {} };
  const recFile = join(runDir, 'reconstructions.json');
  const rec = existsSync(recFile)
    ? readJson<Record<string, { original: number[][]; reconstruction: number[][] }>>(recFile)
    : {};
  const rec2d = Object.entries(rec).filter(([, r]) => r.original[0]?.length === 2);
  return {
    charts: [
      ...(kind === 'compare' ? ['compare-scores', 'compare-delta'] : []),
      ...heatmaps,
      ...Object.keys(curvePoints),
      ...rec2d.map(([t]) => `reconstructions-${t}`),
    ].sort(),
    scores,
    best,
    steps,
    curvePoints,
    scoreRows,
    mixingTasks: mixing?.tasks.length ?? 0,
    heatmaps,
    compareKeys: Object.keys(cmp.perKey).length,
    compareTasks: Object.keys(cmp.perTask).length,
    reconstructionPoints: rec2d.reduce((n, [, r]) => n + r.original.length + r.reconstruction.length, 0),
  };
}

let work: string;
const results = new Map<Kind, ReportResult>();
const dirs = new Map<Kind, string>();

beforeAll(async () => {
  // The report is written into the run folder by default: work on copies, never on the fixtures.
  work = mkdtempSync(join(tmpdir(), 'mtl-report-test-'));
  for (const kind of KINDS) {
    const dir = join(work, kind);
    if (kind === 'runs') {
      for (const k of OVERLAID) cpSync(join(FIXTURES, k), join(dir, k), { recursive: true });
      dirs.set(kind, dir);
      results.set(kind, await report({ runDir: OVERLAID.map((k) => join(dir, k)), quiet: true }));
      continue;
    }
    cpSync(join(FIXTURES, kind), dir, { recursive: true });
    dirs.set(kind, dir);
    results.set(kind, await report({ runDir: dir, quiet: true }));
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('report files', () => {
  it.each(KINDS)('%s: one self-contained file under 2 MB with what the run holds', (kind) => {
    const r = results.get(kind)!;
    const dir = dirs.get(kind)!;
    const exp = expected(kind, dir);
    expect(r.path).toBe(join(dir, kind === 'runs' ? 'report-runs.html' : 'report.html'));
    expect(r.bytes).toBeLessThan(MAX_BYTES);
    expect(r.bytes).toBeGreaterThan(500_000); // the charting library is inlined
    const html = readFileSync(r.path, 'utf8');
    expect(Buffer.byteLength(html)).toBe(r.bytes);
    // Nothing to fetch: no external script, style sheet, image or frame, and a policy that refuses any.
    const markup = html.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/gi, '$1</script>');
    expect(markup.length).toBeLessThan(100_000);
    expect(markup).not.toMatch(/<(script|img|iframe|embed|object|source)[^>]*\ssrc=/i);
    expect(markup).not.toMatch(/<link[^>]*\shref=/i);
    expect(markup).not.toMatch(/url\(/i);
    expect(html).toContain(`content="default-src 'none';`);
    expect(html.match(/<script data-lib=/g)).toHaveLength(3);
    expect(r.kind).toBe(kind === 'vmtl' || kind === 'compare' || kind === 'runs' ? kind : 'multitask');
    expect(r.inProgress).toBe(kind === 'in-progress');
    expect(r.charts.map((c) => c.id).sort()).toEqual(exp.charts);
    expect(r.scoreCells).toBe(exp.scoreRows);
    for (const [id, n] of Object.entries(exp.curvePoints)) {
      expect(r.charts.find((c) => c.id === id)!.rows).toBe(n);
    }
    // Every curve chart marks the best checkpoint of every run that has one.
    const bestList = Object.entries(exp.best).map(([run, step]) => ({ run, step }));
    for (const c of r.charts.filter((c) => c.section === 'curves')) expect(c.best).toEqual(bestList);
  });

  it('counts what the fixtures hold (so the browser checks below are checks of something)', () => {
    expect(results.get('multitask')!.charts).toHaveLength(3); // model, circle_task, square_task
    expect(expected('multitask', dirs.get('multitask')!).curvePoints).toEqual({
      'curves-model': 30, // 10 evaluations × (train loss, lr, valid loss)
      'curves-circle_task': 30, // 10 × (train loss, valid accuracy, valid loss)
      'curves-square_task': 30,
    });
    expect(results.get('single-epoch')!.charts.map((c) => c.rows)).toEqual([3, 3, 3]);
    expect(results.get('in-progress')!.charts.map((c) => c.rows)).toEqual([9, 9, 9]); // 3 whole lines
    expect(results.get('vmtl')!.charts).toHaveLength(7); // α, β, 4 curve charts, 1 reconstruction
    expect(results.get('compare')!.charts).toHaveLength(5);
    expect(results.get('multitask')!.scoreCells).toBe(15);
    expect(results.get('vmtl')!.scoreCells).toBe(12);
    expect(results.get('runs')!.scoreCells).toBe(45);
    // What differs between the overlaid runs' resolved configs, and nothing else.
    const runsHtml = readFileSync(results.get('runs')!.path, 'utf8');
    const diff = /<table class="config-diff">[\s\S]*?<\/table>/.exec(runsHtml)![0];
    expect([...diff.matchAll(/<tr><td>([^<]+)<\/td>/g)].map((m) => m[1])).toEqual([
      'training.checkpointMetric',
      'training.epochs',
      'training.lr',
    ]);
    expect(diff).toContain('<td>training.lr</td><td>0.02</td><td>0.1</td><td>0.02</td>');
    // The best checkpoints are not at the runs' last evaluations, and differ between runs.
    expect(expected('runs', dirs.get('runs')!).best).toEqual({ multitask: 400, 'multitask-lr': 150 });
    expect(results.get('runs')!.charts.map((c) => c.id)).toEqual([
      'curves-model',
      'curves-circle_task',
      'curves-square_task',
    ]);
  });

  it('mtl report RUN_A RUN_B --out FILE overlays them; no RUN_DIR is exit 2', async () => {
    const out = join(work, 'cli', 'both.html');
    const lines: string[] = [];
    const dir = dirs.get('runs')!;
    const code = await runCli(['report', join(dir, 'multitask'), join(dir, 'multitask-lr'), '--out', out], {
      out: (l: string) => lines.push(l),
      err: (l: string) => lines.push(l),
    });
    expect(code).toBe(0);
    expect(lines).toEqual([expect.stringMatching(/^report: .*both\.html \(runs; 3 charts, \d+ KiB\)$/)]);
    expect(readFileSync(out, 'utf8')).toContain('<title>mtl report: 2 runs</title>');
    const errors: string[] = [];
    expect(await runCli(['report'], { out: () => {}, err: (l: string) => errors.push(l) })).toBe(2);
    expect(errors.join('\n')).toContain('missing RUN_DIR');
  });

  it('--out writes elsewhere, replacing an older report', async () => {
    const out = join(work, 'elsewhere', 'r.html');
    const lines: string[] = [];
    const r = await report({ runDir: dirs.get('vmtl')!, out, write: (l) => lines.push(l) });
    expect(r.path).toBe(out);
    expect(readFileSync(out, 'utf8')).toContain('<title>mtl report: vmtl</title>');
    expect(lines).toEqual([expect.stringMatching(/^report: .*r\.html \(vmtl; 7 charts, \d+ KiB\)$/)]);
    await report({ runDir: dirs.get('multitask')!, out, quiet: true });
    expect(readFileSync(out, 'utf8')).toContain('<title>mtl report: multitask</title>');
  });
});

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The parts of a browser table cell the pivot check reads (the test is compiled without the DOM types). */
interface Named {
  textContent: string | null;
  colSpan?: number;
}
interface TableCell extends Named {
  cellIndex: number;
  dataset: Record<string, string | undefined>;
  parentElement: { cells: ArrayLike<Named> };
  closest(selector: 'table'): {
    dataset: Record<string, string | undefined>;
    tHead: { rows: ArrayLike<{ cells: ArrayLike<Named> }> } | null;
  } | null;
}

interface ChartSeen {
  id: string;
  rendered: string | null;
  width: number;
  height: number;
  symbols: number;
  cells: number;
  weights: number;
  labels: number;
  bars: number;
  /** Per panel of a curve chart: x of each best-checkpoint rule and the distinct x of the points. */
  panels: { rules: number[]; ruleColours: string[]; xs: number[] }[];
  /** Stroke colours of the drawn curves, and the legend's labels. */
  lineColours: string[];
  legend: string[];
}

describe.skipIf(!existsSync(CHROMIUM))('report in headless Chromium, network blocked', () => {
  let context: BrowserContext;
  let profile: string;
  let shots: string;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'mtl-report-chromium-'));
    shots = mkdtempSync(join(tmpdir(), 'mtl-report-screenshots-'));
    console.log(`report screenshots: ${shots}`);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      serviceWorkers: 'block',
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it.each(KINDS)('%s renders every chart offline with no console error', async (kind) => {
    const r = results.get(kind)!;
    const exp = expected(kind, dirs.get(kind)!);
    const url = pathToFileURL(r.path).href;
    const requested: string[] = [];
    const blocked: string[] = [];
    const errors: string[] = [];
    const page = await context.newPage();
    await page.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue();
      blocked.push(route.request().url());
      return route.abort();
    });
    page.on('request', (req) => {
      requested.push(req.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => {
      errors.push(`page error: ${e.message}`);
    });
    try {
      await page.goto(url);
      // Set by the page's start-up script once every chart has settled (drawn or failed).
      await page.waitForSelector('body[data-rendered]', { state: 'attached', timeout: 30_000 });
      expect(await page.getAttribute('body', 'data-rendered')).toBe('ok');
      await page.screenshot({ path: join(shots, `${kind}.png`), fullPage: true });

      const seen: ChartSeen[] = await page.$$eval('[data-chart]', (els) =>
        els.map((el) => {
          const g = el.querySelector('svg, canvas');
          const box = g?.getBoundingClientRect();
          const count = (sel: string) => el.querySelectorAll(sel).length;
          return {
            id: el.id,
            rendered: el.getAttribute('data-rendered'),
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            symbols: count('g.mark-symbol.role-mark path'),
            cells: count('g.cells_marks path'),
            weights: count('g.weights_marks path'),
            labels: count('g.labels_marks text'),
            bars: count('g.bars_marks path'),
            panels: [...el.querySelectorAll('g.mark-group.role-scope > g')]
              .filter((g) => g.querySelector(':scope > g > g.mark-symbol.role-mark') !== null)
              .map((g) => {
                const centre = (e: { getBoundingClientRect(): { left: number; width: number } }) => {
                  const b = e.getBoundingClientRect();
                  return b.left + b.width / 2;
                };
                const rules = [...g.querySelectorAll('g.mark-rule.role-mark line')];
                const xs = [...g.querySelectorAll('g.mark-symbol.role-mark path')].map(centre);
                const distinct = [...new Set(xs.map((x) => Math.round(x * 2) / 2))].sort((a, b) => a - b);
                return {
                  rules: rules.map(centre),
                  ruleColours: rules.map((r) => r.getAttribute('stroke') ?? ''),
                  xs: distinct,
                };
              }),
            lineColours: [
              ...new Set(
                [...el.querySelectorAll('g.mark-line.role-mark path')].map(
                  (p) => p.getAttribute('stroke') ?? '',
                ),
              ),
            ],
            legend: [...el.querySelectorAll('g.role-legend-label text')].map((t) => t.textContent ?? ''),
          };
        }),
      );
      expect(seen.map((c) => c.id).sort()).toEqual(exp.charts);
      for (const c of seen) {
        expect(c.rendered, c.id).toBe('ok');
        expect(c.width, c.id).toBeGreaterThan(100);
        expect(c.height, c.id).toBeGreaterThan(100);
      }
      const byId = new Map(seen.map((c) => [c.id, c]));
      // Every logged value is a drawn point (one point per curve for a single epoch).
      for (const [id, n] of Object.entries(exp.curvePoints)) expect(byId.get(id)!.symbols, id).toBe(n);
      // T×T cells per heatmap, the T diagonal ones blank.
      const t = exp.mixingTasks;
      for (const id of exp.heatmaps) {
        expect(byId.get(id)!.cells, id).toBe(t * t);
        expect(byId.get(id)!.weights, id).toBe(t * t - t);
        expect(byId.get(id)!.labels, id).toBe(t * t - t);
      }
      if (kind === 'compare') {
        expect(byId.get('compare-scores')!.bars).toBe(2 * exp.compareKeys);
        expect(byId.get('compare-delta')!.bars).toBe(exp.compareTasks);
      }
      if (exp.reconstructionPoints > 0) {
        expect(byId.get('reconstructions-task1')!.symbols).toBe(exp.reconstructionPoints);
      }
      // The score pivot: one cell per score key of each run, holding exactly its value, in the row of
      // its task/dataset, the column of its split (and run), the table of its metric.
      const cells = await page.$$eval('table.pivot td[data-key]', (tds) =>
        tds.map((td) => {
          const cell = td as unknown as TableCell;
          const table = cell.closest('table')!;
          const head = table.tHead!.rows;
          // One header row (task / dataset, splits...), or two with several runs (run groups, then splits).
          const offset = head.length > 1 ? 1 : 0;
          const splits = head[head.length - 1]!.cells;
          const perRun = offset === 1 ? head[0]!.cells[1]!.colSpan! : 0;
          return {
            key: cell.dataset.key!,
            run: cell.dataset.run!,
            value: Number(cell.dataset.value),
            text: cell.textContent!,
            metric: table.dataset.metric!,
            row: cell.parentElement.cells[0]!.textContent!,
            split: splits[cell.cellIndex - offset]!.textContent!,
            group:
              offset === 1 ? head[0]!.cells[1 + Math.floor((cell.cellIndex - 1) / perRun)]!.textContent! : '',
          };
        }),
      );
      const shown = cells.map((c) => `${c.run} ${c.key}`).sort();
      const wanted = Object.entries(exp.scores)
        .flatMap(([run, sc]) => Object.keys(sc).map((k) => `${run} ${k}`))
        .sort();
      expect(shown).toEqual(wanted);
      for (const c of cells) {
        const v = exp.scores[c.run]![c.key]!;
        const [task, dataset, split, metric] = c.key.split('/');
        expect(c.value, c.key).toBe(v);
        expect(Math.abs(Number(c.text) - v), c.key).toBeLessThanOrEqual(5e-5 + 1e-4 * Math.abs(v));
        expect([c.row, c.split, c.metric]).toEqual([`${task}/${dataset}`, split, metric]);
        if (kind === 'runs') expect(c.group).toBe(c.run);
      }
      expect(await page.locator('table.scores:not(.pivot)').count()).toBe(0);
      if (kind === 'in-progress') {
        expect(await page.locator('#scores').textContent()).toContain('No scores.json yet');
      }
      expect(await page.locator('pre.config').count()).toBe(kind === 'runs' ? 0 : 1);

      // The best checkpoint: in every panel of every curve chart, one rule per run that saved one,
      // drawn at the x of its step (the steps' points fix the scale), in the run's colour.
      const bestRuns = Object.entries(exp.best);
      for (const c of seen.filter((c) => c.id.startsWith('curves-'))) {
        expect(c.panels.length, c.id).toBeGreaterThan(0);
        for (const p of c.panels) {
          expect(p.rules, c.id).toHaveLength(bestRuns.length);
          if (p.xs.length !== exp.steps.length) continue; // a panel with fewer steps (lr of one run)
          const at = bestRuns.map(([, step]) => p.xs[exp.steps.indexOf(step)]!);
          p.rules.forEach((x, i) => {
            expect(Math.abs(x - at[i]!), `${c.id} best of ${bestRuns[i]![0]}`).toBeLessThan(1.5);
          });
        }
        if (kind === 'runs') {
          // One series colour per run, the legend naming every run.
          expect(c.lineColours, c.id).toHaveLength(OVERLAID.length);
          expect(c.legend, c.id).toEqual(expect.arrayContaining([...OVERLAID]));
          expect(new Set(c.panels.flatMap((p) => p.ruleColours)).size, c.id).toBe(bestRuns.length);
        }
      }
      if (kind === 'multitask') {
        expect(await page.locator('#curves').textContent()).toContain(
          'Best checkpoint (dashed rule in every panel): step 400',
        );
      }

      expect(errors).toEqual([]);
      expect(blocked).toEqual([]);
      expect(requested.filter((u) => u !== url)).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
