import { MtlError, type StepContext } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Module } from './module.js';
import { dense } from './modules/dense.js';
import { mlp } from './modules/mlp.js';
import { MultitaskModel } from './multitask-model.js';
import { Task } from './task.js';
import { handBatch } from './test-utils.js';

// MultitaskModel.representation: the loss split where the tasks diverge (gradientOf: representation).

const models: MultitaskModel[] = [];
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

/** Task `name`: the shared `trunk` on field `field`, then its own dense head (2 classes). */
function headTask(name: string, trunk: Module, field = 'x'): Task {
  return new Task({
    name,
    modulePool: { trunk, [`${name}_head`]: dense({ inputSize: 4, units: 2, seed: name.length }) },
    opSequence: [
      { moduleName: 'trunk', inputs: [['_input_', field]] },
      { moduleName: `${name}_head`, inputs: ['trunk'] },
    ],
  });
}

const ctx: StepContext = { step: 3, epoch: 0, seed: 11, training: true };

function batches(): ReturnType<typeof handBatch>[] {
  const x = tf.tensor2d([0.5, -1, 2, 0.25, -0.75, 1.5, 1, 1, -2], [3, 3]);
  const y = (v: number[]) => tf.tensor1d(v, 'int32');
  // A batch labeled for both tasks and one for task a alone (a mixed step of two datasets).
  return [
    handBatch('both', 'train', { x }, { a: y([0, 1, 1]), b: y([1, 0, -1]) }),
    handBatch('only_a', 'train', { x: tf.mul(x, 2) }, { a: y([1, 1, 0]) }),
  ];
}

describe('MultitaskModel.representation', () => {
  it('heads(R) gives loss() exactly; the chain rule through R gives each task gradient of the trunk', () => {
    const trunk = mlp({ inputSize: 3, hidden: [4], activation: 'tanh', dropout: 0.3, seed: 5 });
    const model = new MultitaskModel([headTask('a', trunk), headTask('b', trunk)], {
      variablePrefix: 'rep1/',
    });
    models.push(model);
    const bs = batches();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const direct = model.loss(bs, ctx);
      const split = model.representation(bs, ctx);
      // R: the trunk's output on each batch (dropout included: the same seed as loss()).
      expect(split.representation.map((r) => r.shape)).toEqual([
        [3, 4],
        [3, 4],
      ]);
      const again = split.heads(split.representation);
      expect(Object.keys(again.parts)).toEqual(Object.keys(direct.parts));
      for (const k of Object.keys(direct.parts)) {
        expect(again.parts[k]!.dataSync()[0]).toBe(direct.parts[k]!.dataSync()[0]);
      }
      const trunkVars = model.trainableVariables().filter((v) => v.name.startsWith('rep1/trunk/'));
      for (const key of ['a/both', 'b/both', 'a/only_a']) {
        const plain = tf.variableGrads(() => model.loss(bs, ctx).parts[key]!, trunkVars).grads;
        // dL/dR on constants of R, then Σ R·dL/dR differentiated through the trunk.
        const viaR = tf.variableGrads(() => {
          const s = model.representation(bs, ctx);
          const stand = s.representation.map((r) => tf.tensor(r.dataSync(), r.shape));
          // A part of one batch has no gradient on the other batch's R (allowNoGradients: null).
          const dR = tf.engine().gradients(() => s.heads(stand).parts[key]!, stand, undefined, true).grads;
          return tf.addN(
            s.representation.map((r, i) => (dR[i] ? tf.sum(tf.mul(r, dR[i]!)) : tf.scalar(0))),
          ) as tf.Scalar;
        }, trunkVars).grads;
        for (const v of trunkVars) {
          const p = [...(plain[v.name]!.dataSync() as Float32Array)];
          const r = viaR[v.name]!.dataSync() as Float32Array;
          expect(p.reduce((m, x) => Math.max(m, Math.abs(x)), 0)).toBeGreaterThan(1e-4);
          p.forEach((x, i) => {
            expect(Math.abs(x - r[i]!)).toBeLessThan(1e-6);
          });
        }
      }
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const b of bs) tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
  });

  it('refuses tasks that share no module, and a shared module after a task-owned one', () => {
    const own = (name: string) =>
      new Task({
        name,
        modulePool: { [`${name}_own`]: dense({ inputSize: 3, units: 2 }) },
        opSequence: [{ moduleName: `${name}_own`, inputs: [['_input_', 'x']] }],
      });
    const lone = new MultitaskModel([own('a'), own('b')], { variablePrefix: 'rep2/' });
    models.push(lone);
    const bs = batches();
    let e: unknown;
    try {
      tf.tidy(() => lone.representation(bs, ctx).representation);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(MtlError);
    expect((e as MtlError).message).toMatch(/tasks a, b share no module/);
    // `late` is shared but reads task c's own module `pre`.
    const late = dense({ inputSize: 4, units: 4, seed: 2 });
    const after = (name: string, first: string) =>
      new Task({
        name,
        modulePool: {
          [first]: dense({ inputSize: 3, units: 4 }),
          late,
          [`${name}_head`]: dense({ inputSize: 4, units: 2 }),
        },
        opSequence: [
          { moduleName: first, inputs: [['_input_', 'x']] },
          { moduleName: 'late', inputs: [first] },
          { moduleName: `${name}_head`, inputs: ['late'] },
        ],
      });
    const bad = new MultitaskModel([after('a', 'pre_a'), after('b', 'pre_b')], { variablePrefix: 'rep3/' });
    models.push(bad);
    try {
      tf.tidy(() => bad.representation(bs, ctx).representation);
    } catch (err) {
      e = err;
    }
    expect((e as MtlError).message).toMatch(
      /shared module "late" \(operation late\) reads "pre_a" of task a's own module "pre_a"/,
    );
    expect((e as MtlError).place).toBe('task a operation late');
    for (const b of bs) tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
  });
});
