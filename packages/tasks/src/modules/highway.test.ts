import { checkGradients } from '@mtl/core/ops';
import { caught } from '@mtl/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dense, MultitaskModel, moduleFromConfig, Operation, registeredModuleKinds, Task } from '../index.js';
import type { Highway } from './highway.js';
import { expectSameForward } from './test-utils.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());
const ctx = { training: false, seed: 0 };

/** A highway of width 3 around a tanh dense block, built with seed 5. */
function built(gateBias = -1.5, name = 'hw'): Highway {
  const hw = moduleFromConfig({
    type: 'highway',
    block: { kind: 'dense', units: 3, activation: 'tanh' },
    size: 3,
    gateBias,
  }) as Highway;
  hw.inferShape([[3]]); // the block's input width, as a model's shape inference gives it
  hw.build(name, { seed: 5 });
  return hw;
}

describe('highway (a module kind added as one file and one registry line)', () => {
  it('is T·H(x) + (1 − T)·x with T = sigmoid(x·W_T + b_T): a hand computation on the host', () => {
    const before = tf.memory().numTensors;
    const hw = built();
    const w = hw.getWeights();
    expect(Object.keys(w)).toEqual(['block/kernel', 'block/bias', 'gate/kernel', 'gate/bias']);
    expect(values(w['gate/bias']!)).toEqual([-1.5, -1.5, -1.5]);
    const x = [
      [0.5, -1, 2],
      [1, 0.25, -0.5],
    ];
    const [Wh, bh, Wt, bt] = ['block/kernel', 'block/bias', 'gate/kernel', 'gate/bias'].map((k) =>
      values(w[k]!),
    );
    const expected = x.flatMap((row) =>
      [0, 1, 2].map((j) => {
        let h = bh![j]!;
        let t = bt![j]!;
        for (let i = 0; i < 3; i++) {
          h += row[i]! * Wh![i * 3 + j]!;
          t += row[i]! * Wt![i * 3 + j]!;
        }
        const gate = 1 / (1 + Math.exp(-t));
        return gate * Math.tanh(h) + (1 - gate) * row[j]!;
      }),
    );
    const y = tf.tidy(() => values(hw.apply([tf.tensor2d(x)], ctx) as tf.Tensor));
    for (const [i, v] of y.entries()) expect(v).toBeCloseTo(expected[i]!, 5);
    // A very negative gate bias carries x through almost unchanged.
    const carry = built(-30, 'carry');
    tf.tidy(() => {
      const out = values(carry.apply([tf.tensor2d(x)], ctx) as tf.Tensor);
      for (const [i, v] of out.entries()) expect(v).toBeCloseTo(x.flat()[i]!, 6);
    });
    carry.dispose();
    tf.dispose(Object.values(w));
    hw.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has the gradient of finite differences (input) and of a plain tf composition (every parameter)', () => {
    const before = tf.memory().numTensors;
    const hw = built(0.3);
    const x = tf.tensor2d([
      [0.5, -1, 2],
      [1, 0.25, -0.5],
    ]);
    const [Wh, bh, Wt, bt] = ['block/kernel', 'block/bias', 'gate/kernel', 'gate/bias'].map(
      (k) => hw.variables()[k]!,
    );
    const plain = (input: tf.Tensor) => {
      const h = tf.tanh(tf.add(tf.matMul(input as tf.Tensor2D, Wh!), bh!));
      const t = tf.sigmoid(tf.add(tf.matMul(input as tf.Tensor2D, Wt!), bt!));
      return tf.add(tf.mul(t, h), tf.mul(tf.sub(1, t), input));
    };
    const check = checkGradients((input) => hw.apply([input], ctx) as tf.Tensor, [x], {
      reference: plain,
      valueTolerance: 1e-5,
    });
    expect(check.failures).toEqual([]);
    // Every parameter (the block's, a child's, and the gate's own) against the composition's autodiff.
    const c = tf.tensor2d([
      [1, -2, 0.5],
      [0, 1, -1],
    ]);
    const vars = hw.trainableVariables();
    const of = (f: () => tf.Tensor) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), c)) as tf.Scalar, vars);
      const out = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, values(g)]));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const got = of(() => hw.apply([x], ctx) as tf.Tensor);
    const want = of(() => plain(x));
    expect(Object.keys(got).sort()).toEqual([
      'hw/block/bias',
      'hw/block/kernel',
      'hw/gate/bias',
      'hw/gate/kernel',
    ]);
    for (const [k, g] of Object.entries(got)) {
      for (const [i, v] of g.entries()) expect(v, k).toBeCloseTo(want[k]![i]!, 5);
      expect(
        g.some((v) => Math.abs(v) > 1e-3),
        k,
      ).toBe(true);
    }
    tf.dispose([x, c]);
    hw.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('in a model: width inferred, listed in the registry, saved and loaded with the same outputs', async () => {
    const before = tf.memory().numTensors;
    expect(registeredModuleKinds().map((k) => k.type)).toContain('highway');
    const make = () =>
      new Task({
        name: 't',
        modulePool: {
          hw: moduleFromConfig({ type: 'highway', block: { kind: 'mlp', hidden: [5], outputSize: 4 } }),
          head: dense({ units: 2 }),
        },
        opSequence: [
          new Operation({ moduleName: 'hw', inputs: [['_input_', 'x']] }),
          new Operation({ moduleName: 'head', inputs: ['hw'] }),
        ],
      });
    const model = new MultitaskModel([make()], { seed: 4, inputShapes: { x: [4] } });
    const hw = model.modulePool.get('hw') as Highway;
    expect(hw.size).toBe(4);
    expect(hw.parameterCount()).toBe(4 * 5 + 5 + 5 * 4 + 4 + 4 * 4 + 4);
    expect(hw.getConfig()).toMatchObject({ type: 'highway', size: 4, gateBias: -1, block: { type: 'mlp' } });
    await model.save('memory://highway-model');
    const restored = await MultitaskModel.load('memory://highway-model', { variablePrefix: 'copy/' });
    expectSameForward(model, restored, [
      [1, 2, 3, 4],
      [-1, 0.5, 0, 2],
    ]);
    restored.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad options and a block that changes the width, naming the module', () => {
    const bias = caught(() =>
      moduleFromConfig(
        { type: 'highway', block: { kind: 'dense', units: 3 }, gateBias: 'low' },
        'modules.hw',
      ),
    );
    expect(bias.code).toBe('INVALID_ARGUMENT');
    expect(bias.message).toBe('modules.hw highway: gateBias must be a finite number, got "low"');
    expect(bias.place).toBe('modules.hw highway');
    const block = caught(() =>
      moduleFromConfig({ type: 'highway', block: { kind: 'conv9d' } }, 'modules.hw'),
    );
    expect(block.message).toMatch(/highway.block: unknown module type "conv9d"/);
    const task = new Task({
      name: 't',
      modulePool: { hw: moduleFromConfig({ type: 'highway', block: { kind: 'dense', units: 3 } }) },
      opSequence: [new Operation({ moduleName: 'hw', inputs: [['_input_', 'x']] })],
    });
    expect(() => new MultitaskModel([task], { inputShapes: { x: [4] } })).toThrow(
      /the block must keep the input's row shape \[4\] \(the gate mixes x and H\(x\)\), but it outputs \[3\]/,
    );
  });
});
