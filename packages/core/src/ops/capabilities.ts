// Backend-specific choices of the ops, made once, where a backend or its kernels are set up (core's
// backend selection for tfjs's stock backends, @mtl/native for its kernels), and read here by the
// ops: an op asks for a capability or a kernel, never for a backend's name.
import * as tf from '@tensorflow/tfjs';

/**
 * What the ops need to know about a backend's kernels.
 * @example
 * const caps: BackendCapabilities = { slowTransposedMatMul: true };
 */
export interface BackendCapabilities {
  /**
   * A matMul with a transposed operand is much slower than an explicit transpose (one copy) and a
   * plain product. True of tfjs-backend-wasm 4.22, which runs such products in a plain loop instead
   * of XNNPACK: 10-40× slower from about 64×64×64 on (a 256×512×512 product: 60-86 ms against 5 ms).
   */
  slowTransposedMatMul: boolean;
}

const NONE: BackendCapabilities = { slowTransposedMatMul: false };
const registry = new Map<string, BackendCapabilities>();

/**
 * Declares what a backend's kernels can do (tfjs's own backend name, e.g. `wasm`); later calls
 * override earlier ones field by field.
 * @example
 * registerBackendCapabilities('wasm', { slowTransposedMatMul: true });
 */
export function registerBackendCapabilities(
  backend: string,
  capabilities: Partial<BackendCapabilities>,
): void {
  registry.set(backend, { ...(registry.get(backend) ?? NONE), ...capabilities });
}

/**
 * The capabilities of the active backend (all false for a backend nobody described).
 * @example
 * if (backendCapabilities().slowTransposedMatMul) y = tf.matMul(a, tf.transpose(b));
 */
export function backendCapabilities(): BackendCapabilities {
  return registry.get(tf.getBackend()) ?? NONE;
}

/**
 * The kernel of the whole backward pass of a dense layer (`dy, x, kernel[, y]` → `dx, dkernel,
 * dbias`; `y`: the ReLU output), registered by the optional @mtl/native for the backends it
 * accelerates. Where it is registered {@link fusedDense} runs the product, bias and ReLU as one
 * `_FusedMatMul` and its gradient as this one kernel.
 * @example
 * hasKernel(DENSE_GRAD_KERNEL); // true on wasm with @mtl/native built
 */
export const DENSE_GRAD_KERNEL = 'MtlDenseGrad';

/**
 * Mean softmax cross-entropy of `logits [B, C]` against int32 `labels [B]` (ids outside `[0, C)`
 * abstain) and its gradient for a unit loss gradient, outputs `[loss, grad]`: registered by
 * @mtl/native likewise, used by {@link softmaxCrossEntropy}.
 * @example
 * hasKernel(SOFTMAX_CROSS_ENTROPY_KERNEL);
 */
export const SOFTMAX_CROSS_ENTROPY_KERNEL = 'MtlSoftmaxCrossEntropy';

/**
 * Whether a kernel is registered for the active backend: the one place the ops query tfjs's kernel
 * registry.
 * @example
 * const native = hasKernel(DENSE_GRAD_KERNEL);
 */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
