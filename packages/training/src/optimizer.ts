import { listNames, MtlError, type NativeUpdateRules, nativeUpdateRules } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { NamedArray } from './checkpoint.js';
import { type OptimizerConfig, type OptimizerConfigInput, optimizerConfigSchema } from './config.js';
import { updateStrategyFor } from './update-strategy.js';

/**
 * Saved optimizer state: per-variable update counts and slot tensors named `${variable}/${slot}`.
 * @example
 * const state: OptimizerState = await optimizer.getState(); // { type: 'adam', steps: { 'm/w': 3 }, slots: [...] }
 */
export interface OptimizerState {
  type: OptimizerConfig['type'];
  /** How many updates each variable has received (Adam's bias correction counts per variable). */
  steps: Record<string, number>;
  slots: NamedArray[];
}

interface VariableState {
  steps: number;
  shape: number[];
  /** Slots as tensors (`tensor` updates). */
  slots: Record<string, tf.Variable>;
  /** Slots as host arrays (`host` updates). */
  host: Record<string, Float32Array>;
}

/**
 * Where {@link TrainerOptimizer} runs its update rule:
 * - `tensor`: as tfjs ops on the device, about a dozen kernels per variable and step;
 * - `host`: as a loop over float32 arrays in JavaScript, on gradients read back from the device,
 *   with every arithmetic step rounded to float32 like the tensor path (so the two give the same
 *   numbers on the cpu and wasm backends) and the new weights written back with one `assign`.
 *   On the cpu and wasm backends a tfjs op costs microseconds of bookkeeping whatever its size,
 *   so for the small and mid-sized models of multitask learning `host` is several times faster;
 *   With @mtl/native's rules registered, Adam/AdamW run that loop in C++ (same bits);
 * - `auto` (default): the strategy registered for the active backend by
 *   `registerUpdateStrategy` (`host` on cpu and wasm), `tensor` for an unregistered one.
 * @example
 * const opt = new TrainerOptimizer({ type: 'adam' }, { updates: 'host' });
 */
export type OptimizerUpdates = 'auto' | 'host' | 'tensor';

/**
 * Options of {@link TrainerOptimizer} that are not part of the saved configuration.
 * @example
 * const options: TrainerOptimizerOptions = { updates: 'tensor' };
 */
export interface TrainerOptimizerOptions {
  /** Default `auto`; see {@link OptimizerUpdates}. */
  updates?: OptimizerUpdates;
  /**
   * Host updates use the native update rules registered by @mtl/native when there are (the same
   * float32 results, bit for bit, several times faster); default true. Read once, here.
   */
  native?: boolean;
  /**
   * Learning-rate multipliers by variable name (a variable not listed: 1): a variable's update uses
   * `lr · multiplier` on every path (host, native, tensor), e.g. a smaller rate for a pretrained
   * trunk. A multiplier of 0 leaves the variable where it is (its slots still update).
   */
  lrScales?: ReadonlyMap<string, number> | undefined;
}

const f32 = Math.fround;

/**
 * The optimizers of the Trainer: sgd (momentum, Nesterov), adam, adamw, adamax, rmsprop.
 *
 * Why not tfjs's own: tfjs optimizers keep their slots by the *position* of a variable in the
 * gradient map of the current call, so when the set of variables with a gradient changes between
 * steps (a step on one task's batch leaves the other heads without gradient) slots get mixed up
 * between variables; their bias-correction powers are a running float32 product that `setWeights`
 * recomputes with `pow`, so a resumed run can differ in the last bit; and tfjs has no AdamW. Here
 * the state is kept per variable *name*, a variable without a gradient in a step is skipped
 * (PyTorch semantics: its moments do not decay), and the state saves and restores exactly.
 *
 * Update rules (g gradient, t the variable's update count):
 * - sgd: `b ← μ·b + g`, `w ← w − lr·b` (Nesterov: `w ← w − lr·(g + μ·b)`); μ = 0: `w ← w − lr·g`
 * - adam: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, `w ← w − lr·m̂/(√v̂ + ε)` with `m̂ = m/(1−β1^t)`, `v̂ = v/(1−β2^t)`
 * - adamw: `w ← w·(1 − lr·wd)` then the adam update (decoupled weight decay)
 * - adamax: `m` as adam, `u ← max(β2·u, |g|)`, `w ← w − lr/(1−β1^t) · m/(u + ε)`
 * - rmsprop: `v ← ρ·v + (1−ρ)·g²`, d = `√v + ε` (centered: `√(v − ḡ²) + ε` with `ḡ ← ρ·ḡ + (1−ρ)·g`),
 *   `w ← w − lr·g/d` (momentum: `b ← μ·b + g/d`, `w ← w − lr·b`)
 * @example
 * const opt = new TrainerOptimizer({ type: 'sgd', momentum: 0.9 });
 * const { grads } = tf.variableGrads(() => tf.sum(tf.square(w)), [w]);
 * opt.applyGradients([w], grads, 0.1);
 * tf.dispose(grads);
 * opt.dispose();
 */
