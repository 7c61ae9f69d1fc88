import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseScoreKey } from '@mtl/scoring';
import { CHECKPOINT_FILES, type HistoryRecord, loadCheckpoint } from '@mtl/training';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../src/commands/train.js';
import { readRunFiles } from '../src/report/run-files.js';
import { cli, EXAMPLES, readJson, tempDir } from './helpers.js';

/** Σ weight·task/<dataset>/<split>/loss over the task keys of one split. */
function weightedTaskLoss(
  scores: Record<string, number>,
  split: string,
  weights: Record<string, number>,
): { sum: number; tasks: number } {
  let sum = 0;
  let tasks = 0;
  for (const [key, value] of Object.entries(scores)) {
    const p = parseScoreKey(key);
    if (p.task === 'model' || p.split !== split || p.metric !== 'loss') continue;
    sum += weights[p.task]! * value;
    tasks += 1;
  }
  return { sum, tasks };
}

/** Every split's model/all/<split>/loss is Σ weight·task loss (and there is one per split with task losses). */
function expectModelLossIsWeightedSum(scores: Record<string, number>, weights: Record<string, number>) {
  const splits = new Set(
    Object.keys(scores)
      .map(parseScoreKey)
      .filter((p) => p.task !== 'model' && p.metric === 'loss')
      .map((p) => p.split),
  );
  expect(splits.size).toBeGreaterThan(0);
  for (const split of splits) {
    const { sum, tasks } = weightedTaskLoss(scores, split, weights);
    expect(tasks).toBe(Object.keys(weights).length);
    expect(Math.abs(scores[`model/all/${split}/loss`]! - sum), `model/all/${split}/loss`).toBeLessThan(1e-6);
  }
  return splits;
}

/** The timing block: every phase there, non-negative, the phases within the total. */
function expectTiming(summary: Summary) {
  const t = summary.timing;
  for (const phase of ['load', 'build', 'train', 'evaluate', 'total'] as const) {
    expect(t[phase].wallSeconds, phase).toBeGreaterThanOrEqual(0);
    expect(t[phase].cpuSeconds, phase).toBeGreaterThanOrEqual(0);
  }
  const phases = [t.load, t.build, t.train, t.evaluate];
  expect(phases.reduce((a, p) => a + p.wallSeconds, 0)).toBeLessThanOrEqual(t.total.wallSeconds + 1e-9);
  expect(phases.reduce((a, p) => a + p.cpuSeconds, 0)).toBeLessThanOrEqual(t.total.cpuSeconds + 1e-9);
  expect(summary.examplesPerSecond).toBeCloseTo(
    t.train.wallSeconds > 0 ? summary.examples / t.train.wallSeconds : 0,
    9,
  );
}

interface Case {
  name: string;
  config: string;
  set: string[];
  weights: Record<string, number>;
  /** Training rows seen per epoch (examples = epochs × this for a completed run). */
  valid: boolean;
  /** How far a task's last-epoch train loss may be from its end-of-run train-split loss (a factor). */
  scale: number;
}

const CASES: Case[] = [
  {
    name: 'multitask (snorkel-basics, circle weighted 3)',
    config: 'snorkel-basics.yaml',
    set: ['training.epochs=3', 'tasks.circle_task.weight=3'],
    weights: { circle_task: 3, square_task: 1 },
    valid: true,
    scale: 2,
  },
  {
    name: 'vmtl (vmtl-logistic, task2 weighted 2)',
    config: 'vmtl-logistic.yaml',
    set: ['training.epochs=2', 'tasks.task2.weight=2'],
    weights: { task1: 1, task2: 2, task3: 1 },
    valid: false,
    // Training logs E_q[−log p(y|x,w)] + KL/N per row, scoring the predictive −log E_q[p(y|x,w)]:
    // per example both, but apart by the Jensen gap of a wide early posterior (2.4 vs 0.68 here).
    scale: 5,
  },
  {
    name: 'vae (mt-vae, β annealed)',
    config: 'mt-vae.yaml',
    set: [
      'training.epochs=3',
      'model.beta={kind: linear, from: 0, to: 1, steps: 4}',
      'tasks.domain2.weight=0.5',
      'data.domains.test=64',
    ],
    weights: { domain1: 1, domain2: 0.5, domain3: 1, domain4: 1 },
    valid: false,
    scale: 2,
  },
];

