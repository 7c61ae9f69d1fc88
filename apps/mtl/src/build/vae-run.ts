import { join } from 'node:path';
import { listNames, MtlError, type RandomStream } from '@mtl/core';
import { DictDataLoader, type DictDataset, disposeBatch, scheduleBatches } from '@mtl/data';
import { multitaskImprovement, parseScoreKey, scoreKey } from '@mtl/scoring';
import type { Predictions, RunModel, WarmStart } from '@mtl/tasks';
import { type Module, type ModuleConfig, moduleFromConfig } from '@mtl/tasks';
import {
  type BetaSpec,
  MultitaskVae,
  makeVaeDomains,
  registerVaeModules,
  VAE_METRIC_DIRECTIONS,
} from '@mtl/vae';
import type { TemperatureSpec } from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { CompareArgs, Comparison } from '../commands/compare.js';
import { comparedSplit, trainSoloRuns } from '../commands/solo-runs.js';
import type { TrainArgs, TrainResult } from '../commands/train.js';
import type { LoadedConfig } from '../config/index.js';
import type { MtlConfigOf, taskSchemas, vaeDomainsSourceSchema, vaeModelSchema } from '../config/schema.js';
import type { LoadedSource, TaskData } from './data.js';
import { atModulePath, fieldShapes } from './multitask.js';
import { MODEL_FILE } from './multitask-run.js';
import { allRows, describeInputs, firstRows } from './rows.js';

type VaeConfig = z.infer<typeof vaeModelSchema>;
type VaeDomainsConfig = z.infer<typeof vaeDomainsSourceSchema>;
type TaskConfig = z.infer<typeof taskSchemas.vae>;

/**
 * Loads a `vae_domains` source: one dataset group per domain (`train`, `test`, and `valid` when
 * asked), each domain's label being its true latent z; `truth` holds each domain's map A_t, b_t.
 */
export function loadVaeDomains(
  sourceName: string,
  config: VaeDomainsConfig,
  rng: RandomStream,
): LoadedSource {
  const seed = config.seed ?? rng.childSeed(`data/${sourceName}`);
  try {
    const domains = makeVaeDomains(
      {
        tasks: config.tasks,
        dim: config.dim,
        latentDim: config.latentDim,
        train: config.train,
        valid: config.valid,
        test: config.test,
        amplitude: config.amplitude,
        noise: config.noise,
        mapScale: config.mapScale,
        biasScale: config.biasScale,
        taskSpread: config.taskSpread,
        field: config.field,
        ...(config.taskNames === undefined ? {} : { taskNames: config.taskNames }),
      },
      seed,
    );
    return {
      name: sourceName,
      groups: domains.map((d) => ({ train: d.train, test: d.test, ...(d.valid ? { valid: d.valid } : {}) })),
      truth: Object.fromEntries(domains.map((d) => [d.name, { A: Array.from(d.A), b: Array.from(d.b) }])),
    };
  } catch (e) {
    if (e instanceof MtlError) throw e.within(`data.${sourceName}`);
    throw e;
  }
}

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
 */
