import {
  artifactArrays,
  expectKind,
  type LossOutput,
  listNames,
  loadArtifacts,
  type ModelArtifacts,
  MtlError,
  makeArtifacts,
  type ParameterGroup,
  type StepContext,
  saveArtifacts,
  scoreKey,
} from '@mtl/core';
import { type FusedPrior, fusedLogisticLoss } from '@mtl/core/ops';
import { ModulePool } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { BayesianLinear } from './bayesian-linear.js';
import { Bernoulli } from './bernoulli.js';
import type { Distribution } from './distribution.js';
import { Independent } from './independent.js';
import { deriveSeed } from './internal/seeds.js';
import type { MixtureKlEstimator } from './mixture-kl.js';
import { type ElboResult, type KlWeight, MultiTaskElbo } from './multi-task-elbo.js';
import { Normal } from './normal.js';
import type { TemperatureSchedule, TemperatureSpec } from './temperature.js';

/**
 * One task's batch as @mtl/data's `Batch` carries it (a structural copy, so this package needs
 * no import of @mtl/data): inputs by field, labels by name.
 * @example
 * const b: TaskBatch = { dataset: 'a_data', split: 'train', X: { x }, Y: { a: y }, size: 16 };
 */
export interface TaskBatch {
  dataset: string;
  split: string;
  X: Record<string, tf.Tensor>;
  Y: Record<string, tf.Tensor>;
  size: number;
}

/**
 * One VMTL training step: one batch of every task (tasks may bring different numbers of rows).
 * @example
 * const step: StackedStep = [batchOfA, batchOfB, batchOfC];
 */
export type StackedStep = readonly TaskBatch[];

/**
 * The step context @mtl/training passes to `loss` (@mtl/core's `StepContext`, kept as a name for compatibility).
 * @example
 * model.loss(step, { step: 0, epoch: 0, seed: rng.nextSeed(), training: true });
 */
export type VmtlStepContext = StepContext;

/**
 * What `loss` returns: @mtl/core's `LossOutput` with its `scale` always set. Parts are keyed
 * `task/dataset`, task t's negative ELBO divided by T (their plain sum is the task-averaged
 * objective); `scale` is N_t / T per part, since a part sums the likelihood over the task's N_t
 * training rows, so a trainer logs `part / scale` on the scale of `score`'s per-example loss.
 * @example
 * const total = tf.addN(Object.values(model.loss(step, ctx).parts));
 */
export type VmtlLossOutput = LossOutput & { scale: Record<string, number> };

/**
 * One task of a {@link VmtlModel}.
 * @example
 * const task: VmtlTask = { name: 'a', dataset: 'a_data', trainSize: 480, label: 'y' };
 */
export interface VmtlTask {
  /** Task name: loss parts and score keys start with it. */
  name: string;
  /** Name of the dataset whose batches feed the task. */
  dataset: string;
  /** Number of training examples N_t (scales the minibatch sums by N_t / B_t). */
  trainSize: number;
  /** Label name in `Batch.Y` (default: the task name). Labels are 0/1 (int or float). */
  label?: string;
}

/**
 * Options of {@link VmtlModel}; only `tasks` and `inputDim` are required.
 * @example
 * const options: VmtlModelOptions = { tasks, inputDim: 2, classifierKl: 'momentMatched' };
 */
export interface VmtlModelOptions {
  tasks: readonly VmtlTask[];
  /** Dimension D of the input field (rows are `[D]` float vectors). */
  inputDim: number;
  /** Input field in `Batch.X` (default `x`). */
  inputField?: string;
  /**
   * `mixture` (default): each task's classifier prior is the Gumbel-softmax mixture of the other
   * tasks' posteriors (VMTL). `standardNormal`: the solo baseline, a fixed N(0, I) prior, no mixing.
   */
  prior?: 'mixture' | 'standardNormal';
  /** Classifier samples M per step (default 10). */
  classifierSamples?: number;
  /** Latent samples L (default 10; the latent z = x is deterministic, so all L coincide and one is used). */
  latentSamples?: number;
  /** Samples of Monte Carlo KLs (default 10). */
  klSamples?: number;
  /** Classifier mixture-KL estimator (default `upperBound`). */
  classifierKl?: MixtureKlEstimator;
  /** Detach the prior components (default true, the paper code's choice). */
  detachPrior?: boolean;
  /** Gumbel-softmax temperature (default: exponential decay from 1 to 0.5). */
  temperature?: TemperatureSpec | TemperatureSchedule | number;
  /** KL annealing weight of the classifier term (default 1). */
  klWeight?: KlWeight;
  /** Gumbel noise while training (default true). */
  gumbelNoise?: boolean;
  /** Initial α logits (default 0). */
  mixingInit?: number | readonly (readonly number[])[];
  /** Classifier samples of the predictive when scoring and predicting (default 100). */
  predictiveSamples?: number;
  /** Prefix of the variable names (default `vmtl`, or `solo` for the standard-normal prior). */
  name?: string;
  /** Seed of the predictive draws when `score`/`predictProba` get none (default 0). */
  seed?: number;
}

