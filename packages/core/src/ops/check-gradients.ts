// The one gradient check of the hand-written ops: an op's custom gradient against central finite
// differences (taken on the host in float64) and, when given, against autodiff of a plain composition
// of tf ops that computes the same value.
import * as tf from '@tensorflow/tfjs';
import { RandomStream } from '../random.js';

/**
 * Options of {@link checkGradients}.
 * @example
 * const options: GradientCheckOptions = { wrt: [0], reference: (z, y) => plainLoss(z, y), tolerance: 1e-3 };
 */
export interface GradientCheckOptions {
  /** Indices of the inputs to differentiate; default every float32 input. */
  wrt?: readonly number[];
  /** The same value as a plain composition of tf ops: its autodiff gradient and its value are compared too. */
  reference?: (...inputs: tf.Tensor[]) => tf.Tensor;
  /**
   * A function whose derivative is the gradient the op defines, for an op whose gradient is by
   * design not the derivative of its value (stop-gradient, straight-through): the finite differences
   * are taken of it instead of the op.
   */
  surrogate?: (...inputs: tf.Tensor[]) => tf.Tensor;
  /** Finite-difference step, relative to `max(1, |x|)`; default 1e-3. */
  step?: number;
  /** Largest error against finite differences, relative to the gradient's largest entry; default 1e-3. */
  tolerance?: number;
  /** Largest error against the reference's autodiff gradient, relative likewise; default 1e-5. */
  referenceTolerance?: number;
  /** Largest difference of the op's value from the reference's, relative to its largest entry; default 1e-6. */
  valueTolerance?: number;
  /** Seed of the random cotangent that makes a non-scalar output one scalar; default 1. */
  seed?: number;
}

/**
 * The comparison for one differentiated input (gradients of `Σ c ⊙ op(inputs)` for a fixed random `c`).
 * @example
 * const worst = check.inputs.reduce((m, i) => Math.max(m, i.numericError), 0);
 */
export interface GradientCheckInput {
  /** Position of the input among the op's arguments. */
  index: number;
  /** The op's gradient (its custom gradient, as the tape runs it). */
  analytic: Float64Array;
  /** Central finite differences, float64 on the host. */
  numeric: Float64Array;
  /** `max |analytic − numeric|` over `max(|analytic|, |numeric|)` (0 when both are 0). */
  numericError: number;
  /** Autodiff of the reference composition, when one was given. */
  reference?: Float64Array;
  referenceError?: number;
}

/**
 * What {@link checkGradients} measured; `failures` is empty when every error is within its tolerance.
 * @example
 * expect(checkGradients(op, [x]).failures).toEqual([]);
 */
export interface GradientCheck {
  inputs: GradientCheckInput[];
  /** Largest `numericError` over the inputs. */
  numericError: number;
  /** Largest `referenceError` over the inputs, when a reference was given. */
  referenceError?: number;
  /** Difference of the op's value from the reference's, relative to the reference's largest entry. */
  valueError?: number;
  /** One line per error above its tolerance, naming the input and the worst element. */
  failures: string[];
}

/** `max |a − b| / max(|a|∞, |b|∞)`, 0 when both are zero, and where it is worst. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): { error: number; at: number } {
  let gap = 0;
  let at = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= gap)) {
      gap = d;
      at = i;
    }
    scale = Math.max(scale, Math.abs(a[i]!), Math.abs(b[i]!));
  }
  if (gap === 0) return { error: 0, at };
  return { error: scale === 0 || !Number.isFinite(gap) ? Number.POSITIVE_INFINITY : gap / scale, at };
}

/** Gradients of `Σ c ⊙ fn(inputs)` in the inputs `wrt` (the others held fixed), read to the host. */
function tapeGradients(
  fn: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly tf.Tensor[],
  wrt: readonly number[],
  cotangent: tf.Tensor,
): Float64Array[] {
  const grads = tf.tidy(() => {
    const objective = (...free: tf.Tensor[]) => {
      const all = [...inputs];
      wrt.forEach((j, k) => {
        all[j] = free[k]!;
      });
      return tf.sum(tf.mul(cotangent, fn(...all)));
    };
    return tf.grads(objective)(wrt.map((j) => inputs[j]!));
  });
  const out = grads.map((g) => Float64Array.from(g.dataSync()));
  tf.dispose(grads);
  return out;
}

