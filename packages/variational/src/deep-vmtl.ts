import {
  artifactArrays,
  expectKind,
  type LossOutput,
  listNames,
  loadArtifacts,
  type ModelArtifacts,
  MtlError,
  makeArtifacts,
  mixSeed,
  type NamedArray,
  type ParameterGroup,
  RandomStream,
  type StepContext,
  saveArtifacts,
  scoreKey,
} from '@mtl/core';
import {
  isRowShape,
  LayersModule,
  type Module,
  type ModuleConfig,
  ModulePool,
  moduleFromConfig,
  type OutputShape,
  type RowShape,
  ShapeWalk,
  type WarmStartReport,
} from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { BayesianClassifier, VariationalLatent } from './deep-modules.js';
import {
  type DeepVmtlPrediction,
  drawLogLikelihood,
  predictionSums,
  predictiveOf,
  reparam,
  withOnes,
} from './deep-vmtl-predictive.js';
import {
  type KlAnneal,
  klAnnealing,
  mixturePriorKl,
  type Peer,
  sameClassRows,
  standardNormalKl,
} from './deep-vmtl-priors.js';
import { adopt } from './distribution.js';
import { Independent } from './independent.js';
import { MixingWeights } from './mixing.js';
import { MIXTURE_KL_ESTIMATORS, type MixtureKlEstimator } from './mixture-kl.js';
import { MixtureSameFamily } from './mixture-same-family.js';
import { Normal } from './normal.js';
import { type TemperatureSchedule, type TemperatureSpec, temperatureSchedule } from './temperature.js';
import type { StackedStep, TaskBatch } from './vmtl-model.js';

export type { DeepVmtlPrediction } from './deep-vmtl-predictive.js';
export { type KlAnneal, klAnnealing, sameClassRows } from './deep-vmtl-priors.js';

/**
 * One task of a {@link DeepVmtlModel}.
 * @example
 * const task: DeepVmtlTask = { name: 'original', dataset: 'originalDataset', trainSize: 50, label: 'original', trunk: 'trunk' };
 */
export interface DeepVmtlTask {
  /** Loss parts and score keys start with it. */
  name: string;
  /** The dataset whose batches feed it. */
  dataset: string;
  /** Number of training rows N_t (the classifier KL is divided by it: the loss is the ELBO per example). */
  trainSize: number;
  /** Label name in `Batch.Y` (default the task name): class ids 0..K-1, or values for regression. */
  label?: string;
  /** Input field in `Batch.X` (default `x`): rows `[inputSize]`. */
  inputField?: string;
  /** The deterministic trunk: module names of `modules` applied in order to x (tasks naming one module share it). None: the latent (or classifier) reads x. */
  trunk?: string | readonly string[];
}

/**
 * Options of {@link DeepVmtlModel}; `tasks`, `outputSize` and `inputShapes` are required.
 * @example
 * const options: DeepVmtlOptions = { tasks, modules: { trunk }, inputShapes: { image: [784] }, latentDim: 32, outputSize: 10 };
 */
export interface DeepVmtlOptions {
  tasks: readonly DeepVmtlTask[];
  /** The trunk modules by name (any module kind). */
  modules?: Readonly<Record<string, Module>>;
  /** Row shape of each input field (`{image: [784]}`): the trunk's widths are inferred from it. */
  inputShapes: Readonly<Record<string, RowShape>>;
  /** Dimension of the Gaussian latent z (default 0: no latent, the classifier reads the trunk's features). */
  latentDim?: number;
  /** Classes K (>= 2, softmax likelihood) or, with `likelihood: 'normal'`, 1 (regression). */
  outputSize: number;
  /** `categorical` (default; classification) or `normal` (regression, y ~ N(h·w, noiseScale²)). */
  likelihood?: 'categorical' | 'normal';
  /** Standard deviation of the regression likelihood (default 1: standardised targets). */
  noiseScale?: number;
  /** `mixture` (default, VMTL) or `standardNormal` (N(0, I) priors, no mixing: the solo baseline). */
  prior?: 'mixture' | 'standardNormal';
  /** Share the trunk modules by name (default true). `false` gives every task its own copy `<task>.<module>` (solo). */
  shareTrunk?: boolean;
  /** Classifier samples M per step (default 10). */
  classifierSamples?: number;
  /** Latent samples L per step (default 10). */
  latentSamples?: number;
  /** Draws of the `monteCarlo` estimators (default 10). */
  klSamples?: number;
  /** KL(q(w_t) || α mixture) estimator (default `momentMatched`, the paper code's). */
  classifierKl?: MixtureKlEstimator;
  /** KL(q(z | x) || β mixture) estimator (default `momentMatched`). */
  latentKl?: MixtureKlEstimator;
  /**
   * Weight λ of an N(0, I) component in the latent prior, λ·N(0, I) + (1 − λ)·Σ_{i≠t} β_ti q_i(z | h)
   * (default 0: the paper's prior). Nothing else anchors the latents' scale: with detached
   * components every encoder chases the others' shrinking σ and the KL grows (see the README).
   */
  latentStandardWeight?: number;
  /**
   * Put an N(0, I) component in task t's own slot of its classifier prior, weighed by α's
   * diagonal and learned like the other weights: Σ_{i≠t} α_ti q(w_i) + α_tt N(0, I) (default
   * false: the paper's prior over the other tasks only). α's rows sum to 1 over the other tasks,
   * so without it a task that resembles none of them is still pulled towards the least unlike
   * one; with it, it can fall back to the solo prior.
   */
  classifierStandardComponent?: boolean;
  /** Cut gradients into the prior's components (default true, as the paper code). */
  detachPrior?: boolean;
  /**
   * What the latent prior's components see. `sameInput` (default): the other tasks' encoders on
   * task t's own row, Σ_{i≠t} β_ti q_i(z | h_t). `sameClass` (the paper code's): for each row of
   * task t with class y, component i encodes a row of task i's batch of the same class,
   * q_i(z | h_i) with y_i = y (a row of class y is drawn from task i's batch by the step's seed; a
   * task whose batch has no row of that class contributes N(0, I) there). Classification only.
   */
  latentPriorInputs?: 'sameInput' | 'sameClass';
  /**
   * One latent encoder for all tasks (module `latent`, as the paper code's shared encoder; default
   * false: one per task, `<task>.latent`). Needs `latentPriorInputs: 'sameClass'` with the mixture
   * prior (on the same input a shared encoder's prior would be its own posterior, a KL of 0).
   */
  shareLatent?: boolean;
  /** Gumbel-softmax temperature (default exponential decay from 1 to 0.5). */
  temperature?: TemperatureSpec | TemperatureSchedule | number;
  /** KL weights (default 1 each). */
  klWeight?: { classifier?: KlAnneal; latent?: KlAnneal };
  /** Gumbel noise on the mixing weights while training (default true). */
  gumbelNoise?: boolean;
  /**
   * Start every task's latent encoder and classifier from the same values (default true): each
   * prior then starts at the task's own posterior. `false` draws each from its own stream.
   */
  tiedInit?: boolean;
  /** Initial α logits (default 0). */
  alphaInit?: number;
  /** Initial β logits (default 0). */
  betaInit?: number;
  /** Initial log standard deviation of the classifier weights (default -3). */
  classifierLogScaleInit?: number;
  /** Initial bias of the latent's log-scale head (default -2). */
  latentLogScaleInit?: number;
  /** Joint draws (z, w) of the posterior predictive when scoring and predicting (default 50). */
  predictiveSamples?: number;
  /** What `score` and `predict` use: `predictive` (default, MC average) or `posteriorMean` (z = E[z|x], w = E[w], as the paper's test time). */
  predictWith?: 'predictive' | 'posteriorMean';
  /** Initialisation seed and the seed of predictive draws (default 0). */
  seed?: number;
  /** Prefix of variable names (default `dvmtl`). */
  name?: string;
}