/**
 * The artifacts `kind` of a saved {@link VmtlModel} (@mtl/core's saved format).
 * @example
 * (await loadArtifacts('model.mtl')).kind === VMTL_KIND;
 */
export const VMTL_KIND = 'vmtl';

/**
 * How {@link VmtlModel.loadWeights} treated each variable (by its name without the model's
 * prefix: `classifier/posterior`, `mixing/alpha`).
 * @example
 * const { reused, reshaped } = await model.loadWeights('runs/a/model/model.mtl', { onMismatch: 'reinit' });
 */
export interface VmtlLoadReport {
  /** Same name and shape: loaded. */
  reused: string[];
  /** Not in the saved model: kept as initialised. */
  new: string[];
  /** In the saved model only. */
  dropped: string[];
  /** Another shape in the saved model: kept as initialised (`onMismatch: 'reinit'`). */
  reshaped: string[];
}

/**
 * What {@link VmtlModel.load} takes besides the URL: the function-valued options the model was
 * saved with (they cannot be saved), and optionally another `name` (the prefix of its variables).
 * @example
 * const m = await VmtlModel.load('memory://vmtl', { name: 'copy', klWeight: (step) => Math.min(1, step / 100) });
 */
export type VmtlLoadOptions = Pick<VmtlModelOptions, 'klWeight' | 'temperature' | 'name'>;

/**
 * Variational multitask Bayesian logistic regression (the VMTL elementary example): per task t a
 * diagonal Gaussian posterior q(w_t) = N(loc_t, exp(logScale_t)²) (initialised at mean 0, scale 1),
 * likelihood y ~ Bernoulli(σ(x · w_t)), a deterministic latent z = x (so no latent KL), and the
 * classifier prior Σ_{i≠t} α_ti q(w_i) with learnable Gumbel-softmax α. With
 * `prior: 'standardNormal'` it is the solo baseline: the same per-task model with a fixed N(0, I) prior.
 *
 * Satisfies @mtl/training's `Trainable<StackedStep>` structurally. The Trainer sums the loss parts
 * (times task weights, 1 by default): each part is task t's negative ELBO divided by T, so the sum
 * is the ELBO averaged over tasks, as in the paper.
 * @example
 * const model = new VmtlModel({ tasks: [{ name: 'a', dataset: 'A', trainSize: 480 }, ...], inputDim: 2 });
 * const opt = tf.train.adam(1e-3);
 * opt.minimize(() => tf.addN(Object.values(model.loss(step, ctx).parts)) as tf.Scalar, false, model.trainableVariables());
 * model.score(testBatches);   // { 'a/A/test/accuracy': 0.83, 'a/A/test/loss': 0.41, ... }
 * model.alpha();              // [[null, 0.8, 0.2], ...]
 */
export class VmtlModel {
  readonly tasks: readonly VmtlTask[];
  readonly inputDim: number;
  readonly elbo: MultiTaskElbo;
  /**
   * The classifier posteriors, packed in one variable `[2, T, D]`: `[0]` holds the means, `[1]` the
   * log standard deviations (one variable instead of two saves the optimizer a third of its work).
   */
  readonly posteriorParams: tf.Variable;
  /**
   * The model's module pool: the classifier posteriors are its module `classifier` (a
   * {@link BayesianLinear}), so sharing, freezing and state dicts work as for the other model kinds.
   */
  readonly modules: ModulePool;
  private readonly inputField: string;
  private readonly fused: FusedPrior | undefined;
  private readonly detach: boolean;
  private readonly klWeight: KlWeight;
  private readonly gumbelNoise: boolean;
  private readonly fusedScales = new Map<string, tf.Tensor3D>();
  private readonly predictiveSamples: number;
  private readonly seed: number;
  private readonly priorParams: { loc: tf.Tensor; logScale: tf.Tensor; scale: tf.Tensor } | undefined;
  private readonly options: VmtlModelOptions;
  /** `name/`: saved weights are keyed without it, so a model loads under another name. */
  private readonly prefix: string;

