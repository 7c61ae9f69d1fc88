import {
  artifactArrays,
  type Batch,
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
  type StepContext,
  saveArtifacts,
  stopGradient,
} from '@mtl/core';
import { scoreKey } from '@mtl/scoring';
import {
  decodeTensor,
  encodeTensor,
  type InputShapes,
  isRowShape,
  type Module,
  type ModuleContext,
  ModuleLosses,
  type ModuleOutput,
  ModulePool,
  type OutputShape,
  type RowShape,
  type SavedTensor,
  ShapeWalk,
  type WarmStartReport,
} from '@mtl/tasks';
import {
  Independent,
  MixingWeights,
  type MixtureKlEstimator,
  mixtureKl,
  Normal,
  type TemperatureSchedule,
  type TemperatureSpec,
  temperatureSchedule,
} from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import { type BetaSchedule, type BetaSpec, betaSchedule } from './beta-schedule.js';
import { likelihoodOf } from './decoder.js';
import { gaussianPosterior, reparameterize, standardNormalKl } from './gaussian-encoder.js';
import { activeUnits, codesUsed } from './vae-metrics.js';
import { codebookPerplexity } from './vector-quantizer.js';

/**
 * One VAE task: a dataset, the modules of its encoder and decoder (by pool name: tasks naming the
 * same module share it), and optionally a vector quantizer for a discrete latent.
 * @example
 * const task: VaeTask = { name: 'a', dataset: 'A', encoder: 'encoder', decoder: ['trunk', 'a_head'] };
 */
export interface VaeTask {
  /** Loss parts and score keys start with it. */
  name: string;
  /** The dataset whose batches feed the task (`Batch.dataset`). */
  dataset: string;
  /** Input field of the batches (default `x`): rows `[inputSize]`. */
  inputField?: string;
  /**
   * Module names applied in order to x. The last returns `{loc, logScale}` (a Gaussian latent, e.g.
   * a {@link GaussianEncoder}), or, with a `quantizer`, the encoder output z_e (a tensor or `{loc}`).
   */
  encoder: string | readonly string[];
  /** Module names applied in order to z; the last returns `{loc, logScale}` or `{logits}` (e.g. a {@link Decoder}). */
  decoder: string | readonly string[];
  /** A {@link VectorQuantizer} module: the latent is discrete (VQ-VAE) instead of Gaussian. */
  quantizer?: string;
}

/**
 * The latent prior: `standardNormal` N(0, I), or `mixture`, VMTL's latent prior: for task t,
 * p_t(z | x) = Σ_{i≠t} β_ti q_i(z | x), the other tasks' encoders applied to task t's x, with
 * Gumbel-softmax weights β over learnable logits.
 * @example
 * const prior: VaePrior = 'mixture';
 */
export type VaePrior = 'standardNormal' | 'mixture';

/**
 * Options of the mixture prior.
 * @example
 * const mixture: VaeMixtureOptions = { estimator: 'upperBound', temperature: { kind: 'exponential' } };
 */
export interface VaeMixtureOptions {
  /** Gumbel-softmax temperature schedule (default: exponential decay from 1 to 0.5). */
  temperature?: TemperatureSpec | TemperatureSchedule | number;
  /** Gumbel noise on the weights while training (default true). */
  gumbelNoise?: boolean;
  /** Initial mixing logits (default 0: uniform over the other tasks). */
  init?: number | readonly (readonly number[])[];
  /** KL(q_t || mixture) estimator of @mtl/variational (default `monteCarlo`; see the README). */
  estimator?: MixtureKlEstimator;
  /** Draws of the `monteCarlo` estimator (default 10). */
  klSamples?: number;
  /** Cut the gradient from task t's KL into the other tasks' encoders (default true, as VMTL's paper code). */
  detachPrior?: boolean;
  /**
   * Weight λ of an N(0, I) component in the prior, λ·N(0, I) + (1 − λ)·Σ_{i≠t} β_ti q_i(z | x)
   * (default 0.5). With 0 the prior is VMTL's alone, which nothing anchors in a VAE: encoders can
   * shrink and drift together and the KL diverges (see the README).
   */
  standardWeight?: number;
}

/**
 * Options of {@link MultitaskVae}.
 * @example
 * const options: MultitaskVaeOptions = { tasks, modules: { encoder, decoder }, beta: 1, seed: 3 };
 */
export interface MultitaskVaeOptions {
  tasks: readonly VaeTask[];
  /** The module pool by name; each module is built under its name (variables `<prefix><name>/<param>`). */
  modules: Readonly<Record<string, Module>>;
  /** Default `standardNormal`. */
  prior?: VaePrior;
  /** KL weight β (default 1, the ELBO): a number, a {@link BetaSpec} or a function of the step. */
  beta?: BetaSpec | BetaSchedule | number;
  /** Latent draws L per example in a training step (default 1). */
  latentSamples?: number;
  /** Latent draws per example when scoring (default 16). */
  evalSamples?: number;
  mixture?: VaeMixtureOptions;
  /** A latent unit is active when Var_x(E[z_d | x]) exceeds this (default 0.01). */
  activeUnitThreshold?: number;
  /** Initialisation seed of modules built without their own, and the seed of scoring draws (default 0). */
  seed?: number;
  /** Prefix of every variable name (default none). */
  variablePrefix?: string;
  /**
   * Row shapes of the input fields (e.g. `{x: [16]}`, or per task): with them, input widths left out
   * of the modules (`inputSize`, a quantizer's `embeddingDim`) are inferred along each task's
   * encoder, quantizer and decoder chains before build, given ones are checked, and a decoder whose
   * output width differs from the input's is an error. Without them every module needs its sizes.
   */
  inputShapes?: InputShapes;
}