export function buildVaeRun(
  config: MtlConfigOf<'vae'>,
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

  return {
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

/** The metrics `mtl compare` reports for VAE tasks. */
const COMPARED = ['recon_mse', 'neg_elbo'] as const;

/**
 * `mtl compare` for a VAE config: three models with the same training budget, scored on the test
 * split (valid, else train, when there is none):
 * - `multitask`: the config as written, with the N(0, I) prior;
 * - `mixture`: the same modules with the mixture prior; the encoder's last module becomes per-task
 *   when it was shared (a shared encoder would make every component equal to q_t itself);
 *   left out for a VQ latent, which has no Gaussian posterior to mix;
 * - `solo`: one VAE per task (the config restricted to that task).
 * Δm is over held-out recon_mse and neg_elbo of multitask vs solo (neg_elbo only when every solo
 * value is positive, since a relative change is meaningless around 0).
 */
export async function compareVae(options: {
  args: CompareArgs;
  loaded: LoadedConfig;
  outDir: string;
  train: (args: TrainArgs) => Promise<TrainResult>;
  write: (line: string) => void;
}): Promise<Comparison & { mixture?: Record<string, number> }> {
  const { args, loaded, outDir, train, write } = options;
  const model = loaded.config.model;
  if (model.kind !== 'vae') throw new MtlError('INTERNAL', 'not a vae config', { place: 'compareVae' });
  const common = { config: args.config, backend: args.backend, quiet: true, write };
  const set = args.set ?? [];
  const say = (line: string) => {
    if (!args.quiet) write(line);
  };
  say('multitask run (shared modules, N(0, I) prior) ...');
  const mt = await train({
    ...common,
    set: [...set, 'model.prior=standardNormal'],
    out: join(outDir, 'multitask'),
  });
  let mix: TrainResult | undefined;
  if (model.quantizer === undefined && Object.keys(loaded.config.tasks).length > 1) {
    const encoder = chainOf(model.encoder);
    const head = encoder[encoder.length - 1]!;
    const perTask = model.perTask.includes(head) ? model.perTask : [...model.perTask, head];
    say(`mixture-prior run (per-task ${head}) ...`);
    mix = await train({
      ...common,
      set: [...set, 'model.prior=mixture', `model.perTask=[${perTask.join(', ')}]`],
      out: join(outDir, 'mixture'),
    });
  }
  const { solo, soloRuns } = await trainSoloRuns(
    train,
    { ...common, set },
    Object.keys(loaded.config.tasks),
    outDir,
    say,
  );
  const split = comparedSplit(mt.scores);
  const keys = Object.keys(mt.scores).filter((k) => {
    const p = parseScoreKey(k);
    return p.split === split && (COMPARED as readonly string[]).includes(p.metric) && k in solo;
  });
  const positive = keys.every((k) => parseScoreKey(k).metric !== 'neg_elbo' || solo[k]! > 0);
  const metrics = positive ? [...COMPARED] : ['recon_mse'];
  const pick = (s: Record<string, number>) => Object.fromEntries(keys.map((k) => [k, s[k]!]));
  const improvement = multitaskImprovement(pick(mt.scores), pick(solo), {
    split,
    metrics,
    higherIsBetter: VAE_METRIC_DIRECTIONS,
  });
  const comparison: Comparison & { mixture?: Record<string, number> } = {
    split,
    multitask: mt.scores,
    solo,
    deltaM: improvement.deltaM,
    perTask: improvement.perTask,
    perKey: improvement.perKey,
    runs: { multitask: mt.runDir, solo: soloRuns },
    ...(mix === undefined ? {} : { mixture: mix.scores }),
  };
  if (!args.quiet) {
    write('');
    write(formatVaeComparison(comparison, split));
    write(
      `Δm (${split}, ${metrics.join(', ')}; multitask vs solo): ${(improvement.deltaM * 100).toFixed(2)}%`,
    );
  }
  return comparison;
}

/**
 * The table `mtl compare` prints for VAE configs: per task, held-out recon_mse and neg_elbo of
 * the multitask, mixture-prior and solo models, and the difference multitask − solo (negative =
 * multitask better, since both are lower-is-better). The mixture model's neg_elbo is under its
 * own (input-dependent) prior; `neg_elbo_std_normal` is its bound under N(0, I), comparable with
 * the others.
 */
export function formatVaeComparison(
  c: { multitask: Record<string, number>; solo: Record<string, number>; mixture?: Record<string, number> },
  split: string,
): string {
  const rows: string[][] = [
    ['task', 'metric', 'multitask', ...(c.mixture ? ['mixture'] : []), 'solo', 'mt − solo'],
  ];
  // One row group per task/dataset of the split, in the order of their `task/dataset` text.
  const byPair = new Map<string, { task: string; dataset: string }>();
  for (const p of Object.keys(c.solo).map(parseScoreKey)) {
    if (p.split === split) byPair.set(`${p.task}/${p.dataset}`, p);
  }
  const tasks = [...byPair.keys()].sort().map((k) => byPair.get(k)!);
  let wins = 0;
  for (const { task, dataset } of tasks) {
    for (const metric of [...COMPARED, ...(c.mixture ? ['neg_elbo_std_normal'] : [])]) {
      const key = scoreKey(task, dataset, split, metric);
      const mt = c.multitask[key];
      const so = c.solo[key];
      const mx = c.mixture?.[key];
      const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(4));
      rows.push([
        task,
        metric,
        fmt(mt),
        ...(c.mixture ? [fmt(mx)] : []),
        fmt(so),
        mt !== undefined && so !== undefined ? (mt - so).toFixed(4) : '-',
      ]);
      if (metric === 'neg_elbo' && mt !== undefined && so !== undefined && mt < so) wins++;
    }
  }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, j) => cell.padEnd(widths[j]!))
      .join('  ')
      .trimEnd(),
  );
  lines.push(`multitask better than solo on ${split} neg_elbo for ${wins} of ${tasks.length} tasks`);
  return lines.join('\n');
}
