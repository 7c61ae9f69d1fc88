import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { take } from './internal/test-utils.js';
import { MixingWeights } from './mixing.js';

describe('MixingWeights', () => {
  it('starts uniform over the other tasks; the report matrix has a blank diagonal', () => {
    const m = new MixingWeights({ name: 'mix_uniform', numTasks: 3 });
    expect(m.matrix()).toEqual([
      [null, 0.5, 0.5],
      [0.5, null, 0.5],
      [0.5, 0.5, null],
    ]);
    m.dispose();
  });

  it('softmax of the logits over the other tasks, excluding the diagonal entry whatever its value', () => {
    const m = new MixingWeights({
      name: 'mix_init',
      numTasks: 3,
      init: [
        [100, Math.log(3), 0],
        [0, -100, 0],
        [1, 2, 50],
      ],
    });
    const a = m.matrix();
    expect(a[0]![1]).toBeCloseTo(0.75, 6);
    expect(a[0]![2]).toBeCloseTo(0.25, 6);
    expect(a[2]![0]).toBeCloseTo(1 / (1 + Math.E), 6);
    m.dispose();
  });

  it('Gumbel-softmax draws: rows sum to 1, zero diagonal, reproducible per seed', () => {
    const m = new MixingWeights({ name: 'mix_draw', numTasks: 4, init: 0.3 });
    tf.tidy(() => {
      const w = m.sample(0.5, 9);
      const rows = take(tf.sum(w, 1));
      rows.forEach((r) => {
        expect(r).toBeCloseTo(1, 5);
      });
      const flat = take(w.clone());
      for (let t = 0; t < 4; t++) expect(flat[t * 4 + t]).toBe(0);
      expect(take(m.sample(0.5, 9))).toEqual(take(m.sample(0.5, 9)));
      expect(take(m.sample(0.5, 9))).not.toEqual(take(m.sample(0.5, 10)));
    });
    m.dispose();
  });

  it('the diagonal logit gets no gradient, the others do', () => {
    const m = new MixingWeights({ name: 'mix_grad', numTasks: 3 });
    const g = tf.tidy(() => {
      const target = tf.tensor2d([
        [0, 1, 2],
        [3, 0, 1],
        [2, 5, 0],
      ]);
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(m.sample(1, 3), target)) as tf.Scalar,
        [m.logits],
      );
      return take(grads[m.logits.name]!);
    });
    for (let t = 0; t < 3; t++) expect(g[t * 4]).toBe(0);
    expect(g.some((v, i) => i % 4 !== 0 && Math.abs(v) > 1e-4)).toBe(true);
    m.dispose();
  });

  it('rows sum to 1 for any finite logits and temperature (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 9, maxLength: 9 }),
        fc.double({ min: 0.05, max: 5, noNaN: true }),
        fc.integer({ min: 0, max: 1e6 }),
        (logits, tau, seed) => {
          const init = [logits.slice(0, 3), logits.slice(3, 6), logits.slice(6)];
          const m = new MixingWeights({ name: 'mix_prop', numTasks: 3, init });
          try {
            const rows = tf.tidy(() => take(tf.sum(m.sample(tau, seed), 1)));
            rows.forEach((r) => {
              expect(r).toBeCloseTo(1, 4);
            });
            m.matrix().forEach((row) => {
              expect(row.reduce((s: number, v) => s + (v ?? 0), 0)).toBeCloseTo(1, 5);
            });
          } finally {
            m.dispose();
          }
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it('needs two tasks, a square init and a free name', () => {
    expect(() => new MixingWeights({ name: 'mix_one', numTasks: 1 })).toThrow(/at least 2 tasks/);
    expect(() => new MixingWeights({ name: 'mix_bad', numTasks: 2, init: [[0]] })).toThrow(/2x2/);
    const m = new MixingWeights({ name: 'mix_dup', numTasks: 2 });
    expect(() => new MixingWeights({ name: 'mix_dup', numTasks: 2 })).toThrow(/already exists/);
    m.dispose();
  });
});
