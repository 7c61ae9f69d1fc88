import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Aggregator } from '../aggregator.js';
import { ctxOf, make, matrix } from './test-helpers.js';

// Stateful methods: getState → JSON → a new instance's setState → the next step is identical
// (bit for bit), which is what a checkpoint and resume need.

const J = (step: number) =>
  matrix([
    [1 + step, -2, 0.5],
    [-1, 0.3 * step, 2],
    [0.2, 1, -1 + step],
  ]);
const losses = (step: number) => Float64Array.from([1 / (step + 1), 2 - 0.1 * step, 0.5 + 0.05 * step]);
const ctx = (step: number) => ({ ...ctxOf(3, 100 + step, step), epoch: Math.floor(step / 2) });

/** One step of a method: the update (gradient level) or the objective's loss weights (loss level). */
function stepOf(agg: Aggregator, step: number): number[] {
  if (agg.level === 'gradient') return [...agg.aggregate!(J(step), losses(step), ctx(step))];
  const ls = [...losses(step)];
  const out = tf.tidy(() => {
    const f = (...xs: tf.Tensor[]) => agg.combine!(xs as tf.Scalar[], ctx(step));
    const ts = ls.map((v) => tf.scalar(v));
    return [
      f(...ts).dataSync()[0]!,
      ...tf
        .grads(f)(ts)
        .map((g) => g.dataSync()[0]!),
    ];
  });
  agg.observe?.(losses(step), ctx(step));
  return out;
}

describe.each(['dwa', 'famo', 'gradvac', 'nashMtl', 'gradnorm', 'dbMtl', 'uncertainty', 'imtlL'])(
  '%s state',
  (method) => {
    it('round-trips through JSON: the resumed instance takes the identical next step', () => {
      const a = make(method, 3);
      if (method === 'uncertainty') a.setState!({ logVariance: [0.1, -0.4, 0.7] });
      if (method === 'imtlL') a.setState!({ scale: [0.1, -0.4, 0.7] });
      for (let step = 0; step < 5; step++) stepOf(a, step);
      const saved = JSON.parse(JSON.stringify(a.getState!()));
      const b = make(method, 3);
      b.setState!(saved);
      expect(b.getState!()).toEqual(saved);
      for (let step = 5; step < 8; step++) expect(stepOf(b, step)).toEqual(stepOf(a, step));
      a.dispose?.();
      b.dispose?.();
    });

    it('a fresh instance takes a different step than the resumed one (the state matters)', () => {
      const a = make(method, 3);
      if (method === 'uncertainty') a.setState!({ logVariance: [0.1, -0.4, 0.7] });
      if (method === 'imtlL') a.setState!({ scale: [0.1, -0.4, 0.7] });
      for (let step = 0; step < 5; step++) stepOf(a, step);
      const fresh = make(method, 3);
      // Nash-MTL recomputes its weights every step by default: only its counter is state.
      if (method !== 'nashMtl') expect(stepOf(fresh, 5)).not.toEqual(stepOf(a, 5));
      a.dispose?.();
      fresh.dispose?.();
    });

    it('rejects a state of the wrong shape with CHECKPOINT_MISMATCH naming the method', () => {
      const agg = make(method, 3);
      const bad = make(method, 2);
      for (let step = 0; step < 2 && bad.level === 'gradient'; step++) {
        bad.aggregate!(
          matrix([
            [1, 0],
            [0, 1],
          ]),
          Float64Array.from([1, 1]),
          ctxOf(2),
        );
      }
      let error: unknown;
      try {
        agg.setState!(JSON.parse(JSON.stringify(bad.getState!())));
      } catch (e) {
        error = e;
      }
      // gradvac/dbMtl/... of 2 tasks do not fit 3 tasks.
      expect(error).toBeInstanceOf(MtlError);
      expect((error as MtlError).code).toBe('CHECKPOINT_MISMATCH');
      expect((error as MtlError).message).toContain(method);
      agg.dispose?.();
      bad.dispose?.();
    });
  },
);
