import { assertNoLeaks } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipByGlobalNorm, globalNorm } from './clip.js';

const normOf = (grads: tf.NamedTensorMap) => {
  const t = globalNorm(grads);
  const n = t.dataSync()[0]!;
  t.dispose();
  return n;
};

describe('gradient clipping by global norm', () => {
  it('globalNorm is √Σ‖g‖² over all tensors', () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]), c: tf.scalar(12) };
    expect(normOf(grads)).toBeCloseTo(13, 5);
    tf.dispose(Object.values(grads));
  });

  it('scales to exactly maxNorm when exceeded, keeping the direction', () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const { grads: out, norm, clipped } = clipByGlobalNorm(grads, 1);
    expect(norm).toBeCloseTo(5, 5);
    expect(clipped).toBe(true);
    expect(normOf(out)).toBeCloseTo(1, 6);
    expect(Array.from(out.a!.dataSync())).toEqual([Math.fround(0.6), 0]);
    expect(Array.from(out.b!.dataSync())).toEqual([0, Math.fround(0.8)]);
    tf.dispose([...Object.values(grads), ...Object.values(out)]);
  });

  it('returns the same tensors, unchanged, when the norm is within the bound', async () => {
    const grads = { a: tf.tensor1d([0.3, -0.4]) };
    const result = await assertNoLeaks(() => clipByGlobalNorm(grads, 0.5));
    expect(result.clipped).toBe(false);
    expect(result.grads.a).toBe(grads.a);
    expect(Array.from(result.grads.a!.dataSync())).toEqual([Math.fround(0.3), Math.fround(-0.4)]);
    tf.dispose(grads.a!);
  });

  it('law: the clipped norm is min(norm, maxNorm) and each gradient keeps its direction', () => {
    const vec = fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), {
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(vec, vec, fc.float({ min: Math.fround(0.01), max: 50, noNaN: true }), (a, b, maxNorm) => {
        const grads = { a: tf.tensor1d(a), b: tf.tensor1d(b) };
        const before = normOf(grads);
        const { grads: out } = clipByGlobalNorm(grads, maxNorm);
        const after = normOf(out);
        expect(after).toBeCloseTo(Math.min(before, maxNorm), 3);
        const scale = before > maxNorm ? maxNorm / before : 1;
        out.a!.dataSync().forEach((x, i) => {
          expect(x).toBeCloseTo(a[i]! * scale, 3);
        });
        tf.dispose([...Object.values(grads), ...Object.values(out)]);
      }),
      { numRuns: 60 },
    );
  });
});
