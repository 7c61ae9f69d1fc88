import { listNames, MtlError, nodeIo, sha256 } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { OptimizerState } from './optimizer.js';
import type { TrainerState } from './trainer-state.js';

/**
 * A tensor's values on the host, with its name, shape and dtype.
 * @example
 * const a: NamedArray = { name: 'head/w', dtype: 'float32', shape: [2], values: new Float32Array([1, 2]) };
 */
export interface NamedArray {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  values: Float32Array | Int32Array;
}

/**
 * Everything a checkpoint can hold. Only `weights` is required, so the functions work alone to save
 * and load a model's variables.
 * @example
 * const ckpt: Checkpoint = { weights: await readVariables(model.trainableVariables()) };
 */
export interface Checkpoint {
  /** The model's variables, keyed by variable name. */
  weights: NamedArray[];
  /** Optimizer slots and per-variable update counts. */
  optimizer?: OptimizerState;
  /** The best weights so far (the Trainer keeps them so a resumed run can still restore them). */
  bestWeights?: NamedArray[];
  /** The Trainer's position, counters, history and configuration (JSON). */
  trainer?: TrainerState;
}

const MAGIC = 'MTLCKPT1';
const HASH_BYTES = 32;
const PREFIX_BYTES = MAGIC.length + 4;

interface ManifestEntry {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  offset: number;
  byteLength: number;
}

interface Header {
  format: 'mtl-checkpoint';
  version: 1;
  tensors: ManifestEntry[];
  optimizer?: { type: OptimizerState['type']; steps: Record<string, number> };
  trainer?: TrainerState;
}

function assertLittleEndian(): void {
  // The first byte of a 16-bit 1 is 1 on a little-endian host (node:os is not portable).
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new MtlError('NOT_IMPLEMENTED', 'checkpoints are little-endian; this host is big-endian', {
      place: 'checkpoint',
    });
  }
}

// JSON has no NaN/Infinity; a metric can be NaN, so tag non-finite numbers instead of losing them.
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $float: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tag = (value as { $float?: unknown }).$float;
    if (keys.length === 1 && typeof tag === 'string') return Number(tag);
  }
  return value;
}

/**
 * Serialises a checkpoint to one binary buffer:
 * `"MTLCKPT1"` (8 bytes) | header length (uint32 LE) | header JSON (UTF-8: a manifest of tensors
 * `{name, dtype, shape, offset, byteLength}` plus optimizer and trainer metadata) | tensor data
 * (float32/int32 little-endian, concatenated) | SHA-256 of everything before it (32 bytes).
 * Tensor names are namespaced `weights/…`, `optimizer/…`, `best/…`.
 * @example
 * const bytes = encodeCheckpoint({ weights: [{ name: 'w', dtype: 'float32', shape: [1], values: new Float32Array([2]) }] });
 */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  assertLittleEndian();
  const arrays: [string, NamedArray][] = [
    ...checkpoint.weights.map((a): [string, NamedArray] => [`weights/${a.name}`, a]),
    ...(checkpoint.optimizer?.slots ?? []).map((a): [string, NamedArray] => [`optimizer/${a.name}`, a]),
    ...(checkpoint.bestWeights ?? []).map((a): [string, NamedArray] => [`best/${a.name}`, a]),
  ];
  const tensors: ManifestEntry[] = [];
  let offset = 0;
  for (const [name, a] of arrays) {
    const size = a.shape.reduce((p, d) => p * d, 1);
    if (a.values.length !== size) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `tensor "${name}" has ${a.values.length} values but shape [${a.shape}]`,
        { place: 'encodeCheckpoint' },
      );
    }
    tensors.push({ name, dtype: a.dtype, shape: [...a.shape], offset, byteLength: a.values.byteLength });
    offset += a.values.byteLength;
  }
  const header: Header = { format: 'mtl-checkpoint', version: 1, tensors };
  if (checkpoint.optimizer) {
    header.optimizer = { type: checkpoint.optimizer.type, steps: checkpoint.optimizer.steps };
  }
  if (checkpoint.trainer) header.trainer = checkpoint.trainer;
  const headerBytes = new TextEncoder().encode(JSON.stringify(header, replacer));
  const total = PREFIX_BYTES + headerBytes.length + offset + HASH_BYTES;
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES);
  const dataStart = PREFIX_BYTES + headerBytes.length;
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i]![1];
    out.set(
      new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength),
      dataStart + tensors[i]!.offset,
    );
  }
  const hash = sha256(out.subarray(0, total - HASH_BYTES));
  out.set(hash, total - HASH_BYTES);
  return out;
}

/**
 * Parses and verifies a buffer made by {@link encodeCheckpoint}. A bad checksum, a wrong magic or
 * a malformed header is `CHECKPOINT_CORRUPT` with `place` (the file name).
 * @example
 * const ckpt = decodeCheckpoint(bytes, 'model.ckpt');
 */
