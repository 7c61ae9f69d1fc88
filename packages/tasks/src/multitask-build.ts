import { listNames, MtlError } from '@mtl/core';
import { type DictDataset, vocabularySize } from '@mtl/data';
import type { MetricSpec, Scorer } from '@mtl/scoring';
import type { Module, ModuleConfig } from './module.js';
import { moduleFromConfig, registeredModuleKinds } from './module-registry.js';
import { MultitaskModel } from './multitask-model.js';
import { Operation, type OperationInput } from './operation.js';
import { labelScalerOf, OriginalUnitsScorer } from './original-units.js';
import { checkPerTaskReads } from './per-task-outputs.js';
import { inferShapes, type RowShape } from './shape-inference.js';
import { type SliceAwareOptions, sliceAwareTasks, sliceTaskNames } from './slice-aware.js';
import { Task, type TaskKind } from './task.js';
import type { TaskData } from './task-data.js';

/**
 * A module by its options: a registered kind (`kind`) and that kind's options (its zod schema
 * checks them when the module is made). The `mtl` config's `modules.<name>` entries are these.
 * @example
 * const trunk: ModuleEntry = { kind: 'mlp', hidden: [8, 4] };
 */
export interface ModuleEntry {
  kind: string;
  [option: string]: unknown;
}

/**
 * One operation of a task as written: a module name (reads the previous operation; the first reads
 * the task's inputs), or the module with an operation name and inputs.
 * @example
 * const ops: OpEntry[] = ['trunk', { module: 'head', inputs: ['trunk'] }];
 */
export type OpEntry =
  | string
  | { name?: string | undefined; module: string; inputs?: readonly OperationInput[] | undefined };

/**
 * A task of a multitask model by its options (the `mtl` config's `tasks.<name>` of model kind
 * multitask has these fields, and data fields the app resolves into a {@link TaskData}).
 * @example
 * const task: MultitaskTaskEntry = { kind: 'multiclass', ops: ['trunk', 'circle_head'], weight: 1 };
 */
export interface MultitaskTaskEntry {
  kind: TaskKind;
  ops?: readonly OpEntry[] | undefined;
  weight: number;
  metrics?: readonly MetricSpec[] | undefined;
  /**
   * Makes the task slice-aware ({@link sliceAwareTasks}): indicator and predictor tasks per slice
   * and an attention combiner before its head. Its data must carry the slice labels
   * ({@link withSliceLabels}).
   */
  sliceAware?: SliceAwareOptions | undefined;
}

type TaskConfig = MultitaskTaskEntry;
type ModuleConfigEntry = ModuleEntry;
type OpConfig = OpEntry;

