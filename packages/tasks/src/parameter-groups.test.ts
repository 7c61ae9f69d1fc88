import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { dense } from './modules/dense.js';
import { MultitaskModel } from './multitask-model.js';
import { Task } from './task.js';

const models: MultitaskModel[] = [];
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

describe('MultitaskModel.parameterGroups', () => {
  it('a module run by several tasks is shared by them; one run by one task is its own; frozen ones are left out', () => {
    const before = tf.memory().numTensors;
    const base = dense({ inputSize: 2, units: 3 });
    // Task c holds `base` in its pool but never runs it: it does not share it.
    const task = (name: string, trunk: string) =>
      new Task({
        name,
        modulePool: { base, [`${name}_head`]: dense({ inputSize: trunk === 'base' ? 3 : 2, units: 2 }) },
        opSequence:
          trunk === 'base'
            ? [
                { moduleName: 'base', inputs: [['_input_', 'x']] },
                { moduleName: `${name}_head`, inputs: ['base'] },
              ]
            : [{ moduleName: `${name}_head`, inputs: [['_input_', 'x']] }],
      });
    const model = new MultitaskModel([task('a', 'base'), task('b', 'base'), task('c', 'none')], {
      variablePrefix: 'pg/',
    });
    models.push(model);
    expect(model.parameterGroups()).toEqual([
      { name: 'base', tasks: ['a', 'b'], variables: ['pg/base/kernel', 'pg/base/bias'] },
      { name: 'a_head', tasks: ['a'], variables: ['pg/a_head/kernel', 'pg/a_head/bias'] },
      { name: 'b_head', tasks: ['b'], variables: ['pg/b_head/kernel', 'pg/b_head/bias'] },
      { name: 'c_head', tasks: ['c'], variables: ['pg/c_head/kernel', 'pg/c_head/bias'] },
    ]);
    // Every trainable variable in exactly one group.
    const grouped = model.parameterGroups().flatMap((g) => g.variables);
    expect(grouped.sort()).toEqual(
      model
        .trainableVariables()
        .map((v) => v.name)
        .sort(),
    );
    model.freeze(['base']);
    expect(model.parameterGroups().map((g) => g.name)).toEqual(['a_head', 'b_head', 'c_head']);
    model.dispose();
    models.pop();
    expect(tf.memory().numTensors).toBe(before);
  });
});
