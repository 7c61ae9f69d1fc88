import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, type StepContext, type Trainable } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepEndInfo } from './callbacks.js';
import { loadCheckpoint } from './checkpoint.js';
import type { TrainerConfigInput } from './config.js';
import type { EvaluateFn } from './contracts.js';
import {
  f32,
  fixedSource,
  LogReg,
  logisticData,
  type QuadBatch,
  Quadratic,
  uniqueName,
  xySource,
} from './test-utils.js';
import { Trainer } from './trainer.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mtl-trainer-'));
const disposers: (() => void)[] = [];
afterEach(() => {
  for (const d of disposers.splice(0)) d();
});
function quad(options: ConstructorParameters<typeof Quadratic>[0]): Quadratic {
  const q = new Quadratic(options);
  disposers.push(() => q.dispose());
  return q;
}
/** An evaluate that returns a scripted value of one metric per call. */
function scripted(metric: string, values: number[]): EvaluateFn {
  let i = 0;
  return () => ({ [metric]: values[Math.min(i++, values.length - 1)]! });
}

const sgd: TrainerConfigInput = { optimizer: { type: 'sgd' }, lr: 0.1 };

describe('Trainer step', () => {
  it('one SGD step is w0 − lr·g exactly', async () => {
    const q = quad({ init: [1.5, -2], targets: { a: [0.5, 1] } });
    await new Trainer({ ...sgd, steps: 1 }).fit(q, { train: fixedSource([{}]) });
    // g = 2(w − t) in float32, then w − lr·g.
    const expected = [1.5, -2].map((w, i) => {
      const g = f32(f32(w - [0.5, 1][i]!) * 2);
      return f32(w - f32(f32(0.1) * g));
    });
    expect(Array.from(q.values())).toEqual(expected);
  });

  it('task weights scale each task’s gradient exactly; logged parts stay unweighted', async () => {
    const q = quad({ init: [1.5, -2], targets: { a: [0.5, 1], b: [-1, 3] } });
    const steps: StepEndInfo[] = [];
    await new Trainer({ ...sgd, steps: 1, taskWeights: { a: 2, b: 0.5 } }).fit(q, {
      train: fixedSource([{}]),
      callbacks: { onStepEnd: (s) => void steps.push(s) },
    });
    const expected = [1.5, -2].map((w, i) => {
      const ga = f32(f32(w - [0.5, 1][i]!) * 2);
      const gb = f32(f32(w - [-1, 3][i]!) * 2);
      return f32(w - f32(f32(0.1) * f32(2 * ga + 0.5 * gb)));
    });
    expect(Array.from(q.values())).toEqual(expected);
    const pa = (1.5 - 0.5) ** 2 + (-2 - 1) ** 2; // 10
    const pb = (1.5 + 1) ** 2 + (-2 - 3) ** 2; // 31.25
    expect(steps[0]!.parts).toEqual({ 'a/ds': pa, 'b/ds': pb });
    expect(steps[0]!.loss).toBe(2 * pa + 0.5 * pb);
  });

  it('a task with weight 0 does not move the weights', async () => {
    const q = quad({ init: [1], targets: { a: [1], b: [5] } });
    await new Trainer({ ...sgd, steps: 3, taskWeights: { b: 0 } }).fit(q, { train: fixedSource([{}]) });
    expect(Array.from(q.values())).toEqual([1]);
  });

  it('L2 adds l2·w to the gradient', async () => {
    const q = quad({ init: [2], targets: { a: [1] } });
    await new Trainer({ ...sgd, steps: 1, l2: 0.5 }).fit(q, { train: fixedSource([{}]) });
    // g = 2(2 − 1) + 0.5·2 = 3
    expect(q.values()[0]).toBeCloseTo(2 - 0.1 * 3, 6);
  });

  it('clips the gradient to the global norm', async () => {
    const q = quad({ init: [3, 4], targets: { a: [0, 0] } });
    await new Trainer({ ...sgd, steps: 1, gradClipNorm: 1 }).fit(q, { train: fixedSource([{}]) });
    // g = (6, 8), ‖g‖ = 10 → (0.6, 0.8)
    const w = q.values();
    expect(w[0]).toBeCloseTo(3 - 0.06, 6);
    expect(w[1]).toBeCloseTo(4 - 0.08, 6);
  });

  it('a variable whose task is absent from a batch is not updated (Adam)', async () => {
    const qa = quad({ init: [0], targets: { a: [1] } });
    const qb = quad({ init: [0], targets: { b: [1] } });
    const both: Trainable<QuadBatch> = {
      trainableVariables: () => [qa.w, qb.w],
      loss: (batch: QuadBatch, ctx: StepContext) => ({
        parts: {
          ...(batch.tasks?.includes('a') ? qa.loss({}, ctx).parts : {}),
          ...(batch.tasks?.includes('b') ? qb.loss({}, ctx).parts : {}),
        },
      }),
    };
    // a gets 3 steps, b only the last: b's one step is a first Adam step, lr·sign(g).
    await new Trainer({ lr: 0.1, steps: 4, optimizer: { type: 'adam' } }).fit(both, {
      train: fixedSource<QuadBatch>([{ tasks: ['a'] }, { tasks: ['a'] }, { tasks: ['a'] }, { tasks: ['b'] }]),
    });
    expect(qb.values()[0]).toBeCloseTo(0.1, 6);
  });
});

