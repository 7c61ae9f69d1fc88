import { joinUrl as join, listNames, MtlError, type RandomStream } from '@mtl/core';
import { DictDataLoader, type DictDataset, disposeBatch, scheduleBatches } from '@mtl/data';
import {
  allRows,
  atModulePath,
  describeInputs,
  fieldShapes,
  firstRows,
  MODEL_FILE,
  type Module,
  type ModuleConfig,
  type ModuleEntry,
  type MultitaskRunOptions,
  moduleFromConfig,
  type Predictions,
  type RunModel,
  type TaskData,
  type WarmStart,
  withModelLosses,
} from '@mtl/tasks';
import type { TemperatureSpec } from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import type { BetaSpec } from './beta-schedule.js';
import { MultitaskVae, type VaeMixtureOptions, type VaePrior } from './multitask-vae.js';
import { registerVaeModules } from './register.js';

/** Options as the mtl config leaves them: a key may be present and undefined. */
type Loose<T> = { [K in keyof T]?: T[K] | undefined };

/**
 * What a multitask VAE run is built from besides its tasks (the `mtl` config's top level): the
 * module options a chain may name when `model.modules` does not, and how the data is batched.
 */
export interface VaeRunConfig {
  modules: Readonly<Record<string, ModuleEntry>>;
  training: MultitaskRunOptions;
}

/**
 * A multitask VAE by its options (the `mtl` config's `model` section of kind `vae`): module chains
 * by name, the modules copied per task, the prior and the ELBO's settings.
 * @example
 * const model: VaeModelOptions = {
 *   modules: { enc: { kind: 'gaussianEncoder', hidden: [16], latentDim: 2 }, dec: { kind: 'vaeDecoder', hidden: [16], outputSize: 4 } },
 *   encoder: 'enc', decoder: 'dec', perTask: [], prior: 'standardNormal', beta: 1,
 *   latentSamples: 1, evalSamples: 16, activeUnitThreshold: 0.01,
 *   mixture: { gumbelNoise: true, estimator: 'monteCarlo', klSamples: 10, detachPrior: true, standardWeight: 0.5 },
 * };
 */
export interface VaeModelOptions {
  /** Module options by name (a name not found here is looked up in {@link VaeRunConfig.modules}). */
  modules: Readonly<Record<string, ModuleEntry>>;
  /** Module chain x -> q(z | x): the last returns {loc, logScale} (or z_e with a quantizer). */
  encoder: string | readonly string[];
  /** Module chain z -> p(x | z). */
  decoder: string | readonly string[];
  /** A vectorQuantizer module: VQ-VAE latent. */
  quantizer?: string | undefined;
  /** Modules copied once per task (`<task>.<module>`); every other module is shared by all tasks. */
  perTask: readonly string[];
  prior: VaePrior;
  beta: Loose<BetaSpec> | number;
  latentSamples: number;
  evalSamples: number;
  activeUnitThreshold: number;
  /** The mixture prior's options (see {@link VaeMixtureOptions}; these five without defaults here). */
  mixture: Required<
    Pick<VaeMixtureOptions, 'gumbelNoise' | 'estimator' | 'klSamples' | 'detachPrior' | 'standardWeight'>
  > & {
    init?: VaeMixtureOptions['init'] | undefined;
    temperature?: number | Loose<TemperatureSpec> | undefined;
  };
}

type VaeConfig = VaeModelOptions;
/** A task of a VAE run: no operation sequence; `weight` (default 1) weighs its loss in `model/all/<split>/loss`. */
type TaskConfig = { ops?: unknown; weight?: number | undefined };

const chainOf = (c: string | readonly string[]): string[] => (typeof c === 'string' ? [c] : [...c]);

/** The module instance a task uses for a module name of the config: shared, or `<task>.<module>`. */
function instanceName(module: string, task: string, perTask: readonly string[]): string {
  return perTask.includes(module) ? `${task}.${module}` : module;
}

/**
 * Builds the multitask VAE a `model: {kind: vae}` config describes: every task runs the `encoder`
 * chain, then the `decoder` chain (and the `quantizer` for a VQ latent); a module named in
 * `perTask` is copied once per task (`<task>.<module>`), every other module is one object shared
 * by all tasks. A run of a single task (compare's solo baselines) always has the N(0, I) prior.
 * `tasks` are the task names (a task with `ops` is refused: a VAE has no operation sequence);
 * `taskData` what each reads (one vector input field). Errors name config paths (`model.encoder[1]`,
 * `model.modules.<name>`). `save`/`load`/`warmStart` take a folder path or URL, as multitaskRun's.
 * Scores carry `model/all/<split>/loss` (Σ task weight·task loss, weight default 1).
 * @example
 * const run = buildVaeRun({ modules: {}, training }, model, { a: {}, b: {} }, taskData, new RandomStream(1));
 */
