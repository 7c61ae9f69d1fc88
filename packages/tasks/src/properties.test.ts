// Laws that hold for any data: checked with fast-check over random cases.
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dense } from './modules/dense.js';
import { mlp } from './modules/mlp.js';
import { MultitaskModel } from './multitask-model.js';
import { Task } from './task.js';
import { handBatch } from './test-utils.js';

let made = 0;

function model(hidden: number[], classes: number): MultitaskModel {
  const task = new Task({
    name: 't',
    modulePool: {
      trunk: mlp({ inputSize: 2, hidden }),
      head: dense({ inputSize: hidden[hidden.length - 1]!, units: classes }),
    },
    opSequence: [
      { moduleName: 'trunk', inputs: [['_input_', 'x']] },
      { moduleName: 'head', inputs: ['trunk'] },
    ],
  });
  return new MultitaskModel([task], { seed: made, variablePrefix: `p${made++}/` });
}

function lossOn(m: MultitaskModel, rows: number[][], labels: number[]): number {
  const batch = handBatch(
    'd',
    'train',
    { x: tf.tensor2d(rows, [rows.length, 2]) },
    { t: tf.tensor1d(labels, 'int32') },
  );
  const v = tf.tidy(
    () => m.loss(batch, { step: 0, epoch: 0, seed: 0, training: true }).parts['t/d']!.dataSync()[0]!,
  );
  tf.dispose([...Object.values(batch.X), ...Object.values(batch.Y)]);
  return v;
}

const row = fc.tuple(
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.double({ min: -2, max: 2, noNaN: true }),
);

describe('laws', () => {
  it('the loss ignores abstained rows and row order', () => {
    const m = model([4], 3);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(row, fc.integer({ min: -1, max: 2 })), { minLength: 1, maxLength: 12 }),
        fc.integer(),
        (cases, shift) => {
          const rows = cases.map(([r]) => [...r]);
          const labels = cases.map(([, l]) => l);
          const full = lossOn(m, rows, labels);
          const kept = cases.filter(([, l]) => l !== -1);
          if (kept.length === 0) {
            expect(full).toBe(0);
            return;
          }
          expect(full).toBeCloseTo(
            lossOn(
              m,
              kept.map(([r]) => [...r]),
              kept.map(([, l]) => l),
            ),
            4,
          );
          const k = Math.abs(shift) % rows.length;
          const rot = <T>(xs: T[]) => [...xs.slice(k), ...xs.slice(0, k)];
          expect(lossOn(m, rot(rows), rot(labels))).toBeCloseTo(full, 4);
        },
      ),
      { numRuns: 25 },
    );
    m.dispose();
  });

  it('save then load gives back every weight and the same predictions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 2, max: 4 }),
        async (hidden, classes) => {
          const m = model(hidden, classes);
          await m.save('memory://properties');
          const loaded = await MultitaskModel.load('memory://properties', { variablePrefix: `l${made++}/` });
          const a = m.getWeights();
          const b = loaded.getWeights();
          expect(Object.keys(b)).toEqual(Object.keys(a));
          for (const k of Object.keys(a))
            expect(Array.from(b[k]!.dataSync())).toEqual(Array.from(a[k]!.dataSync()));
          tf.dispose([...Object.values(a), ...Object.values(b)]);
          const x = [
            [0.5, -1],
            [1.5, 0.25],
          ];
          const pa = await m.predict([handBatch('d', 'test', { x: tf.tensor2d(x) })]);
          const pb = await loaded.predict([handBatch('d', 'test', { x: tf.tensor2d(x) })]);
          expect(pb).toEqual(pa);
          m.dispose();
          loaded.dispose();
        },
      ),
      { numRuns: 10 },
    );
  });
});
