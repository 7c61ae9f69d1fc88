import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cgc, GateRecorder, gatedModules, type Mmoe, mmoe, moduleFromConfig, ple } from '../index.js';
import { handBatch } from '../test-utils.js';
import { expectGradients, expectRoundTrip, twoTaskModel, xs } from './test-utils.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

/** Two linear experts (x0 and x1), gate a constant [1/4, 3/4], gate b softmax([x0, 0]). */
function handMmoe(options: { loadBalance?: number; gateEntropy?: number } = {}): Mmoe {
  const moe = mmoe({ tasks: ['a', 'b'], experts: 2, expert: { kind: 'dense', units: 1 }, ...options });
  moe.inferShape([[2]]);
  moe.build('moe');
  tf.tidy(() =>
    moe.setWeights({
      'expert_0/kernel': tf.tensor2d([[1], [0]]),
      'expert_0/bias': tf.tensor1d([0]),
      'expert_1/kernel': tf.tensor2d([[0], [1]]),
      'expert_1/bias': tf.tensor1d([0]),
      'gate_a/kernel': tf.zeros([2, 2]),
      'gate_a/bias': tf.tensor1d([0, Math.log(3)]),
      'gate_b/kernel': tf.tensor2d([
        [1, 0],
        [0, 0],
      ]),
      'gate_b/bias': tf.zeros([2]),
    }),
  );
  return moe;
}

