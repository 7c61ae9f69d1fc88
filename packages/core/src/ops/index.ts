// The hand-written ops (one per file, each with a custom gradient checked by checkGradients) and
// the capability registry through which backend-specific choices reach them. Kept out of the main
// entry's import graph's top-level await: @mtl/native imports this entry while @mtl/core selects the
// backend.
export {
  type BackendCapabilities,
  backendCapabilities,
  DENSE_GRAD_KERNEL,
  hasKernel,
  registerBackendCapabilities,
  SOFTMAX_CROSS_ENTROPY_KERNEL,
} from './capabilities.js';
export {
  checkGradients,
  type GradientCheck,
  type GradientCheckInput,
  type GradientCheckOptions,
} from './check-gradients.js';
export { fusedDense } from './dense.js';
export {
  type FusedInputs,
  type FusedPrior,
  fusedLogisticLoss,
} from './fused-logistic-loss.js';
export { labeledRows, softmaxCrossEntropy, softmaxCrossEntropyRows } from './softmax-cross-entropy.js';
export { stopGradient } from './stop-gradient.js';
export { straightThrough } from './straight-through.js';
export { sumScalars } from './sum-scalars.js';