/**
 * The artifacts `kind` of a saved {@link DeepVmtlModel}.
 * @example
 * (await loadArtifacts('model.mtl')).kind === DEEP_VMTL_KIND;
 */
export const DEEP_VMTL_KIND = 'vmtl-deep';

const ALPHA_WEIGHT = '@mixing/alpha';
const BETA_WEIGHT = '@mixing/beta';

interface TaskState {
  spec: DeepVmtlTask;
  index: number;
  field: string;
  label: string;
  trunk: Module[];
  latent: VariationalLatent | undefined;
  classifier: BayesianClassifier;
}

/**
 * Deep VMTL (Shen et al., NeurIPS 2021): a deterministic trunk from the module pool (shared by
 * name), then per task t a Gaussian latent z ~ q_t(z | h) whose prior is Σ_{i≠t} β_ti q_i(z | h)
 * (the other tasks' encoders on the same features), and a Bayesian classifier w_t ~ q(w_t) whose
 * prior is Σ_{i≠t} α_ti q(w_i); α and β are Gumbel-softmax mixtures over learnable logits. With
 * `prior: 'standardNormal'` both priors are N(0, I) (the solo baseline; with `shareTrunk: false`
 * nothing is shared).
 *
 * Each loss part (key `task/dataset`) is task t's negative ELBO per training example:
 * mean_rows E_q[−log p(y | z, w)] + λ_z·mean_rows KL(q(z|x) || prior) + λ_w·KL(q(w_t) || prior) / N_t.
 * Satisfies @mtl/training's `Trainable<StackedStep>` structurally (one batch of every task per step).
 * @example
 * const model = new DeepVmtlModel({
 *   tasks: [{ name: 'a', dataset: 'A', trainSize: 50, trunk: 'trunk' }, { name: 'b', dataset: 'B', trainSize: 50, trunk: 'trunk' }],
 *   modules: { trunk: mlp({ hidden: [64] }) },
 *   inputShapes: { x: [784] }, latentDim: 16, outputSize: 10,
 * });
 * model.loss([batchA, batchB], { step: 0, epoch: 0, seed: 1, training: true }).parts;
 * model.score([testA, testB]);   // { 'a/A/test/accuracy': ..., 'a/A/test/loss': ... }
 */
export class DeepVmtlModel {
  readonly taskNames: string[];
  readonly latentDim: number;
  readonly outputSize: number;
  /** Width of the trunk's features (the latent's or the classifier's input). */
  readonly featureDim: number;
  readonly modules: ModulePool;
  readonly alphaWeights: MixingWeights | undefined;
  readonly betaWeights: MixingWeights | undefined;
  private readonly tasks: TaskState[];
  private readonly options: DeepVmtlOptions;
  private readonly prefix: string;
  private readonly mixture: boolean;
  private readonly regression: boolean;
  private readonly noiseScale: number;
  private readonly M: number;
  private readonly L: number;
  private readonly klSamples: number;
  private readonly classifierEstimator: MixtureKlEstimator;
  private readonly latentEstimator: MixtureKlEstimator;
  private readonly detach: boolean;
  private readonly sameClass: boolean;
  private readonly latentShared: boolean;
  private readonly standardWeight: number;
  private readonly classifierStandard: boolean;
  private readonly temperature: TemperatureSchedule;
  private readonly klClassifier: (step: number) => number;
  private readonly klLatent: (step: number) => number;
  private readonly gumbelNoise: boolean;
  private readonly predictiveSamples: number;
  private readonly predictWith: 'predictive' | 'posteriorMean';
  private readonly seed: number;
  private readonly trunkConfigs: Record<string, ModuleConfig>;