describe('mmoe', () => {
  it('mixes the experts by each task gate, as computed by hand', () => {
    const before = tf.memory().numTensors;
    const moe = handMmoe();
    tf.tidy(() => {
      const out = moe.apply([tf.tensor2d([[1, 2]])], { training: false, seed: 0 }) as Record<
        string,
        tf.Tensor
      >;
      expect(Object.keys(out)).toEqual(['a', 'b']);
      // a: 0.25·1 + 0.75·2; b: softmax([1, 0]) · [1, 2]
      expect(values(out.a!)[0]).toBeCloseTo(1.75, 5);
      expect(values(out.b!)[0]).toBeCloseTo((Math.E + 2) / (Math.E + 1), 5);
    });
    moe.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('adds the load-balance and entropy losses of each gate', () => {
    const moe = handMmoe({ loadBalance: 2, gateEntropy: 0.5 });
    const losses: Record<string, number> = {};
    tf.tidy(() => {
      moe.apply([tf.tensor2d([[0, 2]])], {
        training: true,
        seed: 0,
        addLoss: (name, loss) => {
          losses[name] = loss.dataSync()[0]!;
        },
      });
    });
    // gate a = [1/4, 3/4]: E·Σ m² − 1 = 2·(1/16 + 9/16) − 1 = 0.25; H = −Σ g log g
    expect(losses['moe.a.load_balance']).toBeCloseTo(2 * 0.25, 5);
    expect(losses['moe.a.entropy']).toBeCloseTo(0.5 * -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 5);
    // gate b at x0 = 0 is uniform: balanced, entropy log 2
    expect(losses['moe.b.load_balance']).toBeCloseTo(0, 5);
    expect(losses['moe.b.entropy']).toBeCloseTo(0.5 * Math.log(2), 5);
    moe.dispose();
  });

  it('has gates that sum to 1 and gradients that match finite differences', () => {
    const moe = mmoe({
      tasks: ['a', 'b'],
      experts: 3,
      expert: { kind: 'mlp', hidden: [4], activation: 'tanh' },
    });
    moe.inferShape([[3]]);
    moe.build('moe', { seed: 4 });
    tf.tidy(() => {
      const gates = moe.gateWeights(xs(), { training: false, seed: 0 });
      for (const g of Object.values(gates)) {
        for (const s of values(tf.sum(g, 1))) expect(s).toBeCloseTo(1, 6);
      }
    });
    expectGradients(moe, 'b', ['gate_b/kernel', 'expert_1/dense_0/kernel']);
    moe.dispose();
  });

  it('is read per task in a model, saves and loads, and removing a task frees its gate', async () => {
    const before = tf.memory().numTensors;
    const model = twoTaskModel(mmoe({ tasks: ['a', 'b'], experts: 2, expert: { kind: 'mlp', hidden: [4] } }));
    const router = model.modulePool.get('router') as Mmoe;
    expect(Object.keys(router.variables())).toContain('gate_b/kernel');
    await expectRoundTrip(model, 'memory://mmoe-roundtrip');
    const count = tf.memory().numTensors;
    expect(model.removeTask('b')).toEqual(['b_head']);
    // the gate's kernel and bias and the head's kernel and bias
    expect(tf.memory().numTensors).toBe(count - 4);
    expect(router.tasks).toEqual(['a']);
    expect(Object.keys(router.variables()).some((k) => k.startsWith('gate_b/'))).toBe(false);
    expect(router.getConfig().tasks).toEqual(['a']);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('records the mean gate weights of inference passes only', async () => {
    const moe = handMmoe();
    const recorder = new GateRecorder(gatedModules(new Map([['moe', moe]])));
    const x = tf.tensor2d([
      [0, 5],
      [Math.log(3), 1],
    ]);
    const { gates } = await recorder.record(() => {
      tf.tidy(() => moe.apply([x], { training: false, seed: 0 }));
      tf.tidy(() => moe.apply([x], { training: true, seed: 0 }));
    });
    expect(gates.moe!.a!.weights[1]).toBeCloseTo(0.75, 5);
    expect(gates.moe!.a!.rows).toBe(2);
    // gate b: softmax([0, 0]) = 1/2 and softmax([ln 3, 0]) = [3/4, 1/4]: mean [5/8, 3/8]
    expect(gates.moe!.b!.weights[0]).toBeCloseTo(0.625, 5);
    expect(gates.moe!.b!.experts).toEqual(['expert_0', 'expert_1']);
    x.dispose();
    moe.dispose();
  });

  it('refuses bad options with the option named, and rebuilds from its saved config', () => {
    expect(() => mmoe({ tasks: [], experts: 2 })).toThrow(/tasks needs at least 1 task name/);
    expect(() => mmoe({ tasks: ['a', 'a'], experts: 2 })).toThrow(/names a task twice/);
    expect(() => mmoe({ tasks: ['a'], experts: 0 })).toThrow(MtlError);
    const moe = mmoe({ tasks: ['a', 'b'], experts: 2 });
    moe.inferShape([[3]]);
    const copy = moduleFromConfig(moe.getConfig()) as Mmoe;
    expect(copy.parameterCount()).toBe(moe.parameterCount());
    // 2 experts of mlp [3 → 16] and 2 gates of 3 → 2
    expect(moe.parameterCount()).toBe(2 * (3 * 16 + 16) + 2 * (3 * 2 + 2));
    const x = tf.tensor2d([[1, 2, 3]]);
    const batch = handBatch('d', 'valid', { x });
    expect(batch.size).toBe(1);
    x.dispose();
  });

  it("takes the gates' initialiser and bias as options, saved and loaded, passed down to cgc and ple gates", () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([
      [3, -1, 2],
      [0.5, 4, -2],
    ]);
    // zeros: every gate uniform until trained, whatever the input
    const flat = mmoe({ tasks: ['a', 'b'], experts: 4, gateInit: 'zeros', gateBias: false });
    flat.inferShape([[3]]);
    flat.build('moe', { seed: 2 });
    tf.tidy(() => {
      for (const g of Object.values(flat.gateWeights(x, { training: false, seed: 0 }))) {
        for (const v of values(g)) expect(v).toBe(0.25);
      }
    });
    expect(Object.keys(flat.variables()).filter((k) => k.startsWith('gate_a/'))).toEqual(['gate_a/kernel']);
    const config = flat.getConfig();
    expect(config).toMatchObject({ gateInit: 'zeros', gateBias: false });
    const copy = moduleFromConfig(config) as Mmoe;
    copy.build('moe_copy', { seed: 2 });
    expect(Object.keys(copy.variables()).some((k) => k === 'gate_b/bias')).toBe(false);
    // {normal: s}: the kernel's entries have sd s (800 draws: within 15%)
    const wide = mmoe({ tasks: ['a'], experts: 8, gateInit: { normal: 0.05 }, inputSize: 100 });
    wide.build('moe_wide', { seed: 2 });
    const kernel = values(wide.variables()['gate_a/kernel']!);
    const sd = Math.sqrt(kernel.reduce((a, v) => a + v * v, 0) / kernel.length);
    expect(sd).toBeGreaterThan(0.05 * 0.85);
    expect(sd).toBeLessThan(0.05 * 1.15);
    // the default (no key saved) stays glorotUniform with a bias: configs saved before are unchanged
    const plain = mmoe({ tasks: ['a'], experts: 2 }); // not built
    expect(plain.getConfig()).not.toHaveProperty('gateInit');
    expect(plain.getConfig()).not.toHaveProperty('gateBias');
    const level = cgc({
      tasks: ['a', 'b'],
      sharedExperts: 1,
      taskExperts: 1,
      gateInit: 'zeros',
      gateBias: false,
    });
    const stack = ple({ tasks: ['a', 'b'], levels: 2, sharedExperts: 1, taskExperts: 1, gateBias: false });
    for (const [net, name] of [
      [level, 'cgc'],
      [stack, 'ple'],
    ] as const) {
      net.inferShape([[3]]);
      net.build(name, { seed: 1 });
      const gateVars = Object.keys(net.variables()).filter((k) => /gate_/.test(k));
      expect(gateVars.length).toBeGreaterThan(0);
      expect(gateVars.every((k) => k.endsWith('/kernel'))).toBe(true);
    }
    expect(stack.getConfig()).toMatchObject({ gateBias: false });
    expect(values(level.variables()['gate_a/kernel']!).every((v) => v === 0)).toBe(true);
    for (const m of [flat, copy, wide, plain, level, stack]) m.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
