import { moduleFromConfig } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BayesianLinear, registerVariationalModules } from './bayesian-linear.js';
import { VmtlModel } from './vmtl-model.js';

const tasks = ['a', 'b', 'c'].map((name) => ({ name, dataset: `${name}_data`, trainSize: 10 }));

describe('BayesianLinear and the VMTL module pool', () => {
  it("VmtlModel's classifier posteriors are the module `classifier` of its pool, shared by every task", () => {
    const before = tf.memory().numTensors;
    const model = new VmtlModel({ tasks, inputDim: 2, name: 'bl_pool' });
    expect(model.modules.names()).toEqual(['classifier']);
    expect(model.modules.usersOf('classifier')).toEqual(['a', 'b', 'c']);
    expect(model.modules.get('classifier').type).toBe('bayesianLinear');
    expect(model.modules.parameterCount()).toBe(2 * 3 * 2);
    // The same variable, name and initial values (mean 0, log scale 0) as before the pool.
    expect(model.posteriorParams).toBe(model.modules.get('classifier').variables().posterior);
    expect(model.trainableVariables().map((v) => v.name)).toEqual([
      'bl_pool/classifier/posterior',
      'bl_pool/mixing/alpha',
    ]);
    expect(Array.from(model.posteriorParams.dataSync())).toEqual(new Array(12).fill(0));
    // A frozen classifier leaves only the mixing logits to train.
    model.modules.freeze(['classifier']);
    expect(model.trainableVariables().map((v) => v.name)).toEqual(['bl_pool/mixing/alpha']);
    model.modules.unfreeze(['classifier']);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('applied as a module, gives the posterior-mean logits x·locᵀ; rebuilt from its config by the registry', () => {
    registerVariationalModules();
    const m = moduleFromConfig({ type: 'bayesianLinear', inputSize: 2, numTasks: 3 }, 'test');
    expect(m).toBeInstanceOf(BayesianLinear);
    m.build('bl_apply', { prefix: 'bl/' });
    const post = tf.tensor3d([
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      [
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    ]);
    m.setWeights({ posterior: post });
    const x = tf.tensor2d([
      [1, 1],
      [2, -1],
    ]);
    const y = m.apply([x], { training: false, seed: 0 }) as tf.Tensor;
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.dataSync())).toEqual([3, 7, 11, 0, 2, 4]);
    expect(m.getConfig()).toEqual({ type: 'bayesianLinear', inputSize: 2, numTasks: 3 });
    expect(() => new BayesianLinear({ inputSize: 0, numTasks: 3 })).toThrow(/inputSize/);
    tf.dispose([post, x, y]);
    m.dispose();
  });
});
