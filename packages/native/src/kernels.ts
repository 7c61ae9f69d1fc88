// The wasm backend's matMul kernels replaced by BLAS calls on the backend's own memory, plus one
// kernel of our own (`MtlDenseGrad`, the whole backward pass of a dense layer).
import type * as ops from '@mtl/core/ops';
import type * as tf from '@tensorflow/tfjs';
import { type Addon, tf as tfjs } from './addon.js';

// The names core's ops look up (`@mtl/core/ops`), typed as core's own constants so that a change
// there fails the build here; not imported, because that would load core's ops a second time (as
// ES modules) beside `mtl`'s bundle (see addon.ts).
const DENSE_GRAD_KERNEL: typeof ops.DENSE_GRAD_KERNEL = 'MtlDenseGrad';
const SOFTMAX_CROSS_ENTROPY_KERNEL: typeof ops.SOFTMAX_CROSS_ENTROPY_KERNEL = 'MtlSoftmaxCrossEntropy';

/** The parts of tfjs-backend-wasm's `BackendWasm` used here. */
interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: object): void;
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/**
 * The backward pass of a dense layer: inputs `dy, x, kernel[, y]` (y: relu output), outputs `dx,
 * dkernel, dbias`. Its name is @mtl/core's, where the op that runs it (`fusedDense`) looks it up.
 */
export const DENSE_GRAD = DENSE_GRAD_KERNEL;

/**
 * Mean softmax cross-entropy of `logits [B, C]` against int32 `labels [B]` (outside `[0, C)`:
 * abstain, as @mtl/core's `softmaxCrossEntropy` rules), outputs `loss` (scalar) and its gradient in
 * the logits for a unit loss gradient.
 */
export const SOFTMAX_CROSS_ENTROPY = SOFTMAX_CROSS_ENTROPY_KERNEL;

/** The kernels this package replaces (tfjs names). */
const REPLACED = ['BatchMatMul', '_FusedMatMul', 'Identity'] as const;

/** tfjs's fused activations, numbered as binding/mtl_native.cc numbers them. */
const ACTIVATIONS: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 3,
  sigmoid: 4,
  elu: 5,
  prelu: 6,
};

function offset(backend: WasmBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('@mtl/native: a tensor is not on the wasm backend');
  return data.memoryOffset;
}

function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

interface Plan {
  batch: number;
  m: number;
  n: number;
  k: number;
  aStride: number;
  bStride: number;
  outShape: number[];
}

/**
 * Shapes of `op(a)·op(b)` over broadcast batch dimensions, or undefined when the batch dimensions
 * broadcast other than "equal, or one side a single matrix" (then tfjs's own kernel runs).
 */
export function planProduct(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): Plan | undefined {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return undefined;
  const m = transposeA ? aShape[ra - 1]! : aShape[ra - 2]!;
  const k = transposeA ? aShape[ra - 2]! : aShape[ra - 1]!;
  const kb = transposeB ? bShape[rb - 1]! : bShape[rb - 2]!;
  const n = transposeB ? bShape[rb - 2]! : bShape[rb - 1]!;
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${aShape} and ${bShape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const aOuter = aShape.slice(0, -2);
  const bOuter = bShape.slice(0, -2);
  const outer = tfjs.broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter);
  const batchA = size(aOuter);
  const batchB = size(bOuter);
  const batch = size(outer);
  if (!(batchA === batch || batchA === 1) || !(batchB === batch || batchB === 1)) return undefined;
  return {
    batch,
    m,
    n,
    k,
    aStride: batchA === 1 ? 0 : m * k,
    bStride: batchB === 1 ? 0 : k * n,
    outShape: [...outer, m, n],
  };
}

/** A bias or PReLU weight the epilogue can apply: one value, or one per output column. */
function perColumn(t: tf.TensorInfo | undefined, n: number): boolean {
  if (t === undefined) return true;
  const total = size(t.shape);
  return total === 1 || (total === n && t.shape[t.shape.length - 1] === n);
}

function makeBatchMatMul(addon: Addon, original: tf.KernelConfig): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const plan =
      a.dtype === 'float32' && b.dtype === 'float32'
        ? planProduct(a.shape, b.shape, transposeA, transposeB)
        : undefined;
    if (plan === undefined) return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    return product(addon, args.backend as WasmBackend, plan, a, b, transposeA, transposeB);
  };
}

/** What `_FusedMatMul` applies after the product: bias, then activation (numbered as ACTIVATIONS). */
interface Epilogue {
  bias?: tf.TensorInfo | undefined;
  activation: number;
  leakyreluAlpha: number;
  prelu?: tf.TensorInfo | undefined;
}

const NO_EPILOGUE: Epilogue = { activation: ACTIVATIONS.linear!, leakyreluAlpha: 0 };

/** `act(op(a)·op(b) + bias)` by one addon call on the backend's heap, for every transpose case. */
function product(
  addon: Addon,
  backend: WasmBackend,
  plan: Plan,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  epilogue: Epilogue = NO_EPILOGUE,
): tf.TensorInfo {
  const out = backend.makeOutput(plan.outShape, 'float32');
  const { bias, prelu } = epilogue;
  // The heap may have grown while the output was allocated: take its buffer only now.
  addon.gemm(
    backend.wasm.HEAPU8.buffer as ArrayBuffer,
    plan.batch,
    plan.m,
    plan.n,
    plan.k,
    transposeA,
    transposeB,
    offset(backend, a),
    plan.aStride,
    offset(backend, b),
    plan.bStride,
    offset(backend, out),
    bias === undefined ? -1 : offset(backend, bias),
    bias === undefined ? 0 : size(bias.shape),
    epilogue.activation,
    epilogue.leakyreluAlpha,
    prelu === undefined ? -1 : offset(backend, prelu),
    prelu === undefined ? 0 : size(prelu.shape),
  );
  return out;
}

