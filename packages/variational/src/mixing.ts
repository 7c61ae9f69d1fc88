import { MtlError, RandomStream } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';

/** Added to the diagonal logits so that a task never mixes itself in: exp(-1e9) is exactly 0 in float32. */
const DIAGONAL_MASK = -1e9;

/**
 * Options of {@link MixingWeights}.
 * @example
 * const options: MixingWeightsOptions = { name: 'vmtl/mixing/alpha', numTasks: 3, init: 0 };
 */
export interface MixingWeightsOptions {
  /** Variable name, e.g. `vmtl/mixing/alpha`; must be unique among live tfjs variables. */
  name: string;
  /** Number of tasks T (at least 2: a task mixes the others, never itself). */
  numTasks: number;
  /** Initial logits: one number for every entry, or a `[T][T]` matrix (its diagonal is ignored). Default 0 (uniform). */
  init?: number | readonly (readonly number[])[];
  /** Whether the logits train (default true). */
  trainable?: boolean;
  /**
   * Whether the diagonal takes part (default false: masked, a task never mixes itself in). A model
   * that puts another component in task t's own slot (deep VMTL's `classifierStandardComponent`:
   * N(0, I)) opens it; its logit is then learned like the others and `init` applies to it too.
   */
  openDiagonal?: boolean;
}

/**
 * Learnable mixing weights between tasks: unconstrained logits `[T, T]` (entry [t][i] = how much
 * task t's prior draws on task i), turned into weights by a Gumbel-softmax over the other tasks.
 * The diagonal is masked out with a constant, so it gets no weight and no gradient. Logits are
 * never used as probabilities, so no step can make them invalid.
 * @example
 * const alpha = new MixingWeights({ name: 'alpha', numTasks: 3 });
 * const weights = alpha.sample(1, 42);       // [3, 3] Gumbel-softmax draw, diagonal 0
 * alpha.matrix();                            // [[null, 0.5, 0.5], [0.5, null, 0.5], [0.5, 0.5, null]]
 */
export class MixingWeights {
  readonly logits: tf.Variable;
  readonly numTasks: number;
  readonly openDiagonal: boolean;

  constructor(options: MixingWeightsOptions) {
    const T = options.numTasks;
    if (!Number.isInteger(T) || T < 2) {
      throw new MtlError('INVALID_ARGUMENT', `mixing needs at least 2 tasks, got ${T}`, {
        place: `mixing ${options.name}`,
      });
    }
    this.numTasks = T;
    this.openDiagonal = options.openDiagonal ?? false;
    const init = options.init ?? 0;
    let values: number[][];
    if (typeof init === 'number') {
      values = Array.from({ length: T }, () => new Array<number>(T).fill(init));
    } else {
      if (init.length !== T || init.some((row) => row.length !== T)) {
        throw new MtlError('SHAPE_MISMATCH', `init must be a ${T}x${T} matrix`, {
          place: `mixing ${options.name}.init`,
        });
      }
      values = init.map((row, t) => row.map((v, i) => (t === i && !this.openDiagonal ? 0 : v)));
    }
    if (values.some((row) => row.some((v) => !Number.isFinite(v)))) {
      throw new MtlError('INVALID_ARGUMENT', 'init logits must be finite', {
        place: `mixing ${options.name}.init`,
      });
    }
    const initial = tf.tensor2d(values);
    try {
      this.logits = tf.variable(initial, options.trainable ?? true, options.name);
    } catch (e) {
      throw new MtlError('DUPLICATE_NAME', `a tfjs variable named "${options.name}" already exists`, {
        place: `mixing ${options.name}`,
        cause: e,
      });
    } finally {
      initial.dispose();
    }
  }

  /**
   * The logits of a Gumbel-softmax draw at temperature τ: (logits[t][i] + g[t][i]) / τ with
   * g ~ Gumbel(0, 1), and a large negative constant on the diagonal. Their softmax over each row
   * is the draw of the weights; they are what the mixture-KL estimators take. Differentiable in
   * the logits. `noise: false` leaves out the Gumbel noise.
   */
  sampleLogits(temperature: number, seed: number, options: { noise?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const offset = this.noiseOffset(temperature, seed, options);
      return tf.add(
        temperature === 1 ? this.logits : tf.div(this.logits, temperature),
        offset,
      ) as tf.Tensor2D;
    });
  }

  /**
   * The part of {@link sampleLogits} that does not depend on the logits: g / τ plus the diagonal
   * mask (`[T, T]`, a constant of the gradient), so that `sampleLogits = logits / τ + noiseOffset`.
   */
  noiseOffset(temperature: number, seed: number, options: { noise?: boolean } = {}): tf.Tensor2D {
    if (!(temperature > 0) || !Number.isFinite(temperature)) {
      throw new MtlError('INVALID_ARGUMENT', `temperature must be > 0, got ${temperature}`, {
        place: `mixing ${this.logits.name}`,
      });
    }
    const T = this.numTasks;
    // Built in JS, not with tensor ops: T² numbers cost nothing there, while six ops per step
    // (uniform, log, neg, log, neg, add) would each pay tfjs's per-op overhead.
    const values = new Float32Array(T * T);
    const rng = options.noise === false ? undefined : new RandomStream(`gumbel/${seed}`);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < T; i++) {
        if (t === i && !this.openDiagonal) values[t * T + i] = DIAGONAL_MASK;
        else if (rng) {
          const u = Math.min(Math.max(rng.next(), 1e-7), 1 - 1e-7);
          values[t * T + i] = -Math.log(-Math.log(u)) / temperature;
        }
      }
    }
    return tf.tensor2d(values, [T, T]);
  }

  /** A Gumbel-softmax draw of the weights `[T, T]`: rows sum to 1, diagonal 0. Differentiable in the logits. */
  sample(temperature: number, seed: number, options: { noise?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => tf.softmax(this.sampleLogits(temperature, seed, options)));
  }

  /** The normalised weights without noise at temperature τ (default 1): softmax over the other tasks. */
  weights(temperature = 1): tf.Tensor2D {
    return this.sample(temperature, 0, { noise: false });
  }

  /**
   * The normalised weights (temperature 1, no noise) as plain numbers for reports: `m[t][i]` is the
   * weight of task i in task t's prior, rows sum to 1, and the unused diagonal is `null` (with
   * `openDiagonal`, the weight of the component in task t's own slot).
   */
  matrix(): (number | null)[][] {
    const w = this.weights();
    const flat = w.dataSync();
    w.dispose();
    const T = this.numTasks;
    return Array.from({ length: T }, (_, t) =>
      Array.from({ length: T }, (_, i) => (t === i && !this.openDiagonal ? null : flat[t * T + i]!)),
    );
  }

  dispose(): void {
    this.logits.dispose();
  }
}
