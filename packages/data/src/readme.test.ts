// The README's example, run as written (console.log lines become assertions).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, RandomStream } from '@mtl/core';
import { expect, it } from 'vitest';
import {
  applyPreprocessing,
  DictDataLoader,
  fitPreprocessing,
  makeCircleDatasets,
  makeLogisticTasks,
  makeSquareDatasets,
  readCsv,
  StackedLoader,
  scheduleBatches,
  splitDataset,
  unscaleLabel,
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

it('runs the README preprocessing example', async () => {
  const file = join(tmpdir(), 'flats.csv');
  const rows = ['city,px0,px1,review,price'];
  for (let i = 0; i < 100; i++)
    rows.push(`${i % 3 ? 'north' : 'south'},${i * 10},${i % 7},Nice  FLAT ${i},${300 + i}`);
  writeFileSync(file, `${rows.join('\n')}\n`);

  const all = await readCsv(file, {
    fields: {
      pixels: 'px0..px1', // a range (or { prefix: 'px' }): a vector field
      city: { column: 'city', kind: 'categorical' },
      review: { column: 'review', kind: 'text' },
    },
    labels: { price: { column: 'price', kind: 'regression' } },
  });
  const { train, test } = splitDataset(all, { train: 0.8, test: 0.2 }, 1);
  const fitted = fitPreprocessing(train!, {
    fields: { pixels: 'standard', review: { kind: 'text', maxLength: 4, minCount: 2 } },
    labels: { price: 'standard' },
  }); // plain JSON: save it with the model
  const ready = applyPreprocessing(test!, fitted);
  expect(ready.fieldInfo('review').rowShape).toEqual([4]);
  expect(ready.hasField('review_mask')).toBe(true);
  expect(ready.row(0).X.review).toEqual([3, 2, 1, 0]);
  expect(fitted.fields.city).toEqual({ kind: 'categorical', tokens: ['north', 'south'] });
  const first = test!.row(0).Y.price as number;
  expect(Math.round(unscaleLabel(fitted, 'price', ready.labelValues('price'))[0]!)).toBe(first);
});
