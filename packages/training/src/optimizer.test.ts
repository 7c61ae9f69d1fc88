import { assertNoLeaks, isMtlError, RandomStream } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { OptimizerConfigInput } from './config.js';
import { TrainerOptimizer } from './optimizer.js';
import { f32, uniqueName } from './test-utils.js';

const W0 = [1.5, -2, 0.25];
const G1 = [0.3, -0.7, 1.25];
const G2 = [-0.5, 0.2, 0.75];

/** Applies the given gradients one step after another and returns the weights after each step. */
function run(config: OptimizerConfigInput, grads: number[][], lr: number, w0 = W0): number[][] {
  const w = tf.variable(tf.tensor1d(w0), true, uniqueName('opt/w'));
  const opt = new TrainerOptimizer(config);
  const out: number[][] = [];
  try {
    for (const g of grads) {
      const gt = tf.tensor1d(g);
      opt.applyGradients([w], { [w.name]: gt }, lr);
      gt.dispose();
      out.push(Array.from(w.dataSync()));
    }
  } finally {
    opt.dispose();
    w.dispose();
  }
  return out;
}

describe('TrainerOptimizer update rules', () => {
  it('sgd: one step is exactly w0 − lr·g in float32', () => {
    const lr = 0.1;
    const [w1] = run({ type: 'sgd' }, [G1], lr);
    expect(w1).toEqual(W0.map((w, i) => f32(f32(w) - f32(f32(lr) * f32(G1[i]!)))));
  });

  it('sgd momentum: the second step is w1 − lr·(μ·g1 + g2), exactly', () => {
    const lr = 0.1;
    const mu = 0.9;
    const [w1, w2] = run({ type: 'sgd', momentum: mu }, [G1, G2], lr);
    const b1 = G1.map((g) => f32(f32(f32(mu) * 0) + f32(g)));
    const e1 = W0.map((w, i) => f32(f32(w) - f32(f32(lr) * b1[i]!)));
    const b2 = G2.map((g, i) => f32(f32(f32(mu) * b1[i]!) + f32(g)));
    const e2 = e1.map((w, i) => f32(w - f32(f32(lr) * b2[i]!)));
    expect(w1).toEqual(e1);
    expect(w2).toEqual(e2);
  });

  it('sgd nesterov: the first step moves by lr·(1 + μ)·g', () => {
    const [w1] = run({ type: 'sgd', momentum: 0.5, nesterov: true }, [G1], 0.1);
    w1!.forEach((w, i) => {
      expect(w).toBeCloseTo(W0[i]! - 0.1 * 1.5 * G1[i]!, 6);
    });
  });

  it('adam: the first step is lr·sign(g), the second follows the closed form', () => {
    const lr = 0.01;
    const [w1, w2] = run({ type: 'adam' }, [G1, G2], lr);
    W0.forEach((w, i) => {
      expect(w1![i]).toBeCloseTo(w - lr * Math.sign(G1[i]!), 6);
    });
    const b1 = 0.9;
    const b2 = 0.999;
    W0.forEach((_, i) => {
      const m = b1 * (1 - b1) * G1[i]! + (1 - b1) * G2[i]!;
      const v = b2 * (1 - b2) * G1[i]! ** 2 + (1 - b2) * G2[i]! ** 2;
      const step = (lr * (m / (1 - b1 ** 2))) / (Math.sqrt(v / (1 - b2 ** 2)) + 1e-8);
      expect(w2![i]).toBeCloseTo(w1![i]! - step, 6);
    });
  });

  it('adamw: decays w by (1 − lr·wd) and then takes the adam step', () => {
    const lr = 0.01;
    const wd = 0.5;
    // Zero gradient: pure decay, exactly w0·(1 − lr·wd) in float32.
    const [d1] = run({ type: 'adamw', weightDecay: wd }, [[0, 0, 0]], lr);
    expect(d1).toEqual(W0.map((w) => f32(f32(w) * f32(1 - lr * wd))));
    const [w1] = run({ type: 'adamw', weightDecay: wd }, [G1], lr);
    W0.forEach((w, i) => {
      expect(w1![i]).toBeCloseTo(w * (1 - lr * wd) - lr * Math.sign(G1[i]!), 6);
    });
    // Unlike coupled L2, the decay does not go through the adaptive scaling.
    const [a1] = run({ type: 'adam' }, [G1], lr);
    expect(w1).not.toEqual(a1);
  });

  it('adamax: the first step is lr·sign(g); then u = max(β2·u, |g|)', () => {
    const lr = 0.02;
    const [w1, w2] = run({ type: 'adamax' }, [G1, G2], lr);
    W0.forEach((w, i) => {
      expect(w1![i]).toBeCloseTo(w - lr * Math.sign(G1[i]!), 6);
    });
    W0.forEach((_, i) => {
      const m = 0.9 * 0.1 * G1[i]! + 0.1 * G2[i]!;
      const u = Math.max(0.999 * Math.abs(G1[i]!), Math.abs(G2[i]!));
      expect(w2![i]).toBeCloseTo(w1![i]! - (lr / (1 - 0.81)) * (m / (u + 1e-8)), 6);
    });
  });

  it('rmsprop: the first step is lr·sign(g)/√(1−ρ); centered: lr·sign(g)/√(ρ(1−ρ))', () => {
    const lr = 0.01;
    const rho = 0.9;
    const [w1] = run({ type: 'rmsprop', rho }, [G1], lr);
    W0.forEach((w, i) => {
      expect(w1![i]).toBeCloseTo(w - (lr * Math.sign(G1[i]!)) / Math.sqrt(1 - rho), 5);
    });
    const [c1] = run({ type: 'rmsprop', rho, centered: true }, [G1], lr);
    W0.forEach((w, i) => {
      expect(c1![i]).toBeCloseTo(w - (lr * Math.sign(G1[i]!)) / Math.sqrt(rho * (1 - rho)), 5);
    });
    // With momentum the first step is the same; the second adds μ times it.
    const [m1, m2] = run({ type: 'rmsprop', rho, momentum: 0.5 }, [G1, G1], lr);
    W0.forEach((_, i) => {
      expect(m1![i]).toBeCloseTo(w1![i]!, 6);
    });
    W0.forEach((_, i) => {
      const v2 = rho * (1 - rho) * G1[i]! ** 2 + (1 - rho) * G1[i]! ** 2;
      const b2 =
        0.5 * (G1[i]! / (Math.sqrt((1 - rho) * G1[i]! ** 2) + 1e-8)) + G1[i]! / (Math.sqrt(v2) + 1e-8);
      expect(m2![i]).toBeCloseTo(m1![i]! - lr * b2, 5);
    });
  });

  it.each<[string, OptimizerConfigInput, number]>([
    ['sgd', { type: 'sgd' }, 0.1],
    ['sgd momentum', { type: 'sgd', momentum: 0.9 }, 0.02],
    ['adam', { type: 'adam' }, 0.05],
    ['adamw', { type: 'adamw', weightDecay: 0 }, 0.05],
    ['adamax', { type: 'adamax' }, 0.05],
    ['rmsprop', { type: 'rmsprop' }, 0.05],
  ])('%s converges to the minimum of (w − 3)²', (_name, config, lr) => {
    const w = tf.variable(tf.tensor1d([0, 6]), true, uniqueName('conv/w'));
    const opt = new TrainerOptimizer(config);
    const target = tf.tensor1d([3, 3]);
    for (let i = 0; i < 500; i++) {
      const { grads, value } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar, [w]);
      opt.applyGradients([w], grads, i < 300 ? lr : i < 400 ? lr / 10 : lr / 100);
      tf.dispose([grads, value]);
    }
    for (const x of w.dataSync()) expect(x).toBeCloseTo(3, 2);
    opt.dispose();
    tf.dispose([w, target]);
  });

  it.each<[string, OptimizerConfigInput, () => tf.Optimizer]>([
    ['sgd', { type: 'sgd' }, () => tf.train.sgd(0.1)],
    ['momentum', { type: 'sgd', momentum: 0.8 }, () => tf.train.momentum(0.1, 0.8)],
    ['adam', { type: 'adam', epsilon: 1e-7 }, () => tf.train.adam(0.1, 0.9, 0.999, 1e-7)],
    ['adamax', { type: 'adamax', epsilon: 1e-7 }, () => tf.train.adamax(0.1, 0.9, 0.999, 1e-7)],
  ])('%s matches tfjs on a fixed set of variables', (_name, config, make) => {
    const ours = tf.variable(tf.tensor1d(W0), true, uniqueName('ours/w'));
    const theirs = tf.variable(tf.tensor1d(W0), true, uniqueName('theirs/w'));
    const opt = new TrainerOptimizer(config);
    const ref = make();
    for (const g of [G1, G2, G1, G2, G1]) {
      const gt = tf.tensor1d(g);
      opt.applyGradients([ours], { [ours.name]: gt }, 0.1);
      ref.applyGradients({ [theirs.name]: gt });
      gt.dispose();
    }
    const a = ours.dataSync();
    const b = theirs.dataSync();
    a.forEach((x, i) => {
      expect(x).toBeCloseTo(b[i]!, 5);
    });
    opt.dispose();
    ref.dispose();
    tf.dispose([ours, theirs]);
  });
});

