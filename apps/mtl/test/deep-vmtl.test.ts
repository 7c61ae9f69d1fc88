import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, writeConfig } from './helpers.js';

const CONFIG = `
seed: 5
data:
  l: { kind: logistic_tasks, tasks: 2, sizes: 80, dim: 2 }
modules:
  trunk: { kind: dense, units: 4, activation: tanh }
tasks:
  task1: { data: l, ops: [trunk] }
  task2: { data: l, ops: [trunk] }
model:
  kind: vmtl
  latentDim: 2
  classifierSamples: 2
  latentSamples: 2
  predictiveSamples: 20
  latentKlWeight: { kind: linear, steps: 4 }
training: { epochs: 2, batchSize: 16 }
`;

/** `mtl predict OUT --task TASK` on `csv` (written to DIR/in.csv): the lines of the CSV it writes. */
async function predictLines(dir: string, out: string, task: string, csv: string): Promise<string[]> {
  writeFileSync(join(dir, 'in.csv'), csv);
  const p = await cli(
    'predict',
    out,
    '--task',
    task,
    '--input',
    join(dir, 'in.csv'),
    '--output',
    join(dir, 'p.csv'),
  );
  expect(p.err).toBe('');
  return readFileSync(join(dir, 'p.csv'), 'utf8').trim().split('\n');
}

