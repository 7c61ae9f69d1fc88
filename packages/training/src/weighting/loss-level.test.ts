import { RandomStream } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Aggregator } from '../aggregator.js';
import { createAggregator } from './registry.js';
import { rlwWeights } from './rlw.js';
import { ctxOf, make, matrix, rowsOf } from './test-helpers.js';

// Loss-level methods: the objective `combine` builds inside the tape, checked as numbers — its
// value, its gradient with respect to each loss (the effective task weights) and, for learnable
// weights, with respect to those variables.

const ctx = (m: number, epoch = 0, seed = 11) => ({ ...ctxOf(m, seed), epoch });

/** Value of combine and ∂combine/∂L_t at the given loss values; no tensor left behind. */
function evaluate(
  agg: Aggregator,
  values: number[],
  c = ctx(values.length),
): { value: number; dL: number[] } {
  return tf.tidy(() => {
    const ls = values.map((v) => tf.scalar(v));
    const f = (...xs: tf.Tensor[]) => agg.combine!(xs as tf.Scalar[], c);
    const value = f(...ls).dataSync()[0]!;
    const dL = tf
      .grads(f)(ls)
      .map((g) => g.dataSync()[0]!);
    return { value, dL };
  });
}

describe('equal (EW) and weightedSum', () => {
  it('EW is the mean: value and weights 1/m; its update is the mean of the task gradients', () => {
    const { value, dL } = evaluate(make('equal', 4), [1, 2, 3, 6]);
    expect(value).toBeCloseTo(3, 6);
    for (const d of dL) expect(d).toBeCloseTo(0.25, 7);
  });

  it('the update of a loss-level method is Σ ∂combine/∂L_t · g_t: EW gives the mean, weightedSum Σ w_t g_t', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }).chain((m) =>
          fc.record({
            rows: fc.array(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 3, maxLength: 3 }), {
              minLength: m,
              maxLength: m,
            }),
            weights: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: m, maxLength: m }),
          }),
        ),
        ({ rows, weights }) => {
          const m = rows.length;
          const tasks = rows.map((_, i) => `t${i}`);
          const w = Object.fromEntries(tasks.map((t, i) => [t, weights[i]! / 4]));
          const J = matrix(rows);
          const theta = tf.tidy(() => tf.variable(tf.zeros([3])));
          for (const [agg, coef] of [
            [createAggregator({ method: 'equal' }, { tasks }), rows.map(() => 1 / m)],
            [createAggregator({ method: 'weightedSum' }, { tasks, taskWeights: w }), tasks.map((t) => w[t]!)],
          ] as const) {
            // L_t(θ) = ⟨g_t, θ⟩ + 1: ∇θ combine is the update the Trainer would apply.
            const { grads, value } = tf.variableGrads(() =>
              agg.combine!(
                rowsOf(J).map((g) => tf.add(tf.sum(tf.mul(tf.tensor1d(g), theta)), 1) as tf.Scalar),
                ctxOf(m),
              ),
            );
            const update = Array.from(grads[theta.name]!.dataSync());
            const expected = [0, 1, 2].map((k) => rows.reduce((s, r, i) => s + coef[i]! * r[k]!, 0));
            update.forEach((u, k) => {
              expect(u).toBeCloseTo(expected[k]!, 3);
            });
            tf.dispose([value, ...Object.values(grads)]);
          }
          theta.dispose();
        },
      ),
      { numRuns: 25, seed: 3 },
    );
  });

  it('weightedSum is the Trainer objective term for term: bit-identical to Σ (w === 1 ? L : L·w)', () => {
    const tasks = ['a', 'b', 'c'];
    const agg = createAggregator({ method: 'weightedSum' }, { tasks, taskWeights: { a: 2, c: 0.3 } });
    const values = [0.7, 1.9, 3.1];
    const ours = tf.tidy(
      () =>
        agg.combine!(
          values.map((v) => tf.scalar(v)),
          { ...ctxOf(3), tasks },
        ).dataSync()[0],
    );
    const today = tf.tidy(
      () => tf.addN([tf.mul(tf.scalar(0.7), 2), tf.scalar(1.9), tf.mul(tf.scalar(3.1), 0.3)]).dataSync()[0],
    );
    expect(ours).toBe(today);
    expect([...agg.lastWeights!()!]).toEqual([2, 1, 0.3]);
  });
});

