import { MtlError } from '@mtl/core';
import { sumScalars } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Matrix } from '../aggregator.js';

/** What every method is built with besides its own options. */
export interface AggregatorEnv {
  /** Task names, in the order of the losses and of the Jacobian's rows. */
  tasks: readonly string[];
  /** Fixed task weights (`tasks.<t>.weight`); a task not listed weighs 1. */
  taskWeights?: Readonly<Record<string, number>>;
}

/** The option every gradient-level method shares (MGDA-UB is MGDA with `representation`). */
export const gradientOfOption = {
  gradientOf: z.enum(['parameters', 'representation']).default('parameters'),
};

/**
 * How projected or balanced rows are combined: `mean` (1/m each, torchjd's default), `sum`
 * (1 each), or one non-negative number per task.
 */
export const preferenceValue = z.union([z.enum(['mean', 'sum']), z.array(z.number().min(0)).min(1)]);
export const preferenceOption = preferenceValue.default('mean');
export type Preference = z.output<typeof preferenceValue>;

export function preferenceVector(pref: Preference, m: number, method: string): Float64Array {
  if (pref === 'mean') return new Float64Array(m).fill(1 / m);
  if (pref === 'sum') return new Float64Array(m).fill(1);
  if (pref.length !== m) {
    throw new MtlError('CONFIG_INVALID', `${method}: preference has ${pref.length} values for ${m} tasks`, {
      place: 'weighting.preference',
    });
  }
  return Float64Array.from(pref);
}

export { sumScalars };

/** `Σ_t c_t · L_t` with host constants `c` (a weight of exactly 1 adds no multiply, as today). */
export function weightedLossSum(losses: readonly tf.Scalar[], weights: ArrayLike<number>): tf.Scalar {
  return sumScalars(losses.map((l, i) => (weights[i] === 1 ? l : tf.mul(l, weights[i]!))));
}

/**
 * Refuses a step without every task: a method that keeps one weight, log-variance or loss history
 * per task reads the losses by position, so a step of fewer tasks would mix them up.
 */
export function checkAllTasks(
  ctx: { tasks: readonly string[] },
  tasks: readonly string[],
  method: string,
): void {
  if (ctx.tasks.length !== tasks.length || ctx.tasks.some((t, i) => t !== tasks[i])) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${method} needs the losses of every task (${tasks.join(', ')}) in each step, got ${ctx.tasks.join(', ') || 'none'}; use a scheduler that puts every task in a step (mixed)`,
      { place: `weighting ${method}` },
    );
  }
}

export function zeros(J: Matrix): Float64Array {
  return new Float64Array(J.cols);
}

export function checkRows(J: Matrix, losses: Float64Array, tasks: readonly string[], method: string): void {
  if (J.rows !== tasks.length || J.data.length !== J.rows * J.cols || losses.length !== J.rows) {
    throw new MtlError(
      'SHAPE_MISMATCH',
      `${method}: Jacobian ${J.rows}×${J.cols} (${J.data.length} values) and ${losses.length} losses for ${tasks.length} tasks`,
      { place: `weighting ${method}` },
    );
  }
}

/** Adam on plain numbers, for weights a method learns on the host (FAMO's logits). */
export class HostAdam {
  m: number[];
  v: number[];
  t = 0;
  constructor(
    size: number,
    readonly lr: number,
    readonly weightDecay: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {
    this.m = new Array<number>(size).fill(0);
    this.v = new Array<number>(size).fill(0);
  }

  /** One step on `x` in place; `weightDecay` is added to the gradient (torch.optim.Adam's L2). */
  step(x: number[], grad: ArrayLike<number>): void {
    this.t += 1;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (let i = 0; i < x.length; i++) {
      const g = grad[i]! + this.weightDecay * x[i]!;
      this.m[i] = this.beta1 * this.m[i]! + (1 - this.beta1) * g;
      this.v[i] = this.beta2 * this.v[i]! + (1 - this.beta2) * g * g;
      x[i] = x[i]! - (this.lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + this.eps);
    }
  }

  /** The moments and step count, for a checkpoint. */
  getState(): { m: number[]; v: number[]; t: number } {
    return { m: [...this.m], v: [...this.v], t: this.t };
  }

  /** Whether `state` is what {@link HostAdam.getState} gives for `size` values. */
  static isState(state: unknown, size: number): boolean {
    const a = state as { m?: unknown; v?: unknown; t?: unknown } | undefined;
    const ok = (x: unknown) => Array.isArray(x) && x.length === size;
    return a !== undefined && a !== null && ok(a.m) && ok(a.v) && Number.isInteger(a.t);
  }

  /** Takes over a state that {@link HostAdam.isState} accepted. */
  setState(state: unknown): void {
    const a = state as { m: number[]; v: number[]; t: number };
    this.m = [...a.m];
    this.v = [...a.v];
    this.t = a.t;
  }
}
