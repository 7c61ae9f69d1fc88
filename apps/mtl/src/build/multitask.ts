import { listNames, MtlError } from '@mtl/core';
import type { Scorer } from '@mtl/scoring';
import {
  type Module,
  type ModuleConfig,
  MultitaskModel,
  moduleFromConfig,
  Operation,
  type OperationInput,
  Task,
} from '@mtl/tasks';
import type { z } from 'zod';
import type { moduleSchema, taskSchema } from '../config/schema.js';
import type { TaskData } from './data.js';

type TaskConfig = z.infer<typeof taskSchema>;
type ModuleConfigEntry = z.infer<typeof moduleSchema>;
type OpConfig = NonNullable<TaskConfig['ops']>[number];

interface ExpandedOp {
  name: string;
  moduleName: string;
  inputs: OperationInput[];
}

/**
 * Expands a task's `ops` into full operations, checking names in config terms first so the error
 * names the config path: a module name alone reads the previous operation (the first reads the
 * task's input fields); an input must be the task's input, or an operation defined earlier.
 */
export function expandOps(
  taskName: string,
  ops: readonly OpConfig[] | undefined,
  inputs: readonly string[],
  modules: Readonly<Record<string, unknown>>,
): ExpandedOp[] {
  const place = `tasks.${taskName}.ops`;
  if (ops === undefined || ops.length === 0) {
    throw new MtlError('CONFIG_INVALID', 'a multitask model needs an operation sequence ("ops")', { place });
  }
  const known = Object.keys(modules);
  const defined: string[] = [];
  const out: ExpandedOp[] = [];
  ops.forEach((op, i) => {
    const at = `${place}[${i}]`;
    const moduleName = typeof op === 'string' ? op : op.module;
    if (!(moduleName in modules)) {
      throw new MtlError('UNKNOWN_MODULE', `unknown module "${moduleName}" (known: ${listNames(known)})`, {
        place: typeof op === 'string' ? at : `${at}.module`,
      });
    }
    const name = typeof op === 'string' ? op : (op.name ?? op.module);
    if (defined.includes(name)) {
      throw new MtlError('DUPLICATE_NAME', `operation "${name}" is defined twice; give one a "name"`, {
        place: at,
      });
    }
    let opInputs: OperationInput[];
    if (typeof op === 'string' || op.inputs === undefined) {
      opInputs = i === 0 ? inputs.map((f) => ['_input_', f] as const) : [out[i - 1]!.name];
    } else {
      opInputs = op.inputs.map((input, j) => {
        const source = typeof input === 'string' ? input : input[0];
        if (source === '_input_') {
          const field = typeof input === 'string' ? undefined : input[1];
          if (typeof field !== 'string' || !inputs.includes(field)) {
            throw new MtlError(
              'UNKNOWN_FIELD',
              `"_input_" must name one of the task's input fields (${listNames(inputs)})`,
              { place: `${at}.inputs[${j}]` },
            );
          }
          return input;
        }
        if (!defined.includes(source)) {
          const later = ops.some(
            (o, k) => k >= i && (typeof o === 'string' ? o : (o.name ?? o.module)) === source,
          );
          throw new MtlError(
            'CYCLE',
            later
              ? `operation "${name}" reads "${source}", which is defined at or after it: operations may only read earlier ones`
              : `operation "${name}" reads "${source}", which no earlier operation defines (defined: ${listNames(defined)})`,
            { place: `${at}.inputs[${j}]` },
          );
        }
        return input;
      });
    }
    defined.push(name);
    out.push({ name, moduleName, inputs: opInputs });
  });
  return out;
}

/** A module of the config as @mtl/tasks' registry config (`kind` → `type`); the seed keeps init reproducible. */
export function moduleConfigOf(entry: ModuleConfigEntry, seed: number): ModuleConfig {
  const { kind, ...rest } = entry;
  const config: ModuleConfig = { type: kind, ...rest };
  if (kind === 'dense' || kind === 'mlp' || kind === 'embedding') config.seed = seed;
  return config;
}

/** Parameters a module config would allocate (so absurd sizes fail before any allocation). */
export function parameterCount(entry: ModuleConfigEntry): number {
  switch (entry.kind) {
    case 'dense':
      return entry.inputSize * entry.units + (entry.useBias === false ? 0 : entry.units);
    case 'mlp': {
      const sizes = [
        entry.inputSize,
        ...entry.hidden,
        ...(entry.outputSize === undefined ? [] : [entry.outputSize]),
      ];
      let n = 0;
      for (let i = 1; i < sizes.length; i++) n += sizes[i - 1]! * sizes[i]! + sizes[i]!;
      return n;
    }
    case 'layerNorm':
      return 2 * entry.size;
    case 'embedding':
      return entry.vocabSize * entry.dim;
    default:
      return 0;
  }
}

/** The largest model `mtl` builds: 10^8 parameters (400 MB of float32 weights, before optimizer state). */
export const MAX_PARAMETERS = 1e8;

export interface BuiltMultitask {
  model: MultitaskModel;
  /** Module names in use, in first-use order. */
  modules: string[];
}

/**
 * Builds the multitask model: one module object per config name (so tasks listing the same name
 * share it), one Task per config task.
 */
export function buildMultitaskModel(
  tasks: Readonly<Record<string, TaskConfig>>,
  taskData: Readonly<Record<string, TaskData>>,
  modules: Readonly<Record<string, ModuleConfigEntry>>,
  seed: number,
  /** Scorers that replace a task's default (e.g. scoring regression in the label's original units). */
  scorers: Readonly<Record<string, Scorer>> = {},
): BuiltMultitask {
  const built = new Map<string, Module>();
  const order: string[] = [];
  const taskObjects: Task[] = [];
  for (const [taskName, task] of Object.entries(tasks)) {
    const data = taskData[taskName]!;
    const ops = expandOps(taskName, task.ops, data.inputs, modules);
    const pool: Record<string, Module> = {};
    for (const op of ops) {
      let module = built.get(op.moduleName);
      if (module === undefined) {
        const count = parameterCount(modules[op.moduleName]!);
        if (count > MAX_PARAMETERS) {
          throw new MtlError(
            'CONFIG_INVALID',
            `this module would have ${count.toExponential(2)} parameters (at most ${MAX_PARAMETERS.toExponential(0)})`,
            { place: `modules.${op.moduleName}` },
          );
        }
        module = moduleFromConfig(moduleConfigOf(modules[op.moduleName]!, seed), `modules.${op.moduleName}`);
        built.set(op.moduleName, module);
        order.push(op.moduleName);
      }
      pool[op.moduleName] = module;
    }
    try {
      taskObjects.push(
        new Task({
          name: taskName,
          modulePool: pool,
          opSequence: ops.map((op) => new Operation(op)),
          kind: task.kind,
          label: data.label,
          weight: task.weight,
          ...(task.metrics === undefined
            ? {}
            : {
                scorer: {
                  metrics: task.metrics,
                  ...(task.kind === 'regression' ? { abstainLabel: null } : {}),
                },
              }),
          ...(scorers[taskName] === undefined ? {} : { scorer: scorers[taskName] }),
        }),
      );
    } catch (e) {
      throw e instanceof MtlError ? e.within(`tasks.${taskName}`) : e;
    }
  }
  return { model: new MultitaskModel(taskObjects, { seed }), modules: order };
}
