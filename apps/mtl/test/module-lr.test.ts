import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, writeConfig } from './helpers.js';

// `modules.<name>.lr` (a learning-rate multiplier per module) and gradients of the shared
// representation (`gradientOf: representation`, mgdaUb) through the CLI.
const CONFIG = `
seed: 4
data:
  c: { kind: circle, n: 60 }
  s: { kind: square, n: 60 }
modules:
  trunk: { kind: mlp, inputSize: 2, hidden: [6], activation: tanh }
  c_head: { kind: dense, units: 2 }
  s_head: { kind: dense, units: 2 }
tasks:
  circle: { data: c, ops: [trunk, c_head] }
  square: { data: s, ops: [trunk, s_head] }
training:
  epochs: 2
  lr: 0.05
  batchSize: 20
  scheduler: mixed
  optimizer: { type: adam }
`;

const validLosses = (run: string): number[] =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as Record<string, number>)['model/all/valid/loss']!);

async function train(out: string, ...set: string[]): Promise<number[]> {
  const config = writeConfig(CONFIG);
  const r = await cli('train', config, '--quiet', '--out', out, ...set.flatMap((s) => ['--set', s]));
  expect(r.code, r.err).toBe(0);
  return validLosses(out);
}

describe('modules.<name>.lr', () => {
  it('lr 0 on every module holds the model still; on the trunk alone the heads still learn', async () => {
    const dir = tempDir();
    const still = await train(
      join(dir, 'still'),
      'modules.trunk.lr=0',
      'modules.c_head.lr=0',
      'modules.s_head.lr=0',
    );
    expect(still[1]).toBe(still[0]);
    const heads = await train(join(dir, 'heads'), 'modules.trunk.lr=0');
    const plain = await train(join(dir, 'plain'));
    expect(heads[1]).not.toBe(heads[0]);
    expect(heads[1]).not.toBe(plain[1]);
  }, 120_000);

  it('refuses a negative multiplier and one on a module no task runs, naming modules.<name>.lr', async () => {
    const config = writeConfig(CONFIG);
    const negative = await cli('validate', config, '--set', 'modules.trunk.lr=-1');
    expect(negative.code).toBe(2);
    expect(negative.err).toMatch(/modules\.trunk\.lr/);
    const unused = await cli('validate', config, '--set', 'modules.spare={kind: dense, units: 2, lr: 0.5}');
    expect(unused.code).toBe(2);
    expect(unused.err).toMatch(/modules\.spare\.lr: module spare has no trainable variable a task uses/);
  }, 60_000);
});

describe('gradientOf: representation', () => {
  it('mgdaUb and upgrad on the representation train the tasks through the CLI', async () => {
    const dir = tempDir();
    const ub = await train(join(dir, 'ub'), 'training.weighting.method=mgdaUb');
    const up = await train(
      join(dir, 'up'),
      'training.weighting={method: upgrad, gradientOf: representation}',
    );
    const onParams = await train(join(dir, 'p'), 'training.weighting.method=upgrad');
    for (const losses of [ub, up]) {
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[1]).not.toBe(losses[0]);
    }
    // With one dataset per task the rows of R have disjoint support: another update than on the parameters.
    expect(up[1]).not.toBe(onParams[1]);
  }, 120_000);
});
