// The README's example, run as written (only the imports differ: the README imports '@mtl/tasks').
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DictDataLoader,
  disposeBatch,
  makeCircleDatasets,
  makeSquareDatasets,
  scheduleBatches,
} from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { expect, it, vi } from 'vitest';
import { dense, MultitaskModel, mlp, Operation, Task } from './index.js';

it('README example: the Snorkel tutorial in TypeScript', async () => {
  const cwd = process.cwd();
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  process.chdir(mkdtempSync(join(tmpdir(), 'mtl-readme-')));
  try {
    // --- README example start ---
    const seed = 3;
    const circle = makeCircleDatasets({}, seed); // circleDataset: field circle_data, label circle_task
    const square = makeSquareDatasets({}, seed);
    const train = [circle.train!, square.train!].map((ds) => new DictDataLoader(ds, { batchSize: 32, seed }));
    const evalLoaders = () =>
      [circle, square].flatMap((d) =>
        [d.valid!, d.test!].map((ds) => new DictDataLoader(ds, { batchSize: 32 })),
      );

    // One trunk object shared by name, one head per task.
    const baseMlp = mlp({ inputSize: 2, hidden: [8, 4] }); // Linear(2,8) ReLU Linear(8,4) ReLU
    const circleTask = new Task({
      name: 'circle_task',
      modulePool: { base_mlp: baseMlp, circle_head: dense({ inputSize: 4, units: 2 }) },
      opSequence: [
        new Operation({ moduleName: 'base_mlp', inputs: [['_input_', 'circle_data']] }),
        new Operation({ moduleName: 'circle_head', inputs: ['base_mlp'] }),
      ],
    });
    const squareTask = new Task({
      name: 'square_task',
      modulePool: { base_mlp: baseMlp, square_head: dense({ inputSize: 4, units: 2 }) },
      opSequence: [
        new Operation({ moduleName: 'base_mlp', inputs: [['_input_', 'square_data']] }),
        new Operation({ moduleName: 'square_head', inputs: ['base_mlp'] }),
      ],
    });
    const model = new MultitaskModel([circleTask, squareTask], { seed });
    console.log([...model.modulePool.keys()]); // ['base_mlp', 'circle_head', 'square_head']

    // A plain loop; @mtl/training's Trainer does this (and much more) for you.
    const optimizer = tf.train.adam(0.02);
    const steps = scheduleBatches(train, 'shuffled', { seed });
    for (let epoch = 0; epoch < 10; epoch++) {
      for (const batches of steps.epoch(epoch)) {
        optimizer.minimize(
          () => {
            const { parts } = model.loss(batches, { step: 0, epoch, seed: epoch, training: true });
            return tf.addN(Object.values(parts)) as tf.Scalar; // parts: {'circle_task/circleDataset': ...}
          },
          false,
          model.trainableVariables(),
        );
        disposeBatch(batches);
      }
    }

    const scores = await model.score(evalLoaders());
    console.log(scores['circle_task/circleDataset/test/accuracy']); // 0.96
    console.log(scores['model/all/valid/loss']); // a validation loss, usable as a checkpoint metric

    await model.save('model.json'); // one JSON file, written atomically
    model.dispose();
    const restored = await MultitaskModel.load('model.json');
    const predictions = await restored.predict(evalLoaders()[0]!, { returnPreds: true });
    console.log(predictions.circle_task!.preds); // Int32Array [1, 1, 0, ...]
    // --- README example end ---

    expect(log.mock.calls[0]).toEqual([['base_mlp', 'circle_head', 'square_head']]);
    expect(log.mock.calls[1]).toEqual([0.96]);
    expect(scores['circle_task/circleDataset/test/accuracy']).toBeGreaterThanOrEqual(0.9);
    expect(scores['square_task/squareDataset/test/accuracy']).toBeGreaterThanOrEqual(0.9);
    expect(predictions.circle_task!.probs.length).toBe(100);
    restored.dispose();
    optimizer.dispose();
  } finally {
    process.chdir(cwd);
    log.mockRestore();
  }
});
