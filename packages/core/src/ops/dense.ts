// A dense layer as one taped operation (with a hand-written gradient) in place of three. On the cpu
// and wasm backends every taped op costs tens of microseconds of bookkeeping (tape node, saved-input
// clones, a gradient op or three) whatever the tensor size, which is most of a training step of a
// small model. Values are those of the unfused ops; gradients agree to float rounding.
import * as tf from '@tensorflow/tfjs';
import { backendCapabilities, DENSE_GRAD_KERNEL, hasKernel } from './capabilities.js';

type DenseFn = (x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D;

/**
 * `a·bᵀ` and `aᵀ·b`. Where a transposed matMul is slow (`slowTransposedMatMul`, tfjs-backend-wasm)
 * a product transposes its operand explicitly (one copy) and multiplies plainly when that pays: when
 * it is not tiny and the copy is small next to the work (the other side of the product has at least
 * 8 columns, so a 512→2 head's weight gradient keeps the loop).
 */
function matMulBT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = a.shape;
  return transposeExplicitly(m, m * k * b.shape[0])
    ? tf.matMul(a, tf.transpose(b))
    : tf.matMul(a, b, false, true);
}

function matMulAT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [k, m] = a.shape;
  const n = b.shape[1];
  return transposeExplicitly(n, k * m * n) ? tf.matMul(tf.transpose(a), b) : tf.matMul(a, b, true, false);
}

/** `other`: the size of the dimension the transposed operand does not have. */
function transposeExplicitly(other: number, multiplyAdds: number): boolean {
  return other >= 8 && multiplyAdds >= 4096 && backendCapabilities().slowTransposedMatMul;
}

function makeDense(relu: boolean): DenseFn {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, kernel, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const native = hasKernel(DENSE_GRAD_KERNEL);
    // The kernel itself: under a gradient tape tf.fused.matMul unfuses a ReLU into three ops.
    const y = native
      ? (tf
          .engine()
          .runKernel(
            '_FusedMatMul',
            { a: x, b: kernel, bias },
            { transposeA: false, transposeB: false, activation: relu ? 'relu' : 'linear', leakyreluAlpha: 0 },
          ) as tf.Tensor2D)
      : relu
        ? tf.relu(tf.add(tf.matMul(x, kernel), bias) as tf.Tensor2D)
        : (tf.add(tf.matMul(x, kernel), bias) as tf.Tensor2D);
    save(relu ? [x, kernel, y] : [x, kernel]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk, sy] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D?];
        if (native) {
          const inputs: tf.NamedTensorMap = { dy, x: sx, kernel: sk };
          if (sy !== undefined) inputs.y = sy;
          return tf.engine().runKernel(DENSE_GRAD_KERNEL, inputs) as tf.Tensor[];
        }
        // relu'(z) = step(z), and y > 0 exactly where z > 0.
        const dz = (sy === undefined ? dy : tf.mul(dy, tf.step(sy))) as tf.Tensor2D;
        return [matMulBT(dz, sk), matMulAT(sx, dz), tf.sum(dz, 0)];
      },
    };
  }) as unknown as DenseFn;
}

const denseLinear = makeDense(false);
const denseRelu = makeDense(true);

/**
 * `act(x·kernel + bias)` for a `[B, in]` float32 input as one taped op, for `linear` and `relu`;
 * undefined for anything else (the caller then composes the ops). With @mtl/native's
 * {@link DENSE_GRAD_KERNEL} registered the forward pass is one `_FusedMatMul` and the backward pass
 * one kernel.
 * @example
 * const y = fusedDense(x, kernel, bias, 'relu') ?? tf.relu(tf.add(tf.matMul(x, kernel), bias));
 */
export function fusedDense(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  activation: string,
): tf.Tensor2D | undefined {
  if (x.rank !== 2 || bias === undefined || x.dtype !== 'float32') return undefined;
  if (activation === 'linear')
    return denseLinear(x as tf.Tensor2D, kernel as tf.Tensor2D, bias as tf.Tensor1D);
  if (activation === 'relu') return denseRelu(x as tf.Tensor2D, kernel as tf.Tensor2D, bias as tf.Tensor1D);
  return undefined;
}