/**
 * The loss of one step (@mtl/core's `LossOutput`): parts keyed `task/dataset`, each the task's loss
 * per example, reconstruction NLL + β·KL; a quantizer's losses as `terms`. Kept as a
 * name for compatibility.
 * @example
 * const { parts } = model.loss(batches, ctx);   // { 'a/A': negElbo, 'b/B': negElbo }
 */
export type VaeLossOutput = LossOutput;

/**
 * The step context @mtl/training passes to `loss` (@mtl/core's `StepContext`, kept as a name for compatibility).
 * @example
 * const ctx: VaeStepContext = { step: 0, epoch: 0, seed: 1, training: true };
 */
export type VaeStepContext = StepContext;

/**
 * What {@link MultitaskVae.reconstruct} returns (tensors the caller disposes).
 * @example
 * const { reconstruction, latentMean } = model.reconstruct('a', x);
 */
export interface VaeReconstruction {
  /** The mean of p(x | z) at z = E[z | x] (Gaussian latent) or at the code (VQ), `[B, inputSize]`. */
  reconstruction: tf.Tensor2D;
  /** E[z | x] (Gaussian) or the quantised vector (VQ), `[B, latentSize]`. */
  latentMean: tf.Tensor2D;
  /** log std of q(z | x) (Gaussian latent only). */
  latentLogScale?: tf.Tensor2D;
  /** Code index per row (VQ only), int32 `[B]`. */
  codes?: tf.Tensor1D;
}

/**
 * What {@link MultitaskVae.sample} returns (tensors the caller disposes).
 * @example
 * const { z, mean } = model.sample('a', 10, 7);
 */
export interface VaeSample {
  /** Draws from the prior `[n, latentSize]`. */
  z: tf.Tensor2D;
  /** The mean of p(x | z) for each draw, `[n, inputSize]`. */
  mean: tf.Tensor2D;
  /** One draw x ~ p(x | z) per z, `[n, inputSize]`. */
  x: tf.Tensor2D;
}

/**
 * How {@link MultitaskVae.loadSaved} treated each module.
 * @example
 * const { reused, new: fresh } = model.loadSaved(saved, { onMismatch: 'reinit' });
 */
export type VaeLoadReport = WarmStartReport;

/**
 * A saved model, read: weights by module and the mixing logits (`model.toSaved()`).
 * @example
 * const saved: SavedVae = model.toSaved();
 * Object.keys(saved.modules); // ['enc', 'dec', ...]
 */
export interface SavedVae {
  modules: Record<string, Record<string, SavedTensor>>;
  mixing?: SavedTensor;
}

/**
 * The artifacts `kind` of a saved {@link MultitaskVae} (@mtl/core's saved format).
 * @example
 * (await loadArtifacts('model.mtl')).kind === VAE_KIND;
 */
export const VAE_KIND = 'vae';

// The mixing logits' weight name: `@` starts no module name's weights, so it cannot clash.
const MIXING_WEIGHT = '@mixing/logits';

/**
 * A saved VAE as saved-format artifacts (kind `vae`, weights keyed `module/param`).
 * @example
 * await saveArtifacts('memory://vae', savedVaeArtifacts(model.toSaved()));
 */
export function savedVaeArtifacts(saved: SavedVae): ModelArtifacts {
  const arrays: NamedArray[] = [];
  const modules: Record<string, string[]> = {};
  for (const [name, weights] of Object.entries(saved.modules)) {
    modules[name] = Object.keys(weights);
    for (const [param, t] of Object.entries(weights)) {
      arrays.push({ name: `${name}/${param}`, dtype: 'float32', shape: t.shape, values: t.values });
    }
  }
  if (saved.mixing !== undefined) {
    arrays.push({
      name: MIXING_WEIGHT,
      dtype: 'float32',
      shape: saved.mixing.shape,
      values: saved.mixing.values,
    });
  }
  return makeArtifacts(VAE_KIND, { modules }, arrays);
}

/**
 * The saved VAE held by artifacts of kind `vae`; another kind is CHECKPOINT_MISMATCH, weights that
 * do not fit the spec CHECKPOINT_CORRUPT, both naming `place`.
 * @example
 * const saved = savedVaeFromArtifacts(await loadArtifacts('memory://vae'), 'memory://vae');
 */
export function savedVaeFromArtifacts(artifacts: ModelArtifacts, place: string): SavedVae {
  expectKind(artifacts, VAE_KIND, place);
  const spec = artifacts.spec as { modules?: Record<string, string[]> } | null;
  if (
    spec === null ||
    typeof spec !== 'object' ||
    spec.modules === null ||
    typeof spec.modules !== 'object'
  ) {
    throw new MtlError('CHECKPOINT_CORRUPT', 'not a saved multitask VAE (no module specs)', { place });
  }
  const byName = new Map(artifactArrays(artifacts).map((a) => [a.name, a]));
  const take = (name: string): SavedTensor => {
    const a = byName.get(name);
    if (a === undefined || a.dtype !== 'float32') {
      throw new MtlError('CHECKPOINT_CORRUPT', `weight "${name}" is missing`, { place });
    }
    byName.delete(name);
    return { shape: a.shape, dtype: 'float32', values: a.values as Float32Array };
  };
  const modules: SavedVae['modules'] = {};
  for (const [name, params] of Object.entries(spec.modules)) {
    modules[name] = Object.fromEntries(
      (Array.isArray(params) ? params : []).map((p) => [p, take(`${name}/${p}`)]),
    );
  }
  const saved: SavedVae = { modules };
  if (byName.has(MIXING_WEIGHT)) saved.mixing = take(MIXING_WEIGHT);
  if (byName.size > 0) {
    throw new MtlError('CHECKPOINT_CORRUPT', `weight "${[...byName.keys()][0]}" belongs to no module`, {
      place,
    });
  }
  return saved;
}