  constructor(options: VmtlModelOptions) {
    this.options = options;
    const tasks = options.tasks;
    const T = tasks.length;
    if (T < 1) throw new MtlError('INVALID_ARGUMENT', 'no tasks', { place: 'VmtlModel.tasks' });
    const names = new Set<string>();
    const datasets = new Set<string>();
    tasks.forEach((t, i) => {
      if (names.has(t.name)) {
        throw new MtlError('DUPLICATE_NAME', `task "${t.name}" appears twice`, {
          place: `VmtlModel.tasks[${i}]`,
        });
      }
      if (datasets.has(t.dataset)) {
        throw new MtlError(
          'DUPLICATE_NAME',
          `dataset "${t.dataset}" feeds two tasks; give each task its own dataset`,
          {
            place: `VmtlModel.tasks[${i}]`,
          },
        );
      }
      if (!Number.isInteger(t.trainSize) || t.trainSize < 1) {
        throw new MtlError('INVALID_ARGUMENT', `trainSize must be a positive integer, got ${t.trainSize}`, {
          place: `VmtlModel.tasks[${i}]`,
        });
      }
      names.add(t.name);
      datasets.add(t.dataset);
    });
    if (options.prior !== undefined && options.prior !== 'mixture' && options.prior !== 'standardNormal') {
      throw new MtlError(
        'CONFIG_INVALID',
        `unknown prior "${String(options.prior)}" (known: mixture, standardNormal)`,
        {
          place: 'VmtlModel.prior',
        },
      );
    }
    const D = options.inputDim;
    if (!Number.isInteger(D) || D < 1) {
      throw new MtlError('INVALID_ARGUMENT', `must be a positive integer, got ${D}`, {
        place: 'VmtlModel.inputDim',
      });
    }
    this.tasks = tasks.map((t) => ({ ...t }));
    this.inputDim = D;
    this.inputField = options.inputField ?? 'x';
    this.predictiveSamples = options.predictiveSamples ?? 100;
    this.seed = options.seed ?? 0;
    const solo = options.prior === 'standardNormal';
    const name = options.name ?? (solo ? 'solo' : 'vmtl');
    this.prefix = `${name}/`;
    this.modules = new ModulePool({
      seed: this.seed,
      variablePrefix: `${name}/`,
      user: 'task',
      place: 'VmtlModel',
    });
    const classifier = new BayesianLinear({ inputSize: D, numTasks: T });
    this.modules.add(tasks.map((t) => ({ name: 'classifier', module: classifier, user: t.name })));
    this.posteriorParams = classifier.variables().posterior!;
    this.detach = options.detachPrior ?? true;
    this.klWeight = options.klWeight ?? 1;
    this.gumbelNoise = options.gumbelNoise ?? true;
    const estimator = options.classifierKl ?? 'upperBound';
    this.fused = solo
      ? 'standardNormal'
      : estimator === 'upperBound' || (estimator === 'momentMatched' && this.detach)
        ? estimator
        : undefined;
    this.priorParams = solo
      ? { loc: tf.keep(tf.zeros([D])), logScale: tf.keep(tf.zeros([D])), scale: tf.keep(tf.ones([D])) }
      : undefined;
    const prior = this.priorParams;
    const opt = <K extends keyof VmtlModelOptions>(k: K) =>
      options[k] === undefined ? {} : ({ [k]: options[k] } as Pick<VmtlModelOptions, K>);
    try {
      this.elbo = new MultiTaskElbo({
        datasetSizes: tasks.map((t) => t.trainSize),
        classifierPosterior: () => {
          const [loc, logScale] = tf.unstack(this.posteriorParams);
          return new Independent(new Normal(loc as tf.Tensor, { logScale: logScale as tf.Tensor }), 1);
        },
        likelihood: logisticLikelihood,
        ...(prior
          ? {
              classifierPrior: () =>
                new Independent(new Normal(prior.loc, { logScale: prior.logScale, scale: prior.scale }), 1),
            }
          : {}),
        ...opt('latentSamples'),
        ...opt('classifierSamples'),
        ...opt('klSamples'),
        ...opt('classifierKl'),
        ...opt('detachPrior'),
        ...opt('temperature'),
        ...opt('gumbelNoise'),
        ...opt('mixingInit'),
        ...(options.klWeight === undefined ? {} : { klWeight: { classifier: options.klWeight } }),
        name,
      });
    } catch (e) {
      this.modules.dispose();
      if (this.priorParams) tf.dispose(Object.values(this.priorParams));
      throw e;
    }
  }