function makeFusedMatMul(addon: Addon, original: tf.KernelConfig): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: tf.TensorInfo;
      b: tf.TensorInfo;
      bias?: tf.TensorInfo;
      preluActivationWeights?: tf.TensorInfo;
    };
    const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as {
      transposeA: boolean;
      transposeB: boolean;
      activation: string;
      leakyreluAlpha?: number;
    };
    const act = ACTIVATIONS[activation];
    const plan =
      a.dtype === 'float32' && b.dtype === 'float32'
        ? planProduct(a.shape, b.shape, transposeA, transposeB)
        : undefined;
    if (
      plan === undefined ||
      act === undefined ||
      !perColumn(bias, plan.n) ||
      !perColumn(act === ACTIVATIONS.prelu ? preluActivationWeights : undefined, plan.n)
    ) {
      // tfjs-backend-wasm 4.22's _FusedMatMul adds the bias wrongly when an operand is transposed.
      if ((transposeA || transposeB) && bias !== undefined) {
        throw new Error(
          `@mtl/native: fused matMul with a transposed operand and a bias of shape [${bias.shape}] is not supported (tfjs-backend-wasm computes it wrongly)`,
        );
      }
      return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    }
    const prelu = act === ACTIVATIONS.prelu ? preluActivationWeights : undefined;
    return product(addon, args.backend as WasmBackend, plan, a, b, transposeA, transposeB, {
      bias,
      activation: act,
      leakyreluAlpha: leakyreluAlpha ?? 0.2,
      prelu,
    });
  };
}

function makeDenseGrad(addon: Addon): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { dy, x, kernel, y } = args.inputs as {
      dy: tf.TensorInfo;
      x: tf.TensorInfo;
      kernel: tf.TensorInfo;
      y?: tf.TensorInfo;
    };
    const [rows, inputs] = x.shape as [number, number];
    const outputs = kernel.shape[1]!;
    const backend = args.backend as WasmBackend;
    const dx = backend.makeOutput([rows, inputs], 'float32');
    const dkernel = backend.makeOutput([inputs, outputs], 'float32');
    const dbias = backend.makeOutput([outputs], 'float32');
    addon.denseGrad(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      rows,
      inputs,
      outputs,
      offset(backend, dy),
      offset(backend, x),
      offset(backend, kernel),
      y === undefined ? -1 : offset(backend, y),
      offset(backend, dx),
      offset(backend, dkernel),
      offset(backend, dbias),
    );
    return [dx, dkernel, dbias];
  };
}

function makeSoftmaxCrossEntropy(addon: Addon): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { logits, labels } = args.inputs as { logits: tf.TensorInfo; labels: tf.TensorInfo };
    const [rows, classes] = logits.shape as [number, number];
    const backend = args.backend as WasmBackend;
    const loss = backend.makeOutput([], 'float32');
    const grad = backend.makeOutput([rows, classes], 'float32');
    addon.softmaxCrossEntropy(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      rows,
      classes,
      offset(backend, logits),
      offset(backend, labels),
      offset(backend, loss),
      offset(backend, grad),
    );
    return [loss, grad];
  };
}

/**
 * tfjs clones every tensor a custom gradient saves (the `Identity` kernel), and wasm's Identity
 * copies the data. Tensor data is never written in place, so the clone can share it, as the cpu
 * backend's does and as wasm's own Reshape does: one reference more instead of a copy.
 */
const sharedIdentity: tf.KernelFunc = (args: KernelArgs) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  (args.backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let originals: Map<string, tf.KernelConfig> | undefined;

/** Registers the native kernels for the wasm backend (idempotent). */
export function registerNativeKernels(addon: Addon): void {
  if (originals !== undefined) return;
  const saved = new Map<string, tf.KernelConfig>();
  for (const name of REPLACED) {
    const config = tfjs.getKernel(name, 'wasm');
    if (config === undefined) throw new Error(`@mtl/native: the wasm backend has no ${name} kernel`);
    saved.set(name, config);
  }
  const replace = (config: tf.KernelConfig, kernelFunc: tf.KernelFunc) => {
    tfjs.unregisterKernel(config.kernelName, 'wasm');
    // tfjs's setup stays: the fallbacks call tfjs's kernels, which need it if the backend restarts.
    tfjs.registerKernel({ ...config, kernelFunc });
  };
  replace(saved.get('BatchMatMul')!, makeBatchMatMul(addon, saved.get('BatchMatMul')!));
  replace(saved.get('_FusedMatMul')!, makeFusedMatMul(addon, saved.get('_FusedMatMul')!));
  replace(saved.get('Identity')!, sharedIdentity);
  tfjs.registerKernel({ kernelName: DENSE_GRAD, backendName: 'wasm', kernelFunc: makeDenseGrad(addon) });
  tfjs.registerKernel({
    kernelName: SOFTMAX_CROSS_ENTROPY,
    backendName: 'wasm',
    kernelFunc: makeSoftmaxCrossEntropy(addon),
  });
  originals = saved;
}

/** Puts tfjs's own kernels back (idempotent). */
export function unregisterNativeKernels(): void {
  if (originals === undefined) return;
  for (const config of originals.values()) {
    tfjs.unregisterKernel(config.kernelName, 'wasm');
    tfjs.registerKernel(config);
  }
  tfjs.unregisterKernel(DENSE_GRAD, 'wasm');
  tfjs.unregisterKernel(SOFTMAX_CROSS_ENTROPY, 'wasm');
  originals = undefined;
}
