import { MtlError, stopGradient } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { type Distribution, keepOwned } from './distribution.js';
import { deriveSeed } from './internal/seeds.js';
import { sameShape } from './internal/shapes.js';
import { moveAxis } from './internal/tensors.js';
import { isPointMass, klDivergence } from './kl.js';
import { MixingWeights } from './mixing.js';
import { MIXTURE_KL_ESTIMATORS, type MixtureKlEstimator, mixtureKl } from './mixture-kl.js';
import { Predictive } from './predictive.js';
import { stackDistributions } from './stack.js';
import { type TemperatureSchedule, type TemperatureSpec, temperatureSchedule } from './temperature.js';

/**
 * p(y | z, w) of every task at once: `z` is `[T, L, B, ...zEvent]`, `w` is `[T, M, ...wEvent]`;
 * returns a distribution over y with batch shape `[T, L, M, B]`.
 * @example
 * const lik: StackedLikelihood = (z, w) => new Bernoulli(logitsTLMB(z, w));
 */
export type StackedLikelihood = (z: tf.Tensor, w: tf.Tensor) => Distribution;

/**
 * p(y | z, w) of one task: `z` is `[L, B, ...]`, `w` is `[M, ...]`; returns batch shape `[L, M, B]`.
 * @example
 * const lik: TaskLikelihood = (z, w) => new Bernoulli(logitsLMB(z, w));
 */
export type TaskLikelihood = (z: tf.Tensor, w: tf.Tensor) => Distribution;

/**
 * q(z | x, D_i) of every encoder i on every task's inputs: `x` is `[T, B, ...]`; returns a
 * distribution with batch shape `[T, B, K]`, K = T (entry [t, b, i] = encoder of task i on row b
 * of task t). A point mass (Delta) means a deterministic latent: no latent KL term.
 * @example
 * const enc: StackedEncoder = (x) => new Independent(new Normal(meansTBKD(x), 0.5), 1);
 */
export type StackedEncoder = (x: tf.Tensor) => Distribution;

/**
 * q(z | x, D_t) of one task: `x` is `[N, ...]`; returns batch shape `[N]`.
 * @example
 * const enc: TaskEncoder = (x) => new Independent(new Normal(tf.matMul(x, A), 0.5), 1);
 */
export type TaskEncoder = (x: tf.Tensor) => Distribution;

/**
 * A KL weight: a constant or a function of the step (annealing, e.g. from 0 up to 1).
 * @example
 * const warmUp: KlWeight = (step) => Math.min(1, step / 1000);
 */
export type KlWeight = number | ((step: number) => number);

/**
 * Options of {@link MultiTaskElbo}; only `datasetSizes`, `classifierPosterior` and `likelihood` are required.
 * @example
 * const options: MultiTaskElboOptions = { datasetSizes: [480, 480], classifierPosterior, likelihood };
 */
export interface MultiTaskElboOptions {
  /** Number of training examples N_t of each task: a minibatch's sums are scaled by N_t / B_t. */
  datasetSizes: readonly number[];
  /**
   * q(w) of every task: a function returning one distribution with batch shape [T] (the fast,
   * vectorised form), or one function per task returning batch shape [] (stacked for you).
   * Called inside the loss, so that it reads the current trainable parameters.
   */
  classifierPosterior: (() => Distribution) | readonly (() => Distribution)[];
  /** p(y | z, w): one stacked function (fast) or one per task. */
  likelihood: StackedLikelihood | readonly TaskLikelihood[];
  /** q(z | x): one stacked encoder or one per task. Omitted: z = x, deterministic, no latent KL. */
  latent?: StackedEncoder | readonly TaskEncoder[];
  /**
   * Classifier prior of task t: `'mixture'` (default, Σ_{i≠t} α_ti q(w_i)), or a fixed
   * distribution (e.g. N(0, I)) with batch shape broadcastable to [T]: the solo baseline, no α.
   */
  classifierPrior?: 'mixture' | (() => Distribution);
  /** Latent prior: `'mixture'` (default, Σ_{i≠t} β_ti q(z | x, D_i)) or a fixed one, `x [T, B, ...] -> batch [T, B]`. */
  latentPrior?: 'mixture' | ((x: tf.Tensor) => Distribution);
  /** Latent samples L per example (default 10; with a deterministic latent all L coincide and one is used). */
  latentSamples?: number;
  /** Classifier samples M (default 10). */
  classifierSamples?: number;
  /** Samples for Monte Carlo KLs (the `monteCarlo` estimator, pairs without a closed form). Default 10. */
  klSamples?: number;
  /** Estimator of the classifier mixture KL (default `upperBound`). */
  classifierKl?: MixtureKlEstimator;
  /** Estimator of the latent mixture KL (default `upperBound`). */
  latentKl?: MixtureKlEstimator;
  /** Stop gradients through the prior components (default true, as the paper code does). */
  detachPrior?: boolean;
  /** Gumbel-softmax temperature schedule (default: exponential from 1 to a floor of 0.5). */
  temperature?: TemperatureSpec | TemperatureSchedule | number;
  /** KL annealing weights (default 1 each). */
  klWeight?: { classifier?: KlWeight; latent?: KlWeight };
  /** Gumbel noise on the mixing weights while training (default true). */
  gumbelNoise?: boolean;
  /** Initial mixing logits (default 0: uniform over the other tasks). */
  mixingInit?: number | readonly (readonly number[])[];
  /** Prefix of the mixing variables' names (default `vmtl`): `${name}/mixing/alpha`, `${name}/mixing/beta`. */
  name?: string;
}