describe('uncertainty weighting (UW)', () => {
  it('objective Σ ½e^{−s}L + ½s and its gradients in the losses and the log-variances', () => {
    const agg = make('uncertainty', 2);
    agg.setState!({ logVariance: [0.3, -0.2] });
    const [s] = agg.trainableVariables!();
    const L = [2, 0.5];
    const { value, dL } = evaluate(agg, L);
    const e = [Math.exp(-0.3), Math.exp(0.2)];
    expect(value).toBeCloseTo(0.5 * e[0]! * 2 + 0.15 + 0.5 * e[1]! * 0.5 - 0.1, 5);
    expect(dL[0]).toBeCloseTo(0.5 * e[0]!, 6);
    expect(dL[1]).toBeCloseTo(0.5 * e[1]!, 6);
    const ds = tf.tidy(() => {
      const { grads, value: v } = tf.variableGrads(
        () =>
          agg.combine!(
            L.map((x) => tf.scalar(x)),
            ctxOf(2),
          ),
        [s!],
      );
      v.dispose();
      return Array.from(grads[s!.name]!.dataSync());
    });
    // ∂/∂s_t = −½e^{−s_t}L_t + ½: zero where e^{s} = L (the learned variance is the loss).
    expect(ds[0]).toBeCloseTo(-0.5 * e[0]! * 2 + 0.5, 5);
    expect(ds[1]).toBeCloseTo(-0.5 * e[1]! * 0.5 + 0.5, 5);
    agg.dispose!();
  });
});

describe('IMTL-L', () => {
  it('objective Σ e^{s}L − s; ∂/∂s = e^{s}L − 1 and ∂/∂L = e^{s}', () => {
    const agg = make('imtlL', 2);
    agg.setState!({ scale: [0.5, -1] });
    const [s] = agg.trainableVariables!();
    const L = [3, 0.25];
    const { value, dL } = evaluate(agg, L);
    expect(value).toBeCloseTo(Math.exp(0.5) * 3 - 0.5 + Math.exp(-1) * 0.25 + 1, 5);
    expect(dL[0]).toBeCloseTo(Math.exp(0.5), 5);
    expect(dL[1]).toBeCloseTo(Math.exp(-1), 6);
    const ds = tf.tidy(() => {
      const { grads, value: v } = tf.variableGrads(
        () =>
          agg.combine!(
            L.map((x) => tf.scalar(x)),
            ctxOf(2),
          ),
        [s!],
      );
      v.dispose();
      return Array.from(grads[s!.name]!.dataSync());
    });
    expect(ds[0]).toBeCloseTo(Math.exp(0.5) * 3 - 1, 5);
    expect(ds[1]).toBeCloseTo(Math.exp(-1) * 0.25 - 1, 6);
    agg.dispose!();
  });
});

describe('DWA', () => {
  it('weights 1 for two epochs, then m·softmax(r/T) of the epoch-mean loss ratios, by hand', () => {
    const agg = make('dwa', 2, { temperature: 2 });
    const step = (epoch: number, L: number[]) => {
      const w = evaluate(agg, L, ctx(2, epoch)).dL;
      agg.observe!(Float64Array.from(L), ctx(2, epoch));
      return w;
    };
    expect(step(0, [1, 2])).toEqual([1, 1]);
    step(0, [3, 2]); // epoch 0 means: [2, 2]
    expect(step(1, [1, 1])).toEqual([1, 1]);
    step(1, [1, 3]); // epoch 1 means: [1, 2]
    const w = step(2, [5, 5]);
    // r = [1/2, 2/2]; w = 2·softmax(r/2)
    const e = [Math.exp(0.25), Math.exp(0.5)];
    expect(w[0]).toBeCloseTo((2 * e[0]!) / (e[0]! + e[1]!), 6);
    expect(w[1]).toBeCloseTo((2 * e[1]!) / (e[0]! + e[1]!), 6);
    expect(agg.lastWeights!()![1]).toBeCloseTo((2 * e[1]!) / (e[0]! + e[1]!), 12);
  });
});