export function decodeCheckpoint(bytes: Uint8Array, place = 'checkpoint'): Checkpoint {
  assertLittleEndian();
  const corrupt = (why: string) =>
    new MtlError('CHECKPOINT_CORRUPT', `not a valid checkpoint (${why})`, { place });
  if (bytes.length < PREFIX_BYTES + HASH_BYTES) throw corrupt('file too short');
  if (new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) throw corrupt('bad magic');
  const body = bytes.subarray(0, bytes.length - HASH_BYTES);
  const expected = bytes.subarray(bytes.length - HASH_BYTES);
  const actual = sha256(body);
  if (actual.some((b, i) => b !== expected[i])) throw corrupt('SHA-256 checksum mismatch');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  const dataStart = PREFIX_BYTES + headerLength;
  if (dataStart > body.length) throw corrupt('header length out of range');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX_BYTES, dataStart)), reviver) as Header;
  } catch {
    throw corrupt('header is not JSON');
  }
  if (header?.format !== 'mtl-checkpoint' || header.version !== 1 || !Array.isArray(header.tensors)) {
    throw corrupt('unknown header format');
  }
  const dataLength = body.length - dataStart;
  const groups: Record<string, NamedArray[]> = { weights: [], optimizer: [], best: [] };
  for (const t of header.tensors) {
    const slash = typeof t.name === 'string' ? t.name.indexOf('/') : -1;
    const group = slash > 0 ? groups[t.name.slice(0, slash)] : undefined;
    const size = Array.isArray(t.shape) ? t.shape.reduce((p, d) => p * d, 1) : Number.NaN;
    if (
      group === undefined ||
      (t.dtype !== 'float32' && t.dtype !== 'int32') ||
      !(t.offset >= 0) ||
      t.byteLength !== size * 4 ||
      t.offset + t.byteLength > dataLength
    ) {
      throw corrupt(`bad manifest entry "${String(t.name)}"`);
    }
    // A copy (a file's bytes may be a view into a shared pool), aligned for the typed-array view.
    const raw = new Uint8Array(bytes.subarray(dataStart + t.offset, dataStart + t.offset + t.byteLength));
    const values = t.dtype === 'float32' ? new Float32Array(raw.buffer) : new Int32Array(raw.buffer);
    group.push({ name: t.name.slice(slash + 1), dtype: t.dtype, shape: t.shape, values });
  }
  const checkpoint: Checkpoint = { weights: groups.weights! };
  if (header.optimizer) {
    checkpoint.optimizer = {
      type: header.optimizer.type,
      steps: header.optimizer.steps,
      slots: groups.optimizer!,
    };
  }
  if (groups.best!.length > 0) checkpoint.bestWeights = groups.best!;
  if (header.trainer) checkpoint.trainer = header.trainer;
  return checkpoint;
}

/**
 * Writes a checkpoint atomically (temporary file + rename, see {@link encodeCheckpoint} for the
 * format); a bare file name works.
 * @example
 * await saveCheckpoint('model.ckpt', { weights: await readVariables(model.trainableVariables()) });
 */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const { writeFileAtomic } = await nodeIo(path);
  await writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

/**
 * Reads and verifies a checkpoint: a missing file is `FILE_NOT_FOUND`, a corrupt one
 * `CHECKPOINT_CORRUPT`, both naming the file.
 * @example
 * const ckpt = await loadCheckpoint('model.ckpt');
 * assignVariables(model.trainableVariables(), ckpt.weights);
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const { readFile } = await nodeIo(path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new MtlError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_READ',
      code === 'ENOENT' ? 'checkpoint file not found' : `cannot read checkpoint: ${String(e)}`,
      { place: path, cause: e },
    );
  }
  return decodeCheckpoint(bytes, path);
}

/**
 * Copies variables' values to the host.
 * @example
 * const weights = await readVariables(model.trainableVariables());
 */
export async function readVariables(variables: readonly tf.Variable[]): Promise<NamedArray[]> {
  const out: NamedArray[] = [];
  for (const v of variables) {
    if (v.dtype !== 'float32' && v.dtype !== 'int32') {
      throw new MtlError('INVALID_ARGUMENT', `variable "${v.name}" has dtype ${v.dtype}`, {
        place: 'readVariables',
      });
    }
    const data = await v.data();
    out.push({
      name: v.name,
      dtype: v.dtype,
      shape: [...v.shape],
      values:
        v.dtype === 'float32' ? new Float32Array(data as Float32Array) : new Int32Array(data as Int32Array),
    });
  }
  return out;
}

/**
 * Assigns saved values to variables by name. Checks everything before changing anything: a variable
 * missing from `arrays`, an array for a variable the model lacks, or a shape/dtype difference is
 * `CHECKPOINT_MISMATCH` naming the variable.
 * @example
 * assignVariables(model.trainableVariables(), (await loadCheckpoint('model.ckpt')).weights);
 */
export function assignVariables(
  variables: readonly tf.Variable[],
  arrays: readonly NamedArray[],
  place = 'checkpoint',
): void {
  const saved = new Map(arrays.map((a) => [a.name, a]));
  const names = new Set(variables.map((v) => v.name));
  for (const v of variables) {
    const a = saved.get(v.name);
    if (a === undefined) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `variable "${v.name}" is not in the checkpoint (it holds: ${listNames(saved.keys())})`,
        { place, details: { variable: v.name } },
      );
    }
    if (
      a.shape.length !== v.shape.length ||
      a.shape.some((d, i) => d !== v.shape[i]) ||
      a.dtype !== v.dtype
    ) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `variable "${v.name}" is ${a.dtype} [${a.shape}] in the checkpoint but ${v.dtype} [${v.shape}] in the model`,
        { place, details: { variable: v.name } },
      );
    }
  }
  for (const name of saved.keys()) {
    if (!names.has(name)) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint holds variable "${name}", which the model does not have (it has: ${listNames(names)})`,
        { place, details: { variable: name } },
      );
    }
  }
  tf.tidy(() => {
    for (const v of variables) {
      const a = saved.get(v.name)!;
      v.assign(tf.tensor(a.values, a.shape, a.dtype));
    }
  });
}
