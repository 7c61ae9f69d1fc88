import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { decoder } from './decoder.js';
import { gaussianEncoder } from './gaussian-encoder.js';
import { MultitaskVae } from './multitask-vae.js';

describe('MultitaskVae.parameterGroups', () => {
  it('a module several tasks use is shared, one a task uses alone is its own; mixing weights are shared', () => {
    const before = tf.memory().numTensors;
    const model = new MultitaskVae({
      tasks: [
        { name: 'a', dataset: 'A', encoder: 'enc', decoder: 'dec_a' },
        { name: 'b', dataset: 'B', encoder: 'enc', decoder: 'dec_b' },
      ],
      modules: {
        enc: gaussianEncoder({ inputSize: 4, hidden: [3], latentSize: 2 }),
        dec_a: decoder({ inputSize: 2, hidden: [3], outputSize: 4 }),
        dec_b: decoder({ inputSize: 2, hidden: [3], outputSize: 4 }),
      },
      prior: 'mixture',
      variablePrefix: 'pgvae/',
    });
    const groups = model.parameterGroups();
    expect(groups.map((g) => [g.name, g.tasks])).toEqual([
      ['enc', ['a', 'b']],
      ['dec_a', ['a']],
      ['dec_b', ['b']],
      ['mixing', ['a', 'b']],
    ]);
    expect(groups[3]!.variables).toEqual([model.mixing!.logits.name]);
    const grouped = groups.flatMap((g) => g.variables);
    expect(grouped.sort()).toEqual(
      model
        .trainableVariables()
        .map((v) => v.name)
        .sort(),
    );
    expect(groups[1]!.variables.every((n) => n.startsWith('pgvae/dec_a/'))).toBe(true);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