describe('TrainerOptimizer state', () => {
  it('keeps slots per variable name: a variable skipped in a step is left alone', () => {
    const a = tf.variable(tf.tensor1d([1]), true, uniqueName('a'));
    const b = tf.variable(tf.tensor1d([1]), true, uniqueName('b'));
    const opt = new TrainerOptimizer({ type: 'adam' });
    const ga = tf.tensor1d([0.5]);
    const gb = tf.tensor1d([-2]);
    opt.applyGradients([a, b], { [a.name]: ga }, 0.1);
    expect(b.dataSync()[0]).toBe(1);
    opt.applyGradients([a, b], { [b.name]: gb }, 0.1);
    // b's first update is a fresh first Adam step (its own moments and count), not a's.
    expect(b.dataSync()[0]).toBeCloseTo(1.1, 6);
    opt.dispose();
    tf.dispose([a, b, ga, gb]);
  });

  it('getState/setState continue bit for bit', async () => {
    const config: OptimizerConfigInput = { type: 'rmsprop', momentum: 0.5, centered: true };
    const name = uniqueName('state/w');
    const w = tf.variable(tf.tensor1d(W0), true, name);
    const opt = new TrainerOptimizer(config);
    const step = (o: TrainerOptimizer, g: number[]) => {
      const gt = tf.tensor1d(g);
      o.applyGradients([w], { [w.name]: gt }, 0.05);
      gt.dispose();
    };
    step(opt, G1);
    step(opt, G2);
    const saved = await opt.getState();
    const savedW = w.dataSync().slice();
    step(opt, G1);
    step(opt, G2);
    const straight = w.dataSync().slice();
    expect(saved.steps).toEqual({ [name]: 2 });
    expect(saved.slots.map((s) => s.name).sort()).toEqual([`${name}/mg`, `${name}/mom`, `${name}/ms`]);

    const resumed = new TrainerOptimizer(config);
    resumed.setState(saved, [w]);
    w.assign(tf.tensor1d(savedW));
    step(resumed, G1);
    step(resumed, G2);
    expect(w.dataSync()).toEqual(straight);
    opt.dispose();
    resumed.dispose();
    w.dispose();
  });

  it('setState names the variable on a mismatch', async () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, uniqueName('mm/w'));
    const opt = new TrainerOptimizer({ type: 'adam' });
    const g = tf.tensor1d([1, 1]);
    opt.applyGradients([w], { [w.name]: g }, 0.1);
    const state = await opt.getState();
    const other = tf.variable(tf.tensor1d([1, 2, 3]), true, uniqueName('mm/other'));
    const fresh = new TrainerOptimizer({ type: 'adam' });
    try {
      fresh.setState(state, [other]);
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'CHECKPOINT_MISMATCH')).toBe(true);
      expect((e as Error).message).toContain(w.name);
    }
    state.slots[0]!.shape = [3];
    expect(() => fresh.setState(state, [w])).toThrow(/has shape \[3\]/);
    expect(() => new TrainerOptimizer({ type: 'sgd' }).setState(state, [w])).toThrow(/adam/);
    opt.dispose();
    fresh.dispose();
    tf.dispose([w, other, g]);
  });

  it('leaves only its slots behind (tensor updates; none with host updates), and dispose frees them', async () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, uniqueName('leak/w'));
    const g = tf.tensor1d([1, 1]);
    const opt = new TrainerOptimizer({ type: 'adam' }, { updates: 'tensor' });
    await assertNoLeaks(() => opt.applyGradients([w], { [w.name]: g }, 0.1), { allow: 2 });
    await assertNoLeaks(() => opt.applyGradients([w], { [w.name]: g }, 0.1));
    await assertNoLeaks(() => opt.dispose(), { allow: -2 });
    const onHost = new TrainerOptimizer({ type: 'adam' }, { updates: 'host' });
    await assertNoLeaks(() => onHost.applyGradients([w], { [w.name]: g }, 0.1));
    await assertNoLeaks(() =>
      onHost.applyGradientValues([w], new Map([[w.name, new Float32Array([1, 1])]]), 0.1),
    );
    onHost.dispose();
    tf.dispose([w, g]);
  });
});