interface TaskState {
  spec: VaeTask;
  field: string;
  encoders: Module[];
  decoders: Module[];
  quantizer: Module | undefined;
  encoderKey: string;
}

interface TaskTerms {
  /** −log p(x | z) per row, averaged over the latent draws. */
  recon: tf.Tensor;
  /** KL to the model's prior per row (VQ: log K). */
  kl: tf.Tensor;
  /** VQ codebook + commitment losses per row. */
  vq?: tf.Tensor;
  loc: tf.Tensor;
  logScale?: tf.Tensor;
  onehot?: tf.Tensor;
  /** KL to N(0, I) per row (mixture prior only, for reports). */
  klStd?: tf.Tensor;
}

const asList = (v: string | readonly string[]): string[] => (typeof v === 'string' ? [v] : [...v]);

/**
 * Several VAEs, one per task (dataset), whose encoder and decoder modules are shared by name:
 * tasks naming the same module use one set of weights. Each task's loss is its negative ELBO per
 * example, E_q[−log p(x | z)] + β·KL(q(z | x) || prior), with reparameterised Gaussian latents (or
 * a VQ-VAE latent with straight-through gradients, codebook and commitment losses). The prior is
 * N(0, I) or VMTL's Gumbel-softmax mixture of the other tasks' encoders.
 *
 * Satisfies @mtl/training's `Trainable<Batch[]>` structurally: parts keyed `task/dataset`. Any
 * batch order works (one dataset per step, or one batch of every dataset).
 * @example
 * const model = new MultitaskVae({
 *   tasks: [
 *     { name: 'a', dataset: 'A', encoder: 'encoder', decoder: 'decoder' },
 *     { name: 'b', dataset: 'B', encoder: 'encoder', decoder: 'decoder' },
 *   ],
 *   modules: {
 *     encoder: gaussianEncoder({ inputSize: 16, hidden: [32], latentSize: 2 }),
 *     decoder: decoder({ inputSize: 2, hidden: [32], outputSize: 16 }),
 *   },
 * });
 * const { parts } = model.loss([batchA, batchB], { step: 0, epoch: 0, seed: 1, training: true });
 * model.score([testA, testB]);   // { 'a/A/test/neg_elbo': ..., 'a/A/test/recon_mse': ..., ... }
 */
export class MultitaskVae {
  readonly taskNames: string[];
  readonly prior: VaePrior;
  readonly mixing: MixingWeights | undefined;
  private readonly tasks: TaskState[];
  private readonly pool: ModulePool;
  private readonly beta: BetaSchedule;
  private readonly latentSamples: number;
  private readonly evalSamples: number;
  private readonly threshold: number;
  private readonly seed: number;
  private readonly temperature: TemperatureSchedule;
  private readonly gumbelNoise: boolean;
  private readonly estimator: MixtureKlEstimator;
  private readonly klSamples: number;
  private readonly detachPrior: boolean;
  private readonly standardWeight: number;