export class TrainerOptimizer {
  readonly config: OptimizerConfig;
  /** Where updates run (`auto` resolved against the backend active at construction). */
  readonly updates: 'host' | 'tensor';
  private readonly states = new Map<string, VariableState>();
  /** Host copies of weights this optimizer wrote, valid while the variable still holds that data. */
  private readonly mirrors = new Map<string, { dataId: object; values: Float32Array }>();
  /** The native implementation of this optimizer's host rule, chosen at construction. */
  private readonly nativeAdam: NativeUpdateRules['adam'];
  private readonly nativeSumSquares: NativeUpdateRules['sumSquares'];
  private readonly lrScales: ReadonlyMap<string, number> | undefined;

  constructor(config: OptimizerConfigInput | OptimizerConfig, options: TrainerOptimizerOptions = {}) {
    const parsed = optimizerConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new MtlError('CONFIG_INVALID', parsed.error.issues.map((i) => i.message).join('; '), {
        place: 'training.optimizer',
      });
    }
    this.config = parsed.data;
    const updates = options.updates ?? 'auto';
    if (updates !== 'auto' && updates !== 'host' && updates !== 'tensor') {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `updates must be auto, host or tensor, got "${String(updates)}"`,
        {
          place: 'TrainerOptimizer updates',
        },
      );
    }
    this.updates = updates === 'auto' ? updateStrategyFor(tf.getBackend()) : updates;
    const adamLike = this.config.type === 'adam' || this.config.type === 'adamw';
    this.nativeAdam =
      this.updates === 'host' && adamLike && options.native !== false ? nativeUpdateRules().adam : undefined;
    this.nativeSumSquares = options.native !== false ? nativeUpdateRules().sumSquares : undefined;
    for (const [name, m] of options.lrScales ?? []) {
      if (!(m >= 0) || !Number.isFinite(m)) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `the learning-rate multiplier of "${name}" must be ≥ 0, got ${m}`,
          {
            place: 'TrainerOptimizer lrScales',
          },
        );
      }
    }
    this.lrScales =
      options.lrScales !== undefined && options.lrScales.size > 0 ? options.lrScales : undefined;
  }

  /** The learning rate of variable `name` in a step of rate `lr` (exactly `lr` without a multiplier). */
  private lrOf(name: string, lr: number): number {
    const m = this.lrScales?.get(name);
    return m === undefined || m === 1 ? lr : lr * m;
  }

  /** Whether host updates run in native code (see {@link TrainerOptimizerOptions.native}). */
  get nativeUpdates(): boolean {
    return this.nativeAdam !== undefined;
  }

  /**
   * `Σ g²` over host gradients in float64, array by array in order (the gradient norm's square):
   * the same number natively or in JavaScript.
   * @example
   * const norm = Math.fround(Math.sqrt(opt.sumOfSquares(hostGrads.values())));
   */
  sumOfSquares(grads: Iterable<Float32Array>): number {
    const arrays = [...grads];
    if (this.nativeSumSquares !== undefined) return this.nativeSumSquares(arrays);
    let sum = 0;
    for (const g of arrays) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
    return sum;
  }

  /** The slots this optimizer keeps per variable. */
  slotNames(): string[] {
    const c = this.config;
    switch (c.type) {
      case 'sgd':
        return c.momentum > 0 ? ['momentum'] : [];
      case 'adam':
      case 'adamw':
        return ['m', 'v'];
      case 'adamax':
        return ['m', 'u'];
      case 'rmsprop':
        return ['ms', ...(c.momentum > 0 ? ['mom'] : []), ...(c.centered ? ['mg'] : [])];
    }
  }

  /**
   * Applies one update with learning rate `lr` to every variable that has a gradient in `grads`
   * (keyed by variable name); the others are left alone. Does not dispose `grads`.
   */
  applyGradients(variables: readonly tf.Variable[], grads: tf.NamedTensorMap, lr: number): void {
    if (this.updates === 'host') {
      const values = new Map<string, Float32Array>();
      for (const v of variables) {
        const g = grads[v.name];
        if (g != null) values.set(v.name, g.dataSync() as Float32Array);
      }
      this.applyGradientValues(variables, values, lr);
      return;
    }
    tf.tidy(() => {
      for (const v of variables) {
        const g = grads[v.name];
        if (g == null) continue;
        const st = this.stateOf(v);
        st.steps += 1;
        this.update(v, g, st, this.lrOf(v.name, lr));
      }
    });
  }

  /**
   * As {@link applyGradients}, with gradients already read back as float32 arrays (keyed by
   * variable name, each as long as its variable), times `scale` (e.g. a clipping factor; applied
   * as one float32 multiplication, like `tf.mul(g, scale)`). The arrays are not kept or changed.
   * In `tensor` mode the arrays are uploaded and {@link applyGradients} runs.
   */
  applyGradientValues(
    variables: readonly tf.Variable[],
    grads: ReadonlyMap<string, Float32Array>,
    lr: number,
    scale = 1,
  ): void {
    if (this.updates === 'tensor') {
      const tensors: tf.NamedTensorMap = {};
      for (const v of variables) {
        const g = grads.get(v.name);
        if (g !== undefined) tensors[v.name] = tf.tensor(g, v.shape, 'float32');
      }
      try {
        const scaled =
          scale === 1
            ? tensors
            : Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, tf.mul(t, scale)]));
        this.applyGradients(variables, scaled, lr);
        if (scaled !== tensors) tf.dispose(Object.values(scaled));
      } finally {
        tf.dispose(Object.values(tensors));
      }
      return;
    }
    for (const v of variables) {
      const g = grads.get(v.name);
      if (g === undefined) continue;
      if (g.length !== v.size) {
        throw new MtlError(
          'SHAPE_MISMATCH',
          `the gradient of "${v.name}" has ${g.length} values but the variable has ${v.size}`,
          { place: 'TrainerOptimizer' },
        );
      }
      const st = this.stateOf(v);
      st.steps += 1;
      const next = new Float32Array(v.size);
      this.updateHost(this.weightsOf(v), scale === 1 ? g : scaled(g, scale), next, st, this.lrOf(v.name, lr));
      // A fresh array every step: the cpu backend adopts the array it is given as the tensor's storage.
      const t = tf.tensor(next, v.shape, 'float32');
      v.assign(t);
      t.dispose();
      this.mirrors.set(v.name, { dataId: v.dataId, values: next });
    }
  }

  /** The variable's values: the copy this optimizer wrote last, unless the variable changed since. */
  private weightsOf(v: tf.Variable): Float32Array {
    const mirror = this.mirrors.get(v.name);
    if (mirror !== undefined && mirror.dataId === v.dataId) return mirror.values;
    return v.dataSync() as Float32Array;
  }

  private stateOf(v: tf.Variable): VariableState {
    let st = this.states.get(v.name);
    if (st === undefined) {
      const slots: Record<string, tf.Variable> = {};
      const host: Record<string, Float32Array> = {};
      for (const s of this.slotNames()) {
        if (this.updates === 'host') host[s] = new Float32Array(v.size);
        else slots[s] = tf.variable(tf.zerosLike(v), false);
      }
      st = { steps: 0, shape: [...v.shape], slots, host };
      this.states.set(v.name, st);
    }
    return st;
  }

  /**
   * The update rules of {@link update} on host arrays, each operation rounded to float32 as the
   * tensor ops round it (scalars too: tfjs makes a float32 scalar of every number operand).
   */
  private updateHost(
    w: Float32Array,
    g: Float32Array,
    out: Float32Array,
    st: VariableState,
    lr: number,
  ): void {
    const c = this.config;
    const s = st.host;
    const n = w.length;
    const flr = f32(lr);
    switch (c.type) {
      case 'sgd': {
        if (c.momentum === 0) {
          for (let i = 0; i < n; i++) out[i] = w[i]! - f32(flr * g[i]!);
          return;
        }
        const mu = f32(c.momentum);
        const b = s.momentum!;
        for (let i = 0; i < n; i++) {
          const bi = f32(f32(mu * b[i]!) + g[i]!);
          b[i] = bi;
          const step = c.nesterov ? f32(g[i]! + f32(mu * bi)) : bi;
          out[i] = w[i]! - f32(flr * step);
        }
        return;
      }
      case 'adam':
      case 'adamw': {
        const b1 = f32(c.beta1);
        const b2 = f32(c.beta2);
        const a1 = f32(1 - c.beta1);
        const a2 = f32(1 - c.beta2);
        const c1 = f32(1 - c.beta1 ** st.steps);
        const c2 = f32(1 - c.beta2 ** st.steps);
        const eps = f32(c.epsilon);
        const decay = c.type === 'adamw' && c.weightDecay > 0 ? f32(1 - lr * c.weightDecay) : 1;
        const m = s.m!;
        const v = s.v!;
        if (this.nativeAdam !== undefined) {
          const scalars = { b1, b2, a1, a2, c1, c2, eps, decay, lr: flr, scale: 1 };
          this.nativeAdam(w, g, m, v, out, scalars);
          return;
        }
        for (let i = 0; i < n; i++) {
          const gi = g[i]!;
          const mi = f32(f32(b1 * m[i]!) + f32(a1 * gi));
          const vi = f32(f32(b2 * v[i]!) + f32(a2 * f32(gi * gi)));
          m[i] = mi;
          v[i] = vi;
          const direction = f32(f32(mi / c1) / f32(f32(Math.sqrt(f32(vi / c2))) + eps));
          const base = decay === 1 ? w[i]! : f32(w[i]! * decay);
          out[i] = base - f32(flr * direction);
        }
        return;
      }
      case 'adamax': {
        const b1 = f32(c.beta1);
        const b2 = f32(c.beta2);
        const a1 = f32(1 - c.beta1);
        const eps = f32(c.epsilon);
        const stepSize = f32(lr / (1 - c.beta1 ** st.steps));
        const m = s.m!;
        const u = s.u!;
        for (let i = 0; i < n; i++) {
          const gi = g[i]!;
          const mi = f32(f32(b1 * m[i]!) + f32(a1 * gi));
          const ui = Math.max(f32(b2 * u[i]!), Math.abs(gi));
          m[i] = mi;
          u[i] = ui;
          out[i] = w[i]! - f32(stepSize * f32(mi / f32(ui + eps)));
        }
        return;
      }
      case 'rmsprop': {
        const rho = f32(c.rho);
        const a = f32(1 - c.rho);
        const eps = f32(c.epsilon);
        const mu = f32(c.momentum);
        const ms = s.ms!;
        const mg = s.mg;
        const mom = s.mom;
        for (let i = 0; i < n; i++) {
          const gi = g[i]!;
          const vi = f32(f32(rho * ms[i]!) + f32(a * f32(gi * gi)));
          ms[i] = vi;
          let variance = vi;
          if (mg !== undefined) {
            const mgi = f32(f32(rho * mg[i]!) + f32(a * gi));
            mg[i] = mgi;
            variance = f32(vi - f32(mgi * mgi));
          }
          const scaledG = f32(gi / f32(f32(Math.sqrt(variance)) + eps));
          if (mom !== undefined) {
            const bi = f32(f32(mu * mom[i]!) + scaledG);
            mom[i] = bi;
            out[i] = w[i]! - f32(flr * bi);
          } else {
            out[i] = w[i]! - f32(flr * scaledG);
          }
        }
        return;
      }
    }
  }

  private update(w: tf.Variable, g: tf.Tensor, st: VariableState, lr: number): void {
    const c = this.config;
    const s = st.slots;
    switch (c.type) {
      case 'sgd': {
        if (c.momentum === 0) {
          w.assign(tf.sub(w, tf.mul(lr, g)));
          return;
        }
        const b = tf.add(tf.mul(c.momentum, s.momentum!), g);
        s.momentum!.assign(b);
        const step = c.nesterov ? tf.add(g, tf.mul(c.momentum, b)) : b;
        w.assign(tf.sub(w, tf.mul(lr, step)));
        return;
      }
      case 'adam':
      case 'adamw': {
        const m = tf.add(tf.mul(c.beta1, s.m!), tf.mul(1 - c.beta1, g));
        const v = tf.add(tf.mul(c.beta2, s.v!), tf.mul(1 - c.beta2, tf.square(g)));
        s.m!.assign(m);
        s.v!.assign(v);
        const mHat = tf.div(m, 1 - c.beta1 ** st.steps);
        const vHat = tf.div(v, 1 - c.beta2 ** st.steps);
        const direction = tf.div(mHat, tf.add(tf.sqrt(vHat), c.epsilon));
        const base = c.type === 'adamw' && c.weightDecay > 0 ? tf.mul(w, 1 - lr * c.weightDecay) : w;
        w.assign(tf.sub(base, tf.mul(lr, direction)));
        return;
      }
      case 'adamax': {
        const m = tf.add(tf.mul(c.beta1, s.m!), tf.mul(1 - c.beta1, g));
        const u = tf.maximum(tf.mul(c.beta2, s.u!), tf.abs(g));
        s.m!.assign(m);
        s.u!.assign(u);
        const stepSize = lr / (1 - c.beta1 ** st.steps);
        w.assign(tf.sub(w, tf.mul(stepSize, tf.div(m, tf.add(u, c.epsilon)))));
        return;
      }
      case 'rmsprop': {
        const v = tf.add(tf.mul(c.rho, s.ms!), tf.mul(1 - c.rho, tf.square(g)));
        s.ms!.assign(v);
        let variance: tf.Tensor = v;
        if (c.centered) {
          const mg = tf.add(tf.mul(c.rho, s.mg!), tf.mul(1 - c.rho, g));
          s.mg!.assign(mg);
          variance = tf.sub(v, tf.square(mg));
        }
        const scaled = tf.div(g, tf.add(tf.sqrt(variance), c.epsilon));
        if (c.momentum > 0) {
          const b = tf.add(tf.mul(c.momentum, s.mom!), scaled);
          s.mom!.assign(b);
          w.assign(tf.sub(w, tf.mul(lr, b)));
        } else {
          w.assign(tf.sub(w, tf.mul(lr, scaled)));
        }
        return;
      }
    }
  }

  /** A copy of the state (slot values read from the device). */
  async getState(): Promise<OptimizerState> {
    const steps: Record<string, number> = {};
    const slots: NamedArray[] = [];
    for (const [name, st] of this.states) {
      steps[name] = st.steps;
      for (const [slot, values] of Object.entries(st.host)) {
        slots.push({
          name: `${name}/${slot}`,
          dtype: 'float32',
          shape: [...st.shape],
          values: values.slice(),
        });
      }
      for (const [slot, t] of Object.entries(st.slots)) {
        slots.push({
          name: `${name}/${slot}`,
          dtype: 'float32',
          shape: [...t.shape],
          values: new Float32Array(await t.data<'float32'>()),
        });
      }
    }
    return { type: this.config.type, steps, slots };
  }

  /**
   * Replaces the state with a saved one. Every variable named in it must be among `variables` with
   * the same shape, and carry every slot of this optimizer (else `CHECKPOINT_MISMATCH` naming it).
   */
  setState(state: OptimizerState, variables: readonly tf.Variable[], place = 'optimizer state'): void {
    if (state.type !== this.config.type) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint holds ${state.type} state but the optimizer is ${this.config.type}`,
        { place },
      );
    }
    const byName = new Map(variables.map((v) => [v.name, v]));
    const slotByName = new Map(state.slots.map((s) => [s.name, s]));
    const slotNames = this.slotNames();
    const fresh = new Map<string, VariableState>();
    try {
      for (const [name, steps] of Object.entries(state.steps)) {
        const v = byName.get(name);
        if (v === undefined) {
          throw new MtlError(
            'CHECKPOINT_MISMATCH',
            `optimizer state for variable "${name}", which the model does not have (it has: ${listNames(byName.keys())})`,
            { place, details: { variable: name } },
          );
        }
        const slots: Record<string, tf.Variable> = {};
        const host: Record<string, Float32Array> = {};
        fresh.set(name, { steps, shape: [...v.shape], slots, host });
        for (const slot of slotNames) {
          const saved = slotByName.get(`${name}/${slot}`);
          if (saved === undefined) {
            throw new MtlError('CHECKPOINT_MISMATCH', `slot "${slot}" of variable "${name}" is missing`, {
              place,
              details: { variable: name },
            });
          }
          if (!sameShape(saved.shape, v.shape)) {
            throw new MtlError(
              'CHECKPOINT_MISMATCH',
              `slot "${slot}" of variable "${name}" has shape [${saved.shape}] but the variable has [${v.shape}]`,
              { place, details: { variable: name } },
            );
          }
          if (this.updates === 'host') host[slot] = Float32Array.from(saved.values);
          else
            slots[slot] = tf.tidy(() => tf.variable(tf.tensor(saved.values, saved.shape, 'float32'), false));
        }
      }
    } catch (e) {
      for (const st of fresh.values()) tf.dispose(Object.values(st.slots));
      throw e;
    }
    this.dispose();
    for (const [name, st] of fresh) this.states.set(name, st);
  }

  /** Frees every slot. The optimizer can still be used: slots are re-created at zero. */
  dispose(): void {
    for (const st of this.states.values()) tf.dispose(Object.values(st.slots));
    this.states.clear();
    this.mirrors.clear();
  }
}

/** `g · scale` rounded to float32, as `tf.mul(g, scale)`. */
function scaled(g: Float32Array, scale: number): Float32Array {
  const s = f32(scale);
  const out = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) out[i] = s * g[i]!;
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
