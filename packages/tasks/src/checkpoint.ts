import { checksummedJson, MtlError, nodeIo, parseChecksummedJson } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { base64ToBytes, bytesToBase64 } from './internal/base64.js';
import type { ModuleConfig } from './module.js';
import type { TaskSpec } from './task.js';

/**
 * The `format` tag of files written by `MultitaskModel.save`.
 * @example
 * if (JSON.parse(text).format === MODEL_FORMAT) console.log('a saved multitask model');
 */
export const MODEL_FORMAT = 'mtl-multitask-model';
/**
 * The version of that format this package writes and reads.
 * @example
 * saved.version === MODEL_FORMAT_VERSION; // true for files of this release
 */
export const MODEL_FORMAT_VERSION = 1;

/**
 * One saved parameter: float32 values, little-endian, base64.
 * @example
 * const t: SavedTensor = { shape: [2], dtype: 'float32', data: 'AACAPwAAAEA=' }; // [1, 2]
 */
export interface SavedTensor {
  shape: number[];
  dtype: 'float32';
  data: string;
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
 * What `MultitaskModel.save` writes (one JSON file): the spec to rebuild the model and its
 * weights per module.
 * @example
 * const saved: SavedModel = model.toSaved();
 * saved.tasks.map((t) => t.name); // ['circle_task', 'square_task']
 */
export interface SavedModel {
  format: typeof MODEL_FORMAT;
  version: number;
  seed: number;
  tasks: TaskSpec[];
  modules: Record<string, SavedModule>;
}

/**
 * Encodes a tensor's values as base64 float32 (read synchronously: saving is not on a hot path).
 * @example
 * const saved = encodeTensor(tf.tensor([1, 2])); // {shape: [2], dtype: 'float32', data: 'AACAPwAAAEA='}
 */
export function encodeTensor(t: tf.Tensor): SavedTensor {
  const values = t.dtype === 'float32' ? (t.dataSync() as Float32Array) : Float32Array.from(t.dataSync());
  return {
    shape: [...t.shape],
    dtype: 'float32',
    data: bytesToBase64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)),
  };
}

/**
 * Decodes a saved parameter into a new tensor (the caller disposes it); a size that does not match
 * the shape is CHECKPOINT_CORRUPT naming `place`.
 * @example
 * const t = decodeTensor(saved, 'model.json: head/bias');
 */
export function decodeTensor(saved: SavedTensor, place: string): tf.Tensor {
  const bytes = base64ToBytes(saved.data);
  const size = saved.shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== size * 4) {
    throw new MtlError(
      'CHECKPOINT_CORRUPT',
      `holds ${bytes.byteLength / 4} values for shape [${saved.shape}] (${size} expected)`,
      { place },
    );
  }
  const values = new Float32Array(size);
  new Uint8Array(values.buffer).set(bytes);
  return tf.tensor(values, saved.shape, 'float32');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks the structure of a parsed file; CHECKPOINT_CORRUPT naming the file and the entry. */
export function checkSavedModel(value: unknown, place: string): SavedModel {
  const fail = (reason: string): never => {
    throw new MtlError('CHECKPOINT_CORRUPT', reason, { place });
  };
  if (!isRecord(value) || value.format !== MODEL_FORMAT)
    fail(`not a saved multitask model (format "${MODEL_FORMAT}")`);
  const v = value as Record<string, unknown>;
  if (v.version !== MODEL_FORMAT_VERSION) {
    fail(`format version ${String(v.version)} is not supported (this reader knows ${MODEL_FORMAT_VERSION})`);
  }
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
        typeof t.data !== 'string'
      ) {
        fail(`weight "${name}/${param}" needs a shape and base64 data`);
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
 * Reads and checks a file written by `MultitaskModel.save` (for inspection or a warm start).
 * @example
 * const saved = await readSavedModel('runs/a/model.json');
 * console.log(Object.keys(saved.modules)); // ['base_mlp', 'circle_head', ...]
 */
/**
 * The text of a saved-model file: the model's JSON wrapped with its SHA-256 (@mtl/core's
 * checksummedJson), so that a file changed or truncated on disk is refused (CHECKPOINT_CORRUPT)
 * rather than loaded.
 * @example
 * await writeFileAtomic('model.json', serializeSavedModel(model.toSaved()));
 */
export function serializeSavedModel(saved: SavedModel): string {
  return checksummedJson(saved);
}

/** Parses and verifies the text written by {@link serializeSavedModel}. */
export function parseSavedModelText(text: string, place: string): SavedModel {
  return checkSavedModel(parseChecksummedJson(text, place), place);
}

export async function readSavedModel(path: string): Promise<SavedModel> {
  const { readFile } = await nodeIo(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_READ';
    throw new MtlError(code, code === 'FILE_NOT_FOUND' ? 'no such file' : String(e), {
      place: path,
      cause: e,
    });
  }
  return parseSavedModelText(text, path);
}
