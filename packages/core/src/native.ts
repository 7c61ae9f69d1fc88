// What the optional @mtl/native package registered. Core imports no package of ours, so the native
// package reports here and consumers (the optimizer, the CLI) read from here: the choice is made
// once, where the native kernels register, not by backend-name checks in layer or optimizer code.

/**
 * Whether native kernels are in use, and why (not).
 * @example
 * const { active, detail } = nativeStatus(); // true, 'OpenBLAS 0.3.21 (Haswell), 1 thread'
 */
export interface NativeStatus {
  /** Native kernels are registered for the wasm backend and the wasm backend is the active one. */
  active: boolean;
  /** Native kernels are registered for the wasm backend (whatever backend is active now). */
  registered: boolean;
  /** The BLAS library and thread count when registered; else why not. */
  detail: string;
}

/**
 * Scalars of one Adam/AdamW update, each already rounded to float32 exactly as the host update
 * path rounds it; see `TrainerOptimizer` in @mtl/training.
 * @example
 * const p: AdamRuleScalars = { b1: 0.9, b2: 0.999, a1: 0.1, a2: 0.001, c1: 0.1, c2: 0.001, eps: 1e-7, decay: 1, lr: 1e-3, scale: 1 };
 */
export interface AdamRuleScalars {
  b1: number;
  b2: number;
  /** `1 − β1` and `1 − β2`. */
  a1: number;
  a2: number;
  /** Bias corrections `1 − β1^t`, `1 − β2^t`. */
  c1: number;
  c2: number;
  eps: number;
  /** AdamW's `1 − lr·wd`; 1: no decay. */
  decay: number;
  lr: number;
  /** Gradient multiplier (clipping); 1: none. */
  scale: number;
}

/**
 * Update rules implemented natively, bit for bit equal to the host path's float32 arithmetic.
 * @example
 * nativeUpdateRules().adam?.(w, g, m, v, out, scalars);
 */
export interface NativeUpdateRules {
  /** Writes the updated weights to `out` and updates `m`, `v` in place. */
  adam?: (
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    out: Float32Array,
    scalars: AdamRuleScalars,
  ) => void;
  /** `Σ g²` over the arrays in order, accumulated in float64 as the JavaScript loop does. */
  sumSquares?: (arrays: readonly Float32Array[]) => number;
}

interface NativeState {
  registered: boolean;
  detail: string;
  rules: NativeUpdateRules;
  isActive: () => boolean;
}

const state: NativeState = {
  registered: false,
  detail: 'not loaded (the wasm backend was not selected)',
  rules: {},
  isActive: () => false,
};

/**
 * Whether the native BLAS kernels of @mtl/native are in use (see `selectBackend`; `MTL_NATIVE=0`
 * turns them off).
 * @example
 * await selectBackend();
 * console.log(nativeStatus().active ? 'native BLAS kernels' : nativeStatus().detail);
 */
export function nativeStatus(): NativeStatus {
  return { active: state.registered && state.isActive(), registered: state.registered, detail: state.detail };
}

/**
 * Records what the native package registered (it calls this; so do failures to load it).
 * `isActive` tells whether the registered kernels serve the backend active now.
 * @example
 * reportNative({ registered: false, detail: 'addon not built' });
 */
export function reportNative(report: {
  registered: boolean;
  detail: string;
  rules?: NativeUpdateRules;
  isActive?: () => boolean;
}): void {
  state.registered = report.registered;
  state.detail = report.detail;
  state.rules = report.registered ? (report.rules ?? {}) : {};
  state.isActive = report.isActive ?? (() => false);
}

/**
 * The native update rules registered now (empty when none). Read once, when an optimizer is built.
 * @example
 * const adam = nativeUpdateRules().adam; // undefined without @mtl/native
 */
export function nativeUpdateRules(): NativeUpdateRules {
  return state.rules;
}

/**
 * Installs @mtl/native's kernels if that optional package is present (or removes them when
 * `MTL_NATIVE=0`); records why not otherwise. Called by `selectBackend` once wasm is active.
 */
export async function loadNative(env: Record<string, string | undefined>): Promise<void> {
  const off = env.MTL_NATIVE?.trim() === '0';
  if (off && !state.registered) {
    reportNative({ registered: false, detail: 'disabled by MTL_NATIVE=0' });
    return;
  }
  // A computed name: core must not depend on the optional package, nor its types.
  const name = '@mtl/native';
  try {
    const mod = (await import(name)) as { installNative(options: { env: typeof env }): unknown };
    mod.installNative({ env });
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    reportNative({ registered: false, detail: `@mtl/native is not installed (${message})` });
  }
}
