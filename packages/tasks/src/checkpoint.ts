import {
  artifactArrays,
  expectKind,
  loadArtifacts,
  type ModelArtifacts,
  MtlError,
  makeArtifacts,
  type NamedArray,
} from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { ModuleConfig } from './module.js';
import type { TaskSpec } from './task.js';

/**
 * The artifacts `kind` of a saved `MultitaskModel` (@mtl/core's saved format).
 * @example
 * if ((await loadArtifacts('model.mtl')).kind === MODEL_KIND) console.log('a saved multitask model');
 */
export const MODEL_KIND = 'multitask';

/**
 * One saved parameter: its shape and float32 values.
 * @example
 * const t: SavedTensor = { shape: [2], dtype: 'float32', values: new Float32Array([1, 2]) };
 */
export interface SavedTensor {
  shape: number[];
  dtype: 'float32';
  values: Float32Array;
}

/**
 * One module of a saved model.
 * @example
 * saved.modules.base_mlp.config; // { type: 'mlp', inputSize: 2, hidden: [8, 4], ... }
 */
export interface SavedModule {
  config: ModuleConfig;
  frozen: boolean;
  /** By parameter name relative to the module (`dense_0/kernel`). */
  weights: Record<string, SavedTensor>;
}

/**
 * A saved multitask model, read: the spec to rebuild it and its weights per module
 * (`model.toSaved()`, {@link readSavedModel}).
 * @example
 * const saved: SavedModel = model.toSaved();
 * saved.tasks.map((t) => t.name); // ['circle_task', 'square_task']
 */
export interface SavedModel {
  seed: number;
  tasks: TaskSpec[];
  modules: Record<string, SavedModule>;
}

/**
 * Copies a tensor's values to the host as float32 (read synchronously: saving is not on a hot path).
 * @example
 * const saved = encodeTensor(tf.tensor([1, 2])); // {shape: [2], dtype: 'float32', values: Float32Array [1, 2]}
 */
export function encodeTensor(t: tf.Tensor): SavedTensor {
  return { shape: [...t.shape], dtype: 'float32', values: Float32Array.from(t.dataSync()) };
}

/**
 * Makes a new tensor of a saved parameter (the caller disposes it); a size that does not match the
 * shape is CHECKPOINT_CORRUPT naming `place`.
 * @example
 * const t = decodeTensor(saved, 'model.mtl: head/bias');
 */
export function decodeTensor(saved: SavedTensor, place: string): tf.Tensor {
  const size = saved.shape.reduce((a, b) => a * b, 1);
  if (saved.values.length !== size) {
    throw new MtlError(
      'CHECKPOINT_CORRUPT',
      `holds ${saved.values.length} values for shape [${saved.shape}] (${size} expected)`,
      { place },
    );
  }
  return tf.tensor(saved.values, saved.shape, 'float32');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks the structure of a saved model; CHECKPOINT_CORRUPT naming the file and the entry. */
export function checkSavedModel(value: unknown, place: string): SavedModel {
  const fail = (reason: string): never => {
    throw new MtlError('CHECKPOINT_CORRUPT', reason, { place });
  };
  if (!isRecord(value)) fail('not a saved multitask model');
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.tasks)) fail('"tasks" must be a list');
  if (!isRecord(v.modules)) fail('"modules" must be an object');
  for (const [name, m] of Object.entries(v.modules as Record<string, unknown>)) {
    if (!isRecord(m) || !isRecord(m.config) || typeof m.config.type !== 'string' || !isRecord(m.weights)) {
      fail(`module "${name}" needs a config with a type and weights`);
    }
    for (const [param, w] of Object.entries((m as Record<string, Record<string, unknown>>).weights!)) {
      const t = w as Partial<SavedTensor> | null;
      if (
        t === null ||
        typeof t !== 'object' ||
        !Array.isArray(t.shape) ||
        !t.shape.every((d) => Number.isInteger(d) && d >= 0) ||
        !(t.values instanceof Float32Array)
      ) {
        fail(`weight "${name}/${param}" needs a shape and float32 values`);
      }
    }
  }
  for (const [i, t] of (v.tasks as unknown[]).entries()) {
    if (
      !isRecord(t) ||
      typeof t.name !== 'string' ||
      !Array.isArray(t.opSequence) ||
      !Array.isArray(t.modules)
    ) {
      fail(`tasks[${i}] needs a name, an opSequence and its modules`);
    }
  }
  return value as SavedModel;
}

