import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReportResult, report } from '../commands/report.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const MAX_BYTES = 2 * 1024 * 1024;

/** The report kinds the issue asks for, each a fixture folder. */
const KINDS = ['multitask', 'vmtl', 'compare', 'in-progress', 'single-epoch'] as const;
type Kind = (typeof KINDS)[number];

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

function expected(kind: Kind, dir: string): Expected {
  const runDir = kind === 'compare' ? join(dir, 'multitask') : dir;
  const lines = metricLines(join(runDir, 'metrics.jsonl'));
  const tasks = [...new Set(lines.flatMap((l) => Object.keys(l)).filter((k) => k.includes('/')))].map(
    (k) => k.split('/')[0]!,
  );
  const curvePoints: Record<string, number> = {};
  for (const task of new Set(tasks)) {
    curvePoints[`curves-${task}`] = lines
      .flatMap((l) => Object.entries(l))
      .filter(([k, v]) => k.startsWith(`${task}/`) && typeof v === 'number').length;
  }
  const scoresFile = join(runDir, 'scores.json');
  const scoreRows = existsSync(scoresFile) ? Object.keys(readJson<object>(scoresFile)).length : 0;
  const mixingFile = join(runDir, 'mixing.json');
  const mixing = existsSync(mixingFile)
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
    expect(r.path).toBe(join(dir, 'report.html'));
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
    expect(r.kind).toBe(kind === 'vmtl' ? 'vmtl' : kind === 'compare' ? 'compare' : 'multitask');
    expect(r.inProgress).toBe(kind === 'in-progress');
    expect(r.charts.map((c) => c.id).sort()).toEqual(exp.charts);
    expect(r.scoreRows).toBe(exp.scoreRows);
    for (const [id, n] of Object.entries(exp.curvePoints)) {
      expect(r.charts.find((c) => c.id === id)!.rows).toBe(n);
    }
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
    expect(results.get('multitask')!.scoreRows).toBe(15);
    expect(results.get('vmtl')!.scoreRows).toBe(12);
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
      // One table row per score key.
      expect(await page.locator('table.scores tbody tr').count()).toBe(exp.scoreRows);
      if (kind === 'in-progress') {
        expect(await page.locator('#scores').textContent()).toContain('No scores.json yet');
      }
      expect(await page.locator('pre.config').count()).toBe(1);

      expect(errors).toEqual([]);
      expect(blocked).toEqual([]);
      expect(requested.filter((u) => u !== url)).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