describe('Trainer loop', () => {
  it('logs per-part and model train losses (epoch means), the lr and every score', async () => {
    const q = quad({ init: [0], targets: { a: [1], b: [2] } });
    const steps: StepEndInfo[] = [];
    const result = await new Trainer({ ...sgd, epochs: 2, lr: 0.05 }).fit(q, {
      train: fixedSource<QuadBatch>([{ tasks: ['a', 'b'] }, { tasks: ['a'] }, { tasks: ['a', 'b'] }]),
      evaluate: ({ step }) => ({ 'a/ds/valid/loss': step / 10 }),
      callbacks: { onStepEnd: (s) => void steps.push(s) },
    });
    // epoch = epochs completed: the record closing the first epoch says 1.
    expect(result.history.map((r) => [r.step, r.epoch])).toEqual([
      [3, 1],
      [6, 2],
    ]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const e0 = steps.slice(0, 3);
    expect(result.history[0]!.metrics).toEqual({
      'a/ds/train/loss': mean(e0.map((s) => s.parts['a/ds']!)),
      'b/ds/train/loss': mean([e0[0]!.parts['b/ds']!, e0[2]!.parts['b/ds']!]),
      // Σ weight·(per-task epoch mean): the weighting an evaluation's model/all/valid/loss uses.
      'model/all/train/loss':
        mean(e0.map((s) => s.parts['a/ds']!)) + mean([e0[0]!.parts['b/ds']!, e0[2]!.parts['b/ds']!]),
      // The mean step total actually minimised (b is missing from one step, so it differs).
      'model/all/train/objective': mean(e0.map((s) => s.loss)),
      'model/all/train/lr': 0.05,
      'a/ds/valid/loss': 0.3,
    });
    expect(result.stopReason).toBe('completed');
    expect(result.step).toBe(6);
    expect(result.epoch).toBe(2);
  });

  it('model/all/train/loss weighs each task like the objective; extra and L2 stay out of it', async () => {
    const q = quad({ init: [0.5], targets: { a: [1], b: [3] } });
    const withExtra: Trainable<QuadBatch> = {
      trainableVariables: () => q.trainableVariables(),
      loss: (batch, ctx) => ({ ...q.loss(batch, ctx), extra: tf.mul(tf.sum(q.w), 0.25) as tf.Scalar }),
    };
    const steps: StepEndInfo[] = [];
    const w = [0.5]; // w before each step
    const result = await new Trainer({ ...sgd, epochs: 1, l2: 0.1, taskWeights: { a: 2, b: 0.5 } }).fit(
      withExtra,
      {
        train: fixedSource<QuadBatch>([{ tasks: ['a', 'b'] }, { tasks: ['a'] }]),
        callbacks: {
          onStepEnd: (s) => {
            steps.push(s);
            w.push(q.values()[0]!);
          },
        },
      },
    );
    const m = result.history[0]!.metrics;
    const a = (steps[0]!.parts['a/ds']! + steps[1]!.parts['a/ds']!) / 2;
    const b = steps[0]!.parts['b/ds']!;
    expect(m['a/ds/train/loss']).toBe(a);
    expect(m['b/ds/train/loss']).toBe(b);
    expect(m['model/all/train/loss']).toBeCloseTo(2 * a + 0.5 * b, 12);
    expect(m['model/all/train/extra']).toBeCloseTo((0.25 * w[0]! + 0.25 * w[1]!) / 2, 6);
    // The objective is the mean step total: weighted parts + extra + 0.5·l2·w².
    expect(m['model/all/train/objective']).toBe((steps[0]!.loss + steps[1]!.loss) / 2);
    const total0 = 2 * steps[0]!.parts['a/ds']! + 0.5 * b + 0.25 * w[0]! + 0.05 * w[0]! ** 2;
    expect(steps[0]!.loss).toBeCloseTo(total0, 5);
  });

  it('a part declared as `scale` × a per-example loss is minimised as is and logged divided by it', async () => {
    const run = async (scale: number | undefined) => {
      const q = quad({ init: [0], targets: { a: [1] } });
      const scaled: Trainable<QuadBatch> = {
        trainableVariables: () => q.trainableVariables(),
        loss: (batch, ctx) => ({
          parts: { 'a/ds': tf.mul(q.loss(batch, ctx).parts['a/ds']!, 8) as tf.Scalar },
          ...(scale === undefined ? {} : { scale: { 'a/ds': scale } }),
        }),
      };
      const r = await new Trainer({ ...sgd, lr: 0.01, epochs: 1 }).fit(scaled, {
        train: fixedSource([{}, {}]),
      });
      return { metrics: r.history[0]!.metrics, w: q.values()[0] };
    };
    const plain = await run(undefined);
    const declared = await run(8);
    expect(declared.w).toBe(plain.w); // the same updates
    expect(declared.metrics['a/ds/train/loss']).toBeCloseTo(plain.metrics['a/ds/train/loss']! / 8, 12);
    expect(declared.metrics['model/all/train/loss']).toBe(declared.metrics['a/ds/train/loss']);
    expect(declared.metrics['model/all/train/objective']).toBe(plain.metrics['model/all/train/objective']);
  });

  it('an aborted signal ends the run after the current step as "interrupted", with last.ckpt', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    const dir = tmp();
    const controller = new AbortController();
    const result = await new Trainer({ ...sgd, epochs: 5, checkpointDir: dir }).fit(q, {
      train: fixedSource([{}, {}, {}]),
      signal: controller.signal,
      callbacks: { onStepEnd: (s) => (s.step === 4 ? controller.abort() : undefined) },
    });
    expect(result.stopReason).toBe('interrupted');
    expect(result.step).toBe(4);
    expect(result.epoch).toBe(1);
    const saved = await loadCheckpoint(result.checkpoints.last!);
    expect([saved.trainer!.step, saved.trainer!.epoch, saved.trainer!.batchInEpoch]).toEqual([4, 1, 1]);
  });

  it('the epoch of every hook is the number of completed epochs', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    const seen: string[] = [];
    const dir = tmp();
    await new Trainer({ ...sgd, epochs: 2, checkpointDir: dir }).fit(q, {
      train: fixedSource([{}, {}]),
      evaluate: ({ epoch }) => {
        seen.push(`evaluate ${epoch}`);
        return {};
      },
      callbacks: {
        onStepEnd: (s) => void seen.push(`step ${s.step} ${s.epoch}`),
        onEpochEnd: (r) => void seen.push(`epochEnd ${r.epoch}`),
        onCheckpoint: (c) => void seen.push(`${c.kind} ${c.epoch}`),
        onTrainEnd: (r) => void seen.push(`end ${r.epoch}`),
      },
    });
    expect(seen).toEqual([
      'step 1 0',
      'step 2 1',
      'evaluate 1',
      'epochEnd 1',
      'last 1',
      'step 3 1',
      'step 4 2',
      'evaluate 2',
      'epochEnd 2',
      'last 2',
      'end 2',
    ]);
  });

  it('evaluates every N steps; epoch ends and evaluations at the same step share one record', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    const result = await new Trainer({ ...sgd, epochs: 2, evalUnit: 'step', evalEvery: 2 }).fit(q, {
      train: fixedSource([{}, {}, {}]),
      evaluate: () => ({ 'a/ds/valid/x': 1 }),
    });
    expect(result.history.map((r) => [r.step, r.epoch, 'a/ds/valid/x' in r.metrics])).toEqual([
      [2, 0, true],
      [3, 1, false],
      [4, 1, true],
      [6, 2, true],
    ]);
  });

  it('with `steps`, ends mid-epoch and evaluates at the end', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    let calls = 0;
    const result = await new Trainer({ ...sgd, steps: 5, epochs: 1, evalEvery: 3 }).fit(q, {
      train: fixedSource([{}, {}, {}]),
      evaluate: () => ({ n: ++calls }),
    });
    expect(result.step).toBe(5);
    expect(result.history.map((r) => [r.step, r.epoch, r.metrics.n])).toEqual([
      [3, 1, undefined],
      [5, 1, 1],
    ]);
  });

  it('same seed → identical results; another seed → different ones', async () => {
    const data = logisticData(1, 120);
    const train = async (seed: number) => {
      const m = new LogReg(11);
      disposers.push(() => m.dispose());
      const r = await new Trainer({ seed, epochs: 3, lr: 0.05, optimizer: { type: 'adam' } }).fit(m, {
        train: xySource(data, 16),
        evaluate: () => m.score(data),
      });
      return { weights: m.weights(), history: r.history };
    };
    const a = await train(7);
    const b = await train(7);
    const c = await train(8);
    expect(b.weights).toEqual(a.weights);
    expect(b.history).toEqual(a.history);
    expect(c.weights).not.toEqual(a.weights);
  });

  it('learns: logistic regression reaches a low loss', async () => {
    const data = logisticData(2, 400);
    const m = new LogReg(3);
    disposers.push(() => m.dispose());
    const r = await new Trainer({ epochs: 8, lr: 0.05, optimizer: { type: 'adam' } }).fit(m, {
      train: xySource(data, 32),
      evaluate: () => m.score(logisticData(3, 400)),
    });
    const last = r.history.at(-1)!.metrics;
    expect(last['logreg/toy/valid/accuracy']).toBeGreaterThan(0.75);
    expect(last['logreg/toy/valid/loss']).toBeLessThan(
      r.history[0]!.metrics['logreg/toy/valid/loss']! + 1e-9,
    );
  });

  it('leaves no tensor behind (with checkpoints, best restore and a failure)', async () => {
    const data = logisticData(4, 64);
    const m = new LogReg(5);
    disposers.push(() => m.dispose());
    await assertNoLeaks(
      () =>
        new Trainer({
          epochs: 3,
          lr: 0.05,
          gradClipNorm: 1,
          l2: 0.01,
          checkpointDir: tmp(),
          checkpointMetric: 'logreg/toy/valid/loss',
        }).fit(m, { train: xySource(data, 16), evaluate: () => m.score(data) }),
      { label: 'fit' },
    );
    const q = quad({ init: [0], targets: { a: [1] }, nanAtStep: 2 });
    await assertNoLeaks(
      () =>
        new Trainer({ ...sgd, epochs: 2 }).fit(q, { train: fixedSource([{}, {}]) }).catch(() => undefined),
      { label: 'failed fit' },
    );
  });

  it('stop() from a callback ends the run after that step', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    const trainer = new Trainer({ ...sgd, epochs: 5 });
    const result = await trainer.fit(q, {
      train: fixedSource([{}, {}, {}]),
      callbacks: { onStepEnd: (s) => (s.step === 4 ? trainer.stop() : undefined) },
    });
    expect(result.stopReason).toBe('stopped');
    expect(result.step).toBe(4);
  });
});

