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
    writeFileSync(join(dir, 'in.csv'), 'x_0,x_1\n1,2\n-3,0.5\n');
    const p = await cli(
      'predict',
      out,
      '--task',
      'task1',
      '--input',
      join(dir, 'in.csv'),
      '--output',
      join(dir, 'p.csv'),
    );
    expect(p.err).toBe('');
    const lines = readFileSync(join(dir, 'p.csv'), 'utf8').trim().split('\n');
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
});