/**
 * One training step's data, every task stacked along axis 0 (see {@link stackTaskBatches}).
 * @example
 * const batch: ElboBatch = { x: tf.zeros([3, 16, 2]), y: tf.zeros([3, 16]), sizes: [16, 16, 9] };
 */
export interface ElboBatch {
  /** Inputs `[T, B, ...]`. */
  x: tf.Tensor;
  /** Targets `[T, B, ...]`. */
  y: tf.Tensor;
  /** Real rows B_t of each task (rows past B_t are padding, ignored); default B for every task. */
  sizes?: readonly number[];
}

/**
 * Step number and seed of one loss evaluation.
 * @example
 * elbo.loss(batch, { step: 120, seed: rng.nextSeed() });
 */
export interface ElboContext {
  /** Training step, for the temperature and KL-weight schedules. */
  step: number;
  /** Seed of this step's random draws. */
  seed: number;
}

/**
 * The negative ELBO and its parts. Per task t (all `[T]`):
 * taskLoss = likelihood + w_z · latentKl + w_w · classifierKl, and loss = mean_t taskLoss.
 * @example
 * const { loss, classifierKl } = elbo.loss(batch, ctx);   // inside tf.tidy or an optimizer's minimize
 */
export interface ElboResult {
  /** (1/T) Σ_t taskLoss[t]: the objective to minimise. */
  loss: tf.Scalar;
  taskLoss: tf.Tensor1D;
  /** (N_t / B_t) Σ_b (1/LM) Σ_{l,m} -log p(y_b | z_l, w_m). */
  likelihood: tf.Tensor1D;
  /** (N_t / B_t) Σ_b KL(q(z_b | x_b) || latent prior), before the KL weight; null with a deterministic latent. */
  latentKl: tf.Tensor1D | null;
  /** KL(q(w_t) || classifier prior), before the KL weight. */
  classifierKl: tf.Tensor1D;
}

/**
 * The variational multitask objective (Shen et al., NeurIPS 2021) for T tasks, computed for all
 * tasks at once: one likelihood call on stacked tasks, the T×T classifier KLs in one broadcast,
 * the latent KLs per example. Each task's prior is a Gumbel-softmax mixture of the other tasks'
 * posteriors, with separate learnable logits for the classifier (α) and the latent (β).
 * @example
 * const elbo = new MultiTaskElbo({
 *   datasetSizes: [480, 480, 480],
 *   classifierPosterior: () => new Independent(Normal.fromLogScale(loc, logScale), 1),  // batch [3], event [D]
 *   likelihood: (z, w) => new Bernoulli(logisticLogits(z, w)),                           // batch [3, L, M, B]
 * });
 * const { loss } = elbo.loss({ x, y }, { step, seed });
 */
