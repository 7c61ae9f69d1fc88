import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Batch, type BatchSource, RandomStream, type StepBatches } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { type ConflictFile, conflictMonitor } from '../src/conflict-monitor.js';
import { cli, tempDir, writeConfig } from './helpers.js';

// Two tasks on one trunk, each on its own data set: the default `shuffled` scheduler puts one task
// in a step, so the monitor has to draw steps until both appear. Evaluated after each epoch.
const CONFIG = `
seed: 5
data:
  c: { kind: circle, n: 80 }
  s: { kind: square, n: 80 }
modules:
  trunk: { kind: mlp, inputSize: 2, hidden: [5], activation: relu, dropout: 0.3 }
  c_head: { kind: dense, units: 2 }
  s_head: { kind: dense, units: 2 }
tasks:
  circle: { data: c, ops: [trunk, c_head] }
  square: { data: s, ops: [trunk, s_head] }
training:
  epochs: 3
  lr: 0.05
  batchSize: 16
  optimizer: { type: adam }
`;

type Line = Record<string, number>;
const lines = (run: string): Line[] =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
const withoutConflicts = (line: Line): Line =>
  Object.fromEntries(Object.entries(line).filter(([k]) => !k.startsWith('conflict/')));

describe('conflict monitor (training.monitor.conflicts)', () => {
  it('logs cosine and norm ratio at each evaluation, writes conflict.json, and changes no training number', async () => {
    const config = writeConfig(CONFIG);
    const dir = tempDir();
    const on = join(dir, 'on');
    const off = join(dir, 'off');
    for (const [out, set] of [
      [on, []],
      [off, ['--set', 'training.monitor.conflicts=false']],
    ] as const) {
      const r = await cli('train', config, '--quiet', '--out', out, ...set);
      expect(r.code, r.err).toBe(0);
    }
    const withMonitor = lines(on);
    const without = lines(off);
    expect(withMonitor.length).toBe(3);
    // Bit-identical training: every logged number and every final score.
    expect(withMonitor.map(withoutConflicts)).toEqual(without);
    expect(readFileSync(join(on, 'scores.json'), 'utf8')).toBe(
      readFileSync(join(off, 'scores.json'), 'utf8'),
    );
    expect(Object.keys(without[0]!).some((k) => k.startsWith('conflict/'))).toBe(false);
    expect(existsSync(join(off, 'conflict.json'))).toBe(false);
    for (const line of withMonitor) {
      const cosine = line['conflict/circle/square/cosine']!;
      const ratio = line['conflict/circle/square/normRatio']!;
      expect(cosine).toBeGreaterThanOrEqual(-1);
      expect(cosine).toBeLessThanOrEqual(1);
      expect(ratio).toBeGreaterThan(0);
    }
    // The weights move between evaluations, the batch does not: the numbers change.
    expect(withMonitor[2]!['conflict/circle/square/cosine']).not.toBe(
      withMonitor[0]!['conflict/circle/square/cosine'],
    );
    const file = JSON.parse(readFileSync(join(on, 'conflict.json'), 'utf8')) as ConflictFile;
    expect(file.tasks).toEqual(['circle', 'square']);
    expect(file.evaluations.map((e) => e.step)).toEqual(withMonitor.map((l) => l.step));
    const last = file.evaluations[2]!;
    const line = withMonitor[2]!;
    expect(last.cosine).toEqual([
      [1, line['conflict/circle/square/cosine']],
      [line['conflict/circle/square/cosine'], 1],
    ]);
    expect(last.normRatio[0]![1]).toBe(line['conflict/circle/square/normRatio']);
    expect(last.normRatio[1]![0]).toBeCloseTo(1 / line['conflict/circle/square/normRatio']!, 12);
  });

  it('the exact cosine of two conflicting tasks, on steps drawn until both tasks appear; no tensor left', () => {
    // Shared w; task a pulls it towards [0, 1], task b towards [2, 0]; task a also owns h, whose
    // gradient must stay out of the comparison.
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'monitor-test/w');
    const h = tf.variable(tf.scalar(3), true, 'monitor-test/h');
    const ta = tf.tensor1d([0, 1]);
    const tb = tf.tensor1d([2, 0]);
    // A one-task scheduler: the first step has only a's rows, the second only b's.
    const steps = [[{ task: 'a' }], [{ task: 'b' }], [{ task: 'a' }]] as unknown as StepBatches[];
    const disposed: StepBatches[] = [];
    let drawnWith: RandomStream | undefined;
    const source: BatchSource<StepBatches> = {
      batchesPerEpoch: () => steps.length,
      *epoch(_epoch, rng) {
        drawnWith = rng;
        yield* steps;
      },
      dispose: (b) => {
        disposed.push(b);
      },
    };
    let sources = 0;
    const run = {
      taskNames: ['b', 'a'],
      trainSource: () => {
        sources += 1;
        return source;
      },
      trainable: {
        trainableVariables: () => [w, h],
        parameterGroups: () => [
          { name: 'trunk', tasks: ['a', 'b'], variables: [w.name] },
          { name: 'head', tasks: ['a'], variables: [h.name] },
        ],
        loss: (batches: Batch[]) => {
          const tasks = new Set(batches.map((b) => (b as unknown as { task: string }).task));
          const parts: Record<string, tf.Scalar> = {};
          // ‖w − ta‖² + h²: gradient of w is 2(w − ta) = [2, 2].
          if (tasks.has('a'))
            parts['a/d'] = tf.add(tf.sum(tf.square(tf.sub(w, ta))), tf.square(h)) as tf.Scalar;
          // ‖w − tb‖²: gradient 2(w − tb) = [−2, 4].
          if (tasks.has('b')) parts['b/d'] = tf.sum(tf.square(tf.sub(w, tb))) as tf.Scalar;
          return { parts };
        },
      },
    };
    const before = tf.memory().numTensors;
    const rng = new RandomStream(9);
    const monitor = conflictMonitor(run, rng, true)!;
    expect(monitor.tasks).toEqual(['a', 'b']);
    expect(sources).toBe(0); // nothing is drawn before the first evaluation
    const scores = monitor.measure({ step: 10, epoch: 1 });
    // ⟨[2,2], [−2,4]⟩ = 4; ‖[2,2]‖ = √8, ‖[−2,4]‖ = √20.
    expect(scores['conflict/a/b/cosine']).toBeCloseTo(4 / Math.sqrt(160), 6);
    expect(scores['conflict/a/b/normRatio']).toBeCloseTo(Math.sqrt(8 / 20), 6);
    // A stream of its own, derived from the run's without advancing it.
    expect(drawnWith!.seed).toBe(String(rng.childSeed('conflict-monitor')));
    expect(rng.next()).toBe(new RandomStream(9).next());
    // The same batch at the next evaluation: drawn once; moving w towards tb flips the sign.
    tf.tidy(() => w.assign(tf.tensor1d([2, 0.5])));
    const later = monitor.measure({ step: 20, epoch: 2 });
    expect(sources).toBe(1);
    // g_a = 2([2, .5] − [0, 1]) = [4, −1]; g_b = 2([2, .5] − [2, 0]) = [0, 1]; cos = −1/√17.
    expect(later['conflict/a/b/cosine']).toBeCloseTo(-1 / Math.sqrt(17), 6);
    monitor.dispose();
    // Only the two steps it drew (the third was never read) are handed back.
    expect(disposed).toEqual([steps[0], steps[1]]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, h, ta, tb]);
  });

  it('is off with one task, without shared parameters, or when switched off', () => {
    const v = tf.variable(tf.scalar(1), true, 'monitor-test/v');
    const trainable = {
      trainableVariables: () => [v],
      parameterGroups: () => [{ name: 'own', tasks: ['a'], variables: [v.name] }],
      loss: () => ({ parts: { 'a/d': tf.mul(v, 1) as tf.Scalar } }),
    };
    const trainSource = () => {
      throw new Error('not drawn');
    };
    const rng = new RandomStream(1);
    expect(conflictMonitor({ taskNames: ['a', 'b'], trainable, trainSource }, rng, true)).toBeUndefined();
    const shared = {
      ...trainable,
      parameterGroups: () => [{ name: 's', tasks: ['a', 'b'], variables: [v.name] }],
    };
    expect(conflictMonitor({ taskNames: ['a'], trainable: shared, trainSource }, rng, true)).toBeUndefined();
    expect(
      conflictMonitor({ taskNames: ['a', 'b'], trainable: shared, trainSource }, rng, false),
    ).toBeUndefined();
    expect(
      conflictMonitor({ taskNames: ['a', 'b'], trainable: shared, trainSource }, rng, true),
    ).toBeDefined();
    v.dispose();
  });
});