  /** Posterior means `[T][D]` and standard deviations, as numbers (for reports). */
  posterior(): { loc: number[][]; scale: number[][] } {
    const [loc, scale] = tf.tidy(() => {
      const [l, s] = tf.unstack(this.posteriorParams);
      return [l!.arraySync() as number[][], tf.exp(s!).arraySync() as number[][]];
    });
    return { loc: loc!, scale: scale! };
  }

  /** Posterior parameters, then the α logits (absent for the solo baseline). Names are `${name}/...`. */
  trainableVariables(): tf.Variable[] {
    return [...this.modules.trainableVariables(), ...this.elbo.variables()];
  }

  /**
   * Every variable is shared by all tasks: the classifier posteriors of all tasks are one packed
   * variable (a task's slice cannot be a group of its own), and the mixing weights of the priors
   * couple the tasks by design.
   * @example
   * model.parameterGroups(); // [{ name: 'classifiers', tasks: ['a', 'b'], variables: ['vmtl/posterior'] }, ...]
   */
  parameterGroups(): ParameterGroup[] {
    const tasks = this.tasks.map((t) => t.name);
    const groups: ParameterGroup[] = [{ name: 'classifiers', tasks, variables: [this.posteriorParams.name] }];
    const mixing = this.elbo.variables().map((v) => v.name);
    if (mixing.length > 0) groups.push({ name: 'mixing', tasks: [...tasks], variables: mixing });
    return groups;
  }

  /**
   * Loss parts keyed `task/dataset` (see the class doc). Tensor ops only: safe inside an
   * optimizer's gradient. The built-in priors run as one fused op with a hand-written gradient
   * (checked against autodiff in the tests); other settings go through the generic {@link MultiTaskElbo}.
   */
  loss(step: StackedStep, ctx: VmtlStepContext): VmtlLossOutput {
    const ordered = this.orderStep(step);
    const out = tf.tidy(() => {
      const per = tf.unstack(
        this.fused
          ? this.fusedLoss(ordered, ctx)
          : tf.div(this.genericLoss(ordered, ctx).taskLoss, this.tasks.length),
      );
      const parts: Record<string, tf.Scalar> = {};
      this.tasks.forEach((t, i) => {
        parts[`${t.name}/${t.dataset}`] = per[i] as tf.Scalar;
      });
      return { parts };
    });
    return { ...out, scale: this.partScales() };
  }

  private partScales(): Record<string, number> {
    const T = this.tasks.length;
    return Object.fromEntries(this.tasks.map((t) => [`${t.name}/${t.dataset}`, t.trainSize / T]));
  }

  /**
   * The full ELBO breakdown of one step (per-task likelihood and KL terms), computed by the generic
   * {@link MultiTaskElbo} with the same random draws as {@link loss}.
   */
  elboParts(step: StackedStep, ctx: { step: number; seed: number }): ElboResult {
    return this.genericLoss(this.orderStep(step), ctx);
  }

