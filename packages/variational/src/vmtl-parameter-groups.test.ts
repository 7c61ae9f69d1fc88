import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { VmtlModel } from './vmtl-model.js';

const tasks = ['a', 'b', 'c'].map((name) => ({ name, dataset: name.toUpperCase(), trainSize: 10 }));

describe('VmtlModel.parameterGroups', () => {
  it('the packed classifier posteriors and the mixing weights are shared by every task', () => {
    const before = tf.memory().numTensors;
    const model = new VmtlModel({ tasks, inputDim: 2, name: 'pg_vmtl' });
    const groups = model.parameterGroups();
    expect(groups.map((g) => [g.name, g.tasks])).toEqual([
      ['classifiers', ['a', 'b', 'c']],
      ['mixing', ['a', 'b', 'c']],
    ]);
    expect(groups[0]!.variables).toEqual([model.posteriorParams.name]);
    expect(groups.flatMap((g) => g.variables).sort()).toEqual(
      model
        .trainableVariables()
        .map((v) => v.name)
        .sort(),
    );
    model.dispose();
    // The solo baseline has no mixing weights: one group.
    const solo = new VmtlModel({ tasks, inputDim: 2, name: 'pg_solo', prior: 'standardNormal' });
    expect(solo.parameterGroups()).toEqual([
      { name: 'classifiers', tasks: ['a', 'b', 'c'], variables: [solo.posteriorParams.name] },
    ]);
    solo.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
