import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HistoryRecord } from '@mtl/training';
import { describe, expect, it } from 'vitest';
import { report } from '../commands/report.js';
import { run as runCli } from '../main.js';
import { curveCharts } from './charts.js';
import { conflictCharts, taskWeightChart } from './conflict-charts.js';

const CHROMIUM = '/usr/bin/chromium';
type Values = Record<string, unknown>[];
const valuesOf = (chart: { spec: unknown }): Values =>
  (chart.spec as { data: { values: Values } }).data.values;
const layerValues = (chart: { spec: unknown }, i: number): Values =>
  (chart.spec as { layer: { data: { values: Values } }[] }).layer[i]!.data.values;

const history: HistoryRecord[] = [
  {
    step: 10,
    epoch: 1,
    metrics: {
      'conflict/a/b/cosine': 0.5,
      'conflict/a/b/normRatio': 2,
      'conflict/a/c/cosine': -0.25,
      'conflict/a/c/normRatio': 4,
      'conflict/b/c/cosine': 0.1,
      'conflict/b/c/normRatio': 0.5,
      'a/all/train/weight': 0.7,
      'b/all/train/weight': 0.3,
      'a/d/train/loss': 1,
    },
  },
  // An epoch-end line without evaluation: weights, no monitor keys.
  { step: 15, epoch: 1, metrics: { 'a/all/train/weight': 0.6, 'b/all/train/weight': 0.4 } },
  {
    step: 20,
    epoch: 2,
    metrics: {
      'conflict/a/b/cosine': -0.75,
      'conflict/a/b/normRatio': 0.5,
      // A zero gradient of c: no cosine (null in metrics.jsonl, NaN here), no ratio.
      'conflict/a/c/cosine': Number.NaN,
      'conflict/b/c/cosine': 0.2,
      'conflict/b/c/normRatio': 8,
    },
  },
];

describe('conflictCharts', () => {
  it('a symmetric task × task heatmap of the latest evaluation, and every cosine against the step', () => {
    const [heatmap, series] = conflictCharts(history);
    expect(heatmap!.id).toBe('conflict-heatmap');
    expect(heatmap!.section).toBe('conflicts');
    const cells = valuesOf(heatmap!);
    expect(cells).toHaveLength(9);
    const at = (task: string, other: string) => cells.find((c) => c.task === task && c.other === other)!;
    expect(at('a', 'b')).toEqual({ task: 'a', other: 'b', cosine: -0.75, normRatio: 0.5 });
    // The other triangle: the same cosine, the reciprocal ratio.
    expect(at('b', 'a')).toEqual({ task: 'b', other: 'a', cosine: -0.75, normRatio: 2 });
    expect(at('c', 'b')).toEqual({ task: 'c', other: 'b', cosine: 0.2, normRatio: 0.125 });
    expect(at('a', 'c')).toMatchObject({ cosine: null, normRatio: null });
    for (const t of ['a', 'b', 'c']) expect(at(t, t)).toMatchObject({ cosine: null });
    expect((heatmap!.spec as { title: { subtitle: string } }).title.subtitle).toMatch(
      /^latest evaluation: step 20, epoch 2/,
    );
    expect(series!.id).toBe('conflict-cosines');
    const points = layerValues(series!, 0);
    // 3 pairs at step 10, 2 measured at step 20.
    expect(points.map((p) => [p.pair, p.step, p.cosine])).toEqual([
      ['a · b', 10, 0.5],
      ['a · c', 10, -0.25],
      ['b · c', 10, 0.1],
      ['a · b', 20, -0.75],
      ['b · c', 20, 0.2],
    ]);
    expect(series!.rows).toBe(5);
    expect(conflictCharts([history[1]!])).toEqual([]);
  });

  it('task weights: one line per task over every logged line; none without weights', () => {
    const chart = taskWeightChart(history)!;
    expect(chart.id).toBe('task-weights');
    expect(valuesOf(chart).map((v) => [v.task, v.step, v.weight])).toEqual([
      ['a', 10, 0.7],
      ['b', 10, 0.3],
      ['a', 15, 0.6],
      ['b', 15, 0.4],
    ]);
    expect(taskWeightChart([history[2]!])).toBeUndefined();
  });

  it('the learning curves leave the monitor keys to these charts', () => {
    expect(curveCharts([{ label: 'r', metrics: history }]).map((c) => c.id)).toEqual([
      'curves-a',
      'curves-b',
    ]);
  });
});

