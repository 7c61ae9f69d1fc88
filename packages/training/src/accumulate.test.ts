import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LossOutput, MtlError, type Trainable } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Aggregator } from './aggregator.js';
import type { TrainerConfigInput } from './config.js';
import { LogReg, logisticData, uniqueName, type XYBatch, xySource } from './test-utils.js';
import { type FitResult, Trainer } from './trainer.js';

// training.accumulate: the optimizer steps every K batches with the mean of their gradients.

const data = logisticData(31, 160);
const valid = logisticData(32, 60);
const tmp = () => mkdtempSync(join(tmpdir(), 'mtl-accumulate-'));

/** Least squares on the logistic data, no randomness: a mean loss over the batch's rows. */
class LinReg implements Trainable<XYBatch> {
  readonly w = tf.variable(tf.tensor2d([[0.3], [-0.2]]), true, uniqueName('acc/w'));
  readonly b = tf.variable(tf.zeros([1]), true, uniqueName('acc/b'));
  trainableVariables(): tf.Variable[] {
    return [this.w, this.b];
  }
  loss(batch: XYBatch): LossOutput {
    const pred = tf.add(tf.matMul(batch.x, this.w as tf.Tensor2D), this.b);
    return { parts: { lin: tf.mean(tf.square(tf.sub(pred, batch.y))) as tf.Scalar } };
  }
  values(): number[] {
    return [...(this.w.dataSync() as Float32Array), ...(this.b.dataSync() as Float32Array)];
  }
  dispose(): void {
    tf.dispose([this.w, this.b]);
  }
}

describe('training.accumulate', () => {
  it('K=2 with batch 16 equals K=1 with batch 32 for a mean loss (SGD, within 1e-6), 50 steps each', async () => {
    const two = new LinReg();
    const one = new LinReg();
    const before = tf.memory().numTensors;
    const config = { seed: 2, epochs: 10, lr: 0.1, optimizer: { type: 'sgd' as const } };
    const a = await new Trainer({ ...config, accumulate: 2 }).fit(two, { train: xySource(data, 16) });
    expect(tf.memory().numTensors).toBe(before);
    const b = await new Trainer(config).fit(one, { train: xySource(data, 32) });
    expect([a.step, b.step]).toEqual([50, 50]);
    const gap = two.values().reduce((g, x, i) => Math.max(g, Math.abs(x - one.values()[i]!)), 0);
    expect(gap).toBeLessThan(1e-6);
    expect(two.values()[0]).not.toBeCloseTo(0.3, 2);
    // Each epoch's log still holds the mean loss of its batches.
    expect(a.history.at(-1)!.metrics['lin/all/train/loss']).toBeCloseTo(
      b.history.at(-1)!.metrics['lin/all/train/loss']!,
      5,
    );
    two.dispose();
    one.dispose();
  });

  it('on the gradient level the combined updates are accumulated: K=2 equals batch 2b there too', async () => {
    const mean: Aggregator = {
      name: 'one-row', // one task: its row is the mean
      level: 'gradient',
      aggregate: (J) => Float64Array.from({ length: J.cols }, (_, c) => J.data[c]!),
    };
    const two = new LinReg();
    const one = new LinReg();
    const config = { seed: 2, epochs: 3, lr: 0.1, optimizer: { type: 'sgd' as const } };
    await new Trainer({ ...config, accumulate: 2 }, { aggregator: mean }).fit(two, {
      train: xySource(data, 16),
    });
    await new Trainer(config, { aggregator: mean }).fit(one, { train: xySource(data, 32) });
    const gap = two.values().reduce((g, x, i) => Math.max(g, Math.abs(x - one.values()[i]!)), 0);
    expect(gap).toBeLessThan(1e-6);
    two.dispose();
    one.dispose();
  });

  it('an epoch of 5 batches with K=2 makes 3 steps (windows 2, 2, 1); the schedule counts steps', async () => {
    const m = new LinReg();
    const lrs: number[] = [];
    const result = await new Trainer({
      epochs: 2,
      lr: 0.1,
      accumulate: 2,
      optimizer: { type: 'sgd' },
      lrSchedule: { type: 'linear' },
    }).fit(m, { train: xySource(data, 32), callbacks: { onStepEnd: (s) => void lrs.push(s.lr) } });
    expect(result.step).toBe(6);
    expect(lrs).toHaveLength(6);
    // Linear decay over 6 optimizer steps (not 10 batches).
    expect(lrs[0]).toBeCloseTo(0.1, 12);
    expect(lrs[5]).toBeCloseTo(0.1 / 6, 12);
    m.dispose();
  });

  it('a stop mid-epoch resumes bit for bit (Adam, dropout, clipping, evaluation every 2 steps)', async () => {
    const config: TrainerConfigInput = {
      seed: 7,
      epochs: 4,
      lr: 0.05,
      accumulate: 2,
      gradClipNorm: 0.5,
      optimizer: { type: 'adam' },
      evalUnit: 'step',
      evalEvery: 2,
    };
    const run = async (seed: number, fit: (m: LogReg) => Promise<FitResult>) => {
      const m = new LogReg(seed, 'accres');
      try {
        return { result: await fit(m), weights: m.weights() };
      } finally {
        m.dispose();
      }
    };
    const straight = await run(5, (m) =>
      new Trainer(config).fit(m, { train: xySource(data, 32), evaluate: () => m.score(valid) }),
    );
    const dir = tmp();
    await run(5, (m) => {
      const trainer = new Trainer({ ...config, checkpointDir: dir });
      return trainer.fit(m, {
        train: xySource(data, 32),
        evaluate: () => m.score(valid),
        callbacks: { onStepEnd: (s) => (s.step === 4 ? trainer.stop() : undefined) },
      });
    });
    // The resumed run writes last.ckpt again (at its end): keep the mid-epoch one.
    const mid = join(tmp(), 'mid.ckpt');
    copyFileSync(join(dir, 'last.ckpt'), mid);
    const resumed = await run(0, (m) =>
      Trainer.resume(join(dir, 'last.ckpt'), m, {
        train: xySource(data, 32),
        evaluate: () => m.score(valid),
      }),
    );
    expect(resumed.result.step).toBe(12);
    expect(resumed.weights).toEqual(straight.weights);
    expect(resumed.result.history).toEqual(straight.result.history);
    // The checkpoint (4 steps = 7 batches: epoch 1, batch 2) is not at a boundary of K=3.
    let e: unknown;
    try {
      await run(0, (m) =>
        Trainer.resume(mid, m, {
          train: xySource(data, 32),
          config: { ...config, accumulate: 3 },
        }),
      );
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(MtlError);
    expect((e as MtlError).message).toMatch(/not at the end of a window of accumulate 3 batches/);
  });
});
