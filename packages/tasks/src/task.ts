import { listNames, MtlError } from '@mtl/core';
import { Scorer, type ScorerConfig, type ScorerOptions } from '@mtl/scoring';
import { TASK_KINDS, type TaskKind, type TaskLossFn, type TaskOutputFn } from './internal/kinds.js';
import type { Module } from './module.js';
import { INPUT_SOURCE, Operation, type OperationOptions, type OperationSpec } from './operation.js';

export { TASK_KINDS, type TaskKind, type TaskLossFn, type TaskOutputFn } from './internal/kinds.js';

/**
 * Options of {@link Task}.
 * @example
 * const options: TaskOptions = { name: 'square_task', modulePool: { base_mlp, square_head }, opSequence: ops, weight: 0.5 };
 */
export interface TaskOptions {
  /** Unique in a model; part of score keys, so no '/'. */
  name: string;
  /** Modules by pool name; modules with the same name in two tasks of a model are one module. */
  modulePool: Record<string, Module> | ReadonlyMap<string, Module>;
  /** The flow; the last operation's output (one tensor) is the task's logits or values. */
  opSequence: readonly (Operation | OperationOptions)[];
  /** Default `multiclass`. */
  kind?: TaskKind;
  /** Key of the task's labels in `batch.Y`; default the task name. */
  label?: string;
  /** Replaces the kind's loss (per-row losses); must be passed again when loading a saved model. */
  loss?: TaskLossFn;
  /** Replaces the kind's output function; must be passed again when loading. */
  output?: TaskOutputFn;
  /**
   * A Scorer, or its options. Default: accuracy for the class kinds; mse (no abstain label) for
   * regression.
   */
  scorer?: Scorer | ScorerOptions;
  /** Weight of the task's loss parts in training (read by the trainer); default 1. */
  weight?: number;
  /**
   * The classes the task has (multiclass: C; binary: 2) or its labels (multilabel: L); not for
   * regression, whose target width the labels tell. When given, the last operation must output C
   * units (binary: one logit, multilabel: L) and class ids must lie in [0, C): both are checked at the
   * first forward pass or loss (DATA_SHAPE_MISMATCH / LABEL_OUT_OF_RANGE naming task and module).
   * Without it the width is checked against what the labels tell (soft rows, multi-label rows,
   * regression targets) and ids against the output width.
   */
  numClasses?: number;
}

/**
 * The JSON-able description of a task that saved models keep.
 * @example
 * task.toSpec().opSequence[0]; // { name: 'base_mlp', moduleName: 'base_mlp', inputs: [['_input_', 'circle_data']] }
 */
export interface TaskSpec {
  name: string;
  kind: TaskKind;
  label: string;
  weight: number;
  opSequence: OperationSpec[];
  /** Names of the modules in the task's pool. */
  modules: string[];
  scorer: ScorerConfig & { customMetrics: string[] };
  /** Absent in files saved before it existed, and when the task does not declare it. */
  numClasses?: number;
  customLoss: boolean;
  customOutput: boolean;
}

function defaultScorer(kind: TaskKind): Scorer {
  return kind === 'regression' ? new Scorer({ metrics: ['mse'], abstainLabel: null }) : new Scorer();
}

/**
 * A path through a pool of modules, with a loss, an output and a scorer. Validated at
 * construction: every operation names a module of the pool (UNKNOWN_MODULE), reads only
 * operations defined before it (CYCLE for a forward or self reference, INVALID_ARGUMENT for a name
 * no operation has), and operation names are unique (DUPLICATE_NAME).
 *
 * Kinds and labels (`batch.Y[label]`):
 * - `multiclass`: outputs `[B, C]` logits; labels class ids `[B]` (-1 = abstain) or probability
 *   rows `[B, C]` (a row with a negative entry abstains); softmax cross-entropy; softmax output.
 * - `binary`: outputs one logit `[B, 1]` (or `[B]`); labels ids `[B]` or rows `[B, 2]`; sigmoid
 *   cross-entropy; probabilities `[B, 2]`.
 * - `multilabel`: outputs `[B, L]`; labels `[B, L]` of 0/1 (or soft values; -1 = missing cell);
 *   sigmoid + binary cross-entropy per cell, averaged over labeled cells; probabilities `[B, L]`.
 * - `regression`: outputs `[B, k]` (or `[B]`); targets `[B]`/`[B, k]` (NaN = missing); squared
 *   error averaged over present values; identity output.
 * @example
 * const base = mlp({ inputSize: 2, hidden: [8, 4] });
 * const circleTask = new Task({
 *   name: 'circle_task',
 *   modulePool: { base_mlp: base, circle_head: dense({ inputSize: 4, units: 2 }) },
 *   opSequence: [
 *     new Operation({ moduleName: 'base_mlp', inputs: [['_input_', 'circle_data']] }),
 *     new Operation({ moduleName: 'circle_head', inputs: ['base_mlp'] }),
 *   ],
 * });
 */