describe('mtl train: one model-wide loss, one epoch count, timings (every model kind)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const out = join(tempDir(), 'run');
      const r = await cli(
        'train',
        join(EXAMPLES, c.config),
        '--out',
        out,
        ...c.set.flatMap((s) => ['--set', s]),
      );
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const summary = readJson<Summary>(join(out, 'summary.json'));
      const scores = readJson<Record<string, number>>(join(out, 'scores.json'));
      const run = await readRunFiles(out);
      const history: HistoryRecord[] = run.metrics;

      // Item 4: model/all/<split>/loss = Σ tasks.<t>.weight·task/<dataset>/<split>/loss in scores.json
      // and in every metrics.jsonl record (train: of the epoch's per-task means).
      const splits = expectModelLossIsWeightedSum(scores, c.weights);
      expect([...splits].sort()).toEqual(c.valid ? ['test', 'train', 'valid'] : ['test', 'train']);
      expect(history.length).toBeGreaterThan(0);
      for (const record of history) {
        const trainSplit = expectModelLossIsWeightedSum(
          Object.fromEntries(Object.entries(record.metrics).filter(([k]) => k.endsWith('/loss'))),
          c.weights,
        );
        expect(trainSplit.has('train')).toBe(true);
        expect(trainSplit.has('valid')).toBe(c.valid);
      }
      // The same scale: each task's train loss of the last epoch (per example, training mode) is
      // within a small factor of its loss on the train split at the end (main logged the VMTL's
      // per-task negative ELBO summed over the task's rows: hundreds against 0.6).
      const last = history.at(-1)!.metrics;
      for (const [key, value] of Object.entries(scores)) {
        const p = parseScoreKey(key);
        if (p.split !== 'train' || p.metric !== 'loss') continue;
        expect(last[key]! / value, key).toBeGreaterThan(1 / c.scale);
        expect(last[key]! / value, key).toBeLessThan(c.scale);
      }

      // Item 5: epoch = epochs completed in summary.json, metrics.jsonl, the checkpoint and the console.
      const epochs = Number(c.set.find((s) => s.startsWith('training.epochs='))!.split('=')[1]);
      expect(summary.epochs).toBe(epochs);
      expect(history.map((h) => h.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
      const ckpt = await loadCheckpoint(join(out, 'checkpoints', CHECKPOINT_FILES.last));
      expect(ckpt.trainer!.epoch).toBe(epochs);
      expect(ckpt.trainer!.step).toBe(summary.steps);
      expect(r.out).toContain(`${summary.steps} steps, ${epochs} epochs in`);
      if (c.valid) {
        for (const h of history) expect(r.out).toContain(`eval step ${h.step} epoch ${h.epoch}/${epochs}:`);
      }

      // Item 15: timings and examples/s in summary.json and on the last console line.
      expectTiming(summary);
      expect(summary.examples).toBeGreaterThan(0);
      const lastLine = r.out.trim().split('\n').at(-1)!;
      expect(lastLine).toMatch(
        /^done \(completed\): \d+ steps, \d+ epochs in [\d.]+s \(load [\d.]+s, build [\d.]+s, train [\d.]+s, evaluate [\d.]+s; cpu [\d.]+s\), [\d.]+ examples\/s; run: /,
      );
    });
  }

  it('examples counts every training row of every epoch (multitask: the train splits × epochs)', async () => {
    const out = join(tempDir(), 'run');
    const r = await cli(
      'train',
      join(EXAMPLES, 'snorkel-basics.yaml'),
      '--out',
      out,
      '--quiet',
      '--set',
      'training.epochs=2',
    );
    expect(r.code).toBe(0);
    const summary = readJson<Summary>(join(out, 'summary.json'));
    const scores = readJson<Record<string, number>>(join(out, 'scores.json'));
    expect(scores['circle_task/circleDataset/train/accuracy']).toBeDefined();
    // snorkel-basics: 1000 rows per dataset, 80% of them train.
    expect(summary.examples).toBe(2 * (800 + 800));
    expect(existsSync(join(out, 'checkpoints'))).toBe(true);
    expect(readdirSync(join(out, 'checkpoints')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