/**
 * Checks an op's gradient: the gradient its tape computes for `Σ c ⊙ op(...inputs)` (a fixed random
 * cotangent `c` of float32 values) against central finite differences `(L(x + h) − L(x − h)) /
 * (x₊ − x₋)` per input element, with `L` summed in float64 on the host from the op's outputs and the
 * step measured between the float32 values actually used; and, with `reference`, against autodiff of
 * that plain composition (and the values against each other). Inputs are not changed or disposed;
 * the check leaves no tensor behind. Cost: two evaluations of the op per differentiated element, so
 * keep the inputs small.
 * @example
 * const check = checkGradients(softmaxCrossEntropy, [logits, labels], {
 *   reference: (z, y) => tf.div(tf.sum(softmaxCrossEntropyRows(z, y)), 2),
 * });
 * expect(check.failures).toEqual([]);
 */
export function checkGradients(
  op: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly tf.Tensor[],
  options: GradientCheckOptions = {},
): GradientCheck {
  const wrt = options.wrt ?? inputs.flatMap((t, j) => (t.dtype === 'float32' ? [j] : []));
  const step = options.step ?? 1e-3;
  const tolerance = options.tolerance ?? 1e-3;
  const referenceTolerance = options.referenceTolerance ?? 1e-5;
  const valueTolerance = options.valueTolerance ?? 1e-6;
  const differenced = options.surrogate ?? op;

  const value = tf.tidy(() => op(...inputs));
  const shape = value.shape;
  const values = Float64Array.from(value.dataSync());
  value.dispose();
  const rng = new RandomStream(options.seed ?? 1);
  const c = Float32Array.from(values, () => rng.normal());
  const cotangent = tf.tensor(c, shape, 'float32');

  const objective = (args: readonly tf.Tensor[]): number => {
    const y = tf.tidy(() => differenced(...args));
    const data = y.dataSync();
    y.dispose();
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += c[i]! * data[i]!;
    return sum;
  };

  const failures: string[] = [];
  const results: GradientCheckInput[] = [];
  try {
    const analytic = tapeGradients(op, inputs, wrt, cotangent);
    const reference = options.reference
      ? tapeGradients(options.reference, inputs, wrt, cotangent)
      : undefined;
    wrt.forEach((j, k) => {
      const x = inputs[j]!;
      const base = Float32Array.from(x.dataSync());
      const numeric = new Float64Array(base.length);
      const args = [...inputs];
      for (let i = 0; i < base.length; i++) {
        const h = step * Math.max(1, Math.abs(base[i]!));
        const up = Math.fround(base[i]! + h);
        const down = Math.fround(base[i]! - h);
        const at = (v: number) => {
          const data = base.slice();
          data[i] = v;
          const t = tf.tensor(data, x.shape, 'float32');
          args[j] = t;
          try {
            return objective(args);
          } finally {
            t.dispose();
          }
        };
        numeric[i] = (at(up) - at(down)) / (up - down);
      }
      const a = analytic[k]!;
      const fd = relativeError(a, numeric);
      const result: GradientCheckInput = { index: j, analytic: a, numeric, numericError: fd.error };
      if (!(fd.error <= tolerance)) {
        failures.push(
          `input ${j}: the gradient differs from finite differences by ${fd.error.toPrecision(3)} of its largest entry (tolerance ${tolerance}); worst at element ${fd.at}: ${a[fd.at]} vs ${numeric[fd.at]}`,
        );
      }
      if (reference !== undefined) {
        const r = reference[k]!;
        const ad = relativeError(a, r);
        result.reference = r;
        result.referenceError = ad.error;
        if (!(ad.error <= referenceTolerance)) {
          failures.push(
            `input ${j}: the gradient differs from the reference's autodiff by ${ad.error.toPrecision(3)} of its largest entry (tolerance ${referenceTolerance}); worst at element ${ad.at}: ${a[ad.at]} vs ${r[ad.at]}`,
          );
        }
      }
      results.push(result);
    });
  } finally {
    cotangent.dispose();
  }

  const check: GradientCheck = {
    inputs: results,
    numericError: results.reduce((m, r) => Math.max(m, r.numericError), 0),
    failures,
  };
  if (options.reference) {
    check.referenceError = results.reduce((m, r) => Math.max(m, r.referenceError ?? 0), 0);
    const ref = tf.tidy(() => options.reference!(...inputs));
    const refValues = ref.dataSync();
    ref.dispose();
    const v =
      refValues.length === values.length
        ? relativeError(values, refValues)
        : { error: Number.POSITIVE_INFINITY, at: 0 };
    check.valueError = v.error;
    if (refValues.length !== values.length) {
      failures.push(`the value has ${values.length} entries but the reference's ${refValues.length}`);
    } else if (!(v.error <= valueTolerance)) {
      failures.push(
        `the value differs from the reference's by ${v.error.toPrecision(3)} of its largest entry (tolerance ${valueTolerance}); worst at element ${v.at}: ${values[v.at]} vs ${refValues[v.at]}`,
      );
    }
  }
  return check;
}