/**
 * A saved model as @mtl/core's saved-format artifacts (kind `multitask`): the spec holds the seed,
 * the task specs and each module's config and frozen flag; the weights are keyed `module/param`.
 * @example
 * await saveArtifacts('memory://m', savedModelArtifacts(model.toSaved()));
 */
export function savedModelArtifacts(saved: SavedModel): ModelArtifacts {
  const modules: Record<string, { config: ModuleConfig; frozen: boolean; params: string[] }> = {};
  const arrays: NamedArray[] = [];
  for (const [name, m] of Object.entries(saved.modules)) {
    modules[name] = { config: m.config, frozen: m.frozen, params: Object.keys(m.weights) };
    for (const [param, t] of Object.entries(m.weights)) {
      arrays.push({ name: `${name}/${param}`, dtype: 'float32', shape: t.shape, values: t.values });
    }
  }
  return makeArtifacts(MODEL_KIND, { seed: saved.seed, tasks: saved.tasks, modules }, arrays);
}

/**
 * The saved model held by artifacts of kind `multitask`; another kind is CHECKPOINT_MISMATCH, a
 * spec that does not fit its weights CHECKPOINT_CORRUPT, both naming `place`.
 * @example
 * const saved = savedModelFromArtifacts(await loadArtifacts('memory://m'), 'memory://m');
 */
export function savedModelFromArtifacts(artifacts: ModelArtifacts, place: string): SavedModel {
  expectKind(artifacts, MODEL_KIND, place);
  const spec = artifacts.spec as {
    seed?: unknown;
    tasks?: unknown;
    modules?: Record<string, { config: ModuleConfig; frozen: boolean; params: string[] }>;
  } | null;
  if (!isRecord(spec) || !isRecord(spec.modules) || typeof spec.seed !== 'number') {
    throw new MtlError('CHECKPOINT_CORRUPT', 'not a saved multitask model (no module specs)', { place });
  }
  const byName = new Map(artifactArrays(artifacts).map((a) => [a.name, a]));
  const modules: Record<string, SavedModule> = {};
  for (const [name, m] of Object.entries(spec.modules)) {
    const weights: Record<string, SavedTensor> = {};
    for (const param of Array.isArray(m?.params) ? m.params : []) {
      const a = byName.get(`${name}/${param}`);
      if (a === undefined || a.dtype !== 'float32') {
        throw new MtlError('CHECKPOINT_CORRUPT', `weight "${name}/${param}" is missing`, { place });
      }
      byName.delete(a.name);
      weights[param] = { shape: a.shape, dtype: 'float32', values: a.values as Float32Array };
    }
    modules[name] = { config: m?.config, frozen: m?.frozen === true, weights };
  }
  if (byName.size > 0) {
    throw new MtlError('CHECKPOINT_CORRUPT', `weight "${[...byName.keys()][0]}" belongs to no module`, {
      place,
    });
  }
  return checkSavedModel({ seed: spec.seed, tasks: spec.tasks, modules }, place);
}

/**
 * Reads and checks a model saved by `MultitaskModel.save` (for inspection or a warm start), from a
 * path or URL (`memory://`, `file://`, `indexeddb://`).
 * @example
 * const saved = await readSavedModel('runs/a/model/model.mtl');
 * console.log(Object.keys(saved.modules)); // ['base_mlp', 'circle_head', ...]
 */
export async function readSavedModel(url: string): Promise<SavedModel> {
  return savedModelFromArtifacts(await loadArtifacts(url), url);
}