export class MultiTaskElbo {
  readonly numTasks: number;
  /** α: classifier mixing (absent with a fixed classifier prior). */
  readonly classifierMixing: MixingWeights | undefined;
  /** β: latent mixing (present only with a latent encoder and a mixture latent prior). */
  readonly latentMixing: MixingWeights | undefined;
  readonly latentSamples: number;
  readonly classifierSamples: number;
  readonly klSamples: number;
  private readonly opts: MultiTaskElboOptions;
  private readonly tau: TemperatureSchedule;
  private readonly scaleCache = new Map<string, tf.Tensor2D>();
  /** Whether β has entered a loss yet (an encoder returning a point mass never uses it). */
  private betaUsed = false;

  constructor(options: MultiTaskElboOptions) {
    this.opts = options;
    const T = options.datasetSizes.length;
    this.numTasks = T;
    if (T < 1)
      throw new MtlError('INVALID_ARGUMENT', 'datasetSizes is empty', {
        place: 'MultiTaskElbo.datasetSizes',
      });
    options.datasetSizes.forEach((n, t) => {
      if (!Number.isInteger(n) || n < 1) {
        throw new MtlError('INVALID_ARGUMENT', `must be a positive integer, got ${n}`, {
          place: `MultiTaskElbo.datasetSizes[${t}]`,
        });
      }
    });
    for (const key of ['classifierPosterior', 'likelihood', 'latent'] as const) {
      const v = options[key];
      if (Array.isArray(v) && v.length !== T) {
        throw new MtlError('INVALID_ARGUMENT', `has ${v.length} entries for ${T} tasks`, {
          place: `MultiTaskElbo.${key}`,
        });
      }
    }
    this.latentSamples = positiveInt(options.latentSamples ?? 10, 'latentSamples');
    this.classifierSamples = positiveInt(options.classifierSamples ?? 10, 'classifierSamples');
    this.klSamples = positiveInt(options.klSamples ?? 10, 'klSamples');
    for (const key of ['classifierKl', 'latentKl'] as const) {
      const e = options[key];
      if (e !== undefined && !MIXTURE_KL_ESTIMATORS.includes(e)) {
        throw new MtlError(
          'CONFIG_INVALID',
          `unknown estimator "${e}" (known: ${MIXTURE_KL_ESTIMATORS.join(', ')})`,
          {
            place: `MultiTaskElbo.${key}`,
          },
        );
      }
    }
    this.tau = temperatureSchedule(options.temperature);
    const name = options.name ?? 'vmtl';
    const mixture = (options.classifierPrior ?? 'mixture') === 'mixture';
    const latentMixture = options.latent !== undefined && (options.latentPrior ?? 'mixture') === 'mixture';
    if ((mixture || latentMixture) && T < 2) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        'a mixture prior needs at least 2 tasks; use a fixed prior for one task',
        {
          place: 'MultiTaskElbo',
        },
      );
    }
    const init = options.mixingInit === undefined ? {} : { init: options.mixingInit };
    this.classifierMixing = mixture
      ? new MixingWeights({ name: `${name}/mixing/alpha`, numTasks: T, ...init })
      : undefined;
    try {
      this.latentMixing = latentMixture
        ? new MixingWeights({ name: `${name}/mixing/beta`, numTasks: T, ...init })
        : undefined;
    } catch (e) {
      this.classifierMixing?.dispose();
      throw e;
    }
  }

  /** The mixing logits (α, then β where present): the ELBO's own trainable variables. */
  variables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    if (this.classifierMixing) out.push(this.classifierMixing.logits);
    if (this.latentMixing) out.push(this.latentMixing.logits);
    return out;
  }

  /** Gumbel-softmax temperature at `step`. */
  temperature(step: number): number {
    return this.tau(step);
  }

  /** The negative ELBO of one stacked step. Tensor ops only (no data read back), for use inside a gradient. */
  loss(batch: ElboBatch, ctx: ElboContext): ElboResult {
    const T = this.numTasks;
    const { x, y } = batch;
    if (x.shape[0] !== T || y.shape[0] !== T || x.shape[1] !== y.shape[1] || x.rank < 2) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `x [${x.shape}] and y [${y.shape}] must both be [T=${T}, B, ...] with the same B`,
        { place: 'MultiTaskElbo.loss' },
      );
    }
    const B = x.shape[1]!;
    const sizes = batch.sizes ?? new Array<number>(T).fill(B);
    const negScale = this.negScale(B, sizes);
    const { step, seed } = ctx;
    const r = tf.tidy(() => {
      const post = this.posterior();
      const w = moveAxis(post.rsample(this.classifierSamples, deriveSeed(seed, 0)), 0, 1);
      const { z, latentKl } = this.latentTerm(x, step, seed);
      const lik = this.callLikelihood(z, w);
      const yy = tf.reshape(y, [T, 1, 1, ...y.shape.slice(1)]);
      // Σ_b (N_t/B_t) mean_{l,m}(-log p): the negated scale carries the minus sign.
      const likelihood = tf.sum(tf.mul(tf.mean(lik.logProb(yy), [1, 2]), negScale), 1) as tf.Tensor1D;
      const classifierKl = this.classifierTerm(post, step, seed) as tf.Tensor1D;
      let latentTerm: tf.Tensor1D | null = null;
      let taskLoss: tf.Tensor = likelihood;
      if (latentKl) {
        latentTerm = tf.sum(tf.mul(latentKl, tf.neg(negScale)), 1) as tf.Tensor1D;
        taskLoss = tf.add(taskLoss, weighted(latentTerm, this.opts.klWeight?.latent, step));
      }
      taskLoss = tf.add(taskLoss, weighted(classifierKl, this.opts.klWeight?.classifier, step));
      const result = {
        loss: tf.mean(taskLoss) as tf.Scalar,
        taskLoss: taskLoss as tf.Tensor1D,
        likelihood,
        classifierKl,
        ...(latentTerm ? { latentKl: latentTerm } : {}),
      };
      return result;
    }) as Omit<ElboResult, 'latentKl'> & { latentKl?: tf.Tensor1D };
    return { ...r, latentKl: r.latentKl ?? null };
  }

  /**
   * The posterior predictive for stacked inputs `x [T, B, ...]`: a {@link Predictive} with batch
   * shape [T, B] over K = L × M samples (L = 1 with a deterministic latent).
   */
  predictive(
    x: tf.Tensor,
    options: { seed: number; latentSamples?: number; classifierSamples?: number },
  ): Predictive {
    if (x.shape[0] !== this.numTasks) {
      throw new MtlError('SHAPE_MISMATCH', `x [${x.shape}] must be [T=${this.numTasks}, B, ...]`, {
        place: 'MultiTaskElbo.predictive',
      });
    }
    const M = positiveInt(options.classifierSamples ?? this.classifierSamples, 'classifierSamples');
    const L = positiveInt(options.latentSamples ?? this.latentSamples, 'latentSamples');
    let pred: Predictive | undefined;
    tf.tidy(() => {
      const post = this.posterior();
      const w = moveAxis(post.sample(M, deriveSeed(options.seed, 0)), 0, 1);
      const z = this.latentSample(x, L, options.seed);
      pred = Predictive.fromSampleAxes(this.callLikelihood(z, w), [1, 2]);
      // Everything the predictive references was derived inside this tidy and is owned by it.
      keepOwned(pred);
    });
    return pred as Predictive;
  }

  /** Normalised α (temperature 1, no noise; `[t][i]`, diagonal null), or null with a fixed classifier prior. */
  alpha(): (number | null)[][] | null {
    return this.classifierMixing?.matrix() ?? null;
  }

  /**
   * Normalised β, or null when there is no latent mixture: no encoder, a fixed latent prior, or an
   * encoder that has only returned point masses so far (β never entered the objective).
   */
  beta(): (number | null)[][] | null {
    return this.betaUsed ? (this.latentMixing?.matrix() ?? null) : null;
  }

  dispose(): void {
    this.classifierMixing?.dispose();
    this.latentMixing?.dispose();
    for (const t of this.scaleCache.values()) t.dispose();
    this.scaleCache.clear();
  }

  /** q(w) stacked: batch [T]. */
  private posterior(): Distribution {
    const spec = this.opts.classifierPosterior;
    const post = typeof spec === 'function' ? spec() : stackDistributions(spec.map((f) => f()));
    if (!sameShape(post.batchShape, [this.numTasks])) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `must have batch shape [${this.numTasks}], got [${post.batchShape}]`,
        {
          place: 'MultiTaskElbo.classifierPosterior',
        },
      );
    }
    return post;
  }

  private callLikelihood(z: tf.Tensor, w: tf.Tensor): Distribution {
    const spec = this.opts.likelihood;
    const T = this.numTasks;
    const d =
      typeof spec === 'function'
        ? spec(z, w)
        : stackDistributions(
            spec.map((f, t) => f(tf.squeeze(tf.slice(z, t, 1), [0]), tf.squeeze(tf.slice(w, t, 1), [0]))),
          );
    const want = [T, z.shape[1]!, w.shape[1]!, z.shape[2]!];
    if (!sameShape(d.batchShape, want)) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `must return batch shape [T, L, M, B] = [${want}], got [${d.batchShape}]`,
        {
          place: 'MultiTaskElbo.likelihood',
        },
      );
    }
    return d;
  }

  /** Encoder outputs `[T, B, K]`, or undefined without an encoder. */
  private encode(x: tf.Tensor): Distribution | undefined {
    const spec = this.opts.latent;
    if (spec === undefined) return undefined;
    const T = this.numTasks;
    const B = x.shape[1]!;
    let enc: Distribution;
    if (typeof spec === 'function') enc = spec(x);
    else {
      const flat = tf.reshape(x, [T * B, ...x.shape.slice(2)]);
      const perTask = spec.map((f) =>
        f(flat).mapBatch((p, tr) => tf.reshape(p, [T, B, ...p.shape.slice(p.rank - tr)])),
      );
      enc = stackDistributions(perTask, 2);
    }
    if (!sameShape(enc.batchShape, [T, B, T])) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `must return batch shape [T, B, K] = [${T}, ${B}, ${T}], got [${enc.batchShape}]`,
        {
          place: 'MultiTaskElbo.latent',
        },
      );
    }
    return enc;
  }

  /** q(z | x, D_t): the diagonal entries [t, b, t] of the encoder outputs, batch [T, B]. */
  private ownEncoder(enc: Distribution): Distribution {
    const T = this.numTasks;
    const eye = tf.eye(T);
    return enc.mapBatch((p, trailing) => {
      const mask = tf.reshape(eye, [T, 1, T, ...new Array<number>(trailing).fill(1)]);
      return tf.sum(tf.mul(p, mask), 2);
    });
  }

  private latentSample(x: tf.Tensor, L: number, seed: number): tf.Tensor {
    const enc = this.encode(x);
    if (!enc) return tf.expandDims(x, 1);
    const q = this.ownEncoder(enc);
    if (isPointMass(q)) return moveAxis(q.rsample(1, 0), 0, 1);
    return moveAxis(q.sample(L, deriveSeed(seed, 1)), 0, 1);
  }

  private latentTerm(x: tf.Tensor, step: number, seed: number): { z: tf.Tensor; latentKl: tf.Tensor | null } {
    const enc = this.encode(x);
    if (!enc) return { z: tf.expandDims(x, 1), latentKl: null };
    const q = this.ownEncoder(enc);
    // A deterministic latent: every latent sample is the same point, and there is no KL term at all.
    if (isPointMass(q)) return { z: moveAxis(q.rsample(1, 0), 0, 1), latentKl: null };
    const z = moveAxis(q.rsample(this.latentSamples, deriveSeed(seed, 1)), 0, 1);
    const prior = this.opts.latentPrior ?? 'mixture';
    let kl: tf.Tensor;
    if (prior !== 'mixture') {
      kl = klDivergence(q, prior(x), { samples: this.klSamples, seed: deriveSeed(seed, 5) });
    } else {
      const comps = this.opts.detachPrior === false ? enc : enc.mapBatch((p) => stopGradient(p));
      this.betaUsed = true;
      const beta = (this.latentMixing as MixingWeights).sampleLogits(this.tau(step), deriveSeed(seed, 3), {
        noise: this.opts.gumbelNoise !== false,
      });
      kl = mixtureKl(q, comps, tf.expandDims(beta, 1), {
        estimator: this.opts.latentKl ?? 'upperBound',
        samples: this.klSamples,
        seed: deriveSeed(seed, 5),
      });
    }
    return { z, latentKl: kl };
  }

  private classifierTerm(post: Distribution, step: number, seed: number): tf.Tensor {
    const prior = this.opts.classifierPrior ?? 'mixture';
    if (prior !== 'mixture') {
      return klDivergence(post, prior(), { samples: this.klSamples, seed: deriveSeed(seed, 4) });
    }
    const detach = this.opts.detachPrior !== false;
    const comps = post.mapBatch((p) => tf.expandDims(detach ? stopGradient(p) : p, 0));
    const alpha = (this.classifierMixing as MixingWeights).sampleLogits(this.tau(step), deriveSeed(seed, 2), {
      noise: this.opts.gumbelNoise !== false,
    });
    return mixtureKl(post, comps, alpha, {
      estimator: this.opts.classifierKl ?? 'upperBound',
      samples: this.klSamples,
      seed: deriveSeed(seed, 4),
    });
  }

  /** -(N_t / B_t) on real rows, 0 on padding: `[T, B]`, cached per batch layout. */
  private negScale(B: number, sizes: readonly number[]): tf.Tensor2D {
    const key = `${B}:${sizes.join(',')}`;
    let s = this.scaleCache.get(key);
    if (!s) {
      const T = this.numTasks;
      if (sizes.length !== T || sizes.some((b) => !Number.isInteger(b) || b < 1 || b > B)) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `sizes [${sizes}] must give 1..${B} real rows for each of ${T} tasks`,
          {
            place: 'MultiTaskElbo.loss',
          },
        );
      }
      const values = new Float32Array(T * B);
      for (let t = 0; t < T; t++) {
        const v = -this.opts.datasetSizes[t]! / sizes[t]!;
        for (let b = 0; b < sizes[t]!; b++) values[t * B + b] = v;
      }
      if (this.scaleCache.size >= 16) {
        const [oldKey, old] = this.scaleCache.entries().next().value as [string, tf.Tensor2D];
        old.dispose();
        this.scaleCache.delete(oldKey);
      }
      // Kept: the cache outlives the tidy (or gradient scope) of the step that creates it.
      s = tf.keep(tf.tensor2d(values, [T, B]));
      this.scaleCache.set(key, s);
    }
    return s;
  }
}

