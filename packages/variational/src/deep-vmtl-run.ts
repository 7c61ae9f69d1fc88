import { join } from 'node:path';
import { listNames, MtlError, type RandomStream } from '@mtl/core';
import { disposeBatch, StackedLoader } from '@mtl/data';
import {
  atModulePath,
  checkParameterCount,
  fieldShapes,
  type Module,
  moduleConfigOf,
  moduleFromConfig,
  type RunModel,
  type WarmStart,
} from '@mtl/tasks';
import {
  DeepVmtlModel,
  type KlAnneal,
  registerVariationalModules,
  type TemperatureSpec,
} from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { MtlConfigOf, taskSchemas, vmtlModelSchema } from '../config/schema.js';
import type { TaskData } from './data.js';
import { MODEL_FILE } from './multitask-run.js';
import { allRows, firstRows } from './rows.js';

type VmtlConfig = z.infer<typeof vmtlModelSchema>;
type TaskConfig = z.infer<typeof taskSchemas.vmtl>;

/** The trunk of a deep VMTL task: its `ops` as a chain of module names (each op reads the previous one). */
function trunkOf(name: string, task: TaskConfig, modules: Readonly<Record<string, unknown>>): string[] {
  return task.ops!.map((op, i) => {
    const at = `tasks.${name}.ops[${i}]`;
    if (typeof op !== 'string' && (op.inputs !== undefined || op.name !== undefined)) {
      throw new MtlError(
        'CONFIG_INVALID',
        'a vmtl trunk is a chain of module names (each reads the previous one): write the module name alone',
        { place: at },
      );
    }
    const module = typeof op === 'string' ? op : op.module;
    if (!(module in modules)) {
      throw new MtlError(
        'UNKNOWN_MODULE',
        `unknown module "${module}" (known: ${listNames(Object.keys(modules))})`,
        { place: at },
      );
    }
    return module;
  });
}

/**
 * Adapter of @mtl/variational's DeepVmtlModel for the commands: every task's `ops` is its
 * deterministic trunk from the top-level `modules` (shared by name), followed by the task's own
 * Gaussian latent (`model.latentDim`) and Bayesian classifier over its label's classes (or a
 * regression). The solo baseline (`prior: standardNormal`) gives each task its own trunk copy.
 */
