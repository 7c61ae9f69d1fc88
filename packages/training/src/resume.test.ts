import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { TrainerCallbacks } from './callbacks.js';
import type { TrainerConfigInput } from './config.js';
import { JsonlMetricsLogger, readMetricsJsonl } from './metrics-log.js';
import { LogReg, logisticData, xySource } from './test-utils.js';
import { type FitResult, Trainer } from './trainer.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mtl-resume-'));
const data = logisticData(21, 160); // 5 batches of 32 per epoch
const valid = logisticData(22, 100);
const train = () => xySource(data, 32);

/** Trains a fresh LogReg (variables named `prefix/…`) and disposes it; returns its final weights. */
async function withModel(
  prefix: string,
  initSeed: number,
  fit: (m: LogReg) => Promise<FitResult | undefined>,
): Promise<{ weights: Float32Array[]; result: FitResult | undefined }> {
  const m = new LogReg(initSeed, prefix);
  try {
    const result = await fit(m);
    return { weights: m.weights(), result };
  } finally {
    m.dispose();
  }
}

const configs: [string, TrainerConfigInput][] = [
  [
    'adamw + cosine warmup + clipping + L2 + best restore',
    {
      seed: 3,
      epochs: 10,
      lr: 0.05,
      l2: 0.01,
      gradClipNorm: 0.5,
      optimizer: { type: 'adamw', weightDecay: 0.1 },
      lrSchedule: { type: 'cosine', warmupSteps: 7, minFactor: 0.1 },
      checkpointMetric: 'logreg/toy/valid/loss',
      earlyStopping: { patience: 50 },
    },
  ],
  [
    'sgd momentum + plateau + evaluation every 7 steps',
    {
      seed: 4,
      epochs: 10,
      lr: 0.2,
      optimizer: { type: 'sgd', momentum: 0.9, nesterov: true },
      lrSchedule: { type: 'plateau', metric: 'logreg/toy/valid/accuracy', patience: 1, factor: 0.5 },
      evalUnit: 'step',
      evalEvery: 7,
      checkpointMetric: 'logreg/toy/valid/accuracy',
      restoreBest: false,
    },
  ],
  [
    'rmsprop + step schedule',
    {
      seed: 5,
      epochs: 10,
      lr: 0.02,
      optimizer: { type: 'rmsprop', momentum: 0.3, centered: true },
      lrSchedule: { type: 'step', stepSize: 3, gamma: 0.5 },
    },
  ],
];

describe('resume', () => {
  it.each(configs)('10 epochs straight = 5 + resume 5, bit for bit (%s)', async (_name, config) => {
    const prefix = `resume${config.seed}`;
    const straight = await withModel(prefix, 5, (m) =>
      new Trainer({ ...config, checkpointDir: tmp() }).fit(m, {
        train: train(),
        evaluate: () => m.score(valid),
      }),
    );
    expect(straight.result!.step).toBe(50);

    const dir = tmp();
    const first = await withModel(prefix, 5, (m) => {
      const trainer = new Trainer({ ...config, checkpointDir: dir });
      return trainer.fit(m, {
        train: train(),
        evaluate: () => m.score(valid),
        callbacks: { onEpochEnd: (r) => (r.epoch === 5 ? trainer.stop() : undefined) },
      });
    });
    expect(first.result!.stopReason).toBe('stopped');
    expect(first.result!.step).toBe(25);

    // A fresh model with other initial weights: everything comes from the checkpoint.
    const resumed = await withModel(prefix, 99, (m) =>
      Trainer.resume(join(dir, 'last.ckpt'), m, { train: train(), evaluate: () => m.score(valid) }),
    );
    expect(resumed.result!.step).toBe(50);
    expect(resumed.weights).toEqual(straight.weights);
    expect(resumed.result!.history).toEqual(straight.result!.history);
    expect(resumed.result!.best).toEqual(straight.result!.best);
    expect(resumed.result!.restoredBest).toBe(straight.result!.restoredBest);
  });

  it('a stop in the middle of an epoch resumes at the next batch of the same order', async () => {
    const config = configs[0]![1];
    const straight = await withModel('mid', 5, (m) =>
      new Trainer(config).fit(m, { train: train(), evaluate: () => m.score(valid) }),
    );
    const dir = tmp();
    await withModel('mid', 5, (m) => {
      const trainer = new Trainer({ ...config, checkpointDir: dir });
      return trainer.fit(m, {
        train: train(),
        evaluate: () => m.score(valid),
        callbacks: { onStepEnd: (s) => (s.step === 13 ? trainer.stop() : undefined) },
      });
    });
    const resumed = await withModel('mid', 0, (m) =>
      new Trainer({ ...config, checkpointDir: dir }).fit(m, {
        train: train(),
        evaluate: () => m.score(valid),
        resumeFrom: join(dir, 'last.ckpt'),
      }),
    );
    expect(resumed.weights).toEqual(straight.weights);
    expect(resumed.result!.history).toEqual(straight.result!.history);
  });

  it('after a crash, resuming from the last evaluation gives the same run and the same metrics file', async () => {
    const config = configs[1]![1];
    const straight = await withModel('crash', 5, (m) =>
      new Trainer(config).fit(m, { train: train(), evaluate: () => m.score(valid) }),
    );
    const dir = tmp();
    const log = join(dir, 'metrics.jsonl');
    const crash: TrainerCallbacks = {
      onStepEnd: (s) => {
        if (s.step === 31) throw new Error('power cut');
      },
    };
    await expect(
      withModel('crash', 5, (m) =>
        new Trainer({ ...config, checkpointDir: dir }).fit(m, {
          train: train(),
          evaluate: () => m.score(valid),
          callbacks: [new JsonlMetricsLogger(log), crash],
        }),
      ),
    ).rejects.toThrow('power cut');
    const resumed = await withModel('crash', 0, (m) =>
      Trainer.resume(join(dir, 'last.ckpt'), m, {
        train: train(),
        evaluate: () => m.score(valid),
        callbacks: new JsonlMetricsLogger(log),
      }),
    );
    expect(resumed.weights).toEqual(straight.weights);
    expect(resumed.result!.history).toEqual(straight.result!.history);
    expect(await readMetricsJsonl(log)).toEqual(straight.result!.history);
  });

  it('refuses a corrupt checkpoint and a model that does not match, naming file and variable', async () => {
    const dir = tmp();
    await withModel('bad', 5, (m) =>
      new Trainer({ epochs: 1, checkpointDir: dir }).fit(m, { train: train() }),
    );
    const path = join(dir, 'last.ckpt');
    const other = tf.variable(tf.zeros([3, 1]), true, 'bad/w');
    const b = tf.variable(tf.zeros([1]), true, 'bad/b');
    const mismatched = { trainableVariables: () => [other, b], loss: () => ({ parts: {} }) };
    try {
      await new Trainer().fit(mismatched, { train: train(), resumeFrom: path });
      expect.unreachable();
    } catch (e) {
      expect((e as MtlError).code).toBe('CHECKPOINT_MISMATCH');
      expect((e as Error).message).toContain('"bad/w"');
    } finally {
      tf.dispose([other, b]);
    }
    const bytes = readFileSync(path);
    bytes[bytes.length - 40] ^= 0xff;
    writeFileSync(path, bytes);
    await withModel('bad', 5, async (m) => {
      try {
        await new Trainer().fit(m, { train: train(), resumeFrom: path });
        expect.unreachable();
      } catch (e) {
        expect((e as MtlError).code).toBe('CHECKPOINT_CORRUPT');
        expect((e as Error).message).toContain(path);
      }
      return undefined;
    });
  });
});
