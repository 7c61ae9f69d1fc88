// The README's example, run as written (console.log lines become assertions).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, RandomStream } from '@mtl/core';
import { expect, it } from 'vitest';
import {
  DictDataLoader,
  makeCircleDatasets,
  makeLogisticTasks,
  makeSquareDatasets,
  readCsv,
  StackedLoader,
  scheduleBatches,
  writeCsv,
} from './index.js';

it('runs the README example', async () => {
  await assertNoLeaks(async () => {
    // Snorkel's toy tasks: 1000 points each, split 800 / 100 / 100.
    const circle = makeCircleDatasets({}, 42); // circleDataset, field circle_data, label circle_task
    const square = makeSquareDatasets({}, 42); // squareDataset, field square_data, label square_task
    const loaders = [circle.train!, square.train!].map(
      (ds) => new DictDataLoader(ds, { batchSize: 32, shuffle: true, seed: 42 }),
    );

    // One epoch, loaders drawn at random in proportion to their batches: every example once.
    const source = scheduleBatches(loaders, 'shuffled', { seed: 42 });
    expect(source.batchesPerEpoch()).toBe(50);
    let rows = 0;
    for (const step of source.epoch(0, new RandomStream(42))) {
      const batch = step[0]!; // X: {circle_data: [B, 2] float32} or square's; Y: {circle_task: [B] int32}
      rows += batch.size;
      source.dispose(step); // the consumer frees each step's tensors
    }
    expect(rows).toBe(1600);

    // VMTL: three logistic tasks of unequal sizes, one sub-batch of every task per step.
    const tasks = makeLogisticTasks({ sizes: [600, 300, 150] }, 43);
    const stacked = new StackedLoader(
      tasks.map((t) => t.train),
      { batchSize: 16, seed: 43 },
    );
    expect(stacked.batchesPerEpoch()).toBe(30); // = ceil(480 / 16): the largest task sets the epoch
    for (const step of stacked.epoch(0, new RandomStream(43))) {
      expect(step.map((b) => b.dataset).join(' ')).toBe('task1Dataset task2Dataset task3Dataset');
      stacked.dispose(step);
      break;
    }

    // Files: write a split as CSV and read it back through the column mapping.
    const file = join(tmpdir(), 'circle-test.csv');
    const mapping = await writeCsv(circle.test!, file);
    expect(mapping.fields).toEqual({ circle_data: ['circle_data_0', 'circle_data_1'] });
    const back = await readCsv(file, { ...mapping, name: 'circleDataset', split: 'test' });
    expect(back.length).toBe(100);
  });
});
