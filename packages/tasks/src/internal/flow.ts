import { listNames, MtlError } from '@mtl/core';
import type { Batch } from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import type { Module, ModuleContext, ModuleOutput } from '../module.js';
import { INPUT_SOURCE, type OperationInput } from '../operation.js';
import type { Task } from '../task.js';

/**
 * Outputs of one forward call by computation key (see {@link Task.opKeys}): an operation that
 * several tasks share (same module, same inputs) runs once per batch.
 */
export type FlowCache = Map<string, ModuleOutput>;

function pick(
  output: ModuleOutput,
  key: string | number | undefined,
  place: string,
  source: string,
): tf.Tensor {
  if (key === undefined) {
    if (output instanceof tf.Tensor) return output;
    throw new MtlError(
      'INVALID_ARGUMENT',
      `"${source}" outputs ${Array.isArray(output) ? 'a list' : 'named tensors'}: read one with ["${source}", key]`,
      { place },
    );
  }
  if (output instanceof tf.Tensor) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `"${source}" outputs one tensor; it has no entry ${JSON.stringify(key)}`,
      {
        place,
      },
    );
  }
  const value = Array.isArray(output)
    ? output[Number(key)]
    : (output as Record<string, tf.Tensor>)[String(key)];
  if (!(value instanceof tf.Tensor)) {
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

function resolveInput(
  input: OperationInput,
  task: Task,
  batch: Batch,
  cache: FlowCache,
  index: ReadonlyMap<string, number>,
  place: string,
): tf.Tensor {
  const [source, key] = typeof input === 'string' ? [input, undefined] : input;
  if (source === INPUT_SOURCE) {
    const t = batch.X[String(key)];
    if (t === undefined) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `reads input field "${key}", which dataset ${batch.dataset}/${batch.split} does not have (fields: ${listNames(Object.keys(batch.X))})`,
        { place },
      );
    }
    return t;
  }
  const output = cache.get(task.opKeys[index.get(source)!]!);
  if (output === undefined) throw new MtlError('INTERNAL', `"${source}" has not run`, { place });
  return pick(output, key, place, source);
}

/**
 * Runs the flows of `tasks` on one batch and returns each task's output tensor. Call inside a
 * tidy (or a gradient function).
 */
export function runFlows(
  tasks: readonly Task[],
  batch: Batch,
  pool: ReadonlyMap<string, Module>,
  ctx: ModuleContext,
  cache: FlowCache = new Map(),
): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const task of tasks) {
    const index = new Map(task.opSequence.map((op, i) => [op.name, i]));
    task.opSequence.forEach((op, i) => {
      const key = task.opKeys[i]!;
      if (cache.has(key)) return;
      const place = `task ${task.name} opSequence[${i}] (${op.name})`;
      const inputs = op.inputs.map((input) => resolveInput(input, task, batch, cache, index, place));
      const module = pool.get(op.moduleName);
      if (module === undefined)
        throw new MtlError('UNKNOWN_MODULE', `module "${op.moduleName}" is not in the model`, { place });
      cache.set(key, module.apply(inputs, ctx));
    });
    const last = cache.get(task.opKeys[task.opKeys.length - 1]!)!;
    if (!(last instanceof tf.Tensor)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `the last operation "${task.outputOp}" must output one tensor (add an operation that picks an entry)`,
        { place: `task ${task.name}` },
      );
    }
    out.set(task.name, last);
  }
  return out;
}

/**
 * Runs, for each of `tasks`, the operations `inTrunk(task, index)` selects (and only those) on one
 * batch, filling `cache`; a selected operation must read only inputs and selected operations (the
 * caller checks that). Call inside a tidy (or a gradient function).
 */
export function runTrunk(
  tasks: readonly Task[],
  batch: Batch,
  pool: ReadonlyMap<string, Module>,
  ctx: ModuleContext,
  inTrunk: (task: Task, index: number) => boolean,
  cache: FlowCache = new Map(),
): FlowCache {
  for (const task of tasks) {
    const index = new Map(task.opSequence.map((op, i) => [op.name, i]));
    task.opSequence.forEach((op, i) => {
      const key = task.opKeys[i]!;
      if (!inTrunk(task, i) || cache.has(key)) return;
      const place = `task ${task.name} opSequence[${i}] (${op.name})`;
      const inputs = op.inputs.map((input) => resolveInput(input, task, batch, cache, index, place));
      const module = pool.get(op.moduleName);
      if (module === undefined)
        throw new MtlError('UNKNOWN_MODULE', `module "${op.moduleName}" is not in the model`, { place });
      cache.set(key, module.apply(inputs, ctx));
    });
  }
  return cache;
}