  constructor(options: MultitaskVaeOptions) {
    const place = 'MultitaskVae';
    const specs = options.tasks;
    if (!Array.isArray(specs) || specs.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'needs at least one task', { place: `${place}.tasks` });
    }
    const pool = options.modules;
    const names = new Set<string>();
    const used: { name: string; module: Module; user: string }[] = [];
    let user = '';
    const take = (name: string, at: string): Module => {
      const m = pool[name];
      if (m === undefined) {
        throw new MtlError(
          'UNKNOWN_MODULE',
          `unknown module "${name}" (known: ${listNames(Object.keys(pool))})`,
          {
            place: at,
          },
        );
      }
      used.push({ name, module: m, user });
      return m;
    };
    this.tasks = specs.map((spec, i) => {
      const at = `${place}.tasks[${i}]`;
      if (typeof spec.name !== 'string' || spec.name === '' || spec.name.includes('/')) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `a task name is a non-empty string without "/", got ${JSON.stringify(spec.name)}`,
          {
            place: at,
          },
        );
      }
      if (names.has(spec.name)) {
        throw new MtlError('DUPLICATE_NAME', `task "${spec.name}" appears twice`, { place: at });
      }
      names.add(spec.name);
      user = spec.name;
      const encNames = asList(spec.encoder);
      const decNames = asList(spec.decoder);
      if (encNames.length === 0 || decNames.length === 0) {
        throw new MtlError('INVALID_ARGUMENT', 'a task needs at least one encoder and one decoder module', {
          place: `task ${spec.name}`,
        });
      }
      return {
        spec: { ...spec },
        field: spec.inputField ?? 'x',
        encoders: encNames.map((n) => take(n, `task ${spec.name}.encoder`)),
        decoders: decNames.map((n) => take(n, `task ${spec.name}.decoder`)),
        quantizer:
          spec.quantizer === undefined ? undefined : take(spec.quantizer, `task ${spec.name}.quantizer`),
        encoderKey: encNames.join('\u0000'),
      };
    });
    this.taskNames = this.tasks.map((t) => t.spec.name);
    this.prior = options.prior ?? 'standardNormal';
    if (this.prior !== 'standardNormal' && this.prior !== 'mixture') {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `prior must be standardNormal or mixture, got ${JSON.stringify(this.prior)}`,
        {
          place: `${place}.prior`,
        },
      );
    }
    if (this.prior === 'mixture') {
      if (this.tasks.length < 2) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          'the mixture prior borrows from other tasks: it needs at least 2 tasks',
          {
            place: `${place}.prior`,
          },
        );
      }
      const vq = this.tasks.find((t) => t.quantizer !== undefined);
      if (vq !== undefined) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          'the mixture prior needs Gaussian latents; a VQ task has none',
          {
            place: `task ${vq.spec.name}.quantizer`,
          },
        );
      }
    }
    this.beta = betaSchedule(options.beta ?? 1);
    this.latentSamples = positiveInt(options.latentSamples ?? 1, `${place}.latentSamples`);
    this.evalSamples = positiveInt(options.evalSamples ?? 16, `${place}.evalSamples`);
    this.threshold = options.activeUnitThreshold ?? 0.01;
    this.seed = options.seed ?? 0;
    const mix = options.mixture ?? {};
    this.temperature = temperatureSchedule(mix.temperature);
    this.gumbelNoise = mix.gumbelNoise ?? true;
    this.estimator = mix.estimator ?? 'monteCarlo';
    this.klSamples = positiveInt(mix.klSamples ?? 10, `${place}.mixture.klSamples`);
    this.detachPrior = mix.detachPrior ?? true;
    this.standardWeight = mix.standardWeight ?? 0.5;
    if (!(this.standardWeight >= 0 && this.standardWeight < 1)) {
      throw new MtlError('INVALID_ARGUMENT', `must be in [0, 1), got ${this.standardWeight}`, {
        place: `${place}.mixture.standardWeight`,
      });
    }
    const prefix = options.variablePrefix ?? '';
    this.pool = new ModulePool({ seed: this.seed, variablePrefix: prefix, user: 'task', place });
    this.pool.check(used);
    if (options.inputShapes !== undefined) this.inferShapes(options.inputShapes);
    this.pool.add(used);
    try {
      this.mixing =
        this.prior === 'mixture'
          ? new MixingWeights({
              name: `${prefix}vae/mixing/beta`,
              numTasks: this.tasks.length,
              ...(mix.init === undefined ? {} : { init: mix.init }),
            })
          : undefined;
    } catch (e) {
      this.pool.dispose();
      throw e;
    }
  }

  /** Module names in use, in first-use order. */
  moduleNames(): string[] {
    return this.pool.names();
  }

  /** The module of that name. */
  module(name: string): Module {
    if (!this.pool.has(name)) {
      throw new MtlError(
        'UNKNOWN_MODULE',
        `unknown module "${name}" (known: ${listNames(this.pool.names())})`,
        {
          place: 'MultitaskVae.module',
        },
      );
    }
    return this.pool.get(name);
  }

  /** Every trainable variable once (shared modules once), then the mixing logits. */
  trainableVariables(): tf.Variable[] {
    const vars = this.pool.trainableVariables();
    if (this.mixing !== undefined && !vars.includes(this.mixing.logits)) vars.push(this.mixing.logits);
    return vars;
  }

  /**
   * The variables by module: a module (encoder, decoder, quantizer) that several tasks use is
   * shared by them, one that a single task uses is that task's own; the mixing weights of the
   * mixture prior are shared by all tasks.
   * @example
   * vae.parameterGroups(); // [{ name: 'encoder', tasks: ['a', 'b'], variables: [...] }, { name: 'mixing', ... }]
   */
  parameterGroups(): ParameterGroup[] {
    const groups: ParameterGroup[] = [];
    const seen = new Set<tf.Variable>();
    for (const [name, m] of this.pool.modules) {
      const variables = m.trainableVariables().filter((v) => !seen.has(v));
      if (variables.length === 0) continue;
      for (const v of variables) seen.add(v);
      const tasks = this.tasks
        .filter((t) => [...t.encoders, ...t.decoders, t.quantizer].includes(m))
        .map((t) => t.spec.name);
      groups.push({ name, tasks, variables: variables.map((v) => v.name) });
    }
    if (this.mixing !== undefined && !seen.has(this.mixing.logits)) {
      groups.push({ name: 'mixing', tasks: [...this.taskNames], variables: [this.mixing.logits.name] });
    }
    return groups;
  }

  /** β at a step. */
  betaAt(step: number): number {
    return this.beta(step);
  }

  /**
   * The loss of one step: for every batch, for every task reading its dataset, the task's mean
   * over rows of −log p(x | z) + β·KL (a VQ task: −log p(x | z) alone), keyed `task/dataset`. The
   * losses modules add (a quantizer's `<module>.codebook` and `<module>.commitment`, summed over
   * the tasks and batches that run it) are `terms`.
   */
  loss(batches: Batch | readonly Batch[], ctx: VaeStepContext): VaeLossOutput {
    const list: readonly Batch[] = Array.isArray(batches) ? batches : [batches as Batch];
    const beta = this.beta(ctx.step);
    const logits =
      this.mixing === undefined
        ? undefined
        : this.mixing.sampleLogits(this.temperature(ctx.step), mixSeed(ctx.seed, 'gumbel'), {
            noise: this.gumbelNoise && ctx.training,
          });
    const parts: Record<string, tf.Scalar> = {};
    // The losses modules add (a quantizer's codebook and commitment losses) leave each task's tidy
    // with its part and are returned as terms, outside the parts the task weights multiply.
    const moduleLosses = new ModuleLosses();
    try {
      list.forEach((batch, b) => {
        const readers = this.tasksOf(batch.dataset);
        for (const t of readers) {
          const task = this.tasks[t]!;
          const key = `${task.spec.name}/${batch.dataset}`;
          const x = this.input(task, batch);
          const out = tf.tidy(() => {
            const added = new ModuleLosses();
            const terms = this.terms(t, x, {
              training: ctx.training,
              seed: mixSeed(ctx.seed, `${b}/${task.spec.name}`),
              samples: this.latentSamples,
              logits,
              addLoss: added.add,
            });
            const perRow =
              task.quantizer === undefined ? tf.add(terms.recon, tf.mul(beta, terms.kl)) : terms.recon;
            return { part: tf.mean(perRow) as tf.Scalar, added: added.terms };
          });
          parts[key] = out.part;
          for (const [name, loss] of Object.entries(out.added)) moduleLosses.add(name, loss);
        }
      });
    } finally {
      logits?.dispose();
    }
    return { parts, ...moduleLosses.output() };
  }

  /**
   * Scores every task on each batch whose dataset it reads (pass whole splits: active units and
   * perplexity are statistics of the split). Keys `task/dataset/split/metric`:
   * - `recon_mse`: mean squared error per coordinate of the reconstruction (the mean of p(x | z) at
   *   z = E[z | x], or at the code for VQ);
   * - `recon_nll`: E_q[−log p(x | z)] per example (`evalSamples` draws);
   * - `kl`: KL(q(z | x) || prior) per example, the model's prior (mixture: noise-free weights at
   *   temperature 1); VQ: log K (a one-hot posterior against a uniform prior over K codes);
   * - `neg_elbo`: recon_nll + kl per example (β = 1: the bound itself);
   * - `loss`: the training loss per example, recon_nll + β·kl (a VQ task: recon_nll + the VQ
   *   losses, which a trainer logs apart as `model/all/train/<quantizer>.codebook|commitment`),
   *   with β at `options.step` (default: the β the schedule ends at);
   * - `active_units`: latent dimensions with Var_x(E[z_d | x]) > threshold (Gaussian latents);
   * - mixture prior: also `kl_std_normal` and `neg_elbo_std_normal`, against N(0, I);
   * - VQ: `perplexity` (exp of the entropy of the average code use) and `codes_used`.
   */
  score(batches: readonly Batch[], options: { step?: number } = {}): Record<string, number> {
    const out: Record<string, number> = {};
    const beta = this.beta(options.step ?? Number.MAX_SAFE_INTEGER);
    const logits = this.mixing?.sampleLogits(1, 0, { noise: false });
    try {
      for (const batch of batches) {
        for (const t of this.tasksOf(batch.dataset)) {
          const task = this.tasks[t]!;
          const name = task.spec.name;
          const key = (metric: string) => scoreKey(name, batch.dataset, batch.split, metric);
          const x = this.input(task, batch);
          const stats = tf.tidy(() => {
            const ctx = { training: false, seed: mixSeed(this.seed, `score/${name}/${batch.split}`) };
            const terms = this.terms(t, x, {
              ...ctx,
              samples: task.quantizer === undefined ? this.evalSamples : 1,
              logits,
            });
            const recon = this.decodeMean(task, terms.loc, ctx);
            const kept: Record<string, tf.Tensor> = {
              mse: tf.mean(tf.square(tf.sub(x, recon))),
              nll: tf.mean(terms.recon),
              kl: tf.mean(terms.kl),
              loc: terms.loc,
            };
            if (terms.klStd !== undefined) kept.klStd = tf.mean(terms.klStd);
            if (terms.vq !== undefined) kept.vq = tf.mean(terms.vq);
            if (terms.onehot !== undefined) kept.onehot = terms.onehot;
            return kept;
          });
          const num = (k: string) => stats[k]!.dataSync()[0]!;
          out[key('recon_mse')] = num('mse');
          out[key('recon_nll')] = num('nll');
          out[key('kl')] = num('kl');
          out[key('neg_elbo')] = num('nll') + num('kl');
          out[key('loss')] =
            num('nll') +
            (task.quantizer === undefined ? beta * num('kl') : 0) +
            (stats.vq === undefined ? 0 : num('vq'));
          if (stats.klStd !== undefined) {
            out[key('kl_std_normal')] = num('klStd');
            out[key('neg_elbo_std_normal')] = num('nll') + num('klStd');
          }
          if (stats.onehot !== undefined) {
            out[key('perplexity')] = codebookPerplexity(stats.onehot);
            out[key('codes_used')] = codesUsed(stats.onehot);
          } else {
            out[key('active_units')] = activeUnits(stats.loc!, this.threshold);
          }
          tf.dispose(Object.values(stats));
        }
      }
    } finally {
      logits?.dispose();
    }
    return out;
  }

  /** Reconstructions and latent means of `x` `[B, inputSize]` for one task (deterministic). */
  reconstruct(taskName: string, x: tf.Tensor): VaeReconstruction {
    const t = this.taskIndex(taskName);
    const task = this.tasks[t]!;
    return tf.tidy(() => {
      const ctx = { training: false, seed: this.seed };
      const enc = this.encode(task, x, ctx);
      if (task.quantizer !== undefined) {
        const vq = this.quantize(task, enc.loc, ctx);
        return {
          reconstruction: this.decodeMean(task, vq.quantized!, ctx) as tf.Tensor2D,
          latentMean: vq.quantized as tf.Tensor2D,
          codes: tf.argMax(vq.onehot!, -1) as tf.Tensor1D,
        };
      }
      return {
        reconstruction: this.decodeMean(task, enc.loc, ctx) as tf.Tensor2D,
        latentMean: enc.loc as tf.Tensor2D,
        latentLogScale: enc.logScale as tf.Tensor2D,
      };
    });
  }

  /**
   * `n` draws from the prior and their decodings for one task: z ~ N(0, I) for a Gaussian latent,
   * a uniformly drawn code for VQ. The mixture prior is conditional on an input, so unconditional
   * draws of a mixture-prior model also come from N(0, I) (see the README).
   */
  sample(taskName: string, n: number, seed: number): VaeSample {
    const t = this.taskIndex(taskName);
    const task = this.tasks[t]!;
    positiveInt(n, 'MultitaskVae.sample.n');
    return tf.tidy(() => {
      const ctx = { training: false, seed };
      let z: tf.Tensor;
      if (task.quantizer !== undefined) {
        const codebook = task.quantizer.variables().codebook;
        if (codebook === undefined) {
          throw new MtlError('INVALID_ARGUMENT', 'the quantizer has no "codebook" parameter to sample from', {
            place: `task ${taskName}.quantizer`,
          });
        }
        const K = codebook.shape[0]!;
        const codes = tf.randomUniform([n], 0, K, 'int32', mixSeed(seed, 'codes'));
        z = tf.matMul(tf.cast(tf.oneHot(codes, K), 'float32') as tf.Tensor2D, codebook as tf.Tensor2D);
      } else {
        const size = this.latentSize(task);
        z = tf.randomNormal([n, size], 0, 1, 'float32', mixSeed(seed, 'z'));
      }
      const px = likelihoodOf(this.decode(task, z, ctx), `task ${taskName}.decoder`);
      return {
        z: z as tf.Tensor2D,
        mean: px.mean() as tf.Tensor2D,
        x: px.sample(1, mixSeed(seed, 'x')).squeeze([0]) as tf.Tensor2D,
      };
    });
  }

  /** The normalised latent mixing weights (`m[t][i]`: weight of task i in task t's prior), or null. */
  mixingMatrix(): (number | null)[][] | null {
    return this.mixing?.matrix() ?? null;
  }

  /**
   * Saves the weights of every module and the mixing logits in @mtl/core's saved format to a URL
   * (`memory://name`, `indexeddb://name`, `downloads://name`, or in Node a file path). The model's
   * options are not in the file: rebuild the same model, then {@link loadWeights}.
   * @example
   * await model.save('memory://vae');
   */
  async save(url: string): Promise<void> {
    await saveArtifacts(url, savedVaeArtifacts(this.toSaved()));
  }

  /**
   * {@link loadSaved} from a URL written by {@link save}: exact by default, a warm start with
   * `onMismatch: 'reinit'` (the report tells which modules were reused).
   * @example
   * const report = await model.loadWeights('runs/a/model/model.mtl', { onMismatch: 'reinit' });
   */
  async loadWeights(url: string, options: { onMismatch?: 'error' | 'reinit' } = {}): Promise<VaeLoadReport> {
    const saved = savedVaeFromArtifacts(await loadArtifacts(url), url);
    return this.loadSaved(saved, { ...options, place: url });
  }

  /** Copies of every module's weights and of the mixing logits. */
  toSaved(): SavedVae {
    return {
      modules: this.pool.toSaved(),
      ...(this.mixing === undefined ? {} : { mixing: encodeTensor(this.mixing.logits) }),
    };
  }

  /**
   * Loads saved weights by module name. `onMismatch: 'error'` (exact load) fails on any module of
   * this model the file lacks or whose shapes differ; `'reinit'` (warm start) keeps those modules'
   * initialisation and reports them. Mixing logits load when both sides have them with one shape.
   */
  loadSaved(
    saved: SavedVae,
    options: { onMismatch?: 'error' | 'reinit'; place?: string } = {},
  ): VaeLoadReport {
    const place = options.place ?? 'saved VAE';
    const strict = (options.onMismatch ?? 'error') === 'error';
    if (typeof saved?.modules !== 'object' || saved.modules === null) {
      throw new MtlError('CHECKPOINT_CORRUPT', 'not a multitask VAE model (no modules)', { place });
    }
    // Files saved before a module moved parameters into a child use the old names: the pool
    // renames them with each module's upgradeWeightNames.
    const planned = this.pool.compare(saved.modules);
    if (strict && (planned.new.length > 0 || planned.reshaped.length > 0)) {
      const what = [
        planned.new.length ? `no weights for module(s) ${planned.new.join(', ')}` : '',
        planned.reshaped.length ? `other shapes for module(s) ${planned.reshaped.join(', ')}` : '',
      ].filter((s) => s !== '');
      throw new MtlError('CHECKPOINT_MISMATCH', `the saved model has ${what.join('; ')}`, { place });
    }
    const report = this.pool.load(saved.modules, { onMismatch: 'reinit', place: `${place}:` });
    if (this.mixing !== undefined && saved.mixing !== undefined) {
      if (saved.mixing.shape.join(',') === this.mixing.logits.shape.join(',')) {
        const t = decodeTensor(saved.mixing, `${place}: mixing`);
        this.mixing.logits.assign(t);
        t.dispose();
      } else if (strict) {
        throw new MtlError('CHECKPOINT_MISMATCH', 'the saved mixing logits have another number of tasks', {
          place,
        });
      }
    }
    return report;
  }

  dispose(): void {
    this.pool.dispose();
    this.mixing?.dispose();
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Shape inference along each task's chains (see {@link MultitaskVaeOptions.inputShapes}). */
  private inferShapes(inputShapes: InputShapes): void {
    const walk = new ShapeWalk();
    for (const task of this.tasks) {
      const name = task.spec.name;
      const fields = typeof inputShapes === 'function' ? inputShapes(name) : inputShapes;
      const x = fields?.[task.field];
      if (x === undefined) {
        throw new MtlError('UNKNOWN_FIELD', `the input shapes give no row shape for field "${task.field}"`, {
          place: `task ${name}`,
        });
      }
      const chain = (
        what: string,
        modules: readonly Module[],
        names: readonly string[],
        input?: RowShape,
      ) => {
        let shape: OutputShape | undefined = input;
        modules.forEach((m, i) => {
          // Named outputs mid-chain are refused by the forward pass with a clearer message.
          const row = shape !== undefined && isRowShape(shape) ? shape : undefined;
          shape = walk.apply(m, names[i]!, [row], { task: name, operation: `${what}[${i}]` });
        });
        return shape;
      };
      const named = (shape: OutputShape | undefined, key: string): RowShape | undefined => {
        if (shape === undefined || isRowShape(shape) || Array.isArray(shape)) return undefined;
        return (shape as Record<string, RowShape>)[key];
      };
      const encoded = chain('encoder', task.encoders, asList(task.spec.encoder), x);
      let latent: RowShape | undefined;
      if (task.quantizer === undefined) {
        latent = named(encoded, 'loc');
      } else {
        const ze = encoded !== undefined && isRowShape(encoded) ? encoded : named(encoded, 'loc');
        const q = walk.apply(task.quantizer, task.spec.quantizer!, [ze], {
          task: name,
          operation: 'quantizer',
        });
        latent = named(q, 'z');
      }
      const decoded = chain('decoder', task.decoders, asList(task.spec.decoder), latent);
      const recon = named(decoded, 'loc') ?? named(decoded, 'logits');
      const width = recon?.[recon.length - 1];
      const xWidth = x[x.length - 1];
      if (typeof width === 'number' && typeof xWidth === 'number' && width !== xWidth) {
        const last = asList(task.spec.decoder);
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the decoder ends in ${width} values per row but input field "${task.field}" has ${xWidth}: the last decoder module ("${last[last.length - 1]}") must output ${xWidth}`,
          {
            place: `task ${name}`,
            details: { module: last[last.length - 1], given: width, inferred: xWidth },
          },
        );
      }
    }
  }

  private taskIndex(name: string): number {
    const t = this.taskNames.indexOf(name);
    if (t < 0) {
      throw new MtlError('UNKNOWN_TASK', `unknown task "${name}" (known: ${listNames(this.taskNames)})`, {
        place: 'MultitaskVae',
      });
    }
    return t;
  }

  private tasksOf(dataset: string): number[] {
    const out: number[] = [];
    this.tasks.forEach((t, i) => {
      if (t.spec.dataset === dataset) out.push(i);
    });
    if (out.length === 0) {
      throw new MtlError(
        'UNKNOWN_DATASET',
        `no task reads dataset "${dataset}" (datasets: ${listNames(this.tasks.map((t) => t.spec.dataset))})`,
        { place: 'MultitaskVae' },
      );
    }
    return out;
  }

  private input(task: TaskState, batch: Batch): tf.Tensor {
    const x = batch.X[task.field];
    if (x === undefined) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `batch of "${batch.dataset}" has no field "${task.field}" (fields: ${listNames(Object.keys(batch.X))})`,
        { place: `task ${task.spec.name}` },
      );
    }
    return x;
  }

  private chain(
    modules: readonly Module[],
    input: tf.Tensor,
    ctx: ModuleContext,
    place: string,
  ): ModuleOutput {
    let h: ModuleOutput = input;
    modules.forEach((m, i) => {
      if (!(h instanceof tf.Tensor)) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `module "${modules[i - 1]!.name}" returns named outputs, so it must be the last of the chain`,
          { place },
        );
      }
      h = m.apply([h], ctx);
    });
    return h;
  }

  /** The encoder's output: `{loc, logScale}` for a Gaussian latent, `{loc}` = z_e for VQ. */
  private encode(
    task: TaskState,
    x: tf.Tensor,
    ctx: ModuleContext,
  ): { loc: tf.Tensor; logScale?: tf.Tensor } {
    const place = `task ${task.spec.name}.encoder`;
    const out = this.chain(task.encoders, x, ctx, place);
    if (task.quantizer !== undefined) {
      if (out instanceof tf.Tensor) return { loc: out };
      if (!Array.isArray(out) && out.loc !== undefined) return { loc: out.loc };
    } else if (!(out instanceof tf.Tensor) && !Array.isArray(out) && out.loc && out.logScale) {
      return { loc: out.loc, logScale: out.logScale };
    }
    throw new MtlError(
      'INVALID_ARGUMENT',
      task.quantizer !== undefined
        ? 'the last encoder module of a VQ task must return a tensor z_e (or {loc})'
        : 'the last encoder module must return {loc, logScale} (e.g. a gaussianEncoder)',
      { place },
    );
  }

  private quantize(task: TaskState, ze: tf.Tensor, ctx: ModuleContext): Record<string, tf.Tensor> {
    const out = task.quantizer!.apply([ze], ctx);
    if (out instanceof tf.Tensor || Array.isArray(out) || !out.z || !out.loss || !out.onehot) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        'the quantizer must return {z, quantized, onehot, loss} (a vectorQuantizer)',
        {
          place: `task ${task.spec.name}.quantizer`,
        },
      );
    }
    return out;
  }

  private decode(task: TaskState, z: tf.Tensor, ctx: ModuleContext): ModuleOutput {
    return this.chain(task.decoders, z, ctx, `task ${task.spec.name}.decoder`);
  }

  /** The mean of p(x | z) (pass E[z | x], or the quantised vector for VQ). */
  private decodeMean(task: TaskState, z: tf.Tensor, ctx: ModuleContext): tf.Tensor {
    return likelihoodOf(this.decode(task, z, ctx), `task ${task.spec.name}.decoder`).mean();
  }

  private latentSize(task: TaskState): number {
    return tf.tidy(() => {
      const probe = this.encode(task, tf.zeros([1, this.inputSizeOf(task)]), { training: false, seed: 0 });
      return probe.loc.shape[probe.loc.rank - 1]!;
    });
  }

  private inputSizeOf(task: TaskState): number {
    const first = task.encoders[0]!.getConfig();
    const size = first.inputSize;
    if (typeof size !== 'number') {
      throw new MtlError(
        'INVALID_ARGUMENT',
        'cannot tell the input size of the first encoder module (no inputSize)',
        {
          place: `task ${task.spec.name}.encoder`,
        },
      );
    }
    return size;
  }

  /** Per-row terms of one task on inputs `x` (run inside a tidy). */
  private terms(
    t: number,
    x: tf.Tensor,
    opts: {
      training: boolean;
      seed: number;
      samples: number;
      logits: tf.Tensor | undefined;
      addLoss?: ModuleContext['addLoss'];
    },
  ): TaskTerms {
    const task = this.tasks[t]!;
    const ctx: ModuleContext = {
      training: opts.training,
      seed: opts.seed,
      ...(opts.addLoss === undefined ? {} : { addLoss: opts.addLoss }),
    };
    const place = `task ${task.spec.name}`;
    const enc = this.encode(task, x, ctx);
    if (task.quantizer !== undefined) {
      const vq = this.quantize(task, enc.loc, ctx);
      const px = likelihoodOf(this.decode(task, vq.z!, ctx), `${place}.decoder`);
      const K = vq.onehot!.shape[vq.onehot!.rank - 1]!;
      const recon = tf.neg(px.logProb(x));
      return {
        recon,
        kl: tf.fill(recon.shape, Math.log(K)),
        vq: vq.loss!,
        loc: vq.quantized!,
        onehot: vq.onehot!,
      };
    }
    const { loc } = enc;
    const logScale = enc.logScale!;
    const L = opts.samples;
    const B = x.shape[0]!;
    const z = reparameterize(loc, logScale, mixSeed(opts.seed, 'z'), L);
    const zFlat = tf.reshape(z, [L * B, loc.shape[loc.rank - 1]!]);
    const px = likelihoodOf(this.decode(task, zFlat, ctx), `${place}.decoder`);
    const xRep = L === 1 ? x : tf.tile(x, [L, 1]);
    const recon = tf.neg(tf.mean(tf.reshape(px.logProb(xRep), [L, B]), 0));
    const klStd = standardNormalKl(loc, logScale);
    if (this.mixing === undefined) return { recon, kl: klStd, loc, logScale };
    return { recon, kl: this.mixtureKl(t, x, loc, logScale, ctx, opts.logits!), klStd, loc, logScale };
  }

  /** KL(q_t(z | x) || Σ_{i≠t} β_ti q_i(z | x)) per row, with the other tasks' encoders on task t's x. */
  private mixtureKl(
    t: number,
    x: tf.Tensor,
    loc: tf.Tensor,
    logScale: tf.Tensor,
    ctx: ModuleContext,
    logits: tf.Tensor,
  ): tf.Tensor {
    const byKey = new Map<string, { loc: tf.Tensor; logScale: tf.Tensor }>();
    byKey.set(this.tasks[t]!.encoderKey, { loc, logScale });
    const locs: tf.Tensor[] = [];
    const scales: tf.Tensor[] = [];
    for (const task of this.tasks) {
      let e = byKey.get(task.encoderKey);
      if (e === undefined) {
        const out = this.encode(task, x, ctx);
        e = { loc: out.loc, logScale: out.logScale! };
        byKey.set(task.encoderKey, e);
      }
      locs.push(e.loc);
      scales.push(e.logScale);
    }
    let compLoc = tf.stack(locs, 1);
    let compScale = tf.stack(scales, 1);
    if (this.detachPrior) {
      compLoc = stopGradient(compLoc);
      compScale = stopGradient(compScale);
    }
    const T = this.tasks.length;
    let logWeights = tf.logSoftmax(tf.reshape(tf.slice(logits, [t, 0], [1, T]), [T]));
    const w0 = this.standardWeight;
    if (w0 > 0) {
      // N(0, I) as one more component: it anchors the latent scale (see the README).
      const [B, , D] = compLoc.shape as [number, number, number];
      compLoc = tf.concat([tf.zeros([B, 1, D]), compLoc], 1);
      compScale = tf.concat([tf.zeros([B, 1, D]), compScale], 1);
      logWeights = tf.concat([tf.tensor1d([Math.log(w0)]), tf.add(logWeights, Math.log(1 - w0))]);
    }
    const components = new Independent(Normal.fromLogScale(compLoc, compScale), 1);
    return mixtureKl(gaussianPosterior(loc, logScale), components, logWeights, {
      estimator: this.estimator,
      samples: this.klSamples,
      seed: mixSeed(ctx.seed, 'mixtureKl'),
    });
  }
}

function positiveInt(v: number, place: string): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new MtlError('INVALID_ARGUMENT', `must be an integer >= 1, got ${v}`, { place });
  }
  return v;
}
