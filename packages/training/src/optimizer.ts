import { listNames, MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { NamedArray } from './checkpoint.js';
import { type OptimizerConfig, type OptimizerConfigInput, optimizerConfigSchema } from './config.js';

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
  slots: Record<string, tf.Variable>;
}

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
  private readonly states = new Map<string, VariableState>();

  constructor(config: OptimizerConfigInput | OptimizerConfig) {
    const parsed = optimizerConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new MtlError('CONFIG_INVALID', parsed.error.issues.map((i) => i.message).join('; '), {
        place: 'training.optimizer',
      });
    }
    this.config = parsed.data;
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
    tf.tidy(() => {
      for (const v of variables) {
        const g = grads[v.name];
        if (g == null) continue;
        const st = this.stateOf(v);
        st.steps += 1;
        this.update(v, g, st, lr);
      }
    });
  }

  private stateOf(v: tf.Variable): VariableState {
    let st = this.states.get(v.name);
    if (st === undefined) {
      const slots: Record<string, tf.Variable> = {};
      for (const s of this.slotNames()) slots[s] = tf.variable(tf.zerosLike(v), false);
      st = { steps: 0, slots };
      this.states.set(v.name, st);
    }
    return st;
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
        fresh.set(name, { steps, slots });
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
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