describe('Trainer early stopping and best model', () => {
  it('stops at the expected epoch on a scripted metric (patience 2)', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    const result = await new Trainer({
      ...sgd,
      epochs: 20,
      checkpointMetric: 'a/ds/valid/accuracy',
      earlyStopping: { patience: 2 },
    }).fit(q, {
      train: fixedSource([{}, {}]),
      evaluate: scripted('a/ds/valid/accuracy', [0.5, 0.6, 0.7, 0.69, 0.7, 0.65, 0.9]),
    });
    // best 0.7 after epoch 3; 0.69 and 0.7 (not better) are two bad evaluations → stop after epoch 5.
    expect(result.stopReason).toBe('early_stopping');
    expect(result.history.at(-1)!.epoch).toBe(5);
    expect(result.epoch).toBe(5);
    expect(result.best).toEqual({ metric: 'a/ds/valid/accuracy', value: 0.7, step: 6, epoch: 3 });
  });

  it('minDelta: improvements smaller than it count as bad (min mode inferred from "loss")', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    const result = await new Trainer({
      ...sgd,
      epochs: 20,
      earlyStopping: { patience: 2, minDelta: 0.05, metric: 'model/all/valid/loss' },
    }).fit(q, {
      train: fixedSource([{}]),
      evaluate: scripted('model/all/valid/loss', [1, 0.9, 0.88, 0.86, 0.7]),
    });
    expect(result.history.at(-1)!.epoch).toBe(4);
    expect(result.best).toBeNull();
  });

  it('restores the best weights at the end (default with a checkpoint metric), not when disabled', async () => {
    const run = async (restoreBest?: boolean) => {
      const q = quad({ init: [0], targets: { a: [10] } });
      const seen: number[] = [];
      const result = await new Trainer({
        ...sgd,
        epochs: 5,
        checkpointMetric: 'x',
        checkpointMode: 'max',
        ...(restoreBest === undefined ? {} : { restoreBest }),
      }).fit(q, {
        train: fixedSource([{}]),
        evaluate: scripted('x', [1, 3, 2, 2, 2]),
        callbacks: { onEvaluate: () => void seen.push(q.values()[0]!) },
      });
      return { final: q.values()[0], seen, result };
    };
    const on = await run();
    expect(on.result.restoredBest).toBe(true);
    expect(on.final).toBe(on.seen[1]);
    const off = await run(false);
    expect(off.result.restoredBest).toBe(false);
    expect(off.final).toBe(off.seen[4]);
  });

  it('a checkpoint metric that is never produced is an error at the first evaluation, listing the keys', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    let steps = 0;
    const e = await caught(
      new Trainer({ ...sgd, epochs: 3, checkpointMetric: 'a/ds/valid/acc' }).fit(q, {
        train: fixedSource([{}, {}]),
        evaluate: () => ({ 'a/ds/valid/accuracy': 1 }),
        callbacks: { onStepEnd: () => void steps++ },
      }),
    );
    expect(e.code).toBe('CHECKPOINT_METRIC_UNKNOWN');
    expect(e.place).toBe('training.checkpointMetric');
    expect(e.message).toContain('"a/ds/valid/acc"');
    expect(e.message).toContain(
      'available keys: a/ds/train/loss, a/ds/valid/accuracy, model/all/train/loss, model/all/train/lr',
    );
    expect(steps).toBe(2);
    const es = await caught(
      new Trainer({ ...sgd, epochs: 3, earlyStopping: { patience: 1, metric: 'nope' } }).fit(q, {
        train: fixedSource([{}]),
      }),
    );
    expect(es.place).toBe('training.earlyStopping.metric');
  });
});