function weighted(x: tf.Tensor, w: KlWeight | undefined, step: number): tf.Tensor {
  if (w === undefined) return x;
  const v = typeof w === 'function' ? w(step) : w;
  if (!(v >= 0) || !Number.isFinite(v)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `KL weight must be a finite number >= 0, got ${v} at step ${step}`,
      {
        place: 'MultiTaskElbo.klWeight',
      },
    );
  }
  return v === 1 ? x : tf.mul(x, v);
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new MtlError('INVALID_ARGUMENT', `must be a positive integer, got ${n}`, {
      place: `MultiTaskElbo.${name}`,
    });
  }
  return n;
}

/**
 * Stacks per-task `{x, y}` batches into one {@link ElboBatch}, padding shorter tasks with zero rows
 * (recorded in `sizes`, so padding never counts). The caller disposes the stacked tensors.
 * @example
 * const batch = stackTaskBatches([{ x: x1, y: y1 }, { x: x2, y: y2 }]);   // x: [2, max(B_t), D]
 */
export function stackTaskBatches(batches: readonly { x: tf.Tensor; y: tf.Tensor }[]): ElboBatch {
  if (batches.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'no task batches', { place: 'stackTaskBatches' });
  }
  const sizes = batches.map((b, t) => {
    const n = b.x.shape[0]!;
    if (b.y.shape[0] !== n) {
      throw new MtlError('DATA_LENGTH_MISMATCH', `x has ${n} rows but y has ${b.y.shape[0]}`, {
        place: `stackTaskBatches task ${t}`,
      });
    }
    return n;
  });
  const B = Math.max(...sizes);
  const pad = (t: tf.Tensor, n: number) =>
    n === B ? t : tf.pad(t, [[0, B - n], ...t.shape.slice(1).map((): [number, number] => [0, 0])]);
  return tf.tidy(() => ({
    x: tf.stack(batches.map((b, t) => pad(b.x, sizes[t]!))),
    y: tf.stack(batches.map((b, t) => pad(b.y, sizes[t]!))),
    sizes,
  })) as ElboBatch;
}
