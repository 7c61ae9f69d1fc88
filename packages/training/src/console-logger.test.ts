import { afterEach, expect, it } from 'vitest';
import { consoleLogger } from './console-logger.js';
import { fixedSource, Quadratic } from './test-utils.js';
import { Trainer } from './trainer.js';

let q: Quadratic | undefined;
afterEach(() => q?.dispose());

it('consoleLogger prints the start, every N steps, every record and the end', async () => {
  q = new Quadratic({ init: [0], targets: { a: [1] } });
  const lines: string[] = [];
  await new Trainer({ epochs: 2, lr: 0.25, optimizer: { type: 'sgd' } }).fit(q, {
    train: fixedSource([{}, {}]),
    callbacks: consoleLogger({ everySteps: 3, write: (l) => void lines.push(l), digits: 3 }),
  });
  // w: 0 → 0.5 → 0.75 → 0.875 → 0.9375; losses 1, 0.25 | 0.0625, 0.015625
  expect(lines).toEqual([
    'training at step 0 (epoch 0) of 4, 2 batches per epoch',
    'epoch 1 step 2 | model/all/train/loss 0.625 | a/ds/train/loss 0.625 | model/all/train/objective 0.625 | model/all/train/lr 0.25',
    'epoch 1 step 3 | loss 0.0625 | lr 0.25',
    'epoch 2 step 4 | model/all/train/loss 0.0391 | a/ds/train/loss 0.0391 | model/all/train/objective 0.0391 | model/all/train/lr 0.25',
    'stopped (completed) at step 4',
  ]);
});
