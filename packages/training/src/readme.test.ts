// The README example: its imports are the ones below (less vitest) and its body sits between the
// README markers verbatim, with console.log replaced by log, so that it is known to run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BatchSource,
  JsonlMetricsLogger,
  loadCheckpoint,
  readMetricsJsonl,
  type Trainable,
  Trainer,
} from '@mtl/training';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';

it('README example runs', async () => {
  const logs: unknown[][] = [];
  const log = (...args: unknown[]) => void logs.push(args);
  // README-BEGIN
  type Task = 'near' | 'far';

  // One weight vector, two pseudo-tasks pulling it towards different targets.
  const w = tf.variable(tf.zeros([2]), true, 'readme/w');
  const targets = { near: tf.tensor1d([1, 1]), far: tf.tensor1d([3, -1]) };
  const model: Trainable<Task> = {
    trainableVariables: () => [w],
    // One part per task, keyed `task/dataset`; tf ops only (this runs inside the gradient).
    loss: (task) => ({
      parts: { [`${task}/toy`]: tf.sum(tf.square(tf.sub(w, targets[task]))) as tf.Scalar },
    }),
  };
  // The batch order is the source's business (the mtl app uses @mtl/data's scheduleBatches).
  const train: BatchSource<Task> = {
    batchesPerEpoch: () => 4,
    epoch: (_epoch, rng) => rng.shuffle<Task>(['near', 'near', 'far', 'far']),
  };
  const dir = mkdtempSync(join(tmpdir(), 'mtl-readme-'));
  const trainer = new Trainer({
    seed: 1,
    epochs: 40,
    lr: 0.05,
    optimizer: { type: 'sgd', momentum: 0.5 },
    lrSchedule: { type: 'cosine', warmupSteps: 8 },
    taskWeights: { far: 3 }, // the weighted minimum is (near + 3·far)/4 = (2.5, -0.5)
    checkpointDir: join(dir, 'checkpoints'),
    checkpointMetric: 'model/all/valid/distance',
    checkpointMode: 'min', // inferred when omitted: min for loss/error-like names, else max
  });
  const evaluate = () => ({
    'model/all/valid/distance': tf.tidy(() => tf.norm(tf.sub(w, tf.tensor1d([2.5, -0.5]))).dataSync()[0]!),
  });
  const result = await trainer.fit(model, {
    train,
    evaluate,
    callbacks: [new JsonlMetricsLogger(join(dir, 'metrics.jsonl'))],
  });
  log(result.stopReason, result.step, Array.from(w.dataSync())); // completed 160 [≈2.5, ≈-0.5]
  log(Object.keys(result.history[0]!.metrics));
  // [model/all/train/loss, far/toy/train/loss, near/toy/train/loss, model/all/train/objective, model/all/train/lr, model/all/valid/distance]

  const best = await loadCheckpoint(join(dir, 'checkpoints', 'best.ckpt'));
  log(best.trainer?.step === result.best?.step); // true
  const history = await readMetricsJsonl(join(dir, 'metrics.jsonl'));
  log(history.length); // 40

  // Continue the finished run for 10 more epochs from its last checkpoint.
  const more = await Trainer.resume(join(dir, 'checkpoints', 'last.ckpt'), model, {
    train,
    evaluate,
    config: { ...trainer.config, epochs: 50 },
  });
  log(more.step, more.history.length); // 200 50
  // README-END
  void more;
  expect(logs[0]![0]).toBe('completed');
  expect(logs[0]![1]).toBe(160);
  const final = logs[0]![2] as number[];
  expect(final[0]).toBeCloseTo(2.5, 1);
  expect(final[1]).toBeCloseTo(-0.5, 1);
  expect(logs[1]![0]).toEqual([
    'model/all/train/loss',
    'far/toy/train/loss',
    'near/toy/train/loss',
    'model/all/train/objective',
    'model/all/train/lr',
    'model/all/valid/distance',
  ]);
  expect(logs[2]![0]).toBe(true);
  expect(logs[3]![0]).toBe(40);
  expect(logs[4]).toEqual([200, 50]);
  tf.dispose([w, targets.near, targets.far]);
});
