import { RandomStream } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initialValues } from './internal/init.js';
import { BaseModule, type Module, type ModuleConfig, type ModuleContext, type ParamSpec } from './module.js';
import { ModuleLosses } from './module-losses.js';
import { Dense, dense } from './modules/dense.js';
import { MultitaskModel } from './multitask-model.js';
import { Operation } from './operation.js';
import { Task } from './task.js';

/** y = inner(x) * scale; adds `mean(y²)` as the loss `<module>.energy` when the model collects. */
class Scaled extends BaseModule {
  readonly type = 'scaled';
  readonly inner: Module;
  constructor(inner: Module, initFrom: 'own' | 'parent' = 'own') {
    super();
    this.inner = this.child('inner', inner, { initFrom });
  }
  protected paramSpecs(): ParamSpec[] {
    return [{ name: 'scale', shape: [2], init: { uniform: 1 } }];
  }
  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): tf.Tensor {
    const y = tf.mul(this.inner.apply(inputs, ctx) as tf.Tensor, this.param('scale'));
    this.addLoss(ctx, 'energy', tf.mean(tf.square(y)) as tf.Scalar);
    return y;
  }
  getConfig(): ModuleConfig {
    return { type: this.type, inner: this.inner.getConfig() };
  }
}

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('modules owning child modules', () => {
  it('names, lists, counts, saves, loads and disposes the children with the parent', () => {
    const before = tf.memory().numTensors;
    const m = new Scaled(dense({ inputSize: 3, units: 2 }));
    expect(m.parameterCount()).toBe(3 * 2 + 2 + 2);
    m.build('outer', { seed: 5, prefix: 'p/' });
    expect(Object.keys(m.variables())).toEqual(['inner/kernel', 'inner/bias', 'scale']);
    expect(m.trainableVariables().map((v) => v.name)).toEqual([
      'p/outer/inner/kernel',
      'p/outer/inner/bias',
      'p/outer/scale',
    ]);
    expect(m.inner.name).toBe('outer/inner');

    // The child draws what a module of its path would: RandomStream(seed).child('outer/inner').
    const expected = initialValues(
      'glorotUniform',
      [3, 2],
      { fanIn: 3, fanOut: 2 },
      new RandomStream(5).child('outer/inner'),
    );
    expect(values(m.variables()['inner/kernel']!)).toEqual(Array.from(expected));

    const saved = m.getWeights();
    const other = new Scaled(dense({ inputSize: 3, units: 2 }));
    other.build('outer', { seed: 6, prefix: 'q/' });
    expect(values(other.variables()['inner/kernel']!)).not.toEqual(values(saved['inner/kernel']!));
    other.setWeights(saved);
    for (const [k, v] of Object.entries(other.variables())) expect(values(v), k).toEqual(values(saved[k]!));
    // Every name and shape is checked before anything is assigned.
    const bad = { scale: tf.zeros([2]), 'inner/kernel': tf.zeros([2, 2]) };
    expect(() => other.setWeights(bad)).toThrow(/parameter "inner\/kernel" has shape \[3,2\]/);
    expect(values(other.variables().scale!)).toEqual(values(saved.scale!));
    tf.dispose([...Object.values(saved), ...Object.values(bad)]);

    m.dispose();
    other.dispose();
    expect(m.inner.isBuilt).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("with initFrom 'parent', the child continues the parent's stream, then the parent draws", () => {
    const m = new Scaled(dense({ inputSize: 3, units: 2 }), 'parent');
    m.build('outer', { seed: 5 });
    const rng = new RandomStream(5).child('outer');
    const kernel = initialValues('glorotUniform', [3, 2], { fanIn: 3, fanOut: 2 }, rng);
    initialValues('zeros', [2], { fanIn: 3, fanOut: 2 }, rng);
    const scale = initialValues({ uniform: 1 }, [2], { fanIn: 2, fanOut: 2 }, rng);
    expect(values(m.variables()['inner/kernel']!)).toEqual(Array.from(kernel));
    expect(values(m.variables().scale!)).toEqual(Array.from(scale));
    m.dispose();
  });

  it('a failed build leaves no variable behind', () => {
    const before = tf.memory().numTensors;
    const taken = dense({ inputSize: 3, units: 2 });
    taken.build('outer/inner');
    const m = new Scaled(new Dense({ inputSize: 3, units: 2 }));
    expect(() => m.build('outer')).toThrow(/already exists/);
    expect(m.isBuilt).toBe(false);
    taken.dispose();
    expect(tf.memory().numTensors).toBe(before);
    m.build('outer');
    m.dispose();
  });
});

describe('modules adding losses', () => {
  const task = (pool: Record<string, Module>) =>
    new Task({
      name: 't',
      modulePool: pool,
      opSequence: [
        new Operation({ moduleName: 'body', inputs: [['_input_', 'x']] }),
        new Operation({ moduleName: 'head', inputs: ['body'] }),
      ],
    });
  const batch = () => ({
    dataset: 'D',
    split: 'train',
    X: {
      x: tf.tensor2d([
        [1, 2, 3],
        [0, -1, 2],
      ]),
    },
    Y: { t: tf.tensor1d([0, 1], 'int32') },
    size: 2,
    indices: Int32Array.from([0, 1]),
  });

  it('MultitaskModel.loss returns them as terms named <module>.<loss>, summed over batches (not in extra)', () => {
    const body = new Scaled(dense({ inputSize: 3, units: 2 }));
    const model = new MultitaskModel([task({ body, head: dense({ inputSize: 2, units: 2 }) })], { seed: 1 });
    const batches = [batch(), batch()];
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const out = model.loss(batches, { step: 0, epoch: 0, seed: 3, training: true });
      expect(Object.keys(out.terms!)).toEqual(['body.energy']);
      const y = body.apply([batches[0]!.X.x!], { training: true, seed: 0 }) as tf.Tensor;
      const energy = tf.mean(tf.square(y)).dataSync()[0]!;
      // Two batches of the same rows: the module ran twice, its loss added twice.
      expect(out.terms!['body.energy']!.dataSync()[0]).toBeCloseTo(2 * energy, 5);
      expect(out.extra).toBeUndefined();
      // The term reaches the gradient of parts + terms (what the Trainer minimises): the scale gets d(energy)/d(scale) too.
      const scale = body.variables().scale!;
      const gradOf = (f: (o: ReturnType<typeof model.loss>) => tf.Scalar) =>
        values(
          tf.variableGrads(
            () => f(model.loss(batches, { step: 0, epoch: 0, seed: 3, training: true })),
            [scale],
          ).grads[scale.name]!,
        );
      const whole = gradOf(
        (o) => tf.addN([...Object.values(o.parts), ...Object.values(o.terms!)]) as tf.Scalar,
      );
      const parts = gradOf((o) => tf.addN(Object.values(o.parts)) as tf.Scalar);
      const term = gradOf((o) => o.terms!['body.energy']!);
      expect(Math.max(...term.map(Math.abs))).toBeGreaterThan(1e-3);
      for (const [i, g] of whole.entries()) expect(g).toBeCloseTo(parts[i]! + term[i]!, 5);
    });
    expect(tf.memory().numTensors).toBe(before);
    // Outside a training loss nobody collects: predict-style forwards add nothing.
    tf.tidy(() => {
      const outputs = model.forward(batches[0]!, { training: false });
      expect(Object.keys(outputs)).toEqual(['t']);
    });
    for (const b of batches) tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
    model.dispose();
  });

  it('a model whose modules add nothing returns no terms and no extra', () => {
    const model = new MultitaskModel([
      task({ body: dense({ inputSize: 3, units: 2 }), head: dense({ inputSize: 2, units: 2 }) }),
    ]);
    const b = batch();
    tf.tidy(() => {
      const out = model.loss(b, { step: 0, epoch: 0, seed: 3, training: true });
      expect(out.terms).toBeUndefined();
      expect(out.extra).toBeUndefined();
    });
    tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
    model.dispose();
  });

  it('ModuleLosses refuses a non-scalar, sums a name added twice, and passes an extra through', () => {
    const losses = new ModuleLosses();
    tf.tidy(() => {
      expect(() => losses.add('m.x', tf.ones([2]) as unknown as tf.Scalar)).toThrow(
        /an added loss must be a scalar tensor, got shape \[2\]/,
      );
      expect(losses.output()).toEqual({});
      losses.add('m.a', tf.scalar(2));
      losses.add('m.a', tf.scalar(3));
      losses.add('m.b', tf.scalar(0.5));
      const out = losses.output(tf.scalar(10));
      expect(Object.fromEntries(Object.entries(out.terms!).map(([k, v]) => [k, v.dataSync()[0]]))).toEqual({
        'm.a': 5,
        'm.b': 0.5,
      });
      expect(out.extra!.dataSync()[0]).toBe(10);
    });
  });
});
