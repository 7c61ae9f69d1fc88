import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { type Cgc, cgc, moduleFromConfig, type Ple, ple } from '../index.js';
import { expectGradients, expectRoundTrip, twoTaskModel, xs } from './test-utils.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());
const linear = { kind: 'dense', units: 1 };

describe('cgc and ple', () => {
  it('cgc: each task mixes its own experts then the shared ones, as computed by hand', () => {
    const before = tf.memory().numTensors;
    const net = cgc({ tasks: ['a', 'b'], sharedExperts: 1, taskExperts: 1, expert: linear });
    net.inferShape([[2]]);
    net.build('cgc');
    // a_0 = x0, b_0 = x1, shared_0 = x0 + x1; gate a = [1/4, 3/4] (own, shared), gate b = [1/2, 1/2]
    tf.tidy(() =>
      net.setWeights({
        'a_0/kernel': tf.tensor2d([[1], [0]]),
        'b_0/kernel': tf.tensor2d([[0], [1]]),
        'shared_0/kernel': tf.tensor2d([[1], [1]]),
        'gate_a/kernel': tf.zeros([2, 2]),
        'gate_a/bias': tf.tensor1d([0, Math.log(3)]),
        'gate_b/kernel': tf.zeros([2, 2]),
      }),
    );
    expect(net.gateLayout()).toEqual([
      { gate: 'a', experts: ['a_0', 'shared_0'] },
      { gate: 'b', experts: ['b_0', 'shared_0'] },
    ]);
    tf.tidy(() => {
      const out = net.apply([tf.tensor2d([[1, 2]])], { training: false, seed: 0 }) as Record<
        string,
        tf.Tensor
      >;
      expect(values(out.a!)[0]).toBeCloseTo(0.25 * 1 + 0.75 * 3, 5);
      expect(values(out.b!)[0]).toBeCloseTo(0.5 * 2 + 0.5 * 3, 5);
    });
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ple: a level feeds each task its mixture and the shared experts the shared gate mixture', () => {
    const net = ple({ tasks: ['a', 'b'], levels: 2, sharedExperts: 1, taskExperts: 1, expert: linear });
    net.inferShape([[2]]);
    net.build('ple');
    const names = Object.keys(net.variables());
    expect(names).toContain('level_0/gate_shared/kernel');
    expect(names.some((n) => n.startsWith('level_1/gate_shared'))).toBe(false);
    // Level 0 as in the cgc test, its shared gate over [a_0, b_0, shared_0] = [1/2, 1/4, 1/4].
    // Level 1: every expert is the identity on its one input; gates a = [1, 0]-ish by large logits.
    tf.tidy(() =>
      net.setWeights({
        'level_0/a_0/kernel': tf.tensor2d([[1], [0]]),
        'level_0/b_0/kernel': tf.tensor2d([[0], [1]]),
        'level_0/shared_0/kernel': tf.tensor2d([[1], [1]]),
        'level_0/gate_a/kernel': tf.zeros([2, 2]),
        'level_0/gate_a/bias': tf.tensor1d([0, Math.log(3)]),
        'level_0/gate_b/kernel': tf.zeros([2, 2]),
        'level_0/gate_shared/kernel': tf.zeros([2, 3]),
        'level_0/gate_shared/bias': tf.tensor1d([Math.log(2), 0, 0]),
        'level_1/a_0/kernel': tf.tensor2d([[1]]),
        'level_1/b_0/kernel': tf.tensor2d([[1]]),
        'level_1/shared_0/kernel': tf.tensor2d([[1]]),
        'level_1/gate_a/kernel': tf.zeros([1, 2]),
        'level_1/gate_a/bias': tf.tensor1d([0, 0]),
        'level_1/gate_b/kernel': tf.zeros([1, 2]),
        'level_1/gate_b/bias': tf.tensor1d([Math.log(3), 0]),
      }),
    );
    tf.tidy(() => {
      const out = net.apply([tf.tensor2d([[1, 2]])], { training: false, seed: 0 }) as Record<
        string,
        tf.Tensor
      >;
      const a0 = 0.25 * 1 + 0.75 * 3; // 2.5
      const b0 = 0.5 * 2 + 0.5 * 3; // 2.5
      const s0 = 0.5 * 1 + 0.25 * 2 + 0.25 * 3; // 1.75
      expect(values(out.a!)[0]).toBeCloseTo(0.5 * a0 + 0.5 * s0, 5);
      expect(values(out.b!)[0]).toBeCloseTo(0.75 * b0 + 0.25 * s0, 5);
    });
    net.dispose();
  });

  it('have gradients matching finite differences and gates summing to 1', async () => {
    const net = ple({
      tasks: ['a', 'b'],
      levels: 2,
      sharedExperts: 2,
      taskExperts: 1,
      expert: { kind: 'mlp', hidden: [3], activation: 'tanh' },
    });
    net.inferShape([[3]]);
    net.build('ple', { seed: 3 });
    expectGradients(net, 'a', [
      'level_0/gate_shared/kernel',
      'level_1/gate_a/kernel',
      'level_0/shared_1/dense_0/kernel',
    ]);
    const sums: number[] = [];
    net.observeGates((_, __, w) => sums.push(...values(tf.sum(w, 1))));
    tf.tidy(() => net.apply([xs()], { training: false, seed: 0 }));
    net.observeGates(undefined);
    // 3 rows × (2 task gates + 1 shared gate at level 0, 2 task gates at level 1)
    expect(sums).toHaveLength(15);
    for (const s of sums) expect(s).toBeCloseTo(1, 6);
    net.dispose();
  });

  it('save and load, rebuild from config, and removing a task frees its cgc experts and gate', async () => {
    const before = tf.memory().numTensors;
    const model = twoTaskModel(
      cgc({ tasks: ['a', 'b'], sharedExperts: 1, taskExperts: 2, expert: { kind: 'mlp', hidden: [4] } }),
    );
    await expectRoundTrip(model, 'memory://cgc-roundtrip');
    const router = model.modulePool.get('router') as Cgc;
    const count = tf.memory().numTensors;
    model.removeTask('b');
    // b's 2 experts (kernel, bias each), its gate (kernel, bias) and its head (kernel, bias)
    expect(tf.memory().numTensors).toBe(count - 8);
    expect(router.tasks).toEqual(['a']);
    model.dispose();
    const pleModel = twoTaskModel(ple({ tasks: ['a', 'b'], levels: 2, sharedExperts: 1, taskExperts: 1 }));
    await expectRoundTrip(pleModel, 'memory://ple-roundtrip');
    const saved = (pleModel.modulePool.get('router') as Ple).getConfig();
    const copy = moduleFromConfig(saved) as Ple;
    expect(copy.parameterCount()).toBe((pleModel.modulePool.get('router') as Ple).parameterCount());
    pleModel.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