export function buildDeepVmtlRun(
  config: MtlConfigOf<'vmtl'>,
  modelConfig: VmtlConfig,
  tasks: Readonly<Record<string, TaskConfig>>,
  taskData: Readonly<Record<string, TaskData>>,
  rng: RandomStream,
): RunModel {
  registerVariationalModules();
  const names = Object.keys(tasks);
  const moduleEntries = config.modules;
  let outputSize: number | undefined;
  let regression: boolean | undefined;
  const specs = names.map((name) => {
    const task = tasks[name]!;
    const data = taskData[name]!;
    if (task.ops === undefined) {
      throw new MtlError(
        'CONFIG_INVALID',
        'in a deep vmtl model (some task has "ops") every task needs "ops"',
        {
          place: `tasks.${name}.ops`,
        },
      );
    }
    if (data.inputs.length !== 1) {
      throw new MtlError('CONFIG_INVALID', 'a vmtl task reads exactly one input field', {
        place: `tasks.${name}.input`,
      });
    }
    const info = Object.values(data.splits)[0]!.labelInfo(data.label);
    const isRegression = info.kind === 'regression';
    const width = isRegression ? 1 : info.numClasses;
    if (!isRegression && (info.kind !== 'class' || width === undefined)) {
      throw new MtlError(
        'CONFIG_INVALID',
        `label "${data.label}" must be a class label with a known number of classes, or a regression label (got kind ${info.kind})`,
        { place: `tasks.${name}.label` },
      );
    }
    if (outputSize !== undefined && (width !== outputSize || isRegression !== regression)) {
      throw new MtlError(
        'CONFIG_INVALID',
        `every vmtl task predicts the same kind and number of outputs (the priors mix classifiers across tasks): ${width} vs ${outputSize}`,
        { place: `tasks.${name}.label` },
      );
    }
    outputSize = width!;
    regression = isRegression;
    return {
      name,
      dataset: data.datasetName,
      trainSize: data.splits.train!.length,
      label: data.label,
      inputField: data.inputs[0]!,
      trunk: trunkOf(name, task, moduleEntries),
    };
  });
  const used = [...new Set(specs.flatMap((s) => s.trunk))];
  const modules: Record<string, Module> = {};
  for (const m of used) {
    modules[m] = moduleFromConfig(moduleConfigOf(moduleEntries[m]!, config.seed), `modules.${m}`);
  }
  const shapes: Record<string, (number | null)[]> = {};
  for (const name of names) Object.assign(shapes, fieldShapes(taskData[name]!));
  const anneal = (v: VmtlConfig['latentKlWeight'] | undefined): KlAnneal | undefined =>
    v === undefined || typeof v === 'number'
      ? v
      : (Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as KlAnneal);
  let model: DeepVmtlModel;
  try {
    model = new DeepVmtlModel({
      tasks: specs,
      modules,
      inputShapes: shapes,
      latentDim: modelConfig.latentDim,
      outputSize: outputSize!,
      likelihood: regression ? 'normal' : 'categorical',
      prior: modelConfig.prior,
      shareTrunk: modelConfig.prior === 'mixture',
      classifierSamples: modelConfig.classifierSamples,
      latentSamples: modelConfig.latentSamples,
      klSamples: modelConfig.klSamples,
      classifierKl: modelConfig.classifierKl,
      latentKl: modelConfig.latentKl,
      latentStandardWeight: modelConfig.latentStandardWeight,
      detachPrior: modelConfig.detachPrior,
      klWeight: {
        classifier: anneal(modelConfig.classifierKlWeight) ?? modelConfig.klWeight,
        latent: anneal(modelConfig.latentKlWeight)!,
      },
      gumbelNoise: modelConfig.gumbelNoise,
      predictiveSamples: modelConfig.predictiveSamples,
      predictWith: modelConfig.predictWith,
      seed: config.seed,
      ...(modelConfig.mixingInit === undefined
        ? {}
        : { alphaInit: modelConfig.mixingInit, betaInit: modelConfig.mixingInit }),
      ...(modelConfig.classifierLogScaleInit === undefined
        ? {}
        : { classifierLogScaleInit: modelConfig.classifierLogScaleInit }),
      ...(modelConfig.latentLogScaleInit === undefined
        ? {}
        : { latentLogScaleInit: modelConfig.latentLogScaleInit }),
      ...(modelConfig.temperature === undefined
        ? {}
        : {
            temperature:
              typeof modelConfig.temperature === 'number'
                ? modelConfig.temperature
                : (Object.fromEntries(
                    Object.entries(modelConfig.temperature).filter(([, v]) => v !== undefined),
                  ) as TemperatureSpec),
          }),
    });
  } catch (e) {
    for (const m of Object.values(modules)) if (m.isBuilt) m.dispose();
    throw atModulePath(e, (m) => `modules.${m.includes('.') ? m.slice(m.indexOf('.') + 1) : m}`);
  }
  for (const [name, m] of model.modules.modules) checkParameterCount(m, `modules.${name}`);
  const predictSeed = rng.childSeed('predictive');
  const splits = [...new Set(names.flatMap((n) => Object.keys(taskData[n]!.splits)))];
  const scoreSplit = (split: string): Record<string, number> => {
    const batches = names.flatMap((n) => {
      const ds = taskData[n]!.splits[split];
      return ds === undefined ? [] : [allRows(ds)];
    });
    try {
      return batches.length === 0 ? {} : model.score(batches, { seed: predictSeed });
    } finally {
      disposeBatch(batches);
    }
  };

  return {
    kind: 'vmtl',
    trainable: model,
    taskNames: names,
    moduleNames: () => model.modules.names(),
    trainSource: () =>
      new StackedLoader(
        names.map((n) => taskData[n]!.splits.train!),
        {
          batchSize: config.training.batchSize,
          shuffle: config.training.shuffle,
          seed: rng.childSeed('stacked'),
        },
      ),
    async checkSplit(split) {
      const has = (n: string) => (taskData[n]!.splits[split]?.length ?? 0) > 0;
      if (!names.some(has)) return;
      const step = names.map((n) =>
        firstRows(taskData[n]!.splits[has(n) ? split : 'train']!, config.training.batchSize),
      );
      try {
        tf.tidy(() => {
          model.loss(step, { step: 0, epoch: 0, seed: 0, training: false });
        });
        model.score(step.filter((_, t) => has(names[t]!)));
      } catch (e) {
        if (e instanceof MtlError) throw e;
        throw new MtlError(
          'SHAPE_MISMATCH',
          `the model does not fit the ${split} split: ${(e as Error).message.split('\n')[0]}`,
          { place: 'tasks', cause: e },
        );
      } finally {
        disposeBatch(step);
      }
    },
    evaluate: async (split) => scoreSplit(split),
    async scoreAll() {
      const out: Record<string, number> = {};
      for (const split of splits) Object.assign(out, scoreSplit(split));
      return out;
    },
    save: (dir) => model.save(join(dir, MODEL_FILE)),
    warmStart: (dir): Promise<WarmStart> =>
      model.loadWeights(join(dir, MODEL_FILE), { onMismatch: 'reinit' }),
    async load(dir) {
      await model.loadWeights(join(dir, MODEL_FILE), { onMismatch: 'error' });
    },
    async predict(task, dataset) {
      const batch = allRows(dataset);
      const field = specs.find((s) => s.name === task)!.inputField;
      try {
        const p = model.predict(task, batch.X[field]!, { seed: predictSeed });
        try {
          if (regression) {
            const mean = p.mean!.dataSync();
            const variance = p.variance!.dataSync();
            return {
              probs: Array.from(mean, (m, i) => Float32Array.of(m, variance[i]!)),
              columns: ['value_0', 'variance'],
            };
          }
          const K = outputSize!;
          const probs = p.probs!.dataSync();
          const entropy = p.entropy!.dataSync();
          const rows: Float32Array[] = [];
          const preds: number[] = [];
          for (let r = 0; r < entropy.length; r++) {
            const row = new Float32Array(K + 1);
            let best = 0;
            for (let c = 0; c < K; c++) {
              row[c] = probs[r * K + c]!;
              if (row[c]! > row[best]!) best = c;
            }
            row[K] = entropy[r]!;
            rows.push(row);
            preds.push(best);
          }
          return {
            probs: rows,
            preds,
            columns: [...Array.from({ length: K }, (_, c) => `prob_${c}`), 'entropy'],
          };
        } finally {
          tf.dispose(Object.values(p));
        }
      } finally {
        disposeBatch(batch);
      }
    },
    mixing: () => {
      const m = model.mixing();
      return m.alpha === null ? null : { tasks: names, alpha: m.alpha, beta: m.beta };
    },
    dispose: () => model.dispose(),
  };
}