export class Task {
  readonly name: string;
  readonly kind: TaskKind;
  readonly label: string;
  readonly weight: number;
  readonly opSequence: readonly Operation[];
  readonly modulePool: ReadonlyMap<string, Module>;
  readonly scorer: Scorer;
  readonly customLoss: TaskLossFn | undefined;
  readonly customOutput: TaskOutputFn | undefined;
  /** Declared classes (multiclass, binary) or labels (multilabel); see {@link TaskOptions.numClasses}. */
  readonly numClasses: number | undefined;
  /** The batch input fields the flow reads. */
  readonly inputFields: readonly string[];
  /**
   * Per operation, a key of what it computes: module and inputs, recursively. Two operations
   * (of any tasks) with equal keys compute the same tensor on a batch, so a forward pass runs it once.
   */
  readonly opKeys: readonly string[];

  constructor(options: TaskOptions) {
    const place = `task ${options?.name ?? '?'}`;
    if (options === null || typeof options !== 'object') {
      throw new MtlError('INVALID_ARGUMENT', 'expects {name, modulePool, opSequence, ...}', {
        place: 'task',
      });
    }
    const { name } = options;
    if (typeof name !== 'string' || name.length === 0 || name.includes('/')) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `a task name must be a non-empty string without '/' (it is part of score keys), got ${JSON.stringify(name)}`,
        { place: 'task' },
      );
    }
    const kind = options.kind ?? 'multiclass';
    if (!(TASK_KINDS as readonly string[]).includes(kind)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `kind must be one of ${listNames(TASK_KINDS)}, got ${JSON.stringify(kind)}`,
        {
          place,
        },
      );
    }
    const weight = options.weight ?? 1;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw new MtlError('INVALID_ARGUMENT', `weight must be a finite number >= 0, got ${weight}`, { place });
    }
    const label = options.label ?? name;
    if (typeof label !== 'string' || label.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'label must be a non-empty string', { place });
    }
    this.name = name;
    this.kind = kind;
    this.label = label;
    this.weight = weight;
    this.modulePool = readPool(options.modulePool, place);
    this.opSequence = readOps(options.opSequence, place);
    this.opKeys = validateFlow(this.opSequence, this.modulePool, place);
    this.inputFields = [
      ...new Set(
        this.opSequence.flatMap((op) =>
          op.inputs.flatMap((i) => (typeof i !== 'string' && i[0] === INPUT_SOURCE ? [String(i[1])] : [])),
        ),
      ),
    ];
    if (options.loss !== undefined && typeof options.loss !== 'function') {
      throw new MtlError('INVALID_ARGUMENT', 'loss must be a function', { place });
    }
    if (options.output !== undefined && typeof options.output !== 'function') {
      throw new MtlError('INVALID_ARGUMENT', 'output must be a function', { place });
    }
    this.customLoss = options.loss;
    this.customOutput = options.output;
    this.numClasses = readNumClasses(options.numClasses, kind, place);
    this.scorer =
      options.scorer === undefined
        ? defaultScorer(kind)
        : options.scorer instanceof Scorer
          ? options.scorer
          : new Scorer(options.scorer);
  }

  /** Name of the last operation (the task's output). */
  get outputOp(): string {
    return this.opSequence[this.opSequence.length - 1]!.name;
  }

  /** Pool name of the module of the last operation (the task's head). */
  get outputModule(): string {
    return this.opSequence[this.opSequence.length - 1]!.moduleName;
  }

  /** JSON-able description (custom loss/output/metric functions are recorded by presence only). */
  toSpec(): TaskSpec {
    return {
      name: this.name,
      kind: this.kind,
      label: this.label,
      weight: this.weight,
      opSequence: this.opSequence.map((op) => op.toJSON()),
      modules: [...this.modulePool.keys()],
      scorer: { ...this.scorer.getConfig(), customMetrics: [...this.scorer.customMetricNames] },
      ...(this.numClasses === undefined ? {} : { numClasses: this.numClasses }),
      customLoss: this.customLoss !== undefined,
      customOutput: this.customOutput !== undefined,
    };
  }
}