export function buildVaeRun(
  config: VaeRunConfig,
  modelConfig: VaeConfig,
  tasks: Readonly<Record<string, TaskConfig>>,
  taskData: Readonly<Record<string, TaskData>>,
  rng: RandomStream,
): RunModel {
  registerVaeModules();
  const names = Object.keys(tasks);
  const perTask = modelConfig.perTask;
  const templates: Record<string, { kind: string; [k: string]: unknown }> = {};
  const lookup = (module: string, place: string) => {
    const t = modelConfig.modules[module] ?? config.modules[module];
    if (t === undefined) {
      const known = [...new Set([...Object.keys(modelConfig.modules), ...Object.keys(config.modules)])];
      throw new MtlError('UNKNOWN_MODULE', `unknown module "${module}" (known: ${listNames(known)})`, {
        place,
      });
    }
    templates[module] = t;
  };
  const encoder = chainOf(modelConfig.encoder);
  const decoder = chainOf(modelConfig.decoder);
  for (const [what, chain] of [
    ['encoder', modelConfig.encoder],
    ['decoder', modelConfig.decoder],
  ] as const) {
    for (const [i, m] of chainOf(chain).entries()) {
      lookup(m, typeof chain === 'string' ? `model.${what}` : `model.${what}[${i}]`);
    }
  }
  if (modelConfig.quantizer !== undefined) lookup(modelConfig.quantizer, 'model.quantizer');
  perTask.forEach((m, i) => {
    if (!(m in templates)) {
      throw new MtlError('UNKNOWN_MODULE', `"${m}" is not a module of the encoder, decoder or quantizer`, {
        place: `model.perTask[${i}]`,
      });
    }
  });

  const modules: Record<string, Module> = {};
  const templateOf: Record<string, string> = {};
  const make = (module: string, task: string): string => {
    const instance = instanceName(module, task, perTask);
    templateOf[instance] = module;
    if (modules[instance] === undefined) {
      const { kind, lr: _lr, ...rest } = templates[module]!;
      const moduleConfig: ModuleConfig = { type: kind, ...rest };
      modules[instance] = moduleFromConfig(moduleConfig, `model.modules.${module}`);
    }
    return instance;
  };
  const specs = names.map((name) => {
    const data = taskData[name]!;
    if (tasks[name]!.ops !== undefined) {
      throw new MtlError('CONFIG_INVALID', 'a vae model has no operation sequence: remove "ops"', {
        place: `tasks.${name}.ops`,
      });
    }
    if (data.inputs.length !== 1) {
      throw new MtlError('CONFIG_INVALID', 'a vae task reads exactly one vector input field', {
        place: `tasks.${name}.input`,
      });
    }
    return {
      name,
      dataset: data.datasetName,
      inputField: data.inputs[0]!,
      encoder: encoder.map((m) => make(m, name)),
      decoder: decoder.map((m) => make(m, name)),
      ...(modelConfig.quantizer === undefined ? {} : { quantizer: make(modelConfig.quantizer, name) }),
    };
  });
  const mixture = modelConfig.mixture;
  const temperature = mixture.temperature;
  const model = (() => {
    try {
      return new MultitaskVae({
        tasks: specs,
        modules,
        // A lone task has no other task to borrow a prior from.
        prior: names.length < 2 ? 'standardNormal' : modelConfig.prior,
        beta: modelConfig.beta as BetaSpec | number,
        latentSamples: modelConfig.latentSamples,
        evalSamples: modelConfig.evalSamples,
        activeUnitThreshold: modelConfig.activeUnitThreshold,
        seed: rng.childSeed('init'),
        inputShapes: (task: string) => fieldShapes(taskData[task]!),
        mixture: {
          gumbelNoise: mixture.gumbelNoise,
          estimator: mixture.estimator,
          klSamples: mixture.klSamples,
          detachPrior: mixture.detachPrior,
          standardWeight: mixture.standardWeight,
          ...(mixture.init === undefined ? {} : { init: mixture.init }),
          ...(temperature === undefined
            ? {}
            : {
                temperature:
                  typeof temperature === 'number'
                    ? temperature
                    : (Object.fromEntries(
                        Object.entries(temperature).filter(([, v]) => v !== undefined),
                      ) as TemperatureSpec),
              }),
        },
      });
    } catch (e) {
      for (const m of Object.values(modules)) m.dispose();
      const placed = atModulePath(e, (instance) => {
        const module = templateOf[instance] ?? instance;
        return module in modelConfig.modules ? `model.modules.${module}` : `modules.${module}`;
      });
      if (placed instanceof MtlError && !placed.place?.startsWith('model')) throw placed.within('model');
      throw placed;
    }
  })();

  const { batchSize, scheduler } = config.training;
  const datasetsOf = (split: string): DictDataset[] => {
    const seen = new Set<DictDataset>();
    for (const name of names) {
      const ds = taskData[name]!.splits[split];
      if (ds !== undefined) seen.add(ds);
    }
    return [...seen];
  };
  const splits = [...new Set(names.flatMap((n) => Object.keys(taskData[n]!.splits)))];
  const scoreSplit = (split: string, step: number | undefined): Record<string, number> => {
    const batches = datasetsOf(split).map(allRows);
    try {
      return batches.length === 0 ? {} : model.score(batches, step === undefined ? {} : { step });
    } finally {
      disposeBatch(batches);
    }
  };
  const inputOf = (task: string) => {
    if (!names.includes(task)) {
      throw new MtlError('UNKNOWN_TASK', `unknown task "${task}" (known: ${listNames(names)})`, {
        place: '--task',
      });
    }
    return taskData[task]!.inputs[0]!;
  };

  const run: RunModel = {
    kind: 'vae',
    trainable: model,
    taskNames: names,
    moduleNames: () => model.moduleNames(),
    trainSource: () =>
      scheduleBatches(
        datasetsOf('train').map(
          (ds) =>
            new DictDataLoader(ds, {
              batchSize,
              shuffle: config.training.shuffle,
              seed: rng.childSeed(`loader/${ds.name}/${ds.split}`),
            }),
        ),
        scheduler,
        { seed: rng.childSeed('scheduler') },
      ),
    async checkSplit(split) {
      for (const name of names) {
        const ds = taskData[name]!.splits[split];
        if (ds !== undefined && ds.length > 0) checkVaeTask(model, name, taskData[name]!, ds, batchSize);
      }
    },
    evaluate: async (split, step) => scoreSplit(split, step),
    async scoreAll() {
      const out: Record<string, number> = {};
      for (const split of splits) Object.assign(out, scoreSplit(split, undefined));
      return out;
    },
    save: (dir) => model.save(join(dir, MODEL_FILE)),
    warmStart: (dir): Promise<WarmStart> =>
      model.loadWeights(join(dir, MODEL_FILE), { onMismatch: 'reinit' }),
    async load(dir) {
      await model.loadWeights(join(dir, MODEL_FILE), { onMismatch: 'error' });
    },
    async predict(task, dataset): Promise<Predictions> {
      const field = inputOf(task);
      const batch = allRows(dataset);
      try {
        const x = batch.X[field];
        if (x === undefined) {
          throw new MtlError('UNKNOWN_FIELD', `the input has no field "${field}"`, { place: '--input' });
        }
        const r = model.reconstruct(task, x);
        const recon = r.reconstruction.arraySync();
        const z = r.latentMean.arraySync();
        const codes = r.codes?.arraySync();
        tf.dispose(
          [r.reconstruction, r.latentMean, r.latentLogScale, r.codes].filter((t) => t !== undefined),
        );
        const D = recon[0]?.length ?? 0;
        const K = z[0]?.length ?? 0;
        const out: Predictions = {
          probs: recon.map((row, i) => Float32Array.from([...row, ...z[i]!])),
          columns: [...range(D).map((j) => `recon_${j}`), ...range(K).map((j) => `z_mean_${j}`)],
        };
        if (codes !== undefined) out.preds = codes;
        return out;
      } finally {
        disposeBatch(batch);
      }
    },
    async sample(task, n, seed): Promise<Predictions> {
      inputOf(task);
      const s = model.sample(task, n, seed);
      const z = s.z.arraySync();
      const mean = s.mean.arraySync();
      const x = s.x.arraySync();
      tf.dispose([s.z, s.mean, s.x]);
      const K = z[0]?.length ?? 0;
      const D = mean[0]?.length ?? 0;
      return {
        probs: z.map((row, i) => Float32Array.from([...row, ...mean[i]!, ...x[i]!])),
        columns: [
          ...range(K).map((j) => `z_${j}`),
          ...range(D).map((j) => `mean_${j}`),
          ...range(D).map((j) => `x_${j}`),
        ],
      };
    },
    // The only mixing of a VAE is its latent prior's; it goes where the report reads mixing weights.
    mixing: () => {
      const m = model.mixingMatrix();
      return m === null ? null : { tasks: names, alpha: m, beta: null };
    },
    dispose: () => model.dispose(),
  };
  return withModelLosses(run, Object.fromEntries(names.map((n) => [n, tasks[n]!.weight ?? 1])));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** One task's loss (encoder, sampling, decoder) and scores on the first batch of one split. */
function checkVaeTask(
  model: MultitaskVae,
  name: string,
  data: TaskData,
  ds: DictDataset,
  batchSize: number,
): void {
  const batch = firstRows(ds, batchSize);
  try {
    tf.tidy(() => {
      model.loss([batch], { step: 0, epoch: 0, seed: 0, training: false });
    });
    model.score([batch]);
  } catch (e) {
    throw new MtlError(
      'SHAPE_MISMATCH',
      `the encoder/decoder modules do not fit the ${ds.split} split of "${data.source}" (input ${describeInputs(ds, data.inputs)}): ${(e as Error).message.split('\n')[0]}`,
      { place: `tasks.${name}`, cause: e },
    );
  } finally {
    disposeBatch(batch);
  }
}