describe('TrainerOptimizer host updates', () => {
  const configs: [string, OptimizerConfigInput][] = [
    ['sgd', { type: 'sgd' }],
    ['sgd momentum', { type: 'sgd', momentum: 0.9 }],
    ['nesterov', { type: 'sgd', momentum: 0.7, nesterov: true }],
    ['adam', { type: 'adam' }],
    ['adamw', { type: 'adamw', weightDecay: 0.3 }],
    ['adamax', { type: 'adamax' }],
    ['rmsprop', { type: 'rmsprop' }],
    ['rmsprop centered momentum', { type: 'rmsprop', centered: true, momentum: 0.5 }],
  ];

  it.each(configs)('%s: host and tensor updates give the same float32 weights, bit for bit', (_n, config) => {
    const rng = new RandomStream(7);
    const init = Array.from({ length: 50 }, () => rng.normal());
    const grads = Array.from({ length: 6 }, () => Array.from({ length: 50 }, () => rng.normal() * 3));
    const weights = (updates: 'host' | 'tensor'): Float32Array => {
      const w = tf.variable(tf.tensor1d(init), true, uniqueName(`same/${updates}`));
      const opt = new TrainerOptimizer(config, { updates });
      grads.forEach((g, i) => {
        const scale = i === 3 ? 0.37 : 1; // one clipped step
        opt.applyGradientValues([w], new Map([[w.name, Float32Array.from(g)]]), 0.05 / (i + 1), scale);
      });
      const out = w.dataSync().slice() as Float32Array;
      opt.dispose();
      w.dispose();
      return out;
    };
    expect(weights('host')).toEqual(weights('tensor'));
  });

  it('re-reads a variable assigned from outside between updates', () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, uniqueName('outside/w'));
    const opt = new TrainerOptimizer({ type: 'sgd' }, { updates: 'host' });
    const g = new Map([[w.name, new Float32Array([1, 1])]]);
    opt.applyGradientValues([w], g, 0.5);
    expect(Array.from(w.dataSync())).toEqual([0.5, 1.5]);
    w.assign(tf.tensor1d([10, 20]));
    opt.applyGradientValues([w], g, 0.5);
    expect(Array.from(w.dataSync())).toEqual([9.5, 19.5]);
    opt.dispose();
    w.dispose();
  });

  it('state saved from host updates continues with tensor updates and back', async () => {
    const w = tf.variable(tf.tensor1d(W0), true, uniqueName('cross/w'));
    const g1 = new Map([[w.name, Float32Array.from(G1)]]);
    const g2 = new Map([[w.name, Float32Array.from(G2)]]);
    const a = new TrainerOptimizer({ type: 'adam' }, { updates: 'host' });
    a.applyGradientValues([w], g1, 0.1);
    const state = await a.getState();
    const w1 = w.dataSync().slice();
    a.applyGradientValues([w], g2, 0.1);
    const straight = w.dataSync().slice();
    const b = new TrainerOptimizer({ type: 'adam' }, { updates: 'tensor' });
    b.setState(state, [w]);
    w.assign(tf.tensor1d(w1));
    b.applyGradientValues([w], g2, 0.1);
    expect(w.dataSync()).toEqual(straight);
    expect(await b.getState()).toEqual(await a.getState());
    tf.dispose(w);
    a.dispose();
    b.dispose();
  });
});