describe('GLS', () => {
  it('is the geometric mean, with ∂/∂L_t = GLS/(m·L_t)', () => {
    const { value, dL } = evaluate(make('gls', 3), [2, 4, 8]);
    expect(value).toBeCloseTo(4, 5);
    expect(dL[0]).toBeCloseTo(4 / 6, 5);
    expect(dL[1]).toBeCloseTo(4 / 12, 5);
    expect(dL[2]).toBeCloseTo(4 / 24, 5);
  });
});

describe('RLW', () => {
  it('draws softmax-normal weights from the step seed: same seed same weights, another seed others', () => {
    const agg = make('rlw', 3);
    const a = evaluate(agg, [1, 1, 1], ctx(3, 0, 42)).dL;
    const w = rlwWeights(42, 3);
    a.forEach((x, i) => {
      expect(x).toBeCloseTo(w[i]!, 6);
    });
    expect(w.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    // softmax: log-weight differences are the normal draws' differences.
    const rng = new RandomStream(42);
    const z = [rng.normal(), rng.normal(), rng.normal()];
    expect(Math.log(w[0]! / w[1]!)).toBeCloseTo(z[0]! - z[1]!, 10);
    expect([...rlwWeights(43, 3)]).not.toEqual([...w]);
    expect([...agg.lastWeights!()!]).toEqual([...w]);
  });
});

describe('FAMO', () => {
  it('combine: Σ z log D / c with c = Σ z/D held constant: effective weights (1/D_t)/Σ(1/D)', () => {
    const agg = make('famo', 2);
    const { value, dL } = evaluate(agg, [1, 4]);
    const c = 0.5 / 1 + 0.5 / 4;
    expect(value).toBeCloseTo((0.5 * Math.log(1) + 0.5 * Math.log(4)) / c, 5);
    expect(dL[0]).toBeCloseTo(1 / 1.25, 5);
    expect(dL[1]).toBeCloseTo(0.25 / 1.25, 5);
  });

  it('observe: one Adam step on the logits through the softmax of the log-loss decrease', () => {
    const agg = make('famo', 2, { lr: 0.025, gamma: 0 });
    agg.observe!(Float64Array.from([1, 1]), ctxOf(2));
    agg.observe!(Float64Array.from([0.5, 0.9]), ctxOf(2));
    // δ = (log 2, log(1/0.9)); ∂/∂ξ = z(δ − z·δ) = (+, −); Adam's first step is lr·sign.
    const logits = agg.getState!().logits as number[];
    expect(logits[0]).toBeCloseTo(-0.025, 6);
    expect(logits[1]).toBeCloseTo(0.025, 6);
    // The task that improved least (task 1) now weighs more.
    const { dL } = evaluate(agg, [1, 1]);
    expect(dL[1]).toBeGreaterThan(dL[0]!);
  });
});

describe('loss-level methods leave no tensor behind', () => {
  it.each(['weightedSum', 'equal', 'uncertainty', 'dwa', 'gls', 'rlw', 'famo', 'imtlL'])('%s', (method) => {
    const before = tf.memory().numTensors;
    const agg = make(method, 3);
    const held = agg.trainableVariables?.().length ?? 0;
    expect(tf.memory().numTensors).toBe(before + held);
    for (let step = 0; step < 3; step++) {
      evaluate(agg, [1 + step, 2, 0.5], ctx(3, step));
      agg.observe?.(Float64Array.from([1 + step, 2, 0.5]), ctx(3, step));
    }
    agg.getState?.();
    expect(tf.memory().numTensors).toBe(before + held);
    agg.dispose?.();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('methods with per-task state', () => {
  it('refuse a step without every task instead of mixing up the tasks', () => {
    for (const method of ['uncertainty', 'dwa', 'famo', 'imtlL', 'rlw']) {
      const agg = createAggregator({ method }, { tasks: ['a', 'b'] });
      const before = tf.memory().numTensors;
      const losses = [tf.scalar(1)];
      expect(() => agg.combine!(losses, { step: 0, epoch: 0, seed: 1, tasks: ['b'] }), method).toThrow(
        `${method} needs the losses of every task (a, b) in each step, got b`,
      );
      tf.dispose(losses);
      expect(tf.memory().numTensors, method).toBe(before);
      agg.dispose?.();
    }
  });
});