// Three tasks on one trunk, every step holding all three (`mixed`), weighted by uncertainty:
// the monitor measures 3 pairs and the method logs a weight per task.
const CONFIG = `
seed: 3
data:
  c: { kind: circle, n: 60 }
  s: { kind: square, n: 60 }
  i: { kind: inv_circle, n: 60 }
modules:
  trunk: { kind: mlp, inputSize: 2, hidden: [4], activation: relu }
  c_head: { kind: dense, units: 2 }
  s_head: { kind: dense, units: 2 }
  i_head: { kind: dense, units: 2 }
tasks:
  circle: { data: c, ops: [trunk, c_head] }
  square: { data: s, ops: [trunk, s_head] }
  inv: { data: i, ops: [trunk, i_head] }
training:
  epochs: 2
  lr: 0.05
  batchSize: 24
  scheduler: mixed
  weighting: { method: uncertainty }
`;

describe('mtl report of a run with the conflict monitor', () => {
  it('draws the heatmap of the last evaluation, the cosines and the weights (in Chromium when installed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtl-conflict-report-'));
    try {
      writeFileSync(join(dir, 'c.yaml'), CONFIG);
      const runDir = join(dir, 'run');
      const quiet = { out: () => {}, err: () => {} };
      expect(await runCli(['train', join(dir, 'c.yaml'), '--quiet', '--out', runDir], quiet)).toBe(0);
      const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, number>);
      const r = await report({ runDir, quiet: true });
      const ids = r.charts.map((c) => c.id);
      expect(ids).toEqual(expect.arrayContaining(['conflict-heatmap', 'conflict-cosines', 'task-weights']));
      expect(ids).not.toContain('curves-conflict');
      expect(r.charts.find((c) => c.id === 'conflict-cosines')!.rows).toBe(3 * lines.length);
      expect(r.charts.find((c) => c.id === 'task-weights')!.rows).toBe(3 * lines.length);
      const html = readFileSync(r.path, 'utf8');
      expect(html).toContain('id="conflicts"');
      expect(html).toContain('id="weights"');
      const conflict = JSON.parse(readFileSync(join(runDir, 'conflict.json'), 'utf8')) as {
        tasks: string[];
        evaluations: { cosine: number[][] }[];
      };
      expect(conflict.tasks).toEqual(['circle', 'inv', 'square']);
      expect(conflict.evaluations.at(-1)!.cosine[0]![2]).toBe(lines.at(-1)!['conflict/circle/square/cosine']);
      if (!existsSync(CHROMIUM)) return;
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
        });
        page.on('pageerror', (e) => {
          errors.push(e.message);
        });
        await page.goto(pathToFileURL(r.path).href);
        await page.waitForSelector('body[data-rendered]', { state: 'attached', timeout: 30_000 });
        expect(await page.getAttribute('body', 'data-rendered')).toBe('ok');
        const count = (sel: string) => page.$$eval(sel, (els) => els.length);
        // 3×3 cells, the 6 off-diagonal ones coloured and labelled.
        expect(await count('#conflict-heatmap g.cells_marks path')).toBe(9);
        expect(await count('#conflict-heatmap g.cosines_marks path')).toBe(6);
        expect(await count('#conflict-heatmap g.labels_marks text')).toBe(6);
        expect(await count('#conflict-cosines g.mark-symbol.role-mark path')).toBe(3 * lines.length);
        expect(await count('#task-weights g.mark-symbol.role-mark path')).toBe(3 * lines.length);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
