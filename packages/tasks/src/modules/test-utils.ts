// Shared by the tests of the routing modules (mmoe, cgc, ple, cross_stitch, dselect_k): a two-task
// regression model over one routing module, and the checks every kind must pass; and a save/load
// check the wrapper kinds' tests (residual, highway) share.
import { checkGradients } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { Module } from '../module.js';
import { MultitaskModel } from '../multitask-model.js';
import { Operation } from '../operation.js';
import { Task } from '../task.js';
import { gradientGap, handBatch } from '../test-utils.js';
import { dense } from './dense.js';

/** Tasks `a` and `b` reading `[router, a]` / `[router, b]` of field x (width 3), each with a 1-unit head. */
export function twoTaskModel(router: Module, seed = 1, tasks = ['a', 'b']): MultitaskModel {
  return new MultitaskModel(
    tasks.map(
      (t) =>
        new Task({
          name: t,
          kind: 'regression',
          modulePool: { router, [`${t}_head`]: dense({ units: 1 }) },
          opSequence: [
            new Operation({ moduleName: 'router', inputs: [['_input_', 'x']] }),
            new Operation({ moduleName: `${t}_head`, inputs: [['router', t]] }),
          ],
        }),
    ),
    { seed, inputShapes: { x: [3] } },
  );
}

export const xs = () =>
  tf.tensor2d([
    [0.5, -1, 2],
    [1, 0.25, -0.5],
    [-0.3, 0.8, 0.1],
  ]);

/** Gradients of Σ c·output wrt the input (checkGradients) and wrt each variable (finite differences). */
export function expectGradients(module: Module, task: string, variables: string[]): void {
  const ctx = { training: false, seed: 0 };
  const x = xs();
  const check = checkGradients(
    (input) => (module.apply([input!], ctx) as Record<string, tf.Tensor>)[task]!,
    [x],
    {
      step: 1e-2,
      tolerance: 2e-2,
    },
  );
  expect(check.failures).toEqual([]);
  const vars = module.variables();
  const c = tf.tensor2d([[1, -2, 0.5, 3, 0.7, -1, 2, 0.1].slice(0, 1)]);
  for (const name of variables) {
    const loss = () =>
      tf.tidy(() => {
        const y = (module.apply([x], ctx) as Record<string, tf.Tensor>)[task]!;
        return tf.sum(tf.mul(tf.sin(y), tf.add(c, tf.range(0, y.shape[1]!)))) as tf.Scalar;
      });
    expect(gradientGap(loss, vars[name]!, 1e-2), name).toBeLessThan(2e-2);
  }
  tf.dispose([x, c]);
}

/** Save/load through memory:// gives the same outputs; nothing leaks. */
export async function expectRoundTrip(model: MultitaskModel, url: string): Promise<void> {
  const x = xs();
  const batch = handBatch('d', 'valid', { x });
  const before = tf.tidy(() => Object.values(model.forward(batch)).map((t) => Array.from(t.dataSync())));
  await model.save(url);
  const restored = await MultitaskModel.load(url, { variablePrefix: 'restored/' });
  const after = tf.tidy(() => Object.values(restored.forward(batch)).map((t) => Array.from(t.dataSync())));
  expect(after).toEqual(before);
  restored.dispose();
  x.dispose();
}

/** Rows of field x through both models (a model and its saved-and-loaded copy): task `task`'s outputs are equal. */
export function expectSameForward(
  model: MultitaskModel,
  restored: MultitaskModel,
  rows: number[][],
  task = 't',
): void {
  const x = tf.tensor2d(rows);
  tf.tidy(() => {
    const batch = {
      dataset: 'D',
      split: 'test',
      X: { x },
      Y: {},
      size: rows.length,
      indices: Int32Array.from(rows.keys()),
    };
    const out = (m: MultitaskModel) => Array.from(m.forward(batch)[task]!.dataSync());
    expect(out(restored)).toEqual(out(model));
  });
  x.dispose();
}
