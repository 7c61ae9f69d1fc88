import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { type DselectK, dselectK, smoothStep } from '../index.js';
import { expectGradients, expectRoundTrip, twoTaskModel, xs } from './test-utils.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('dselect_k', () => {
  it('has the smooth step of the paper: 0 and 1 outside the ramp, cubic inside', () => {
    tf.tidy(() => {
      const s = values(smoothStep(tf.tensor1d([-1, -0.5, -0.25, 0, 0.25, 0.5, 2]), 1));
      // −2t³ + 3t/2 + 1/2 at t = ±1/4: ∓1/32 ± 3/8 + 1/2
      const expected = [0, 0, 0.5 - 3 / 8 + 1 / 32, 0.5, 0.5 + 3 / 8 - 1 / 32, 1, 1];
      for (const [i, v] of s.entries()) expect(v).toBeCloseTo(expected[i]!, 6);
    });
  });

  it('builds the gate from binary codes and selector weights, as computed by hand', () => {
    const before = tf.memory().numTensors;
    const net = dselectK({ tasks: ['a'], experts: 4, k: 2, gamma: 1 });
    // logits: z of selector 0 = (0.25, 1), z of selector 1 = (−1, 0), α = (ln 3, 0)
    tf.tidy(() => {
      const { q, r } = net.gateFromLogits(tf.tensor2d([[0.25, 1, -1, 0, Math.log(3), 0]]));
      const s = 0.5 + 3 / 8 - 1 / 32; // S(0.25)
      // selector 0: bit 0 = S(0.25), bit 1 = S(1) = 1 → codes 2 (bits 0,1 = 0,1) and 3 (1,1)
      const r0 = [0, 0, 1 - s, s];
      // selector 1: bit 0 = S(−1) = 0, bit 1 = S(0) = 1/2 → codes 0 and 2
      const r1 = [0.5, 0, 0.5, 0];
      for (const [i, v] of values(r).entries()) expect(v).toBeCloseTo([...r0, ...r1][i]!, 6);
      const expected = r0.map((v, e) => 0.75 * v + 0.25 * r1[e]!);
      for (const [e, v] of values(q).entries()) expect(v).toBeCloseTo(expected[e]!, 6);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('drops the codes past E − 1 and renormalises each selector', () => {
    const net = dselectK({ tasks: ['a'], experts: 3, k: 1 });
    tf.tidy(() => {
      // m = 2; z = (0.25, 0): r over codes 0..3 = [(1−s)/2, s/2, (1−s)/2, s/2]; keep 0..2
      const { q } = net.gateFromLogits(tf.tensor2d([[0.25, 0, 0]]));
      const s = 0.5 + 3 / 8 - 1 / 32;
      const kept = [(1 - s) / 2, s / 2, (1 - s) / 2];
      const total = kept.reduce((a, b) => a + b, 0);
      for (const [e, v] of values(q).entries()) expect(v).toBeCloseTo(kept[e]! / total, 6);
    });
  });

  it('has gates summing to 1, gradients matching finite differences, the selector entropy loss, and saves and loads', async () => {
    const net = dselectK({
      tasks: ['a', 'b'],
      experts: 4,
      k: 2,
      gamma: 4,
      selectorEntropy: 1,
      expert: { kind: 'mlp', hidden: [3], activation: 'tanh' },
    });
    net.inferShape([[3]]);
    net.build('ds', { seed: 5 });
    const losses: string[] = [];
    tf.tidy(() => {
      const ctx = { training: false, seed: 0 };
      net.observeGates((_, __, w) => {
        for (const s of values(tf.sum(w, 1))) expect(s).toBeCloseTo(1, 6);
      });
      net.apply([xs()], ctx);
      net.observeGates(undefined);
      net.apply([xs()], { training: true, seed: 0, addLoss: (name) => losses.push(name) });
    });
    expect(losses).toEqual(['ds.a.selector_entropy', 'ds.b.selector_entropy']);
    expectGradients(net, 'a', ['gate_a/kernel', 'expert_2/dense_0/kernel']);
    net.dispose();
    const before = tf.memory().numTensors;
    const model = twoTaskModel(dselectK({ tasks: ['a', 'b'], experts: 4, k: 2 }));
    await expectRoundTrip(model, 'memory://dselect-roundtrip');
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => dselectK({ tasks: ['a'], experts: 4, k: 5 })).toThrow(/k must be at most experts/);
  });

  it("frees a removed task's gate", () => {
    const before = tf.memory().numTensors;
    const model = twoTaskModel(
      dselectK({ tasks: ['a', 'b'], experts: 4, k: 2, expert: { kind: 'dense', units: 2 } }),
    );
    const net = model.modulePool.get('router') as DselectK;
    const count = tf.memory().numTensors;
    expect(model.removeTask('b')).toEqual(['b_head']);
    // the gate's kernel and bias and the head's kernel and bias
    expect(tf.memory().numTensors).toBe(count - 4);
    expect(net.tasks).toEqual(['a']);
    expect(Object.keys(net.variables()).some((k) => k.startsWith('gate_b/'))).toBe(false);
    expect(net.getConfig().tasks).toEqual(['a']);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