  private fusedLoss(
    ordered: { x: tf.Tensor; y: tf.Tensor }[],
    ctx: { step: number; seed: number },
  ): tf.Tensor1D {
    const M = this.elbo.classifierSamples;
    const sizes = ordered.map((b) => b.x.shape[0]!);
    const B = Math.max(...sizes);
    const tau = this.elbo.temperature(ctx.step);
    const kappa = typeof this.klWeight === 'function' ? this.klWeight(ctx.step) : this.klWeight;
    if (!(kappa >= 0) || !Number.isFinite(kappa)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `KL weight must be a finite number >= 0, got ${kappa} at step ${ctx.step}`,
        {
          place: 'VmtlModel.klWeight',
        },
      );
    }
    const mixing = this.elbo.classifierMixing;
    return fusedLogisticLoss(
      this.posteriorParams as tf.Tensor as tf.Tensor3D,
      mixing ? (mixing.logits as tf.Tensor as tf.Tensor2D) : null,
      {
        xs: ordered.map((b) => b.x),
        ys: ordered.map((b) => b.y),
        scale: this.fusedScale(B, sizes, M),
        samples: M,
        epsSeed: deriveSeed(ctx.seed, 0),
        ...(mixing
          ? { offset: () => mixing.noiseOffset(tau, deriveSeed(ctx.seed, 2), { noise: this.gumbelNoise }) }
          : {}),
        invTau: 1 / tau,
        klWeight: kappa,
      },
      this.fused as FusedPrior,
      this.detach,
    );
  }

  /** N_t / (B_t · M) on real rows, 0 on padding: `[T, B, 1]`, cached per batch layout. */
  private fusedScale(B: number, sizes: readonly number[], M: number): tf.Tensor3D {
    const key = `${B}:${sizes.join(',')}`;
    let s = this.fusedScales.get(key);
    if (!s) {
      const T = this.tasks.length;
      const values = new Float32Array(T * B);
      for (let t = 0; t < T; t++) {
        const v = this.tasks[t]!.trainSize / (sizes[t]! * M);
        for (let b = 0; b < sizes[t]!; b++) values[t * B + b] = v;
      }
      if (this.fusedScales.size >= 16) {
        const [oldKey, old] = this.fusedScales.entries().next().value as [string, tf.Tensor3D];
        old.dispose();
        this.fusedScales.delete(oldKey);
      }
      // Kept: the cache outlives the gradient scope of the step that creates it.
      s = tf.keep(tf.tensor3d(values, [T, B, 1]));
      this.fusedScales.set(key, s);
    }
    return s;
  }

  private genericLoss(
    ordered: { x: tf.Tensor; y: tf.Tensor }[],
    ctx: { step: number; seed: number },
  ): ElboResult {
    return tf.tidy(() => {
      const sizes = ordered.map((b) => b.x.shape[0]!);
      const B = Math.max(...sizes);
      const equal = sizes.every((n) => n === B);
      const x = tf.stack(ordered.map((b, t) => padRows(b.x, B - sizes[t]!)));
      const y = tf.cast(tf.stack(ordered.map((b, t) => padRows(b.y, B - sizes[t]!))), 'float32');
      const r = this.elbo.loss(equal ? { x, y } : { x, y, sizes }, { step: ctx.step, seed: ctx.seed });
      return { ...r, latentKl: null } as unknown as tf.TensorContainer;
    }) as unknown as ElboResult;
  }

  /**
   * Scores the predictive on the given batches (any number per task; each task's batches are
   * pooled): per task `task/dataset/split/accuracy` (predictive mean probability > 0.5 against the
   * label) and `task/dataset/split/loss` (mean negative log predictive probability of the label).
   * Tasks without a batch get no keys.
   */
  score(batches: readonly TaskBatch[], options: { seed?: number } = {}): Record<string, number> {
    const groups = this.groupBatches(batches);
    try {
      return this.scoreGroups(groups, options.seed ?? this.seed);
    } finally {
      for (const g of groups) if (g) tf.dispose([g.x, g.y]);
    }
  }

  private scoreGroups(groups: ReturnType<VmtlModel['groupBatches']>, seed: number): Record<string, number> {
    const out: Record<string, number> = {};
    const present = groups.map((g, t) => (g ? t : -1)).filter((t) => t >= 0);
    if (present.length === 0) return out;
    const result = tf.tidy(() => {
      const xs = groups.map((g) => (g ? g.x : tf.zeros([1, this.inputDim])));
      const ys = groups.map((g) => (g ? g.y : tf.zeros([1])));
      const sizes = xs.map((x) => x.shape[0]!);
      const N = Math.max(...sizes);
      const x = tf.stack(xs.map((v, t) => padRows(v, N - sizes[t]!)));
      const y = tf.stack(ys.map((v, t) => padRows(v, N - sizes[t]!)));
      const pred = this.elbo.predictive(x, {
        seed,
        classifierSamples: this.predictiveSamples,
        latentSamples: 1,
      });
      try {
        const correct = tf.cast(tf.equal(pred.predict(), tf.cast(y, 'int32')), 'float32');
        const nll = tf.neg(pred.logProb(y));
        return { correct, nll };
      } finally {
        pred.dispose();
      }
    });
    const correct = result.correct.dataSync();
    const nll = result.nll.dataSync();
    const N = result.correct.shape[1]!;
    tf.dispose([result.correct, result.nll]);
    for (const t of present) {
      const g = groups[t]!;
      let c = 0;
      let l = 0;
      for (let b = 0; b < g.n; b++) {
        c += correct[t * N + b]!;
        l += nll[t * N + b]!;
      }
      const task = this.tasks[t]!;
      out[scoreKey(task.name, task.dataset, g.split, 'accuracy')] = c / g.n;
      out[scoreKey(task.name, task.dataset, g.split, 'loss')] = l / g.n;
    }
    return out;
  }

  /** Same as {@link score}: the `evaluate` name @mtl/training's `fit` options use. */
  evaluate(batches: readonly TaskBatch[], options: { seed?: number } = {}): Record<string, number> {
    return this.score(batches, options);
  }

  /**
   * Predictive probabilities P(y = 1 | x) of each task: `inputs[t]` is `[N_t, D]`, the result's
   * entry t is `[N_t]` (the caller disposes them). Predict label 1 where it exceeds 0.5.
   */
  predictProba(inputs: readonly tf.Tensor[], options: { seed?: number } = {}): tf.Tensor1D[] {
    const T = this.tasks.length;
    if (inputs.length !== T) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `expected ${T} input tensors (one per task), got ${inputs.length}`,
        {
          place: 'VmtlModel.predictProba',
        },
      );
    }
    return tf.tidy(() => {
      inputs.forEach((x, t) => {
        this.checkInput(x, `VmtlModel.predictProba inputs[${t}]`);
      });
      const sizes = inputs.map((x) => x.shape[0]!);
      const N = Math.max(...sizes);
      const x = tf.stack(inputs.map((v, t) => padRows(v, N - sizes[t]!)));
      const pred = this.elbo.predictive(x, {
        seed: options.seed ?? this.seed,
        classifierSamples: this.predictiveSamples,
        latentSamples: 1,
      });
      try {
        const probs = pred.probs();
        return tf.unstack(probs).map((p, t) => tf.slice(p, 0, sizes[t]!)) as tf.Tensor1D[];
      } finally {
        pred.dispose();
      }
    });
  }

  /** Normalised α (`[t][i]` = weight of task i in task t's prior; diagonal null), or null for the solo baseline. */
  alpha(): (number | null)[][] | null {
    return this.elbo.alpha();
  }

  /** Always null: the latent is deterministic (z = x), so there is no latent mixture β. */
  beta(): (number | null)[][] | null {
    return this.elbo.beta();
  }

  /** Both mixing matrices for reports. */
  mixing(): { alpha: (number | null)[][] | null; beta: (number | null)[][] | null } {
    return { alpha: this.alpha(), beta: this.beta() };
  }

  /**
   * Saves the model (its options and weights) in @mtl/core's saved format to a URL: `memory://name`,
   * `indexeddb://name`, `downloads://name`, or in Node a file path (`file://path` or bare). Options
   * that are functions (`klWeight`, `temperature` as a function) are not saved: pass them again to
   * {@link VmtlModel.load}.
   * @example
   * await model.save('memory://vmtl');
   */
  async save(url: string): Promise<void> {
    await saveArtifacts(url, this.toArtifacts());
  }

  /** The saved-format artifacts {@link save} writes (kind `vmtl`, weights by variable name). */
  toArtifacts(): ModelArtifacts {
    const options: Record<string, unknown> = {};
    const functions: string[] = [];
    for (const [k, v] of Object.entries(this.options)) {
      if (k === 'name') continue;
      if (typeof v === 'function') functions.push(k);
      else if (v !== undefined) options[k] = v;
    }
    const arrays = this.trainableVariables().map((v) => ({
      name: v.name.slice(this.prefix.length),
      dtype: 'float32' as const,
      shape: [...v.shape],
      values: Float32Array.from(v.dataSync()),
    }));
    return makeArtifacts(VMTL_KIND, { options, functions }, arrays);
  }

  /**
   * Rebuilds a saved model with its saved options; `options` gives back the function-valued options
   * it was saved with (an error names them otherwise) and may rename it (`name`, the prefix of its
   * variables, which must not clash with a live model's).
   * @example
   * const again = await VmtlModel.load('memory://vmtl');
   */
  static async load(url: string, options: VmtlLoadOptions = {}): Promise<VmtlModel> {
    const artifacts = expectKind(await loadArtifacts(url), VMTL_KIND, url);
    const spec = artifacts.spec as { options?: VmtlModelOptions; functions?: string[] } | null;
    if (spec === null || typeof spec !== 'object' || typeof spec.options !== 'object') {
      throw new MtlError('CHECKPOINT_CORRUPT', 'not a saved VMTL model (no options)', { place: url });
    }
    const missing = (spec.functions ?? []).filter((k) => options[k as keyof VmtlLoadOptions] === undefined);
    if (missing.length > 0) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `was saved with function options ${listNames(missing)}, which cannot be serialised: pass them again (VmtlModel.load(url, {${missing.join(', ')}}))`,
        { place: url },
      );
    }
    const model = new VmtlModel({ ...spec.options, ...options });
    try {
      model.assignArtifacts(artifacts, 'error', url);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /**
   * Loads saved weights into this model by variable name. `onMismatch: 'error'` (the default, an
   * exact load) refuses a saved model that lacks a variable, has another shape or has more
   * (CHECKPOINT_MISMATCH naming them); `'reinit'` (a warm start, `--from`) loads what matches and
   * reports the rest. Checks run before any assignment.
   * @example
   * const report = await model.loadWeights('runs/a/model/model.mtl', { onMismatch: 'reinit' });
   */
  async loadWeights(url: string, options: { onMismatch?: 'error' | 'reinit' } = {}): Promise<VmtlLoadReport> {
    const artifacts = expectKind(await loadArtifacts(url), VMTL_KIND, url);
    return this.assignArtifacts(artifacts, options.onMismatch ?? 'error', url);
  }

  private assignArtifacts(artifacts: ModelArtifacts, onMismatch: 'error' | 'reinit', place: string) {
    const saved = new Map(artifactArrays(artifacts).map((a) => [a.name, a]));
    const vars = this.trainableVariables();
    const key = (v: tf.Variable) => v.name.slice(this.prefix.length);
    const report: VmtlLoadReport = { reused: [], new: [], dropped: [], reshaped: [] };
    for (const v of vars) {
      const a = saved.get(key(v));
      if (a === undefined) report.new.push(key(v));
      else if (a.shape.join(',') !== v.shape.join(',')) report.reshaped.push(key(v));
      else report.reused.push(key(v));
    }
    const names = new Set(vars.map(key));
    for (const name of saved.keys()) if (!names.has(name)) report.dropped.push(name);
    if (onMismatch === 'error' && report.reused.length !== vars.length) {
      const what = [
        report.new.length ? `no weights for ${listNames(report.new)}` : '',
        report.reshaped.length ? `other shapes for ${listNames(report.reshaped)}` : '',
      ].filter(Boolean);
      throw new MtlError('CHECKPOINT_MISMATCH', `the saved model has ${what.join('; ')}`, { place });
    }
    if (onMismatch === 'error' && report.dropped.length > 0) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `the saved model holds ${listNames(report.dropped)}, which this model does not have`,
        { place },
      );
    }
    tf.tidy(() => {
      for (const v of vars) {
        if (!report.reused.includes(key(v))) continue;
        const a = saved.get(key(v))!;
        v.assign(tf.tensor(a.values, a.shape, 'float32'));
      }
    });
    return report;
  }

  /** Copies of every trainable variable keyed by its name (the caller disposes them). */
  getWeights(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const v of this.trainableVariables()) out[v.name] = v.clone();
    return out;
  }

  /** Assigns weights saved by {@link getWeights}: every variable must be present with its shape; unknown names are errors. */
  setWeights(weights: Record<string, tf.Tensor>): void {
    const vars = this.trainableVariables();
    const known = new Set(vars.map((v) => v.name));
    for (const key of Object.keys(weights)) {
      if (!known.has(key)) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `unknown weight "${key}" (known: ${[...known].join(', ')})`,
          {
            place: 'VmtlModel.setWeights',
          },
        );
      }
    }
    for (const v of vars) {
      const w = weights[v.name];
      if (!w) {
        throw new MtlError('CHECKPOINT_MISMATCH', `missing weight "${v.name}"`, {
          place: 'VmtlModel.setWeights',
        });
      }
      if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i])) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `weight "${v.name}" has shape [${w.shape}], expected [${v.shape}]`,
          {
            place: 'VmtlModel.setWeights',
          },
        );
      }
    }
    for (const v of vars) v.assign(tf.cast(weights[v.name]!, 'float32'));
  }

  dispose(): void {
    this.modules.dispose();
    this.elbo.dispose();
    for (const t of this.fusedScales.values()) t.dispose();
    this.fusedScales.clear();
    if (this.priorParams) tf.dispose(Object.values(this.priorParams));
  }

  /** Each task's input and labels from a step, in task order. */
  private orderStep(step: StackedStep): { x: tf.Tensor; y: tf.Tensor }[] {
    const T = this.tasks.length;
    if (step.length !== T) {
      throw new MtlError('INVALID_ARGUMENT', `a step needs one batch per task (${T}), got ${step.length}`, {
        place: 'VmtlModel.loss',
      });
    }
    const inOrder = step.every((b, t) => b.dataset === this.tasks[t]!.dataset);
    return this.tasks.map((task, t) => {
      const b = inOrder ? step[t] : step.find((s) => s.dataset === task.dataset);
      if (!b) {
        throw new MtlError('UNKNOWN_DATASET', `no batch of dataset "${task.dataset}" in the step`, {
          place: `VmtlModel.loss task ${task.name}`,
        });
      }
      return this.taskTensors(b, t);
    });
  }

  private taskTensors(b: TaskBatch, t: number): { x: tf.Tensor; y: tf.Tensor } {
    const task = this.tasks[t]!;
    const place = `task ${task.name} dataset ${b.dataset}/${b.split}`;
    const x = b.X[this.inputField];
    if (!x) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `no input field "${this.inputField}" (fields: ${Object.keys(b.X).join(', ')})`,
        {
          place,
        },
      );
    }
    const label = task.label ?? task.name;
    const y = b.Y[label];
    if (!y) {
      throw new MtlError('UNKNOWN_FIELD', `no label "${label}" (labels: ${Object.keys(b.Y).join(', ')})`, {
        place,
      });
    }
    this.checkInput(x, place);
    if (y.rank !== 1 || y.shape[0] !== x.shape[0]) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `label "${label}" must be [${x.shape[0]}], got [${y.shape}]`,
        { place },
      );
    }
    return { x, y };
  }

  private checkInput(x: tf.Tensor, place: string): void {
    if (x.rank !== 2 || x.shape[1] !== this.inputDim || x.shape[0] === 0) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `input must be [N >= 1, ${this.inputDim}], got [${x.shape}]`,
        { place },
      );
    }
  }

  /** Pools each task's batches (concatenated), checking labels are 0/1. */
  private groupBatches(
    batches: readonly TaskBatch[],
  ): ({ x: tf.Tensor; y: tf.Tensor; n: number; split: string } | undefined)[] {
    const byTask: TaskBatch[][] = this.tasks.map(() => []);
    for (const b of batches) {
      const t = this.tasks.findIndex((task) => task.dataset === b.dataset);
      if (t < 0) {
        throw new MtlError(
          'UNKNOWN_DATASET',
          `no task reads dataset "${b.dataset}" (tasks read: ${this.tasks.map((x) => x.dataset).join(', ')})`,
          {
            place: 'VmtlModel.score',
          },
        );
      }
      byTask[t]!.push(b);
    }
    return byTask.map((list, t) => {
      if (list.length === 0) return undefined;
      const split = list[0]!.split;
      if (list.some((b) => b.split !== split)) {
        throw new MtlError('INVALID_ARGUMENT', `batches of dataset "${list[0]!.dataset}" mix splits`, {
          place: 'VmtlModel.score',
        });
      }
      const parts = list.map((b) => this.taskTensors(b, t));
      const x = parts.length === 1 ? parts[0]!.x.clone() : tf.concat(parts.map((p) => p.x));
      const y = tf.tidy(() =>
        tf.cast(parts.length === 1 ? parts[0]!.y : tf.concat(parts.map((p) => p.y)), 'float32'),
      );
      const values = y.dataSync();
      const bad = values.findIndex((v) => v !== 0 && v !== 1);
      if (bad >= 0) {
        tf.dispose([x, y]);
        throw new MtlError(
          'LABEL_OUT_OF_RANGE',
          `label ${values[bad]} at row ${bad}: labels must be 0 or 1`,
          {
            place: `VmtlModel.score task ${this.tasks[t]!.name} dataset ${list[0]!.dataset}/${split}`,
          },
        );
      }
      return { x, y, n: x.shape[0]!, split };
    });
  }
}