describe('Trainer failures', () => {
  it('NON_FINITE_LOSS at the right step, naming part, task, step and lr; the last good checkpoint stays', async () => {
    const dir = tmp();
    const q = quad({ init: [0, 0], targets: { a: [1, 1], b: [2, 2] }, nanAtStep: 7 });
    const afterStep: Record<number, number[]> = {};
    const e = await caught(
      new Trainer({ ...sgd, epochs: 10, checkpointDir: dir }).fit(q, {
        train: fixedSource([{}, {}, {}]),
        callbacks: {
          onStepEnd: (s) => {
            afterStep[s.step] = Array.from(q.values());
          },
        },
      }),
    );
    expect(e.code).toBe('NON_FINITE_LOSS');
    expect(e.place).toBe('task a');
    expect(e.message).toContain('loss part "a/ds" is NaN at step 7 (epoch 2, learning rate 0.1)');
    expect(e.details).toMatchObject({ step: 7, part: 'a/ds', task: 'a', lr: 0.1 });
    // The NaN step changed nothing; the checkpoint is the one of the last evaluation (step 6).
    expect(Array.from(q.values())).toEqual(afterStep[7]);
    const last = await loadCheckpoint(join(dir, 'last.ckpt'));
    expect(last.trainer!.step).toBe(6);
    expect(Array.from(last.weights[0]!.values)).toEqual(afterStep[6]);
  });

  it('names the task of an unknown taskWeights key', async () => {
    const q = quad({ init: [0], targets: { a: [1] } });
    const e = await caught(
      new Trainer({ ...sgd, epochs: 2, taskWeights: { circle: 2 } }).fit(q, { train: fixedSource([{}]) }),
    );
    expect(e.code).toBe('UNKNOWN_TASK');
    expect(e.message).toContain('tasks seen: a');
  });

  it('rejects duplicate variable names and a loss that is not a scalar', async () => {
    const w = tf.variable(tf.zeros([2]), true, uniqueName('dup'));
    disposers.push(() => w.dispose());
    const dup = { trainableVariables: () => [w, w], loss: () => ({ parts: {} }) };
    expect((await caught(new Trainer().fit(dup, { train: fixedSource([{}]) }))).code).toBe('DUPLICATE_NAME');
    const vec = { trainableVariables: () => [w], loss: () => ({ parts: { 'v/ds': tf.mul(w, 2) as never } }) };
    const e = await caught(new Trainer().fit(vec, { train: fixedSource([{}]) }));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.place).toBe('task v');
  });
});