  constructor(options: DeepVmtlOptions) {
    const place = 'DeepVmtlModel';
    this.options = options;
    const specs = options.tasks;
    if (!Array.isArray(specs) || specs.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'needs at least one task', { place: `${place}.tasks` });
    }
    this.prefix = `${options.name ?? 'dvmtl'}/`;
    this.seed = options.seed ?? 0;
    this.mixture = (options.prior ?? 'mixture') === 'mixture';
    if (options.prior !== undefined && options.prior !== 'mixture' && options.prior !== 'standardNormal') {
      throw new MtlError(
        'CONFIG_INVALID',
        `unknown prior "${String(options.prior)}" (known: mixture, standardNormal)`,
        {
          place: `${place}.prior`,
        },
      );
    }
    if (this.mixture && specs.length < 2) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        'the mixture priors borrow from other tasks: they need at least 2 tasks',
        {
          place: `${place}.prior`,
        },
      );
    }
    this.regression = (options.likelihood ?? 'categorical') === 'normal';
    this.outputSize = options.outputSize;
    if (
      !Number.isInteger(this.outputSize) ||
      (this.regression ? this.outputSize !== 1 : this.outputSize < 2)
    ) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        this.regression
          ? `a regression (likelihood normal) has outputSize 1, got ${this.outputSize}`
          : `a classifier needs outputSize >= 2 classes, got ${this.outputSize}`,
        { place: `${place}.outputSize` },
      );
    }
    this.noiseScale = options.noiseScale ?? 1;
    if (!(this.noiseScale > 0) || !Number.isFinite(this.noiseScale)) {
      throw new MtlError('INVALID_ARGUMENT', `must be a finite number > 0, got ${this.noiseScale}`, {
        place: `${place}.noiseScale`,
      });
    }
    this.latentDim = nonNegativeInt(options.latentDim ?? 0, `${place}.latentDim`);
    this.M = positiveInt(options.classifierSamples ?? 10, `${place}.classifierSamples`);
    this.L = this.latentDim === 0 ? 1 : positiveInt(options.latentSamples ?? 10, `${place}.latentSamples`);
    this.klSamples = positiveInt(options.klSamples ?? 10, `${place}.klSamples`);
    this.predictiveSamples = positiveInt(options.predictiveSamples ?? 50, `${place}.predictiveSamples`);
    this.classifierEstimator = estimator(options.classifierKl ?? 'momentMatched', `${place}.classifierKl`);
    this.latentEstimator = estimator(options.latentKl ?? 'momentMatched', `${place}.latentKl`);
    this.detach = options.detachPrior ?? true;
    const priorInputs = options.latentPriorInputs ?? 'sameInput';
    if (priorInputs !== 'sameInput' && priorInputs !== 'sameClass') {
      throw new MtlError(
        'CONFIG_INVALID',
        `unknown latentPriorInputs "${String(priorInputs)}" (known: sameInput, sameClass)`,
        { place: `${place}.latentPriorInputs` },
      );
    }
    this.sameClass = priorInputs === 'sameClass';
    if (this.sameClass && this.regression) {
      throw new MtlError('CONFIG_INVALID', 'sameClass needs class labels; a regression has none', {
        place: `${place}.latentPriorInputs`,
      });
    }
    const shareLatent = options.shareLatent ?? false;
    if (shareLatent && this.mixture && !this.sameClass) {
      throw new MtlError(
        'CONFIG_INVALID',
        "a shared latent encoder needs latentPriorInputs: 'sameClass' (on the same input its prior is its own posterior)",
        { place: `${place}.shareLatent` },
      );
    }
    this.standardWeight = options.latentStandardWeight ?? 0;
    if (!(this.standardWeight >= 0 && this.standardWeight < 1)) {
      throw new MtlError('INVALID_ARGUMENT', `must be in [0, 1), got ${this.standardWeight}`, {
        place: `${place}.latentStandardWeight`,
      });
    }
    this.classifierStandard = options.classifierStandardComponent ?? false;
    this.temperature = temperatureSchedule(options.temperature);
    this.klClassifier = klAnnealing(options.klWeight?.classifier ?? 1, `${place}.klWeight.classifier`);
    this.klLatent = klAnnealing(options.klWeight?.latent ?? 1, `${place}.klWeight.latent`);
    this.gumbelNoise = options.gumbelNoise ?? true;
    this.predictWith = options.predictWith ?? 'predictive';
    if (this.predictWith !== 'predictive' && this.predictWith !== 'posteriorMean') {
      throw new MtlError(
        'CONFIG_INVALID',
        `unknown predictWith "${String(this.predictWith)}" (known: predictive, posteriorMean)`,
        {
          place: `${place}.predictWith`,
        },
      );
    }

    const given = options.modules ?? {};
    const shareTrunk = options.shareTrunk ?? true;
    this.trunkConfigs = {};
    const names = new Set<string>();
    const datasets = new Set<string>();
    const entries: { name: string; module: Module; user: string }[] = [];
    const copies = new Map<string, Module>();
    const newLatent = () =>
      new VariationalLatent({
        latentSize: this.latentDim,
        ...(options.latentLogScaleInit === undefined ? {} : { logScaleInit: options.latentLogScaleInit }),
      });
    const sharedLatent = shareLatent && this.latentDim > 0 ? newLatent() : undefined;
    this.latentShared = sharedLatent !== undefined;
    this.tasks = specs.map((spec, index) => {
      const at = `${place}.tasks[${index}]`;
      if (typeof spec.name !== 'string' || spec.name === '' || spec.name.includes('/')) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `a task name is a non-empty string without "/", got ${JSON.stringify(spec.name)}`,
          {
            place: at,
          },
        );
      }
      if (names.has(spec.name))
        throw new MtlError('DUPLICATE_NAME', `task "${spec.name}" appears twice`, { place: at });
      if (datasets.has(spec.dataset)) {
        throw new MtlError(
          'DUPLICATE_NAME',
          `dataset "${spec.dataset}" feeds two tasks; give each task its own dataset`,
          {
            place: at,
          },
        );
      }
      if (!Number.isInteger(spec.trainSize) || spec.trainSize < 1) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `trainSize must be a positive integer, got ${spec.trainSize}`,
          { place: at },
        );
      }
      names.add(spec.name);
      datasets.add(spec.dataset);
      const trunkNames =
        spec.trunk === undefined ? [] : typeof spec.trunk === 'string' ? [spec.trunk] : [...spec.trunk];
      const trunk = trunkNames.map((n) => {
        const m = given[n];
        if (m === undefined) {
          throw new MtlError(
            'UNKNOWN_MODULE',
            `unknown module "${n}" (known: ${listNames(Object.keys(given))})`,
            {
              place: `${at}.trunk`,
            },
          );
        }
        this.trunkConfigs[n] = m.getConfig();
        // A frozen encoder (a `layers` module loaded with trainable: false) is the same function
        // for every task and its copy from the config alone would have fresh weights: share it.
        if (shareTrunk || isFrozenLayers(m)) {
          entries.push({ name: n, module: m, user: spec.name });
          return m;
        }
        // The solo baseline: every task its own copy, built from the module's config.
        const key = `${spec.name}.${n}`;
        const copy = copies.get(key) ?? moduleFromConfig(m.getConfig(), `module ${n}`);
        copies.set(key, copy);
        entries.push({ name: key, module: copy, user: spec.name });
        return copy;
      });
      return {
        spec: { ...spec },
        index,
        field: spec.inputField ?? 'x',
        label: spec.label ?? spec.name,
        trunk,
        latent: this.latentDim === 0 ? undefined : (sharedLatent ?? newLatent()),
        classifier: new BayesianClassifier({
          outputSize: this.outputSize,
          ...(options.classifierLogScaleInit === undefined
            ? {}
            : { logScaleInit: options.classifierLogScaleInit }),
        }),
      };
    });
    this.taskNames = this.tasks.map((t) => t.spec.name);
    this.featureDim = this.inferShapes(options.inputShapes);
    for (const t of this.tasks) {
      if (t.latent) entries.push({ name: this.latentName(t), module: t.latent, user: t.spec.name });
      entries.push({ name: `${t.spec.name}.classifier`, module: t.classifier, user: t.spec.name });
    }
    this.modules = new ModulePool({ seed: this.seed, variablePrefix: this.prefix, user: 'task', place });
    if (options.tiedInit ?? true) {
      // Every task's latent and classifier start equal, so each prior starts at the task's own
      // posterior: with independent draws the mixture KLs start at thousands of nats (the
      // encoders' and classifiers' random differences over their noise scales) and training
      // first collapses the latents to a constant (chance accuracy; see the README).
      const built: Module[] = [];
      try {
        for (const t of this.tasks) {
          for (const [kind, m] of [
            ['latent', t.latent],
            ['classifier', t.classifier],
          ] as const) {
            if (!m || m.isBuilt) continue;
            m.build(kind === 'latent' ? this.latentName(t) : `${t.spec.name}.${kind}`, {
              seed: this.seed,
              prefix: this.prefix,
              initStream: new RandomStream(this.seed).child(`vmtl/${kind}`),
            });
            built.push(m);
          }
        }
      } catch (e) {
        for (const m of built) m.dispose();
        throw e;
      }
    }
    this.modules.add(entries);
    try {
      const T = this.tasks.length;
      this.alphaWeights = this.mixture
        ? new MixingWeights({
            name: `${this.prefix}mixing/alpha`,
            numTasks: T,
            init: options.alphaInit ?? 0,
            openDiagonal: this.classifierStandard,
          })
        : undefined;
      this.betaWeights =
        this.mixture && this.latentDim > 0
          ? new MixingWeights({ name: `${this.prefix}mixing/beta`, numTasks: T, init: options.betaInit ?? 0 })
          : undefined;
    } catch (e) {
      this.modules.dispose();
      this.alphaWeights?.dispose();
      throw e;
    }
  }

  /** Every trainable variable once (shared trunk modules once), then α and β logits. */
  trainableVariables(): tf.Variable[] {
    const vars = this.modules.trainableVariables();
    if (this.alphaWeights) vars.push(this.alphaWeights.logits);
    if (this.betaWeights) vars.push(this.betaWeights.logits);
    return vars;
  }

  /**
   * The variables by module (a trunk module several tasks use is shared by them; latents and
   * classifiers belong to one task); the mixing logits couple all tasks.
   * @example
   * model.parameterGroups(); // [{ name: 'trunk', tasks: ['a', 'b'], ... }, { name: 'a.latent', tasks: ['a'], ... }, ...]
   */
  parameterGroups(): ParameterGroup[] {
    const groups: ParameterGroup[] = [];
    for (const [name, m] of this.modules.modules) {
      const variables = m.trainableVariables().map((v) => v.name);
      if (variables.length === 0) continue;
      groups.push({ name, tasks: this.modules.usersOf(name), variables });
    }
    const mixing = [this.alphaWeights, this.betaWeights]
      .filter((w) => w !== undefined)
      .map((w) => w!.logits.name);
    if (mixing.length > 0) groups.push({ name: 'mixing', tasks: [...this.taskNames], variables: mixing });
    return groups;
  }

  /** KL weights at a step (for logs). */
  klWeightsAt(step: number): { classifier: number; latent: number } {
    return { classifier: this.klClassifier(step), latent: this.klLatent(step) };
  }

  /**
   * Loss parts keyed `task/dataset` for one step holding a batch of every task (any order): each
   * task's negative ELBO per example (see the class doc). Tensor ops only.
   */
  loss(step: StackedStep, ctx: StepContext): LossOutput {
    const batches = this.orderStep(step);
    const temperature = this.temperature(ctx.step);
    const noise = { noise: this.gumbelNoise && ctx.training };
    const alpha = this.alphaWeights?.sampleLogits(temperature, mixSeed(ctx.seed, 'alpha'), noise);
    const beta = this.betaWeights?.sampleLogits(temperature, mixSeed(ctx.seed, 'beta'), noise);
    const wW = this.klClassifier(ctx.step);
    const wZ = this.klLatent(ctx.step);
    const parts: Record<string, tf.Scalar> = {};
    // sameClass: every task's features and labels first (the same seeds as its own pass, so the
    // same dropout masks), for the other tasks' priors.
    let peers: Peer[] | undefined;
    try {
      if (beta && this.sameClass) {
        peers = this.tasks.map((task, t) => {
          const b = batches[t]!;
          const x = this.input(task, b);
          const y = this.labels(task, b, x.shape[0]!);
          const seed = mixSeed(ctx.seed, `task/${task.spec.name}`);
          const h = tf.tidy(() => this.trunkOf(task, x, { training: ctx.training, seed }));
          return { h, labels: Int32Array.from(y.dataSync(), (v) => Math.round(v)) };
        });
      }
      this.tasks.forEach((task, t) => {
        const b = batches[t]!;
        const out = tf.tidy(() => {
          const seed = mixSeed(ctx.seed, `task/${task.spec.name}`);
          const mctx = { training: ctx.training, seed };
          const x = this.input(task, b);
          const y = this.labels(task, b, x.shape[0]!);
          const h = peers ? peers[t]!.h : this.trunkOf(task, x, mctx);
          const { z, klZ } = this.latentTerm(task, h, mctx, seed, beta, peers);
          const w = this.sampleWeights(task, this.M, mixSeed(seed, 'w'));
          const nll = tf.neg(drawLogLikelihood(z, w, y, this.regression ? this.noiseScale : undefined));
          const klW = this.classifierKlTerm(task, alpha, mixSeed(seed, 'klw'));
          const part = tf.add(tf.mean(nll), tf.mul(wW / task.spec.trainSize, klW));
          return (klZ ? tf.add(part, tf.mul(wZ, tf.mean(klZ))) : part) as tf.Scalar;
        });
        parts[`${task.spec.name}/${b.dataset}`] = out;
      });
    } finally {
      alpha?.dispose();
      beta?.dispose();
      for (const p of peers ?? []) p.h.dispose();
    }
    return { parts };
  }

  /**
   * The predictive of one task on inputs `x` `[B, ...]` (tensors the caller disposes): classes and
   * their entropy per row, or a regression's mean and variance. `mode` defaults to the model's
   * `predictWith`; `samples` to `predictiveSamples`; `seed` to the model's seed.
   * @example
   * const { probs, entropy } = model.predict('a', x, { mode: 'posteriorMean' });
   */
  predict(
    taskName: string,
    x: tf.Tensor,
    options: { mode?: 'predictive' | 'posteriorMean'; samples?: number; seed?: number } = {},
  ): DeepVmtlPrediction {
    const task = this.taskOf(taskName);
    const mode = options.mode ?? this.predictWith;
    const S =
      mode === 'posteriorMean'
        ? 1
        : positiveInt(options.samples ?? this.predictiveSamples, 'DeepVmtlModel.predict.samples');
    const seed = options.seed ?? this.seed;
    return tf.tidy(() => {
      const ctx = { training: false, seed };
      const h = this.trunkOf(task, x, ctx);
      // z [S, B, D] and w [S, D + 1, K]: one joint draw per predictive sample.
      let z: tf.Tensor;
      if (task.latent) {
        const { loc, logScale } = this.encode(task.latent, h, ctx);
        z = mode === 'posteriorMean' ? tf.expandDims(loc, 0) : reparam(loc, logScale, S, mixSeed(seed, 'z'));
      } else {
        z = tf.expandDims(h, 0);
      }
      const w =
        mode === 'posteriorMean'
          ? tf.expandDims(task.classifier.variables().loc!, 0)
          : this.sampleWeights(task, S, mixSeed(seed, 'w'));
      const B = h.shape[0]!;
      const zs = z.shape[0] === S ? z : tf.broadcastTo(z, [S, B, z.shape[2]!]);
      const out = tf.matMul(withOnes(zs) as tf.Tensor3D, w as tf.Tensor3D); // [S, B, K]
      // Spread into a literal: tf.tidy needs a TensorContainer, which an interface type is not.
      return { ...predictiveOf(out, this.regression ? this.noiseScale : undefined) };
    });
  }

  /**
   * Scores each task on the batches of its dataset (pass whole splits): `accuracy` and `loss`
   * (−log of the predictive at the label, per row), or for regression `mse` and `loss`; keys
   * `task/dataset/split/metric`.
   */
  score(batches: readonly TaskBatch[], options: { seed?: number } = {}): Record<string, number> {
    const out: Record<string, number> = {};
    const byTask = new Map<number, TaskBatch[]>();
    for (const b of batches) {
      const t = this.tasks.findIndex((task) => task.spec.dataset === b.dataset);
      if (t < 0) {
        throw new MtlError(
          'UNKNOWN_DATASET',
          `no task reads dataset "${b.dataset}" (tasks read: ${listNames(this.tasks.map((x) => x.spec.dataset))})`,
          {
            place: 'DeepVmtlModel.score',
          },
        );
      }
      byTask.set(t, [...(byTask.get(t) ?? []), b]);
    }
    for (const [t, list] of byTask) {
      const task = this.tasks[t]!;
      const splits = new Set(list.map((b) => b.split));
      for (const split of splits) {
        let n = 0;
        let correct = 0;
        let nll = 0;
        let sq = 0;
        for (const b of list.filter((x) => x.split === split)) {
          const x = this.input(task, b);
          const stats = tf.tidy(() => {
            const y = this.labels(task, b, x.shape[0]!);
            const p = this.predict(task.spec.name, x, {
              seed: mixSeed(options.seed ?? this.seed, `score/${task.spec.name}/${split}`),
            });
            return predictionSums(p, y, this.outputSize);
          });
          const [a, l] = stats.map((s) => s.dataSync()[0]!);
          tf.dispose(stats);
          n += x.shape[0]!;
          if (this.regression) sq += a!;
          else correct += a!;
          nll += l!;
        }
        const key = (metric: string) => scoreKey(task.spec.name, task.spec.dataset, split, metric);
        if (this.regression) out[key('mse')] = sq / n;
        else out[key('accuracy')] = correct / n;
        out[key('loss')] = nll / n;
      }
    }
    return out;
  }

  /** Same as {@link score}: the name @mtl/training's `fit` options use. */
  evaluate(batches: readonly TaskBatch[], options: { seed?: number } = {}): Record<string, number> {
    return this.score(batches, options);
  }

  /**
   * KL(q(w_t) || prior) of one task's classifier with the model's estimator, at noise-free α of
   * temperature 1 (the weights {@link alpha} reports); the N(0, I) prior without mixing.
   * @example
   * model.classifierKl('a');   // nats
   */
  classifierKl(taskName: string): number {
    const task = this.taskOf(taskName);
    const alpha = this.alphaWeights?.sampleLogits(1, 0, { noise: false });
    try {
      const kl = tf.tidy(() => this.classifierKlTerm(task, alpha, mixSeed(this.seed, 'classifierKl')));
      const v = kl.dataSync()[0]!;
      kl.dispose();
      return v;
    } finally {
      alpha?.dispose();
    }
  }

  /**
   * The latent prior of one task on inputs `x` (the caller disposes it): Σ_{i≠t} β_ti q_i(z | h(x)),
   * the other tasks' encoders on the task's trunk features, at noise-free β of temperature 1 (with
   * `latentStandardWeight` λ: λ·N(0, I) + (1 − λ)·that mixture); a
   * distribution with batch shape `[B]` and event shape `[latentDim]`. Needs a latent and the mixture prior.
   * @example
   * const prior = model.latentPrior('a', x);
   * prior.logProb(z);   // [B]
   */
  latentPrior(taskName: string, x: tf.Tensor): MixtureSameFamily {
    const task = this.taskOf(taskName);
    if (!this.betaWeights) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        'the model has no latent mixture prior (needs latentDim > 0 and prior mixture)',
        {
          place: 'DeepVmtlModel.latentPrior',
        },
      );
    }
    if (this.sameClass) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        "with latentPriorInputs 'sameClass' the prior depends on the other tasks' rows of each class, which one task's inputs do not give",
        { place: 'DeepVmtlModel.latentPrior' },
      );
    }
    const logits = this.betaWeights.sampleLogits(1, 0, { noise: false });
    const { loc, logScale, w } = tf.tidy(() => {
      const ctx = { training: false, seed: this.seed };
      const h = this.trunkOf(task, x, ctx);
      const enc = this.tasks.map((other) => this.encode(other.latent!, h, ctx));
      const parts = {
        loc: tf.stack(
          enc.map((e) => e.loc),
          1,
        ),
        logScale: tf.stack(
          enc.map((e) => e.logScale),
          1,
        ),
        w: tf.tile(tf.slice(logits, [task.index, 0], [1, -1]), [x.shape[0]!, 1]),
      };
      const w0 = this.standardWeight;
      if (w0 === 0) return parts;
      const [B, , Z] = parts.loc.shape as [number, number, number];
      return {
        loc: tf.concat([tf.zeros([B, 1, Z]), parts.loc], 1),
        logScale: tf.concat([tf.zeros([B, 1, Z]), parts.logScale], 1),
        w: tf.concat([tf.fill([B, 1], Math.log(w0)), tf.add(tf.logSoftmax(parts.w), Math.log(1 - w0))], 1),
      };
    });
    logits.dispose();
    const normal = Normal.fromLogScale(loc, logScale);
    const components = new Independent(normal, 1);
    return adopt(new MixtureSameFamily(w, components), [loc, logScale, w, normal, components]);
  }

  /** Normalised α (`[t][i]`: weight of task i's classifier posterior in task t's prior; diagonal null), or null without mixing. */
  alpha(): (number | null)[][] | null {
    return this.alphaWeights?.matrix() ?? null;
  }

  /** Normalised β over the latent encoders, or null (no mixing or no latent). */
  beta(): (number | null)[][] | null {
    return this.betaWeights?.matrix() ?? null;
  }

  /** Both mixing matrices for reports. */
  mixing(): { alpha: (number | null)[][] | null; beta: (number | null)[][] | null } {
    return { alpha: this.alpha(), beta: this.beta() };
  }

  /**
   * Saves the options, the trunk modules' configs and every weight in @mtl/core's saved format
   * (kind `vmtl-deep`). Function-valued options (a KL weight or temperature as a function) are
   * not saved: pass them again to {@link DeepVmtlModel.load}.
   * @example
   * await model.save('memory://deep');
   */
  async save(url: string): Promise<void> {
    await saveArtifacts(url, this.toArtifacts());
  }

  /** The saved-format artifacts {@link save} writes. */
  toArtifacts(): ModelArtifacts {
    const functions: string[] = [];
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.options)) {
      if (k === 'modules' || k === 'name' || v === undefined) continue;
      if (typeof v === 'function') functions.push(k);
      else if (k === 'klWeight') {
        const kw: Record<string, unknown> = {};
        for (const [part, w] of Object.entries(v as Record<string, unknown>)) {
          if (typeof w === 'function') functions.push(`klWeight.${part}`);
          else kw[part] = w;
        }
        options[k] = kw;
      } else options[k] = v;
    }
    const arrays: NamedArray[] = [];
    for (const [module, params] of Object.entries(this.modules.toSaved())) {
      for (const [param, t] of Object.entries(params)) {
        arrays.push({ name: `${module}/${param}`, dtype: 'float32', shape: t.shape, values: t.values });
      }
    }
    for (const [key, w] of [
      [ALPHA_WEIGHT, this.alphaWeights],
      [BETA_WEIGHT, this.betaWeights],
    ] as const) {
      if (w)
        arrays.push({
          name: key,
          dtype: 'float32',
          shape: [...w.logits.shape],
          values: Float32Array.from(w.logits.dataSync()),
        });
    }
    return makeArtifacts(DEEP_VMTL_KIND, { options, functions, modules: this.trunkConfigs }, arrays);
  }

  /**
   * Rebuilds a saved model: its options, its trunk modules from their configs (their kinds must be
   * registered), its weights. `options` gives back function-valued options and may rename it.
   * @example
   * const again = await DeepVmtlModel.load('memory://deep');
   */
  static async load(
    url: string,
    options: Pick<DeepVmtlOptions, 'name' | 'temperature' | 'klWeight'> = {},
  ): Promise<DeepVmtlModel> {
    const artifacts = expectKind(await loadArtifacts(url), DEEP_VMTL_KIND, url);
    const spec = artifacts.spec as {
      options?: DeepVmtlOptions;
      functions?: string[];
      modules?: Record<string, ModuleConfig>;
    } | null;
    if (
      spec === null ||
      typeof spec !== 'object' ||
      typeof spec.options !== 'object' ||
      typeof spec.modules !== 'object'
    ) {
      throw new MtlError('CHECKPOINT_CORRUPT', 'not a saved deep VMTL model (no options or modules)', {
        place: url,
      });
    }
    const missing = (spec.functions ?? []).filter((k) => {
      if (!k.startsWith('klWeight.')) return options[k as 'temperature'] === undefined;
      const part = k.slice('klWeight.'.length) as 'classifier';
      return options.klWeight?.[part] === undefined;
    });
    if (missing.length > 0) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `was saved with function options ${listNames(missing)}, which cannot be serialised: pass them again`,
        {
          place: url,
        },
      );
    }
    const modules: Record<string, Module> = {};
    for (const [name, config] of Object.entries(spec.modules!))
      modules[name] = moduleFromConfig(config, `${url}: module ${name}`);
    const merged: DeepVmtlOptions = {
      ...spec.options,
      modules,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.klWeight === undefined
        ? {}
        : { klWeight: { ...spec.options.klWeight, ...options.klWeight } }),
    };
    let model: DeepVmtlModel;
    try {
      model = new DeepVmtlModel(merged);
    } catch (e) {
      for (const m of Object.values(modules)) if (m.isBuilt) m.dispose();
      throw e;
    }
    try {
      model.assignArtifacts(artifacts, 'error', url);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /**
   * Loads saved weights into this model by module: `onMismatch: 'error'` (default) is an exact
   * load; `'reinit'` (a warm start) loads what matches and reports the rest.
   * @example
   * const report = await model.loadWeights('runs/a/model/model.mtl', { onMismatch: 'reinit' });
   */
  async loadWeights(
    url: string,
    options: { onMismatch?: 'error' | 'reinit' } = {},
  ): Promise<WarmStartReport> {
    const artifacts = expectKind(await loadArtifacts(url), DEEP_VMTL_KIND, url);
    return this.assignArtifacts(artifacts, options.onMismatch ?? 'error', url);
  }

  private assignArtifacts(
    artifacts: ModelArtifacts,
    onMismatch: 'error' | 'reinit',
    place: string,
  ): WarmStartReport {
    const byModule: Record<
      string,
      Record<string, { shape: number[]; dtype: 'float32'; values: Float32Array }>
    > = {};
    const mixing = new Map<string, NamedArray>();
    for (const a of artifactArrays(artifacts)) {
      if (a.name.startsWith('@')) {
        mixing.set(a.name, a);
        continue;
      }
      const cut = a.name.lastIndexOf('/');
      // Module names hold no "/" and parameter names may (`loc/kernel`): the module is the first segment.
      const first = a.name.indexOf('/');
      if (cut < 0)
        throw new MtlError('CHECKPOINT_CORRUPT', `weight "${a.name}" belongs to no module`, { place });
      const module = a.name.slice(0, first);
      const params = byModule[module] ?? {};
      byModule[module] = params;
      params[a.name.slice(first + 1)] = {
        shape: [...a.shape],
        dtype: 'float32',
        values: a.values as Float32Array,
      };
    }
    const strict = onMismatch === 'error';
    const planned = this.modules.compare(byModule);
    if (strict && (planned.new.length > 0 || planned.reshaped.length > 0 || planned.dropped.length > 0)) {
      const what = [
        planned.new.length ? `no weights for module(s) ${planned.new.join(', ')}` : '',
        planned.reshaped.length ? `other shapes for module(s) ${planned.reshaped.join(', ')}` : '',
        planned.dropped.length ? `module(s) ${planned.dropped.join(', ')} this model does not have` : '',
      ].filter((s) => s !== '');
      throw new MtlError('CHECKPOINT_MISMATCH', `the saved model has ${what.join('; ')}`, { place });
    }
    const checks: [string, MixingWeights | undefined][] = [
      [ALPHA_WEIGHT, this.alphaWeights],
      [BETA_WEIGHT, this.betaWeights],
    ];
    for (const [key, w] of checks) {
      const a = mixing.get(key);
      const fits = w !== undefined && a !== undefined && a.shape.join(',') === w.logits.shape.join(',');
      if (strict && (w !== undefined) !== (a !== undefined)) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `the saved model ${a ? 'has' : 'lacks'} mixing logits ${key.slice(1)}`,
          { place },
        );
      }
      if (strict && w && a && !fits) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `the saved ${key.slice(1)} logits have another number of tasks`,
          { place },
        );
      }
    }
    const report = this.modules.load(byModule, { onMismatch: 'reinit', place: `${place}:` });
    for (const [key, w] of checks) {
      const a = mixing.get(key);
      if (w && a && a.shape.join(',') === w.logits.shape.join(',')) {
        tf.tidy(() => w.logits.assign(tf.tensor(a.values as Float32Array, a.shape, 'float32')));
      }
    }
    return report;
  }

  dispose(): void {
    this.modules.dispose();
    this.alphaWeights?.dispose();
    this.betaWeights?.dispose();
  }

  // ---- internals ---------------------------------------------------------------------------

  private inferShapes(inputShapes: Readonly<Record<string, RowShape>>): number {
    const walk = new ShapeWalk();
    let width: number | undefined;
    for (const task of this.tasks) {
      const name = task.spec.name;
      const x = inputShapes?.[task.field];
      if (x === undefined) {
        throw new MtlError('UNKNOWN_FIELD', `the input shapes give no row shape for field "${task.field}"`, {
          place: `task ${name}`,
        });
      }
      let shape: OutputShape | undefined = x;
      const trunkNames =
        task.spec.trunk === undefined
          ? []
          : typeof task.spec.trunk === 'string'
            ? [task.spec.trunk]
            : [...task.spec.trunk];
      task.trunk.forEach((m, i) => {
        const row = shape !== undefined && isRowShape(shape) ? shape : undefined;
        if (shape !== undefined && row === undefined) {
          throw new MtlError(
            'INVALID_ARGUMENT',
            `module "${trunkNames[i - 1]}" returns named outputs, so it must not be followed by another trunk module`,
            {
              place: `task ${name}.trunk`,
            },
          );
        }
        shape = walk.apply(m, trunkNames[i]!, [row], { task: name, operation: `trunk[${i}]` });
      });
      if (shape === undefined || !isRowShape(shape) || shape.length !== 1 || typeof shape[0] !== 'number') {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the trunk must give one feature vector per row; got ${shape === undefined ? 'an unknown shape (give the modules their sizes)' : JSON.stringify(shape)}`,
          { place: `task ${name}.trunk` },
        );
      }
      const d = shape[0];
      if (width !== undefined && d !== width) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `every task's trunk must give features of one width (the priors apply one task's encoder or classifier to another's): ${d} vs ${width}`,
          { place: `task ${name}.trunk` },
        );
      }
      width = d;
      let feature: RowShape = [d];
      if (task.latent) {
        walk.apply(task.latent, this.latentName(task), [feature], { task: name, operation: 'latent' });
        feature = [this.latentDim];
      }
      walk.apply(task.classifier, `${name}.classifier`, [feature], { task: name, operation: 'classifier' });
    }
    return width!;
  }

  /** The latent's name in the pool: `latent` when shared, else `<task>.latent`. */
  private latentName(task: TaskState): string {
    return this.latentShared ? 'latent' : `${task.spec.name}.latent`;
  }

  private orderStep(step: StackedStep): TaskBatch[] {
    const T = this.tasks.length;
    if (!Array.isArray(step) || step.length !== T) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `a step needs one batch per task (${T}), got ${Array.isArray(step) ? step.length : 'no list'}`,
        {
          place: 'DeepVmtlModel.loss',
        },
      );
    }
    return this.tasks.map((task) => {
      const b = step.find((s) => s.dataset === task.spec.dataset);
      if (!b) {
        throw new MtlError('UNKNOWN_DATASET', `no batch of dataset "${task.spec.dataset}" in the step`, {
          place: `DeepVmtlModel.loss task ${task.spec.name}`,
        });
      }
      return b;
    });
  }

  private taskOf(name: string): TaskState {
    const t = this.tasks.find((x) => x.spec.name === name);
    if (!t) {
      throw new MtlError('UNKNOWN_TASK', `unknown task "${name}" (known: ${listNames(this.taskNames)})`, {
        place: 'DeepVmtlModel',
      });
    }
    return t;
  }

  private input(task: TaskState, b: TaskBatch): tf.Tensor {
    const x = b.X[task.field];
    if (!x) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `no input field "${task.field}" (fields: ${listNames(Object.keys(b.X))})`,
        {
          place: `task ${task.spec.name} dataset ${b.dataset}/${b.split}`,
        },
      );
    }
    return x;
  }

  private labels(task: TaskState, b: TaskBatch, n: number): tf.Tensor {
    const place = `task ${task.spec.name} dataset ${b.dataset}/${b.split}`;
    const y = b.Y[task.label];
    if (!y) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `no label "${task.label}" (labels: ${listNames(Object.keys(b.Y))})`,
        { place },
      );
    }
    if (y.rank !== 1 || y.shape[0] !== n) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `label "${task.label}" must be [${n}], got [${y.shape}]`, {
        place,
      });
    }
    return y;
  }

  private trunkOf(task: TaskState, x: tf.Tensor, ctx: { training: boolean; seed: number }): tf.Tensor {
    let h: tf.Tensor = x;
    for (const m of task.trunk) {
      const out = m.apply([h], ctx);
      if (!(out instanceof tf.Tensor)) {
        throw new MtlError('INVALID_ARGUMENT', `trunk module "${m.name}" must return one tensor`, {
          place: `task ${task.spec.name}.trunk`,
        });
      }
      h = out;
    }
    if (h.rank !== 2) h = tf.reshape(h, [h.shape[0]!, -1]);
    return h;
  }

  private encode(
    latent: VariationalLatent,
    h: tf.Tensor,
    ctx: { training: boolean; seed: number },
  ): { loc: tf.Tensor; logScale: tf.Tensor } {
    const out = latent.apply([h], ctx) as Record<string, tf.Tensor>;
    return { loc: out.loc!, logScale: out.logScale! };
  }

  /** z draws `[L, B, Z]` (or the features `[1, B, D]` without a latent) and the latent KL per row. */
  private latentTerm(
    task: TaskState,
    h: tf.Tensor,
    ctx: { training: boolean; seed: number },
    seed: number,
    beta: tf.Tensor | undefined,
    peers?: Peer[],
  ): { z: tf.Tensor; klZ?: tf.Tensor } {
    if (!task.latent) return { z: tf.expandDims(h, 0) };
    const { loc, logScale } = this.encode(task.latent, h, ctx);
    const z = reparam(loc, logScale, this.L, mixSeed(seed, 'z'));
    if (!beta) return { z, klZ: standardNormalKl(loc, logScale, -1) };
    // The other tasks' encoders on the same features, or (sameClass) on their own rows of the
    // same class; task t's own slot is masked out by the logits.
    const locs: tf.Tensor[] = [];
    const scales: tf.Tensor[] = [];
    for (const other of this.tasks) {
      const e =
        other === task
          ? { loc, logScale }
          : peers
            ? this.sameClassEncoding(
                other,
                peers[other.index]!,
                peers[task.index]!.labels,
                mixSeed(seed, `match/${other.index}`),
                ctx,
              )
            : this.encode(other.latent!, h, ctx);
      locs.push(e.loc);
      scales.push(e.logScale);
    }
    const logits = tf.reshape(tf.slice(beta, [task.index, 0], [1, -1]), [-1]);
    const klZ = mixturePriorKl(loc, logScale, tf.stack(locs, 1), tf.stack(scales, 1), logits, {
      eventRank: 1,
      detach: this.detach,
      estimator: this.latentEstimator,
      samples: this.klSamples,
      seed: mixSeed(seed, 'klz'),
      standardWeight: this.standardWeight,
    });
    return { z, klZ };
  }

  /**
   * Task `other`'s encoding of one of its rows of each class in `labels` (`[B, Z]` loc and
   * log-scale); rows whose class `other`'s batch lacks get N(0, I) (loc 0, log-scale 0).
   */
  private sameClassEncoding(
    other: TaskState,
    peer: Peer,
    labels: Int32Array,
    seed: number,
    ctx: { training: boolean; seed: number },
  ): { loc: tf.Tensor; logScale: tf.Tensor } {
    const index = sameClassRows(labels, peer.labels, new RandomStream(seed));
    const found = index.map((j) => (j < 0 ? 0 : 1));
    // The rows by a one-hot matrix product rather than tf.gather, whose gradient the wasm backend lacks.
    // (oneHot in int32, then cast: the wasm backend's float32 oneHot gives zeros.)
    const pick = tf.cast(tf.oneHot(tf.tensor1d(index, 'int32'), peer.h.shape[0]!), 'float32');
    const e = this.encode(other.latent!, tf.matMul(pick, peer.h as tf.Tensor2D), ctx);
    const mask = tf.tensor2d(found, [found.length, 1]);
    return { loc: tf.mul(e.loc, mask), logScale: tf.mul(e.logScale, mask) };
  }

  /** `n` reparameterised draws of task t's classifier weights `[n, D + 1, K]`. */
  private sampleWeights(task: TaskState, n: number, seed: number): tf.Tensor {
    const v = task.classifier.variables();
    return reparam(v.loc!, v.logScale!, n, seed);
  }

  /** KL(q(w_t) || prior), a scalar. */
  private classifierKlTerm(task: TaskState, alpha: tf.Tensor | undefined, seed: number): tf.Tensor {
    const v = task.classifier.variables();
    if (!alpha) return standardNormalKl(v.loc!, v.logScale!);
    // With classifierStandardComponent, task t's own slot holds N(0, I) (loc 0, log-scale 0).
    const own = (t: TaskState, v: tf.Tensor) => (this.classifierStandard && t === task ? tf.zerosLike(v) : v);
    const locs = tf.stack(this.tasks.map((t) => own(t, t.classifier.variables().loc!)));
    const scales = tf.stack(this.tasks.map((t) => own(t, t.classifier.variables().logScale!)));
    const logits = tf.reshape(tf.slice(alpha, [task.index, 0], [1, -1]), [-1]);
    return mixturePriorKl(v.loc!, v.logScale!, locs, scales, logits, {
      eventRank: 2,
      detach: this.detach,
      estimator: this.classifierEstimator,
      samples: this.klSamples,
      seed,
    });
  }
}

function estimator(v: MixtureKlEstimator, place: string): MixtureKlEstimator {
  if (!MIXTURE_KL_ESTIMATORS.includes(v)) {
    throw new MtlError(
      'CONFIG_INVALID',
      `unknown mixture-KL estimator "${String(v)}" (known: ${MIXTURE_KL_ESTIMATORS.join(', ')})`,
      { place },
    );
  }
  return v;
}

function positiveInt(v: number, place: string): number {
  if (!Number.isInteger(v) || v < 1)
    throw new MtlError('INVALID_ARGUMENT', `must be an integer >= 1, got ${v}`, { place });
  return v;
}

function nonNegativeInt(v: number, place: string): number {
  if (!Number.isInteger(v) || v < 0)
    throw new MtlError('INVALID_ARGUMENT', `must be an integer >= 0, got ${v}`, { place });
  return v;
}

/** A `layers` module whose weights are frozen (loaded with `trainable: false`). */
function isFrozenLayers(m: Module): boolean {
  return m instanceof LayersModule && !m.layer.trainable;
}
