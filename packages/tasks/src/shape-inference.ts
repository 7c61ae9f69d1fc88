import { listNames, MtlError } from '@mtl/core';
import type { Module } from './module.js';
import { INPUT_SOURCE, type OperationInput } from './operation.js';
import type { Task } from './task.js';

/**
 * Shape of one row (no batch axis); `null` marks an axis whose size varies between batches (the
 * length of a padded variable-length field).
 * @example
 * const image: RowShape = [28, 28];
 * const tokens: RowShape = [null]; // padded to each batch's longest row
 */
export type RowShape = readonly (number | null)[];

/**
 * Row shape(s) of a module's output: one shape, a list (a module returning a list), or named
 * shapes (a module returning named tensors).
 * @example
 * const encoderOut: OutputShape = { loc: [2], logScale: [2], z: [2] };
 */
export type OutputShape = RowShape | readonly RowShape[] | { readonly [key: string]: RowShape };

/**
 * Row shapes of the input fields a task reads: one record for every task, or one per task name
 * (tasks reading equally named fields of different datasets).
 * @example
 * const shapes: InputShapes = { circle_data: [2] };
 * const perTask: InputShapes = (task) => (task === 'text_task' ? { text: [null], text_mask: [null] } : { x: [4] });
 */
export type InputShapes =
  | Readonly<Record<string, RowShape>>
  | ((task: string) => Readonly<Record<string, RowShape>> | undefined);

/**
 * The row shape a built-in single-input module sees: the inputs concatenated along the last axis
 * (the leading axes must agree). Scalar rows have no last axis to read: DATA_SHAPE_MISMATCH.
 * @example
 * concatRowShape([[4], [3]], 'dense'); // [7]
 */
export function concatRowShape(inputs: readonly RowShape[], place: string): RowShape {
  if (inputs.length === 0) throw new MtlError('INVALID_ARGUMENT', 'received no input', { place });
  const first = inputs[0]!;
  for (const shape of inputs) {
    if (shape.length === 0) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        'an input has scalar rows; this module reads the last axis of vector rows (give the field a list of columns)',
        { place },
      );
    }
    const lead = shape.slice(0, -1);
    const firstLead = first.slice(0, -1);
    if (
      lead.length !== firstLead.length ||
      lead.some((d, i) => d !== null && firstLead[i] !== null && d !== firstLead[i])
    ) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `inputs of row shapes ${inputs.map(fmt).join(', ')} cannot be concatenated along the last axis`,
        { place },
      );
    }
  }
  if (inputs.length === 1) return first;
  const widths = inputs.map((s) => s[s.length - 1]!);
  const width = widths.some((w) => w === null) ? null : widths.reduce((a, b) => a! + b!, 0);
  return [...first.slice(0, -1), width];
}

/**
 * An input-width option against the width the inputs have: the given value when it matches (or
 * the width is unknown), else the inferred width. A given value that differs is
 * DATA_SHAPE_MISMATCH with `details {option, given, inferred}`; nothing given and nothing to infer
 * from is CONFIG_INVALID.
 * @example
 * this.size = resolveSize(this.size, concatRowShape(inputs, 'dense').at(-1) ?? null, 'inputSize', 'dense');
 */
export function resolveSize(
  given: number | undefined,
  inferred: number | null,
  option: string,
  place: string,
): number {
  if (given === undefined) {
    if (inferred === null) {
      throw new MtlError(
        'CONFIG_INVALID',
        `${option} cannot be inferred: the input's last axis varies between batches; give ${option}`,
        { place, details: { option } },
      );
    }
    return inferred;
  }
  if (inferred !== null && given !== inferred) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `${option} is ${given} but the input has ${inferred} values per row (inferred from the data fields and the upstream modules); drop ${option} to infer it`,
      { place, details: { option, given, inferred } },
    );
  }
  return given;
}

/**
 * The value of an input-width option that shape inference may still fill in: CONFIG_INVALID until
 * it is given or inferred.
 * @example
 * get inputSize(): number { return knownSize(this.size, 'inputSize', 'dense'); }
 */
export function knownSize(value: number | undefined, option: string, place: string): number {
  if (value === undefined) {
    throw new MtlError(
      'CONFIG_INVALID',
      `${option} is not known yet: give it, or let a model infer it from the data (MultitaskModel's inputShapes option)`,
      { place, details: { option } },
    );
  }
  return value;
}

function fmt(shape: RowShape): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * True when an {@link OutputShape} is one row shape (not a list or named shapes).
 * @example
 * isRowShape([2, 3]); // true
 */
export function isRowShape(x: unknown): x is RowShape {
  return Array.isArray(x) && x.every((d) => d === null || typeof d === 'number');
}

function pickShape(
  output: OutputShape | undefined,
  key: string | number | undefined,
  place: string,
  source: string,
): RowShape | undefined {
  if (output === undefined) return undefined;
  if (key === undefined) {
    if (isRowShape(output)) return output;
    throw new MtlError(
      'INVALID_ARGUMENT',
      `"${source}" outputs ${Array.isArray(output) ? 'a list' : 'named tensors'}: read one with ["${source}", key]`,
      { place },
    );
  }
  if (isRowShape(output)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `"${source}" outputs one tensor; it has no entry ${JSON.stringify(key)}`,
      {
        place,
      },
    );
  }
  const value = Array.isArray(output)
    ? (output as readonly RowShape[])[Number(key)]
    : (output as Record<string, RowShape>)[String(key)];
  if (value === undefined) {
    const keys = Array.isArray(output) ? output.map((_, i) => String(i)) : Object.keys(output);
    throw new MtlError(
      'INVALID_ARGUMENT',
      `"${source}" has no output ${JSON.stringify(key)} (has: ${listNames(keys)})`,
      {
        place,
      },
    );
  }
  return value;
}

