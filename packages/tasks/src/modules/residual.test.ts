import { MtlError } from '@mtl/core';
import { checkGradients } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  dense,
  MultitaskModel,
  mlp,
  moduleFromConfig,
  Operation,
  type Residual,
  residual,
  Task,
} from '../index.js';
import { expectSameForward } from './test-utils.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('residual', () => {
  it('is x + block(x) (with a pre or post layer norm), and its gradient matches finite differences', () => {
    const block = mlp({ inputSize: 4, hidden: [8], outputSize: 4, activation: 'tanh' });
    const res = residual({ block });
    res.build('res', { seed: 2 });
    const x = tf.tensor2d([
      [0.5, -1, 2, 0],
      [1, 1, -0.5, 0.25],
    ]);
    tf.tidy(() => {
      const ctx = { training: false, seed: 0 };
      const y = res.apply([x], ctx) as tf.Tensor;
      expect(values(y)).toEqual(values(tf.add(x, block.apply([x], ctx) as tf.Tensor)));
      // d/dx Σ y·c = c + J_block^T c: compare with central differences.
      const c = tf.tensor2d([
        [1, -2, 0.5, 3],
        [0, 1, -1, 2],
      ]);
      const f = (input: tf.Tensor) => tf.sum(tf.mul(res.apply([input], ctx) as tf.Tensor, c));
      const g = values(tf.grad(f)(x));
      const eps = 1e-2;
      const xs = values(x);
      const numeric = xs.map((_, i) => {
        const plus = xs.slice();
        const minus = xs.slice();
        plus[i]! += eps;
        minus[i]! -= eps;
        return (
          (f(tf.tensor2d(plus, [2, 4])).dataSync()[0]! - f(tf.tensor2d(minus, [2, 4])).dataSync()[0]!) /
          (2 * eps)
        );
      });
      for (const [i, v] of g.entries()) expect(v).toBeCloseTo(numeric[i]!, 2);
      // The block's parameters get gradients through the residual too.
      const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, res.trainableVariables());
      expect(Object.keys(grads).sort()).toEqual([
        'res/block/dense_0/bias',
        'res/block/dense_0/kernel',
        'res/block/dense_1/bias',
        'res/block/dense_1/kernel',
      ]);
    });
    res.dispose();

    const pre = residual({ block: { kind: 'dense', units: 4 }, norm: 'pre' });
    const post = residual({ block: { type: 'dense', units: 4 }, norm: 'post' });
    for (const [m, name] of [
      [pre, 'pre'],
      [post, 'post'],
    ] as const) {
      m.inferShape([[4]]);
      m.build(name, { seed: 1 });
    }
    tf.tidy(() => {
      const ctx = { training: false, seed: 0 };
      const norm = (t: tf.Tensor) => {
        const mean = tf.mean(t, -1, true);
        const c = tf.sub(t, mean);
        return tf.mul(c, tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), 1e-5)));
      };
      const preOut = values(pre.apply([x], ctx) as tf.Tensor);
      const preExpected = values(tf.add(x, pre.block.apply([norm(x)], ctx) as tf.Tensor));
      for (const [i, v] of preOut.entries()) expect(v).toBeCloseTo(preExpected[i]!, 5);
      const postOut = values(post.apply([x], ctx) as tf.Tensor);
      const postExpected = values(norm(tf.add(x, post.block.apply([x], ctx) as tf.Tensor)));
      for (const [i, v] of postOut.entries()) expect(v).toBeCloseTo(postExpected[i]!, 5);
    });
    expect(Object.keys(pre.variables())).toEqual(['norm/gamma', 'norm/beta', 'block/kernel', 'block/bias']);
    pre.dispose();
    post.dispose();
    x.dispose();
  });

  it('in a model: shape inference, child variable names, parameter count, save and load', async () => {
    const before = tf.memory().numTensors;
    const make = () =>
      new Task({
        name: 't',
        modulePool: {
          res: moduleFromConfig({ type: 'residual', block: { kind: 'mlp', hidden: [8], outputSize: 4 } }),
          head: dense({ units: 2 }),
        },
        opSequence: [
          new Operation({ moduleName: 'res', inputs: [['_input_', 'x']] }),
          new Operation({ moduleName: 'head', inputs: ['res'] }),
        ],
      });
    const model = new MultitaskModel([make()], { seed: 4, inputShapes: { x: [4] } });
    const res = model.modulePool.get('res') as Residual;
    expect(res.parameterCount()).toBe(4 * 8 + 8 + 8 * 4 + 4);
    expect(model.trainableVariables().map((v) => v.name)).toEqual([
      'res/block/dense_0/kernel',
      'res/block/dense_0/bias',
      'res/block/dense_1/kernel',
      'res/block/dense_1/bias',
      'head/kernel',
      'head/bias',
    ]);
    expect(res.getConfig()).toEqual({
      type: 'residual',
      block: {
        type: 'mlp',
        inputSize: 4,
        hidden: [8],
        outputSize: 4,
        activation: 'relu',
        outputActivation: 'linear',
        dropout: 0,
        kernelInit: 'glorotUniform',
      },
    });
    const saved = model.toSaved();
    const restored = await MultitaskModel.load(saved, { variablePrefix: 'copy/' });
    const [original, reloaded] = [model.getWeights(), restored.getWeights()];
    expect(Object.keys(reloaded)).toEqual(Object.keys(original));
    for (const [k, v] of Object.entries(original)) expect(values(reloaded[k]!), k).toEqual(values(v));
    tf.dispose([...Object.values(original), ...Object.values(reloaded)]);
    expectSameForward(model, restored, [[1, 2, 3, 4]]);
    restored.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a block that changes the width, naming the module', () => {
    const task = new Task({
      name: 't',
      modulePool: { res: residual({ block: dense({ units: 3 }) }), head: dense({ units: 2 }) },
      opSequence: [
        new Operation({ moduleName: 'res', inputs: [['_input_', 'x']] }),
        new Operation({ moduleName: 'head', inputs: ['res'] }),
      ],
    });
    expect(() => new MultitaskModel([task], { inputShapes: { x: [4] } })).toThrow(
      /the block must keep the input's row shape \[4\] \(x \+ block\(x\)\), but it outputs \[3\]/,
    );
    expect(() => residual({ block: { kind: 'conv9d' } })).toThrow(
      /residual.block: unknown module type "conv9d"/,
    );
    expect(() => residual({ block: { kind: 'mlp', hidden: [0] } })).toThrow(
      'residual.block mlp: hidden[0] must be an integer >= 1, got 0',
    );
  });

  it('with projection: x·P + block(x) for a block that changes the width (hand computation, gradients)', () => {
    const before = tf.memory().numTensors;
    const res = residual({ block: { kind: 'dense', units: 3, activation: 'tanh' }, projection: true });
    expect(res.inferShape([[2]])).toEqual([3]);
    res.build('proj', { seed: 3 });
    const w = res.variables();
    expect(Object.keys(w)).toEqual(['block/kernel', 'block/bias', 'projection']);
    expect(w.projection!.shape).toEqual([2, 3]);
    const x = tf.tensor2d([
      [0.5, -1],
      [2, 0.25],
    ]);
    const [Wb, bb, P] = ['block/kernel', 'block/bias', 'projection'].map((k) => values(w[k]!));
    const rows = [
      [0.5, -1],
      [2, 0.25],
    ];
    const expected = rows.flatMap((r) =>
      [0, 1, 2].map((j) => {
        let h = bb![j]!;
        let skip = 0;
        for (let i = 0; i < 2; i++) {
          h += r[i]! * Wb![i * 3 + j]!;
          skip += r[i]! * P![i * 3 + j]!;
        }
        return skip + Math.tanh(h);
      }),
    );
    const ctx = { training: false, seed: 0 };
    const y = tf.tidy(() => values(res.apply([x], ctx) as tf.Tensor));
    for (const [i, v] of y.entries()) expect(v).toBeCloseTo(expected[i]!, 5);
    // Input gradient against finite differences and the plain composition; every parameter gets one.
    const plain = (input: tf.Tensor) =>
      tf.add(
        tf.matMul(input as tf.Tensor2D, w.projection!),
        tf.tanh(tf.add(tf.matMul(input as tf.Tensor2D, w['block/kernel']!), w['block/bias']!)),
      );
    const check = checkGradients((input) => res.apply([input], ctx) as tf.Tensor, [x], {
      reference: plain,
      valueTolerance: 1e-5,
    });
    expect(check.failures).toEqual([]);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.square(res.apply([x], ctx) as tf.Tensor)) as tf.Scalar,
        res.trainableVariables(),
      );
      const ref = tf.grad((p: tf.Tensor) =>
        tf.sum(
          tf.square(
            tf.add(
              tf.matMul(x, p as tf.Tensor2D),
              tf.tanh(tf.add(tf.matMul(x, w['block/kernel']!), w['block/bias']!)),
            ),
          ),
        ),
      )(w.projection!);
      const got = values(grads['proj/projection']!);
      for (const [i, v] of values(ref).entries()) expect(got[i]).toBeCloseTo(v, 5);
    });
    x.dispose();
    res.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with projection in a model: widths inferred, saved config rebuilds it, save and load give the same outputs', async () => {
    const before = tf.memory().numTensors;
    const task = new Task({
      name: 't',
      modulePool: {
        res: moduleFromConfig({
          type: 'residual',
          block: { kind: 'mlp', hidden: [5], outputSize: 6 },
          projection: true,
          norm: 'post',
        }),
        head: dense({ units: 2 }),
      },
      opSequence: [
        new Operation({ moduleName: 'res', inputs: [['_input_', 'x']] }),
        new Operation({ moduleName: 'head', inputs: ['res'] }),
      ],
    });
    const model = new MultitaskModel([task], { seed: 4, inputShapes: { x: [4] } });
    const res = model.modulePool.get('res') as Residual;
    // block 4·5+5 + 5·6+6, projection 4·6, post norm over the output's 6: gamma, beta.
    expect(res.parameterCount()).toBe(25 + 36 + 24 + 12);
    expect(res.getConfig()).toMatchObject({ type: 'residual', projection: true, inputSize: 4, norm: 'post' });
    expect((model.modulePool.get('head') as ReturnType<typeof dense>).inputSize).toBe(6);
    await model.save('memory://residual-projection');
    const restored = await MultitaskModel.load('memory://residual-projection', { variablePrefix: 'copy/' });
    expectSameForward(model, restored, [
      [1, 2, 3, 4],
      [-1, 0.5, 0, 2],
    ]);
    restored.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the module for a bad projection option, and suggests it for a block that changes the width', () => {
    let error: unknown;
    try {
      moduleFromConfig(
        { type: 'residual', block: { kind: 'dense', units: 3 }, projection: 'yes' },
        'modules.res',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MtlError);
    expect((error as MtlError).place).toBe('modules.res residual');
    expect((error as MtlError).message).toContain('projection');
    const task = new Task({
      name: 't',
      modulePool: { res: residual({ block: dense({ units: 3 }) }), head: dense({ units: 2 }) },
      opSequence: [
        new Operation({ moduleName: 'res', inputs: [['_input_', 'x']] }),
        new Operation({ moduleName: 'head', inputs: ['res'] }),
      ],
    });
    expect(() => new MultitaskModel([task], { inputShapes: { x: [4] } })).toThrow(
      'set projection: true to project the skip path to its width',
    );
  });
});
