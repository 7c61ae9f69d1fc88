import { caught } from '@mtl/core/testing';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { activation } from './modules/activation.js';
import { dense } from './modules/dense.js';
import { dropout } from './modules/dropout.js';
import { embedding } from './modules/embedding.js';
import { layerNorm } from './modules/layer-norm.js';
import { layersModule } from './modules/layers-module.js';
import { meanPool } from './modules/mean-pool.js';
import { mlp } from './modules/mlp.js';
import { MultitaskModel } from './multitask-model.js';
import { inferShapes } from './shape-inference.js';
import { Task } from './task.js';
import { handBatch } from './test-utils.js';

const models: MultitaskModel[] = [];
function track(m: MultitaskModel): MultitaskModel {
  models.push(m);
  return m;
}
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

/** A linear chain of modules reading `field`. */
function chainTask(name: string, pool: Record<string, ReturnType<typeof dense> | object>, field = 'x'): Task {
  const names = Object.keys(pool);
  return new Task({
    name,
    modulePool: pool as never,
    opSequence: names.map((m, i) => ({
      moduleName: m,
      inputs: i === 0 ? [['_input_', field]] : [names[i - 1]!],
    })),
  });
}

describe('shape inference', () => {
  it('infers inputSize and size through mlp, dense, layerNorm, activation and dropout', () => {
    const trunk = mlp({ hidden: [16, 8] });
    const norm = layerNorm({});
    const head = dense({ units: 3 });
    const task = chainTask('t', {
      trunk,
      norm,
      act: activation({ fn: 'tanh' }),
      drop: dropout({ rate: 0.1 }),
      mid: dense({ units: 5, activation: 'relu' }),
      head,
    });
    const model = track(new MultitaskModel([task], { inputShapes: { x: [7] } }));
    expect(trunk.inputSize).toBe(7);
    expect(norm.size).toBe(8);
    expect(head.inputSize).toBe(5);
    expect(model.outputShape('t')).toEqual([3]);
    const vars = Object.fromEntries(model.trainableVariables().map((v) => [v.name, v.shape]));
    expect(vars['trunk/dense_0/kernel']).toEqual([7, 16]);
    expect(vars['trunk/dense_1/kernel']).toEqual([16, 8]);
    expect(vars['norm/gamma']).toEqual([8]);
    expect(vars['mid/kernel']).toEqual([8, 5]);
    expect(vars['head/kernel']).toEqual([5, 3]);
    // The resolved sizes are what a saved model records.
    expect(trunk.getConfig().inputSize).toBe(7);
    expect(norm.getConfig().size).toBe(8);
    const out = tf.tidy(() => {
      const batch = handBatch('d', 'train', { x: tf.ones([4, 7]) });
      return model.forward(batch).t!.shape;
    });
    expect(out).toEqual([4, 3]);
  });

  it('infers through embedding + masked meanPool of a padded field', () => {
    const head = dense({ units: 2 });
    const task = new Task({
      name: 'text',
      modulePool: { tokens: embedding({ vocabSize: 10, dim: 6 }), pool: meanPool(), head },
      opSequence: [
        { moduleName: 'tokens', inputs: [['_input_', 'words']] },
        { moduleName: 'pool', inputs: ['tokens', ['_input_', 'words_mask']] },
        { moduleName: 'head', inputs: ['pool'] },
      ],
    });
    const model = track(new MultitaskModel([task], { inputShapes: { words: [null], words_mask: [null] } }));
    expect(head.inputSize).toBe(6);
    expect(model.outputShape('text')).toEqual([2]);
  });

  it('sums the widths of several inputs (concatenation along the last axis)', () => {
    const head = dense({ units: 2 });
    const task = new Task({
      name: 'two',
      modulePool: { a: dense({ units: 3 }), b: mlp({ hidden: [4] }), head },
      opSequence: [
        { moduleName: 'a', inputs: [['_input_', 'x']] },
        {
          moduleName: 'b',
          inputs: [
            ['_input_', 'x'],
            ['_input_', 'z'],
          ],
        },
        { moduleName: 'head', inputs: ['a', 'b', ['_input_', 'z']] },
      ],
    });
    const model = track(new MultitaskModel([task], { inputShapes: { x: [2], z: [5] } }));
    expect((task.modulePool.get('b') as ReturnType<typeof mlp>).inputSize).toBe(7);
    expect(head.inputSize).toBe(3 + 4 + 5);
    const shape = tf.tidy(() => {
      const batch = handBatch('d', 'train', { x: tf.ones([2, 2]), z: tf.ones([2, 5]) });
      return model.forward(batch).two!.shape;
    });
    expect(shape).toEqual([2, 2]);
  });

  it('checks a given size: the error names module, option, given and inferred widths', () => {
    const head = dense({ inputSize: 4, units: 2 });
    const task = chainTask('circle_task', { base: mlp({ hidden: [16, 8] }), head });
    const before = tf.memory().numTensors;
    const e = caught(() => new MultitaskModel([task], { inputShapes: { x: [2] } }));
    expect(e.code).toBe('DATA_SHAPE_MISMATCH');
    expect(e.place).toBe('module head');
    expect(e.message).toContain('inputSize is 4 but the input has 8 values per row');
    expect(e.details).toMatchObject({
      module: 'head',
      option: 'inputSize',
      given: 4,
      inferred: 8,
      task: 'circle_task',
    });
    // Nothing was allocated: inference runs before any module is built.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a module shared by two tasks fed different widths names both tasks', () => {
    const base = mlp({ hidden: [4] });
    const a = chainTask('task_a', { base, head_a: dense({ units: 2 }) }, 'x');
    const b = chainTask('task_b', { base, head_b: dense({ units: 2 }) }, 'y');
    const e = caught(() => new MultitaskModel([a, b], { inputShapes: { x: [2], y: [3] } }));
    expect(e.code).toBe('DATA_SHAPE_MISMATCH');
    expect(e.message).toContain(
      'module "base" is shared by tasks task_a (operation base) and task_b (operation base)',
    );
    expect(e.message).toContain('inputSize 2 vs 3');
    expect(e.details).toMatchObject({ tasks: ['task_a', 'task_b'] });
  });

  it('per-task input shapes: equally named fields of different datasets', () => {
    const base = mlp({ hidden: [4] });
    const a = chainTask('task_a', { base, head_a: dense({ units: 2 }) });
    const b = chainTask('task_b', { base, head_b: dense({ units: 2 }) });
    const shapes = { task_a: { x: [3] }, task_b: { x: [3] } } as const;
    track(new MultitaskModel([a, b], { inputShapes: (t) => shapes[t as keyof typeof shapes] }));
    expect(base.inputSize).toBe(3);
  });

  it('a missing size without input shapes is CONFIG_INVALID naming the module', () => {
    const task = chainTask('t', { trunk: mlp({ hidden: [4] }) });
    const e = caught(() => new MultitaskModel([task]));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe(
      "module trunk mlp: inputSize is not known yet: give it, or let a model infer it from the data (MultitaskModel's inputShapes option)",
    );
  });

  it('a field the shapes do not give, scalar rows and a varying width are clear errors', () => {
    const e1 = caught(() => inferShapes([chainTask('t', { h: dense({ units: 1 }) }, 'x')], { y: [2] }));
    expect(e1.code).toBe('UNKNOWN_FIELD');
    expect(e1.message).toContain('reads input field "x"');
    const e2 = caught(() => inferShapes([chainTask('t', { h: dense({ units: 1 }) })], { x: [] }));
    expect(e2.code).toBe('DATA_SHAPE_MISMATCH');
    expect(e2.message).toContain('scalar rows');
    const e3 = caught(() => inferShapes([chainTask('t', { h: dense({ units: 1 }) })], { x: [null] }));
    expect(e3.code).toBe('CONFIG_INVALID');
    expect(e3.message).toContain('inputSize cannot be inferred');
  });

  it('a tf.layers module takes its input shape from the data and reports its output shape', () => {
    const head = dense({ units: 2 });
    const task = chainTask('t', { enc: layersModule(tf.layers.dense({ units: 6 })), head });
    const model = track(new MultitaskModel([task], { inputShapes: { x: [3] } }));
    expect(head.inputSize).toBe(6);
    expect(model.outputShape('t')).toEqual([2]);
  });

  it('parameter counts are known before build', () => {
    const trunk = mlp({ hidden: [16, 8] });
    inferShapes([chainTask('t', { trunk, norm: layerNorm({}), head: dense({ units: 3 }) })], { x: [5] });
    expect(trunk.isBuilt).toBe(false);
    expect(trunk.parameterCount()).toBe(5 * 16 + 16 + 16 * 8 + 8);
  });

  it('the same seed gives bit-identical weights whether inputSize was given or inferred', () => {
    const build = (given: boolean, prefix: string) => {
      const task = chainTask('t', {
        trunk: mlp(given ? { inputSize: 2, hidden: [8, 4] } : { hidden: [8, 4] }),
        norm: layerNorm(given ? { size: 4 } : {}),
        head: dense(given ? { inputSize: 4, units: 2 } : { units: 2 }),
      });
      return track(
        new MultitaskModel([task], {
          seed: 123,
          variablePrefix: prefix,
          ...(given ? {} : { inputShapes: { x: [2] } }),
        }),
      );
    };
    const a = build(true, 'given/');
    const b = build(false, 'inferred/');
    const wa = a.getWeights();
    const wb = b.getWeights();
    expect(Object.keys(wb).sort()).toEqual(Object.keys(wa).sort());
    for (const k of Object.keys(wa)) {
      expect(Array.from(wb[k]!.dataSync())).toEqual(Array.from(wa[k]!.dataSync()));
    }
    tf.dispose([...Object.values(wa), ...Object.values(wb)]);
  });

  it('a saved model of inferred sizes loads without input shapes', async () => {
    const task = chainTask('t', { trunk: mlp({ hidden: [3] }), head: dense({ units: 2 }) });
    const model = track(new MultitaskModel([task], { inputShapes: { x: [4] }, seed: 5 }));
    const saved = model.toSaved();
    expect(saved.modules.trunk!.config.inputSize).toBe(4);
    expect(saved.modules.head!.config.inputSize).toBe(3);
    const again = track(await MultitaskModel.load(saved, { variablePrefix: 'copy/' }));
    const wa = model.getWeights();
    const wb = again.getWeights();
    expect(Array.from(wb['trunk/dense_0/kernel']!.dataSync())).toEqual(
      Array.from(wa['trunk/dense_0/kernel']!.dataSync()),
    );
    tf.dispose([...Object.values(wa), ...Object.values(wb)]);
  });
});