/** p(y | z, w) = Bernoulli(σ(z · w)) for stacked tasks: z [T, L, B, D], w [T, M, D] -> batch [T, L, M, B]. */
function logisticLikelihood(z: tf.Tensor, w: tf.Tensor): Distribution {
  const [T, L, B, D] = z.shape as [number, number, number, number];
  const M = w.shape[1]!;
  // One batched matmul: [T, M, D] x [T, D, L·B] -> [T, M, L·B].
  const logits = tf.matMul(w as tf.Tensor3D, tf.reshape(z, [T, L * B, D]) as tf.Tensor3D, false, true);
  const tlmb =
    L === 1 ? tf.reshape(logits, [T, 1, M, B]) : tf.transpose(tf.reshape(logits, [T, M, L, B]), [0, 2, 1, 3]);
  return new Bernoulli(tlmb);
}

/**
 * The solo baseline: a {@link VmtlModel} with a fixed N(0, I) classifier prior per task and no mixing.
 * @example
 * const solo = soloBaseline({ tasks, inputDim: 2 });
 */
export function soloBaseline(options: Omit<VmtlModelOptions, 'prior'>): VmtlModel {
  return new VmtlModel({ ...options, prior: 'standardNormal' });
}

/** `t` with `n` rows of zeros appended (no op when n = 0). */
function padRows(t: tf.Tensor, n: number): tf.Tensor {
  return n === 0 ? t : tf.pad(t, [[0, n], ...t.shape.slice(1).map((): [number, number] => [0, 0])]);
}