function readNumClasses(value: unknown, kind: TaskKind, place: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new MtlError('INVALID_ARGUMENT', `numClasses must be a positive integer, got ${String(value)}`, {
      place,
    });
  }
  if (kind === 'regression') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      'a regression task has no classes (its targets tell the output width): remove numClasses',
      { place },
    );
  }
  if (kind === 'binary' && value !== 2) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `a binary task has 2 classes, got numClasses ${value} (use kind 'multiclass' for ${value} classes)`,
      { place },
    );
  }
  return value;
}

function readPool(pool: TaskOptions['modulePool'], place: string): ReadonlyMap<string, Module> {
  const entries: [string, Module][] =
    pool instanceof Map ? [...pool] : pool !== null && typeof pool === 'object' ? Object.entries(pool) : [];
  if (entries.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'modulePool must hold at least one module', { place });
  }
  for (const [name, module] of entries) {
    if (
      module === null ||
      typeof module !== 'object' ||
      typeof (module as Module).apply !== 'function' ||
      typeof (module as Module).build !== 'function'
    ) {
      throw new MtlError('INVALID_ARGUMENT', `modulePool.${name} is not a Module`, { place });
    }
  }
  return new Map(entries);
}

function readOps(ops: TaskOptions['opSequence'], place: string): Operation[] {
  if (!Array.isArray(ops) || ops.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'opSequence must be a non-empty list of operations', { place });
  }
  return ops.map((op: Operation | OperationOptions, i: number) => {
    try {
      return op instanceof Operation ? op : new Operation(op);
    } catch (e) {
      throw e instanceof MtlError ? e.within(`${place} opSequence[${i}]`) : e;
    }
  });
}

/** Checks the flow and returns each operation's computation key. */
function validateFlow(ops: readonly Operation[], pool: ReadonlyMap<string, Module>, place: string): string[] {
  const index = new Map<string, number>();
  ops.forEach((op, i) => {
    const prior = index.get(op.name);
    if (prior !== undefined) {
      throw new MtlError(
        'DUPLICATE_NAME',
        `opSequence[${i}] and opSequence[${prior}] are both named "${op.name}" (give one a name)`,
        { place },
      );
    }
    index.set(op.name, i);
  });
  const keys: string[] = [];
  ops.forEach((op, i) => {
    const opPlace = `${place} opSequence[${i}] (${op.name})`;
    if (!pool.has(op.moduleName)) {
      throw new MtlError(
        'UNKNOWN_MODULE',
        `unknown module "${op.moduleName}" (modules of the task: ${listNames(pool.keys())})`,
        { place: opPlace, details: { task: place, op: i, known: [...pool.keys()] } },
      );
    }
    const inputKeys = op.inputs.map((input) => {
      const [source, key] = typeof input === 'string' ? [input, undefined] : input;
      if (source === INPUT_SOURCE) return `${INPUT_SOURCE}.${String(key)}`;
      const j = index.get(source);
      if (j === undefined) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `reads "${source}", which no operation of the task is named (operations: ${listNames(index.keys())})`,
          { place: opPlace },
        );
      }
      if (j >= i) {
        throw new MtlError(
          'CYCLE',
          `reads "${source}", which is ${j === i ? 'itself' : `defined later (opSequence[${j}])`}; an operation reads only earlier ones`,
          { place: opPlace },
        );
      }
      return key === undefined ? keys[j]! : `${keys[j]!}[${JSON.stringify(key)}]`;
    });
    keys.push(`${op.moduleName}(${inputKeys.join(',')})`);
  });
  return keys;
}