/** Who first fed a module in one inference walk, to name both sides of a disagreement. */
interface Feeder {
  task: string;
  operation: string;
  inputs: RowShape[];
}

/**
 * One shape-inference walk over several tasks: runs each module's {@link Module.inferShape} on
 * behalf of a task and operation, and remembers who fed a module first, so that a module shared by
 * two tasks that feed it different widths is an error naming both. {@link inferShapes} walks
 * MultitaskModel flows with it; other model kinds (e.g. @mtl/vae's chains) walk theirs.
 * @example
 * const walk = new ShapeWalk();
 * const z = walk.apply(encoder, 'encoder', [[16]], { task: 'a', operation: 'encoder' }); // { loc: [2], ... }
 */
export class ShapeWalk {
  private readonly fed = new Map<Module, Feeder>();

  /**
   * The module's output shape for inputs of these row shapes (undefined when an input's shape is
   * unknown or the module cannot tell); errors carry `details {module, task, operation}`.
   */
  apply(
    module: Module,
    name: string,
    inputs: readonly (RowShape | undefined)[],
    where: { task: string; operation: string },
  ): OutputShape | undefined {
    if (inputs.some((s) => s === undefined) || module.inferShape === undefined) return undefined;
    const shapes = inputs as RowShape[];
    const here = { ...where, inputs: shapes };
    const first = this.fed.get(module);
    let out: OutputShape | undefined;
    try {
      out = module.inferShape(shapes);
    } catch (e) {
      throw shapeError(e, name, here, first);
    }
    if (first === undefined) this.fed.set(module, here);
    return out;
  }
}

/**
 * Shape inference over tasks' flows, before any variable exists: each operation's input row
 * shapes come from the data fields (`inputShapes`) and the upstream operations' output shapes;
 * every module with an {@link Module.inferShape} fills in the input widths it was built without
 * (a dense's `inputSize`, a layerNorm's `size`, ...) and checks those it was given. A module whose
 * output shape is unknown (no `inferShape`) leaves its downstream modules to their given sizes.
 * Returns each task's output row shape (undefined when unknown).
 *
 * Errors: a given width that differs from the inferred one is DATA_SHAPE_MISMATCH naming the
 * module, the option, both widths, task and operation (`details {module, option, given, inferred,
 * task, operation}`); a module shared by two tasks that feed it different widths names both tasks.
 * A width once inferred stays with the module (as a Keras layer's input shape after its first call).
 * @example
 * const outputs = inferShapes([circleTask, squareTask], { circle_data: [2], square_data: [2] });
 * outputs.circle_task; // [2]
 */
export function inferShapes(
  tasks: readonly Task[],
  inputShapes: InputShapes,
): Record<string, RowShape | undefined> {
  const walk = new ShapeWalk();
  const result: Record<string, RowShape | undefined> = {};
  for (const task of tasks) {
    const fields = typeof inputShapes === 'function' ? inputShapes(task.name) : inputShapes;
    const outputs = new Map<string, OutputShape | undefined>();
    task.opSequence.forEach((op, i) => {
      const place = `task ${task.name} opSequence[${i}] (${op.name})`;
      const inputs = op.inputs.map((input) => inputShape(input, fields, outputs, task.name, place));
      const module = task.modulePool.get(op.moduleName)!;
      outputs.set(
        op.name,
        walk.apply(module, op.moduleName, inputs, { task: task.name, operation: op.name }),
      );
    });
    const last = outputs.get(task.outputOp);
    result[task.name] = last !== undefined && isRowShape(last) ? last : undefined;
  }
  return result;
}

function inputShape(
  input: OperationInput,
  fields: Readonly<Record<string, RowShape>> | undefined,
  outputs: ReadonlyMap<string, OutputShape | undefined>,
  task: string,
  place: string,
): RowShape | undefined {
  const [source, key] = typeof input === 'string' ? [input, undefined] : input;
  if (source === INPUT_SOURCE) {
    const shape = fields?.[String(key)];
    if (shape === undefined) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `reads input field "${key}", whose row shape task ${task}'s input shapes do not give (fields: ${listNames(Object.keys(fields ?? {}))})`,
        { place },
      );
    }
    if (!isRowShape(shape)) {
      throw new MtlError('INVALID_ARGUMENT', `the row shape of field "${key}" must be a list of sizes`, {
        place,
      });
    }
    return shape;
  }
  return pickShape(outputs.get(source), key, place, source);
}

function shapeError(e: unknown, module: string, here: Feeder, first: Feeder | undefined): unknown {
  if (!(e instanceof MtlError)) return e;
  const details: Record<string, unknown> = {
    ...e.details,
    module,
    task: here.task,
    operation: here.operation,
  };
  const option = typeof details.option === 'string' ? details.option : undefined;
  let reason: string;
  if (e.code === 'DATA_SHAPE_MISMATCH' && first !== undefined && option !== undefined) {
    const who =
      first.task === here.task
        ? `operations ${first.operation} and ${here.operation} of task ${here.task}`
        : `tasks ${first.task} (operation ${first.operation}) and ${here.task} (operation ${here.operation})`;
    reason = `module "${module}" is shared by ${who}, which feed it rows of shapes ${listNames(first.inputs.map(fmt))} and ${listNames(here.inputs.map(fmt))}: ${option} ${String(details.given)} vs ${String(details.inferred)}; a shared module needs one input width`;
    details.tasks = [first.task, here.task];
  } else {
    reason = `module "${module}" in task ${here.task} operation ${here.operation}: ${e.reason}`;
  }
  return new MtlError(e.code, reason, { place: `module ${module}`, details, cause: e });
}
