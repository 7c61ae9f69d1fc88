import { MtlError, type ParameterGroup, type Trainable } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { OptimizerConfigInput } from './config.js';
import { TrainerOptimizer } from './optimizer.js';
import { fixedSource, uniqueName } from './test-utils.js';
import { Trainer } from './trainer.js';
import { registerUpdateStrategy, updateStrategyFor } from './update-strategy.js';

// Learning-rate multipliers per parameter group (the app's `modules.<name>.lr`).

const disposers: (() => void)[] = [];
afterEach(() => {
  for (const d of disposers.splice(0)) d();
});

/** Two groups, `trunk` (w) and `head` (h), on `Σ(w − 1)² + Σ(h + 2)²`, starting at 0. */
function twoGroups(): Trainable<null> & { w: tf.Variable; h: tf.Variable } {
  const p = uniqueName('glr');
  const w = tf.variable(tf.zeros([3]), true, `${p}/trunk/w`);
  const h = tf.variable(tf.zeros([2]), true, `${p}/head/h`);
  disposers.push(() => tf.dispose([w, h]));
  const groups: ParameterGroup[] = [
    { name: 'trunk', tasks: ['a', 'b'], variables: [w.name] },
    { name: 'head', tasks: ['a'], variables: [h.name] },
  ];
  return {
    w,
    h,
    trainableVariables: () => [w, h],
    parameterGroups: () => groups,
    loss: () => ({
      parts: {
        a: tf.add(tf.sum(tf.square(tf.sub(w, 1))), tf.sum(tf.square(tf.add(h, 2)))) as tf.Scalar,
      },
    }),
  };
}

async function train(
  optimizer: OptimizerConfigInput,
  groupLr: Record<string, number> | undefined,
): Promise<{ w: number[]; h: number[] }> {
  const m = twoGroups();
  await new Trainer({ steps: 3, lr: 0.1, optimizer }, { groupLr }).fit(m, { train: fixedSource([null]) });
  return { w: [...(m.w.dataSync() as Float32Array)], h: [...(m.h.dataSync() as Float32Array)] };
}

async function onStrategy<T>(strategy: 'host' | 'tensor', run: () => Promise<T>): Promise<T> {
  const backend = tf.getBackend();
  const was = updateStrategyFor(backend);
  registerUpdateStrategy(backend, strategy);
  try {
    return await run();
  } finally {
    registerUpdateStrategy(backend, was);
  }
}

describe('groupLr', () => {
  it('lr 0 holds a group still; lr 2 with SGD moves twice as far in one step', async () => {
    const still = await train({ type: 'adam' }, { trunk: 0 });
    expect(still.w).toEqual([0, 0, 0]);
    const plain = await train({ type: 'adam' }, undefined);
    // The other group is untouched by the trunk's multiplier.
    expect(still.h).toEqual(plain.h);
    expect(plain.w[0]).toBeGreaterThan(0);
    const one = twoGroups();
    const two = twoGroups();
    await new Trainer({ steps: 1, lr: 0.1, optimizer: { type: 'sgd' } }).fit(one, {
      train: fixedSource([null]),
    });
    await new Trainer({ steps: 1, lr: 0.1, optimizer: { type: 'sgd' } }, { groupLr: { head: 2 } }).fit(two, {
      train: fixedSource([null]),
    });
    // h: 0 − 0.1·4 = −0.4, and −0.8 at twice the rate; w at the plain rate in both.
    expect([...(one.h.dataSync() as Float32Array)]).toEqual([Math.fround(-0.4), Math.fround(-0.4)]);
    expect([...(two.h.dataSync() as Float32Array)]).toEqual([Math.fround(-0.8), Math.fround(-0.8)]);
    expect([...(two.w.dataSync() as Float32Array)]).toEqual([...(one.w.dataSync() as Float32Array)]);
  });

  it('the host and tensor update paths give the same scaled Adam and SGD-momentum updates', async () => {
    for (const optimizer of [{ type: 'adam' }, { type: 'sgd', momentum: 0.9 }] as OptimizerConfigInput[]) {
      const host = await onStrategy('host', () => train(optimizer, { trunk: 0.25, head: 3 }));
      const tensor = await onStrategy('tensor', () => train(optimizer, { trunk: 0.25, head: 3 }));
      for (const [a, b] of [
        [host.w, tensor.w],
        [host.h, tensor.h],
      ] as const) {
        a.forEach((x, i) => {
          expect(Math.abs(x - b[i]!)).toBeLessThan(1e-6);
        });
      }
      const plain = await train(optimizer, undefined);
      expect(host.w[0]).not.toBe(plain.w[0]);
    }
  });

  it('a multiplier of 1 is the plain rate bit for bit; a bad name or value is refused', async () => {
    expect(await train({ type: 'adam' }, { trunk: 1, head: 1 })).toEqual(
      await train({ type: 'adam' }, undefined),
    );
    let e: unknown;
    try {
      await train({ type: 'adam' }, { tronk: 0.5 });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(MtlError);
    expect((e as MtlError).place).toBe('Trainer groupLr.tronk');
    expect((e as MtlError).message).toMatch(/no parameter group of the trainable \(groups: head, trunk\)/);
    expect(() => new TrainerOptimizer({ type: 'sgd' }, { lrScales: new Map([['w', -1]]) })).toThrow(/≥ 0/);
  });
});