describe('deep VMTL through the config (vmtl tasks with ops)', () => {
  it('trains a shared trunk with per-task latents and classifiers; α and β; predictions with entropy; the data ceiling', async () => {
    const dir = tempDir();
    const file = writeConfig(CONFIG, 'c.yaml', dir);
    const out = join(dir, 'run');
    const r = await cli('train', file, '--out', out, '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.modules).toEqual([
      'trunk',
      'task1.latent',
      'task1.classifier',
      'task2.latent',
      'task2.classifier',
    ]);
    // The true weights' accuracy, beside the scores (logistic tasks know their weights).
    expect(Object.keys(summary.ceiling).sort()).toEqual([
      'task1/task1Dataset/test/accuracy',
      'task1/task1Dataset/train/accuracy',
      'task2/task2Dataset/test/accuracy',
      'task2/task2Dataset/train/accuracy',
    ]);
    const scores = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8'));
    expect(scores['task1/task1Dataset/test/accuracy']).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(scores['task2/task2Dataset/test/loss'])).toBe(true);
    const mixing = JSON.parse(readFileSync(join(out, 'mixing.json'), 'utf8'));
    expect(mixing.alpha[0][1]).toBeCloseTo(1, 6);
    expect(mixing.beta[1][0]).toBeCloseTo(1, 6);
    const lines = await predictLines(dir, out, 'task1', 'x_0,x_1\n1,2\n-3,0.5\n');
    expect(lines[0]).toBe('row,pred,prob_0,prob_1,entropy');
    for (const line of lines.slice(1)) {
      const [, pred, p0, p1, h] = line.split(',').map(Number);
      expect(p0! + p1!).toBeCloseTo(1, 5);
      expect(pred).toBe(p1! > p0! ? 1 : 0);
      expect(h).toBeCloseTo(-(p0! * Math.log(p0!) + p1! * Math.log(p1!)), 4);
    }
    // Same run, loaded again: the same scores.
    const s = await cli('score', out);
    expect(s.code).toBe(0);
  });

  it('the solo baseline copies the trunk per task; a task without ops beside deep tasks is refused', async () => {
    const dir = tempDir();
    const file = writeConfig(CONFIG, 'c.yaml', dir);
    const out = join(dir, 'solo');
    const r = await cli(
      'train',
      file,
      '--out',
      out,
      '--quiet',
      '--set',
      'model.prior=standardNormal',
      '--set',
      'training.epochs=1',
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.modules).toEqual([
      'task1.trunk',
      'task2.trunk',
      'task1.latent',
      'task1.classifier',
      'task2.latent',
      'task2.classifier',
    ]);
    // shareTrunk: true keeps N(0, I) priors on one shared trunk (VMTL without the mixture prior).
    const shared = join(dir, 'shared');
    const sh = await cli(
      'train',
      file,
      '--out',
      shared,
      '--quiet',
      '--set',
      'model.prior=standardNormal',
      '--set',
      'model.shareTrunk=true',
      '--set',
      'training.epochs=1',
    );
    expect(sh.code).toBe(0);
    expect(JSON.parse(readFileSync(join(shared, 'summary.json'), 'utf8')).modules).toEqual([
      'trunk',
      'task1.latent',
      'task1.classifier',
      'task2.latent',
      'task2.classifier',
    ]);
    const bad = await cli('train', file, '--out', join(dir, 'bad'), '--set', 'tasks.task2={data: l}');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(
      'tasks.task2.ops: in a deep vmtl model (some task has "ops") every task needs "ops"',
    );
  });

  it('mtl compare of the elementary model prints the data ceiling (the true weights) beside the scores', async () => {
    const dir = tempDir();
    const file = writeConfig(
      'seed: 43\ndata:\n  l: { kind: logistic_tasks, tasks: 2, sizes: 60, dim: 2 }\ntasks:\n  task1: { data: l }\n  task2: { data: l }\nmodel: { kind: vmtl }\ntraining: { epochs: 1, batchSize: 16 }\n',
      'c.yaml',
      dir,
    );
    const r = await cli('compare', file, '--out', join(dir, 'cmp'));
    expect(r.code).toBe(0);
    const comparison = JSON.parse(readFileSync(join(dir, 'cmp', 'comparison.json'), 'utf8'));
    const key = 'task1/task1Dataset/test/accuracy';
    const ceiling = comparison.ceiling[key];
    expect(ceiling).toBeGreaterThan(0.5);
    expect(r.out).toMatch(/score\s+multitask\s+solo\s+ceiling/);
    const row = r.out.split('\n').find((l) => l.startsWith(key))!;
    expect(row.split(/\s+/)[3]).toBe(ceiling.toFixed(4));
  });

  it('regression end to end: two CSV tasks, a normal likelihood; mse scored; predict gives mean and variance per row', async () => {
    const dir = tempDir();
    // y = 2·x1 − x2 (+ 0.5 for task b) plus a little noise; 40 rows each.
    for (const [task, shift] of [
      ['a', 0],
      ['b', 0.5],
    ] as const) {
      const rows = Array.from({ length: 40 }, (_, i) => {
        const x1 = Math.sin(i * 1.3);
        const x2 = Math.cos(i * 0.7);
        return `${x1.toFixed(4)},${x2.toFixed(4)},${(2 * x1 - x2 + shift + 0.05 * Math.sin(i * 5.1)).toFixed(4)}`;
      });
      writeFileSync(join(dir, `${task}.csv`), `x1,x2,y\n${rows.join('\n')}\n`);
    }
    const data = (t: string) =>
      `  ${t}: { kind: csv, path: ${t}.csv, splits: { train: 0.75, test: 0.25 }, fields: { x: [x1, x2] }, labels: { ${t}: { column: y, kind: regression } } }`;
    const file = writeConfig(
      `seed: 3
data:
${data('a')}
${data('b')}
modules:
  trunk: { kind: dense, units: 8, activation: tanh }
tasks:
  a: { data: a, ops: [trunk] }
  b: { data: b, ops: [trunk] }
model:
  kind: vmtl
  classifierSamples: 2
  predictiveSamples: 20
  classifierKlWeight: 0.01
training: { epochs: 40, batchSize: 10, lr: 0.02 }
`,
      'r.yaml',
      dir,
    );
    const out = join(dir, 'run');
    const r = await cli('train', file, '--out', out, '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const scores = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8'));
    // The trunk and the Bayesian regressors learn the map: a held-out mse far below the targets'
    // variance (about 1 once standardised, 2.5 raw), the loss the Gaussian NLL with noiseScale 1.
    for (const t of ['a', 'b']) {
      expect(scores[`${t}/${t}/test/mse`]).toBeLessThan(0.2);
      expect(scores[`${t}/${t}/test/loss`]).toBeGreaterThan(0.5 * Math.log(2 * Math.PI));
    }
    const lines = await predictLines(dir, out, 'a', 'x1,x2\n0.5,0.2\n-1,1\n');
    expect(lines[0]).toBe('row,value_0,variance');
    // The predictive mean near the true map (0.8 and −3), the variance the noise (1) plus the draws' spread.
    [0.8, -3].forEach((truth, i) => {
      const [, mean, variance] = lines[i + 1]!.split(',').map(Number);
      expect(Math.abs(mean! - truth)).toBeLessThan(0.6);
      expect(variance).toBeGreaterThan(1);
      expect(variance).toBeLessThan(1.5);
    });
  });
});