/** A task's operation with every default filled in. */
export interface ExpandedOp {
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
  // `<module>.<key>` (a module of one output per task: `moe.<task>`) runs the module; the next
  // shorthand operation reads its entry `key`.
  let picked: string | undefined;
  ops.forEach((op, i) => {
    const at = `${place}[${i}]`;
    const pick = typeof op === 'string' ? splitPick(op, modules) : undefined;
    if (pick !== undefined && i === ops.length - 1) {
      throw new MtlError(
        'CONFIG_INVALID',
        `"${op}" picks one output of module "${pick.module}" but is the last operation: a head must follow it`,
        { place: at },
      );
    }
    const moduleName = pick?.module ?? (typeof op === 'string' ? op : op.module);
    if (!(moduleName in modules)) {
      throw new MtlError('UNKNOWN_MODULE', `unknown module "${moduleName}" (known: ${listNames(known)})`, {
        place: typeof op === 'string' ? at : `${at}.module`,
      });
    }
    const name = pick?.module ?? (typeof op === 'string' ? op : (op.name ?? op.module));
    if (defined.includes(name)) {
      throw new MtlError('DUPLICATE_NAME', `operation "${name}" is defined twice; give one a "name"`, {
        place: at,
      });
    }
    let opInputs: OperationInput[];
    if (typeof op === 'string' || op.inputs === undefined) {
      const previous = out[i - 1]?.name;
      opInputs =
        i === 0
          ? inputs.map((f) => ['_input_', f] as const)
          : picked === undefined
            ? [previous!]
            : [[previous!, picked] as const];
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
    picked = pick?.key;
  });
  return out;
}

/** `<module>.<key>` when the op is no module name but starts with one and a dot. */
function splitPick(
  op: string,
  modules: Readonly<Record<string, unknown>>,
): { module: string; key: string } | undefined {
  if (op in modules) return undefined;
  for (let at = op.lastIndexOf('.'); at > 0; at = op.lastIndexOf('.', at - 1)) {
    const module = op.slice(0, at);
    if (module in modules && at < op.length - 1) return { module, key: op.slice(at + 1) };
  }
  return undefined;
}

/**
 * A module of the config as @mtl/tasks' registry config (`kind` → `type`). A kind whose schema
 * has a `seed` option gets the config's seed, so that the saved module config rebuilds the same
 * initial weights on its own.
 */
export function moduleConfigOf(entry: ModuleConfigEntry, seed: number): ModuleConfig {
  // `lr` is the Trainer's (a learning-rate multiplier of the module's variables), not the module's.
  const { kind, lr: _lr, ...rest } = entry;
  const config: ModuleConfig = { type: kind, ...rest };
  const schema = registeredModuleKinds().find((k) => k.type === kind)?.schema;
  if (schema !== undefined && 'seed' in schema.shape) config.seed = seed;
  return config;
}

/**
 * Row shapes of a task's input fields, as @mtl/tasks' shape inference reads them: a padded
 * variable-length field's length varies between batches (`null`), and it brings its `<field>_mask`.
 */
export function fieldShapes(data: TaskData): Record<string, RowShape> {
  const ds: DictDataset | undefined = data.splits.train ?? Object.values(data.splits)[0];
  const shapes: Record<string, RowShape> = {};
  if (ds === undefined) return shapes;
  for (const field of ds.fieldNames) {
    const info = ds.fieldInfo(field);
    shapes[field] = info.ragged ? [null, ...info.rowShape.slice(1)] : info.rowShape;
    if (info.ragged && shapes[`${field}_mask`] === undefined) shapes[`${field}_mask`] = [null];
  }
  return shapes;
}

/**
 * A shape-inference error of @mtl/tasks or @mtl/vae placed at the config path of the module option
 * it is about (`modules.NAME.inputSize`), so the message names module, path, given and inferred widths.
 */
export function atModulePath(e: unknown, pathOf: (module: string) => string): unknown {
  if (!(e instanceof MtlError) || typeof e.details.module !== 'string') return e;
  const option = typeof e.details.option === 'string' ? `.${e.details.option}` : '';
  return new MtlError(e.code, e.reason, {
    place: `${pathOf(e.details.module)}${option}`,
    details: e.details,
    cause: e,
  });
}

/** Throws CONFIG_INVALID when a module (its sizes known) would allocate more than {@link MAX_PARAMETERS}. */
export function checkParameterCount(module: Module, place: string): void {
  const count = module.parameterCount?.() ?? 0;
  if (count > MAX_PARAMETERS) {
    throw new MtlError(
      'CONFIG_INVALID',
      `this module would have ${count.toExponential(2)} parameters (at most ${MAX_PARAMETERS.toExponential(0)})`,
      { place },
    );
  }
}

/** The largest model `mtl` builds: 10^8 parameters (400 MB of float32 weights, before optimizer state). */
export const MAX_PARAMETERS = 1e8;

/**
 * The class count the data declares (`classes` or `numClasses`; multi-label: the label columns), so
 * the Task refuses a head of another width instead of training it.
 */
function declaredClasses(kind: TaskConfig['kind'], data: TaskData): { numClasses?: number } {
  const info = Object.values(data.splits)[0]!.labelInfo(data.label);
  if (kind === 'multilabel') return info.rowShape.length === 1 ? { numClasses: info.rowShape[0]! } : {};
  if (kind === 'regression' || info.numClasses === undefined) return {};
  return { numClasses: info.numClasses };
}

export interface BuiltMultitask {
  model: MultitaskModel;
  /** Module names in use, in first-use order. */
  modules: string[];
}

/**
 * An `embedding` that reads a categorical or text field must have room for every id the fitted
 * vocabulary ({@link TaskData}'s `preprocessing`) gives: an id past `vocabSize` would silently
 * look up a zero vector. DATA_SHAPE_MISMATCH at `tasks.<task>.ops[i]`, naming the size to set.
 */
function checkEmbeddingVocabularies(
  tasks: Readonly<Record<string, TaskConfig>>,
  taskData: Readonly<Record<string, TaskData>>,
  modules: Readonly<Record<string, ModuleConfigEntry>>,
): void {
  for (const [taskName, task] of Object.entries(tasks)) {
    const data = taskData[taskName]!;
    const fitted = data.preprocessing;
    if (fitted === undefined || task.ops === undefined) continue;
    expandOps(taskName, task.ops, data.inputs, modules).forEach((op, i) => {
      const module = modules[op.moduleName];
      if (module?.kind !== 'embedding') return;
      const vocabSize = Number(module.vocabSize);
      for (const input of op.inputs) {
        if (typeof input === 'string' || input[0] !== '_input_') continue;
        const field = fitted.fields[String(input[1])];
        if (field === undefined || field.kind === 'scale') continue;
        const needed = vocabularySize(field);
        if (vocabSize < needed) {
          throw new MtlError(
            'DATA_SHAPE_MISMATCH',
            `module "${op.moduleName}" has vocabSize ${vocabSize}, but ${field.kind} field "${input[1]}" uses ${needed} ids (${field.tokens.length} fitted on the train split + ${needed - field.tokens.length} reserved): set vocabSize >= ${needed}`,
            { place: `tasks.${taskName}.ops[${i}]` },
          );
        }
      }
    });
  }
}

/**
 * Builds the multitask model: one module object per config name (so tasks listing the same name
 * share it), one Task per config task. A regression task whose {@link TaskData} carries a fitted
 * label scaler scores in the label's original units ({@link OriginalUnitsScorer}, its `metrics`
 * or `mse`); an embedding reading an encoded categorical or text field must cover its vocabulary.
 * @example
 * const { model, modules } = buildMultitaskModel(
 *   { y: { kind: 'regression', ops: ['net'], weight: 1, metrics: ['mse'] } },
 *   { y: { source: 't', datasetName: 't', splits, inputs: ['x'], label: 'y', preprocessing: fitted } },
 *   { net: { kind: 'mlp', hidden: [8], outputSize: 1 } },
 *   3,
 * );
 */
export function buildMultitaskModel(
  tasks: Readonly<Record<string, TaskConfig>>,
  taskData: Readonly<Record<string, TaskData>>,
  modules: Readonly<Record<string, ModuleConfigEntry>>,
  seed: number,
  /** Scorers that replace a task's default (and the original-units scorer of a scaled label). */
  scorers: Readonly<Record<string, Scorer>> = {},
  /** Modules made before (the `layers` kind, loaded asynchronously), by config name. */
  prebuilt: Readonly<Record<string, Module>> = {},
): BuiltMultitask {
  checkEmbeddingVocabularies(tasks, taskData, modules);
  const scorerOf = (name: string, task: TaskConfig): Scorer | undefined => {
    const given = scorers[name];
    if (given !== undefined) return given;
    const scaler = labelScalerOf(taskData[name]!);
    if (scaler === undefined || task.kind !== 'regression') return undefined;
    return new OriginalUnitsScorer({ metrics: task.metrics ?? ['mse'], abstainLabel: null }, scaler);
  };
  const built = new Map<string, Module>();
  const order: string[] = [];
  const taskObjects: Task[] = [];
  // The tasks a slice-aware task adds read its data.
  const dataOf = new Map<string, TaskData>();
  for (const [taskName, task] of Object.entries(tasks)) {
    const data = taskData[taskName]!;
    const ops = expandOps(taskName, task.ops, data.inputs, modules);
    const pool: Record<string, Module> = {};
    for (const op of ops) {
      let module = built.get(op.moduleName) ?? prebuilt[op.moduleName];
      if (module !== undefined && !built.has(op.moduleName)) {
        built.set(op.moduleName, module);
        order.push(op.moduleName);
      }
      if (module === undefined) {
        // Making a module allocates nothing: sizes are inferred and counted before the model builds it.
        module = moduleFromConfig(moduleConfigOf(modules[op.moduleName]!, seed), `modules.${op.moduleName}`);
        built.set(op.moduleName, module);
        order.push(op.moduleName);
      }
      pool[op.moduleName] = module;
    }
    const scorer = scorerOf(taskName, task);
    let taskObject: Task;
    try {
      taskObject = new Task({
        name: taskName,
        modulePool: pool,
        opSequence: ops.map((op) => new Operation(op)),
        kind: task.kind,
        label: data.label,
        weight: task.weight,
        ...declaredClasses(task.kind, data),
        ...(task.metrics === undefined
          ? {}
          : {
              scorer: {
                metrics: task.metrics,
                ...(task.kind === 'regression' ? { abstainLabel: null } : {}),
              },
            }),
        ...(scorer === undefined ? {} : { scorer }),
      });
    } catch (e) {
      throw e instanceof MtlError ? e.within(`tasks.${taskName}`) : e;
    }
    dataOf.set(taskName, data);
    if (task.sliceAware === undefined) {
      taskObjects.push(taskObject);
      continue;
    }
    const place = `tasks.${taskName}.sliceAware`;
    const names = sliceTaskNames(taskName, task.sliceAware.slices);
    const missing = Object.values(names.indicator).filter((l) => !Object.values(data.splits)[0]!.hasLabel(l));
    if (missing.length > 0) {
      throw new MtlError(
        'CONFIG_INVALID',
        `the data of task ${taskName} has no slice labels ${listNames(missing)}: add them with withSliceLabels`,
        { place },
      );
    }
    let sliceTasks: Task[];
    try {
      sliceTasks = sliceAwareTasks(taskObject, task.sliceAware, fieldShapes(data));
    } catch (e) {
      throw e instanceof MtlError
        ? new MtlError(e.code, e.reason, { place, details: e.details, cause: e })
        : e;
    }
    for (const t of sliceTasks) {
      taskObjects.push(t);
      dataOf.set(t.name, taskData[t.name] ?? data);
      for (const [name, module] of t.modulePool) {
        if (built.has(name)) continue;
        built.set(name, module);
        order.push(name);
      }
    }
  }
  const inputShapes = (task: string) => fieldShapes(dataOf.get(task) ?? taskData[task]!);
  try {
    checkPerTaskReads(taskObjects);
  } catch (e) {
    throw atPerTaskPath(e, tasks, modules);
  }
  try {
    inferShapes(taskObjects, inputShapes);
  } catch (e) {
    throw atModulePath(e, (m) => `modules.${m}`);
  }
  for (const [name, module] of built) checkParameterCount(module, `modules.${name}`);
  return { model: new MultitaskModel(taskObjects, { seed, inputShapes }), modules: order };
}

/** A per-task read error of @mtl/tasks at its config path (`tasks.<t>.ops[i]` or `modules.<m>.tasks`). */
function atPerTaskPath(
  e: unknown,
  tasks: Readonly<Record<string, TaskConfig>>,
  modules: Readonly<Record<string, unknown>>,
): unknown {
  if (!(e instanceof MtlError)) return e;
  const { task, index, module, option } = e.details as Record<string, unknown>;
  let place = `modules.${String(module)}.${String(option)}`;
  if (typeof task === 'string' && typeof index === 'number') {
    // A shorthand head after `<module>.<key>` reads the pick: the pick is what to fix.
    const before = tasks[task]?.ops?.[index - 1];
    const picked = typeof before === 'string' && splitPick(before, modules) !== undefined;
    place = `tasks.${task}.ops[${picked && typeof tasks[task]?.ops?.[index] === 'string' ? index - 1 : index}]`;
  }
  return new MtlError(e.code, e.reason, { place, details: e.details, cause: e });
}
