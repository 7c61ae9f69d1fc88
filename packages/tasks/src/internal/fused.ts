// Fused forms of the hot ops of training: one taped operation (with a hand-written gradient) in
// place of several. On the cpu and wasm backends every taped op costs tens of microseconds of
// bookkeeping (tape node, saved-input clones, a gradient op or three) whatever the tensor size, which
// is most of a training step of a small model. Values are those of the unfused ops (the
// cross-entropy sums in another order: a last-bit difference); gradients agree to float rounding.
import * as tf from '@tensorflow/tfjs';

type DenseFn = (x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D;

/**
 * `a·bᵀ` and `aᵀ·b`. tfjs-backend-wasm runs a matMul with `transposeA`/`transposeB` in a plain loop
 * instead of XNNPACK, 10-40× slower from about 64×64×64 on (a 256×512×512 product: 60-86 ms against
 * 5 ms). On wasm a product transposes its operand explicitly (one copy) and multiplies plainly when
 * that pays: when it is not tiny and the copy is small next to the work (the other side of the
 * product has at least 8 columns, so a 512→2 head's weight gradient keeps the loop).
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
  return other >= 8 && multiplyAdds >= 4096 && tf.getBackend() === 'wasm';
}

/**
 * The kernel of the whole backward pass of a dense layer (`dy, x, kernel[, y]` → `dx, dkernel,
 * dbias`), registered by the optional native package (@mtl/native) for backends it accelerates.
 * Where it is registered the product, bias and ReLU also run as one fused kernel.
 */
const DENSE_GRAD = 'MtlDenseGrad';
/** Softmax cross-entropy and its gradient as one kernel, registered by @mtl/native likewise. */
const SOFTMAX_CROSS_ENTROPY = 'MtlSoftmaxCrossEntropy';

function hasDenseKernels(): boolean {
  return tf.getKernel(DENSE_GRAD, tf.getBackend()) !== undefined;
}

function makeDense(relu: boolean): DenseFn {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, kernel, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const native = hasDenseKernels();
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
          return tf.engine().runKernel(DENSE_GRAD, inputs) as tf.Tensor[];
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
 * `act(x·kernel + bias)` for a `[B, in]` input as one taped op, for `linear` and `relu`; undefined
 * for anything else (the caller then composes the ops).
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

/**
 * Mean softmax cross-entropy over labeled rows from class ids (`-1`, or any id outside `[0, C)`,
 * abstains): `−Σ_rc t_rc·log softmax(z)_rc / max(Σ_rc t_rc, 1)` with `t = oneHot(labels)` (a zero
 * row for an abstained row), as one taped op. Its gradient in `logits` is
 * `(softmax(z)·Σ_c t_rc − t_r) / max(Σ t, 1)`: `(softmax(z) − t_r) / max(Σ t, 1)` on labeled rows, 0
 * on the others. The targets are built inside the op, where no tape records them.
 */
export const maskedSoftmaxCrossEntropy: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar =
  tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, labels, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    if (labels.dtype === 'int32' && tf.getKernel(SOFTMAX_CROSS_ENTROPY, tf.getBackend()) !== undefined) {
      // One kernel for the loss and its gradient (registered by @mtl/native), instead of about 20.
      const [loss, unitGrad] = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits: z, labels }) as [
        tf.Scalar,
        tf.Tensor2D,
      ];
      save([unitGrad!]);
      return {
        value: loss!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const dz = tf.mul(saved[0]!, dy);
          return [dz, dz];
        },
      };
    }
    const ids = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
    // The cast is needed: wasm's OneHot ignores the dtype argument and writes int32 data.
    const target = tf.cast(tf.oneHot(ids as tf.Tensor1D, z.shape[1]), 'float32') as tf.Tensor2D;
    // log softmax written out: tf.logSoftmax adds casts and a custom-gradient wrapper of its own.
    const shifted = tf.sub(z, tf.max(z, 1, true));
    const logp = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true)));
    const count = tf.maximum(tf.sum(target), 1);
    // Forward intermediates are freed before the backward pass: what it needs is saved.
    save([logp, target, count]);
    return {
      // −log p ≥ 0 before the products: no labeled row gives +0, not −0.
      value: tf.div(tf.sum(tf.mul(target, tf.neg(logp))), count) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sLogp, sTarget, sCount] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Scalar];
        const labeled = tf.sum(sTarget, 1, true);
        const dz = tf.mul(tf.sub(tf.mul(tf.exp(sLogp), labeled), sTarget), tf.div(dy, sCount));
        // The labels are data, off the path to any variable: their gradient is never asked for.
        return [dz, dz];
      },
    };
  }) as unknown as (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;
