import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGGREGATOR_NAMES } from '@mtl/training';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, writeConfig } from './helpers.js';

// Three small tasks on one trunk: every step of the `mixed` scheduler has all three, so the
// gradient-level methods see a 3-row Jacobian; two epochs of 4 steps, evaluated after each.
const CONFIG = `
seed: 11
data:
  c: { kind: circle, n: 100 }
  s: { kind: square, n: 100 }
  i: { kind: inv_circle, n: 100 }
modules:
  trunk: { kind: mlp, inputSize: 2, hidden: [6], activation: relu }
  c_head: { kind: dense, units: 2 }
  s_head: { kind: dense, units: 2 }
  i_head: { kind: dense, units: 2 }
tasks:
  circle: { data: c, ops: [trunk, c_head] }
  square: { data: s, ops: [trunk, s_head], weight: 2 }
  inv: { data: i, ops: [trunk, i_head] }
training:
  epochs: 2
  lr: 0.05
  batchSize: 20
  scheduler: mixed
  optimizer: { type: adam }
`;

// Methods with no per-task weight to log: the default (its weights are the config's, and its
// metrics stay as before the methods existed), and those that change gradients value by value.
const NO_WEIGHTS = new Set(['weightedSum', 'gls', 'graddrop', 'gradvac', 'dbMtl']);

type Line = Record<string, number>;
const lines = (run: string): Line[] =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

async function train(config: string, out: string, ...set: string[]) {
  const r = await cli('train', config, '--quiet', '--out', out, ...set.flatMap((s) => ['--set', s]));
  expect(r.code, r.err).toBe(0);
  return { metrics: lines(out), scores: readFileSync(join(out, 'scores.json'), 'utf8') };
}

describe('training.weighting', () => {
  it('every method trains the three tasks: finite losses, the weights move, weights logged', async () => {
    const config = writeConfig(CONFIG);
    const dir = tempDir();
    expect(AGGREGATOR_NAMES.length).toBe(22);
    const scores: Record<string, string> = {};
    for (const method of AGGREGATOR_NAMES) {
      const { metrics, scores: s } = await train(
        config,
        join(dir, method),
        `training.weighting.method=${method}`,
      );
      scores[method] = s;
      expect(metrics.length, method).toBe(2);
      for (const m of metrics) {
        for (const [task, dataset] of [
          ['circle', 'c'],
          ['square', 's'],
          ['inv', 'i'],
        ] as const) {
          expect(Number.isFinite(m[`${task}/${dataset}/train/loss`]), `${method} ${task}`).toBe(true);
          const weight = m[`${task}/all/train/weight`];
          if (NO_WEIGHTS.has(method)) expect(weight, `${method} ${task} weight`).toBeUndefined();
          else expect(Number.isFinite(weight), `${method} ${task} weight`).toBe(true);
        }
      }
      // The valid split is read in file order: the same loss twice would mean no update happened.
      expect(metrics[1]!['model/all/valid/loss'], method).not.toBe(metrics[0]!['model/all/valid/loss']);
      expect(Number.isFinite(metrics[1]!['model/all/valid/loss']), method).toBe(true);
    }
    // equal logs 1/m; uncertainty its learnt ½e^{−s}, moved from ½.
    const ew = lines(join(dir, 'equal'))[1]!;
    expect(ew['square/all/train/weight']).toBeCloseTo(1 / 3, 12);
    const uw = lines(join(dir, 'uncertainty'))[1]!;
    expect(uw['circle/all/train/weight']).not.toBe(0.5);
    expect(uw['circle/all/train/weight']).toBeGreaterThan(0);
    // A gradient-level method changes the update; the default is today's weighted sum, bit for bit.
    expect(scores.pcgrad).not.toBe(scores.weightedSum);
    expect(scores.upgrad).not.toBe(scores.weightedSum);
    const plain = await train(config, join(dir, 'default'));
    expect(plain.scores).toBe(scores.weightedSum);
  }, 600_000);

  it('refuses bad options at validate, naming the option and the method', async () => {
    const config = writeConfig(CONFIG);
    const cases: [string, RegExp][] = [
      [
        'training.weighting={method: famo, lr: -1}',
        /training\.weighting\.lr: .*>0 \(weighting method famo\)/,
      ],
      [
        'training.weighting={method: cagrad, radius: 1}',
        /training\.weighting\.radius: unknown key "radius" \(weighting method cagrad\)/,
      ],
      ['training.weighting.method=nope', /training\.weighting\.method: .*'pcgrad'/],
      [
        'training.weighting={method: upgrad, preference: [1, 2]}',
        /training\.weighting\.preference.*2 values for 3 tasks/,
      ],
    ];
    for (const [set, message] of cases) {
      const r = await cli('validate', config, '--set', set);
      expect(r.code, set).toBe(2);
      expect(r.err, set).toMatch(message);
    }
    // Gradients of the representation need a module two tasks run: here only circle runs `trunk`.
    const lone = await cli(
      'validate',
      config,
      '--set',
      'tasks.square.ops=[s_head]',
      '--set',
      'tasks.inv.ops=[i_head]',
      '--set',
      'training.weighting.method=mgdaUb',
    );
    expect(lone.code).toBe(2);
    expect(lone.err).toMatch(
      /training\.weighting\.gradientOf: weighting method mgdaUb: gradients of the shared representation need a module that two or more tasks run, but tasks circle, square, inv share none/,
    );
    const single = await cli(
      'validate',
      config,
      '--set',
      'training.scheduler=shuffled',
      '--set',
      'training.weighting.method=pcgrad',
    );
    expect(single.code).toBe(2);
    expect(single.err).toMatch(
      /training\.scheduler: weighting method pcgrad .* scheduler "shuffled" puts one task in a step; use training\.scheduler: mixed/,
    );
    const famo = await cli(
      'validate',
      config,
      '--set',
      'training.scheduler=roundRobin',
      '--set',
      'training.weighting.method=famo',
    );
    expect(famo.code).toBe(2);
    expect(famo.err).toMatch(
      /weighting method famo weighs the losses of every task in a step, but scheduler "roundRobin"/,
    );
    // A method that weighs any subset of the tasks works with any scheduler.
    const ok = await cli(
      'validate',
      config,
      '--set',
      'training.scheduler=shuffled',
      '--set',
      'training.weighting.method=gls',
    );
    expect(ok.code, ok.err).toBe(0);
  }, 300_000);
});
