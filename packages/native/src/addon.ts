import type * as TF from '@tensorflow/tfjs';

// `node:module` by a computed name, loaded only in Node: a browser bundle of this package's main
// entry holds no Node built-in (esbuild leaves a computed import alone), and there the addon is
// simply unavailable, as when it is not built.
const NODE_MODULE = 'node:module';
const nodeModule: typeof import('node:module') | undefined =
  globalThis.process?.versions?.node === undefined
    ? undefined
    : ((await import(/* @vite-ignore */ NODE_MODULE)) as typeof import('node:module'));
/**
 * tfjs, through `require` in Node: the same instance an ES module import gives (Node keeps one
 * CommonJS module per file), without Node's export-name scan of tfjs's bundles that an ES module
 * import of a CommonJS package costs at every start (about 0.5 s of CPU: `mtl`'s bundle loads tfjs
 * this way too). In a browser (no addon there) it is the ES module.
 */
export const tf: typeof TF =
  nodeModule === undefined
    ? ((await import('@tensorflow/tfjs')) as typeof TF)
    : nodeModule.createRequire(import.meta.url)('@tensorflow/tfjs');

/** The functions of build/mtl_native.node (binding/mtl_native.cc documents each). */
export interface Addon {
  gemm(
    heap: ArrayBuffer,
    batch: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    aOffset: number,
    aStride: number,
    bOffset: number,
    bStride: number,
    outOffset: number,
    biasOffset: number,
    biasLength: number,
    activation: number,
    alpha: number,
    preluOffset: number,
    preluLength: number,
  ): void;
  denseGrad(
    heap: ArrayBuffer,
    rows: number,
    inputs: number,
    outputs: number,
    dyOffset: number,
    xOffset: number,
    kernelOffset: number,
    yOffset: number,
    dxOffset: number,
    dkernelOffset: number,
    dbiasOffset: number,
  ): void;
  softmaxCrossEntropy(
    heap: ArrayBuffer,
    rows: number,
    classes: number,
    logitsOffset: number,
    labelsOffset: number,
    lossOffset: number,
    gradOffset: number,
  ): void;
  adam(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    out: Float32Array,
    b1: number,
    b2: number,
    a1: number,
    a2: number,
    c1: number,
    c2: number,
    eps: number,
    decay: number,
    lr: number,
    scale: number,
  ): void;
  sumSquares(...arrays: Float32Array[]): number;
  setThreads(n: number): number;
  config(): string;
}

let cached: { addon?: Addon; error?: string } | undefined;

/**
 * Loads the compiled addon (once); `error` says why it is unavailable. The file sits beside `src`
 * and `dist`, so one relative path serves the sources and the build.
 */
export function loadAddon(): { addon?: Addon; error?: string } {
  if (cached === undefined && nodeModule === undefined) {
    cached = { error: 'native kernels run in Node only (this is not Node)' };
  }
  if (cached === undefined) {
    try {
      const require = nodeModule!.createRequire(import.meta.url);
      cached = { addon: require('../build/mtl_native.node') as Addon };
    } catch (e) {
      const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      cached = {
        error: /Cannot find module/.test(message)
          ? 'the addon is not built (needs a C++ compiler and OpenBLAS at install time: npm run build:addon -w @mtl/native)'
          : `the addon did not load: ${message}`,
      };
    }
  }
  return cached;
}
