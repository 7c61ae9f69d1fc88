import { listNames, MtlError, type RandomStream } from '@mtl/core';
import { disposeBatch } from '@mtl/data';
import {
  allRows,
  atModulePath,
  checkParameterCount,
  fieldShapes,
  type Module,
  moduleConfigOf,
  moduleFromConfig,
  type RunModel,
  type TaskData,
} from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { registerVariationalModules } from './bayesian-linear.js';
import { DeepVmtlModel, type KlAnneal } from './deep-vmtl.js';
import { stackedRunParts, withoutUndefined } from './stacked-run.js';
import type { TemperatureSpec } from './temperature.js';
import type { VmtlRunConfig, VmtlRunModelOptions, VmtlTaskEntry } from './vmtl-run.js';

type TaskConfig = VmtlTaskEntry;

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
 * The run protocol ({@link RunModel}) of a DeepVmtlModel: every task's `ops` is its
 * deterministic trunk from `config.modules` (shared by name), followed by the task's own Gaussian
 * latent (`model.latentDim`) and Bayesian classifier over its label's classes (or a regression).
 * The solo baseline (`prior: standardNormal`) gives each task its own trunk copy (`shareTrunk`
 * overrides it). `prebuilt` modules (by name, e.g. a `layers` encoder) replace their config entry. Errors name
 * config paths (`tasks.<name>.ops[i]`, `modules.<name>`).
 * @example
 * const run = buildDeepVmtlRun({ modules: { trunk }, seed: 1, training }, model, { a: { ops: ['trunk'] } }, taskData, rng);
 */
export function buildDeepVmtlRun(
  config: VmtlRunConfig,
  modelConfig: VmtlRunModelOptions,
  tasks: Readonly<Record<string, TaskConfig>>,
  taskData: Readonly<Record<string, TaskData>>,
  rng: RandomStream,
  prebuilt: Readonly<Record<string, Module>> = {},
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
    // Modules no config can make (the `layers` kind, loaded asynchronously) come built by the caller.
    modules[m] =
      prebuilt[m] ?? moduleFromConfig(moduleConfigOf(moduleEntries[m]!, config.seed), `modules.${m}`);
  }
  const shapes: Record<string, (number | null)[]> = {};
  for (const name of names) Object.assign(shapes, fieldShapes(taskData[name]!));
  const anneal = (v: VmtlRunModelOptions['latentKlWeight'] | undefined): KlAnneal | undefined =>
    withoutUndefined(v) as KlAnneal | undefined;
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
      shareTrunk: modelConfig.shareTrunk ?? modelConfig.prior === 'mixture',
      classifierSamples: modelConfig.classifierSamples,
      latentSamples: modelConfig.latentSamples,
      klSamples: modelConfig.klSamples,
      classifierKl: modelConfig.classifierKl,
      latentKl: modelConfig.latentKl,
      latentStandardWeight: modelConfig.latentStandardWeight,
      ...(modelConfig.classifierStandardComponent === undefined
        ? {}
        : { classifierStandardComponent: modelConfig.classifierStandardComponent }),
      ...(modelConfig.latentPriorInputs === undefined
        ? {}
        : { latentPriorInputs: modelConfig.latentPriorInputs }),
      ...(modelConfig.shareLatent === undefined ? {} : { shareLatent: modelConfig.shareLatent }),
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
        : { temperature: withoutUndefined(modelConfig.temperature) as number | TemperatureSpec }),
    });
  } catch (e) {
    for (const m of Object.values(modules)) if (m.isBuilt) m.dispose();
    throw atModulePath(e, (m) => `modules.${m.includes('.') ? m.slice(m.indexOf('.') + 1) : m}`);
  }
  for (const [name, m] of model.modules.modules) checkParameterCount(m, `modules.${name}`);
  const predictSeed = rng.childSeed('predictive');

  return {
    ...stackedRunParts(model, names, taskData, config.training, rng, predictSeed),
    moduleNames: () => model.modules.names(),
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
  };
}
