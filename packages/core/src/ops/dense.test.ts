import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertNoLeaks } from '../tensors.js';
import { registerBackendCapabilities } from './capabilities.js';
import { checkGradients } from './check-gradients.js';
import { fusedDense } from './dense.js';

function maxGap(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let gap = 0;
  for (let i = 0; i < x.length; i++)
    gap = Math.max(gap, Math.abs(x[i]! - y[i]!) / Math.max(1, Math.abs(y[i]!)));
  return gap;
}

/** Gradients in (x, kernel, bias) of Σ c ⊙ f(x, kernel, bias) for a fixed random c. */
function grads(f: (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => tf.Tensor, shape: [number, number, number]) {
  const [rows, inputs, units] = shape;
  const x = tf.variable(tf.randomNormal([rows, inputs], 0, 1, 'float32', 1));
  const k = tf.variable(tf.randomNormal([inputs, units], 0, 1, 'float32', 2));
  const b = tf.variable(tf.randomNormal([units], 0, 1, 'float32', 3));
  const c = tf.randomNormal([rows, units], 0, 1, 'float32', 4);
  const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(c, f(x, k, b))) as tf.Scalar, [x, k, b]);
  const out = { value, dx: g[x.name]!, dk: g[k.name]!, db: g[b.name]! };
  tf.dispose([x, k, b, c]);
  return out;
}

describe('fusedDense', () => {
  // 64×64×16 is large enough for the wasm path that transposes explicitly; 32×8×4 keeps the flags.
  it.each<[string, [number, number, number]]>([
    ['relu', [32, 8, 4]],
    ['relu', [64, 64, 16]],
    ['linear', [32, 8, 4]],
    ['linear', [64, 64, 16]],
  ])('%s %j: value and gradients equal those of matMul + add (+ relu)', (activation, shape) => {
    const fused = grads((x, k, b) => fusedDense(x, k, b, activation)!, shape);
    const plain = grads((x, k, b) => {
      const z = tf.add(tf.matMul(x as tf.Tensor2D, k as tf.Tensor2D), b);
      return activation === 'relu' ? tf.relu(z) : z;
    }, shape);
    expect(fused.value.dataSync()[0]).toBe(plain.value.dataSync()[0]);
    expect(maxGap(fused.dx, plain.dx)).toBeLessThan(1e-5);
    expect(maxGap(fused.dk, plain.dk)).toBeLessThan(1e-5);
    expect(maxGap(fused.db, plain.db)).toBeLessThan(1e-5);
    tf.dispose([...Object.values(fused), ...Object.values(plain)]);
  });

  it.each(['relu', 'linear'])(
    '%s: its gradient passes the gradient check (finite differences and autodiff of the plain ops)',
    async (activation) => {
      const x = tf.randomNormal([5, 4], 0, 1, 'float32', 11);
      const k = tf.randomNormal([4, 3], 0, 1, 'float32', 12);
      const b = tf.randomNormal([3], 0, 1, 'float32', 13);
      const plain = (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => {
        const z = tf.add(tf.matMul(x as tf.Tensor2D, k as tf.Tensor2D), b);
        return activation === 'relu' ? tf.relu(z) : z;
      };
      await assertNoLeaks(() => {
        const check = checkGradients((x, k, b) => fusedDense(x!, k!, b!, activation)!, [x, k, b], {
          reference: plain,
        });
        expect(check.failures).toEqual([]);
        expect(check.inputs.map((i) => i.index)).toEqual([0, 1, 2]);
        expect(check.numericError).toBeLessThan(1e-3);
      });
      tf.dispose([x, k, b]);
    },
  );

  it('transposes explicitly exactly where the backend declares slow transposed products: same gradients', () => {
    // The capability is read per call: on any backend, declaring it switches the path, not the numbers
    // beyond float rounding.
    const backend = tf.getBackend();
    const shape: [number, number, number] = [64, 64, 16];
    const f = (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => fusedDense(x, k, b, 'relu')!;
    registerBackendCapabilities(backend, { slowTransposedMatMul: true });
    const explicit = grads(f, shape);
    registerBackendCapabilities(backend, { slowTransposedMatMul: false });
    const plainLoop = grads(f, shape);
    registerBackendCapabilities(backend, { slowTransposedMatMul: backend === 'wasm' });
    expect(maxGap(explicit.dx, plainLoop.dx)).toBeLessThan(1e-5);
    expect(maxGap(explicit.dk, plainLoop.dk)).toBeLessThan(1e-5);
    tf.dispose([...Object.values(explicit), ...Object.values(plainLoop)]);
  });

  it('declines what it does not fuse: other activations, no bias, rank 3', () => {
    tf.tidy(() => {
      const x = tf.ones([2, 3]);
      const k = tf.ones([3, 4]);
      const b = tf.ones([4]);
      expect(fusedDense(x, k, b, 'tanh')).toBeUndefined();
      expect(fusedDense(x, k, undefined, 'relu')).toBeUndefined();
      expect(fusedDense(tf.ones([2, 2, 3]), k, b, 'relu')).toBeUndefined();
    });
  });

  it('leaves no tensors behind in a gradient step', async () => {
    const k = tf.variable(tf.ones([3, 2]));
    const b = tf.variable(tf.zeros([2]));
    const x = tf.ones([4, 3]);
    await assertNoLeaks(() => {
      const { value, grads: g } = tf.variableGrads(
        () => tf.sum(fusedDense(x, k, b, 'relu')!) as tf.Scalar,
        [k, b],
      );
      tf.dispose([value, ...Object.values(g)]);
    });
    tf.dispose([k, b, x]);
  });
});
