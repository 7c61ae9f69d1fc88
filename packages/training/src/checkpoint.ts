import {
  artifactArrays,
  decodeArtifacts,
  encodeArtifacts,
  expectKind,
  listNames,
  loadArtifacts,
  type ModelArtifacts,
  MtlError,
  makeArtifacts,
  type NamedArray,
  saveArtifacts,
} from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { OptimizerState } from './optimizer.js';
import type { TrainerState } from './trainer-state.js';

export type { NamedArray };

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

/** The artifacts `kind` of trainer checkpoints. */
export const CHECKPOINT_KIND = 'checkpoint';

/**
 * A checkpoint as saved-format artifacts (@mtl/core): tensors named `weights/…`, `optimizer/…`,
 * `best/…`; the spec holds the optimizer's type and step counts, the trainer state and any other
 * JSON field of the checkpoint (e.g. an aggregator's state), as they are.
 * @example
 * const a = checkpointArtifacts({ weights: [{ name: 'w', dtype: 'float32', shape: [1], values: new Float32Array([2]) }] });
 */
export function checkpointArtifacts(checkpoint: Checkpoint): ModelArtifacts {
  const { weights, optimizer, bestWeights, ...json } = checkpoint;
  const arrays: NamedArray[] = [
    ...weights.map((a) => ({ ...a, name: `weights/${a.name}` })),
    ...(optimizer?.slots ?? []).map((a) => ({ ...a, name: `optimizer/${a.name}` })),
    ...(bestWeights ?? []).map((a) => ({ ...a, name: `best/${a.name}` })),
  ];
  const spec = {
    ...json,
    ...(optimizer ? { optimizer: { type: optimizer.type, steps: optimizer.steps } } : {}),
  };
  return makeArtifacts(CHECKPOINT_KIND, spec, arrays);
}

/**
 * The checkpoint that {@link checkpointArtifacts} packed; artifacts of another kind are
 * CHECKPOINT_MISMATCH, a tensor outside the three groups CHECKPOINT_CORRUPT, naming `place`.
 * @example
 * const ckpt = checkpointFromArtifacts(await loadArtifacts('memory://last.ckpt'), 'last.ckpt');
 */
export function checkpointFromArtifacts(artifacts: ModelArtifacts, place = 'checkpoint'): Checkpoint {
  expectKind(artifacts, CHECKPOINT_KIND, place);
  const spec = artifacts.spec as Record<string, unknown> & {
    optimizer?: { type: OptimizerState['type']; steps: Record<string, number> };
  };
  if (spec === null || typeof spec !== 'object') {
    throw new MtlError('CHECKPOINT_CORRUPT', 'not a valid checkpoint (no spec)', { place });
  }
  const groups: Record<string, NamedArray[]> = { weights: [], optimizer: [], best: [] };
  for (const a of artifactArrays(artifacts)) {
    const slash = a.name.indexOf('/');
    const group = slash > 0 ? groups[a.name.slice(0, slash)] : undefined;
    if (group === undefined) {
      throw new MtlError('CHECKPOINT_CORRUPT', `not a valid checkpoint (bad tensor "${a.name}")`, { place });
    }
    group.push({ ...a, name: a.name.slice(slash + 1) });
  }
  const { optimizer, ...json } = spec;
  const checkpoint = { ...json, weights: groups.weights! } as Checkpoint;
  if (optimizer) {
    checkpoint.optimizer = { type: optimizer.type, steps: optimizer.steps, slots: groups.optimizer! };
  }
  if (groups.best!.length > 0) checkpoint.bestWeights = groups.best!;
  return checkpoint;
}

/**
 * Serialises a checkpoint to the bytes of one saved file (@mtl/core's saved format: header JSON,
 * one weight buffer, SHA-256).
 * @example
 * const bytes = encodeCheckpoint({ weights: [{ name: 'w', dtype: 'float32', shape: [1], values: new Float32Array([2]) }] });
 */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  return encodeArtifacts(checkpointArtifacts(checkpoint));
}

/**
 * Parses and verifies a buffer made by {@link encodeCheckpoint}. A bad checksum or a malformed
 * header is `CHECKPOINT_CORRUPT`, a file of an earlier release (`MTLCKPT1`) `FORMAT_VERSION`, both
 * with `place` (the file name).
 * @example
 * const ckpt = decodeCheckpoint(bytes, 'model.ckpt');
 */
export function decodeCheckpoint(bytes: Uint8Array, place = 'checkpoint'): Checkpoint {
  return checkpointFromArtifacts(decodeArtifacts(bytes, place), place);
}

/**
 * Writes a checkpoint to a URL or path (`file://`, a bare path, `memory://`, `indexeddb://`;
 * files are written atomically).
 * @example
 * await saveCheckpoint('model.ckpt', { weights: await readVariables(model.trainableVariables()) });
 */
export async function saveCheckpoint(url: string, checkpoint: Checkpoint): Promise<void> {
  await saveArtifacts(url, checkpointArtifacts(checkpoint));
}

/**
 * Reads and verifies a checkpoint: a missing file is `FILE_NOT_FOUND`, a corrupt one
 * `CHECKPOINT_CORRUPT`, one of an earlier release `FORMAT_VERSION`, each naming the file.
 * @example
 * const ckpt = await loadCheckpoint('model.ckpt');
 * assignVariables(model.trainableVariables(), ckpt.weights);
 */
export async function loadCheckpoint(url: string): Promise<Checkpoint> {
  return checkpointFromArtifacts(await loadArtifacts(url), url);
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
