import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MtlError } from '@mtl/core';
import { writeFileAtomic } from '@mtl/core/node';
import { loadLayersKind, type Module } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { resolveConfigPath } from './data.js';

/** The weight file an export writes beside its model.json (one shard). */
export const LAYERS_WEIGHTS_FILE = 'weights.bin';

/**
 * Writes a tf.layers model as tfjs's standard `model.json` + one weight file into `dir` (what
 * `tf.loadLayersModel('…/model.json')` reads in a page). Without tfjs-node there is no `file://`
 * handler in tfjs itself, so the files are written here; a failed write leaves no model.json.
 */
export async function writeLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts!;
  const data = a.weightData;
  const bytes =
    data === undefined
      ? new Uint8Array(0)
      : new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
  const modelJson = {
    format: 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: 'mtl export',
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: [`./${LAYERS_WEIGHTS_FILE}`], weights: a.weightSpecs ?? [] }],
  };
  mkdirSync(dir, { recursive: true });
  // The weights first: a model.json is only ever beside the weights it names.
  await writeFileAtomic(join(dir, LAYERS_WEIGHTS_FILE), bytes);
  await writeFileAtomic(join(dir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
}

/** Removes what {@link writeLayersModel} wrote (for a command that fails after it). */
export function removeLayersModel(dir: string): void {
  for (const f of ['model.json', LAYERS_WEIGHTS_FILE]) rmSync(join(dir, f), { force: true });
}

/**
 * Reads a tfjs LayersModel's `model.json` and its weight files from disk as `tf.io` artifacts
 * (`tf.loadLayersModel(tf.io.fromMemory(artifacts))`). Errors name the file: FILE_NOT_FOUND for a
 * missing model.json or weight file, CONFIG_PARSE for a file that is not JSON, DATA_INVALID for
 * JSON that is not a LayersModel.
 */
export function readLayersModelFiles(file: string, place = file): tf.io.ModelArtifacts {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new MtlError('FILE_NOT_FOUND', `no such file: ${path}`, { place });
  }
  let json: {
    modelTopology?: unknown;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new MtlError('CONFIG_PARSE', `${path} is not JSON: ${(e as Error).message}`, { place });
  }
  if (
    json === null ||
    typeof json !== 'object' ||
    typeof json.modelTopology !== 'object' ||
    json.modelTopology === null
  ) {
    throw new MtlError(
      'DATA_INVALID',
      `${path} is not a tfjs LayersModel (model.json without "modelTopology")`,
      {
        place,
      },
    );
  }
  const manifest = json.weightsManifest ?? [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const weightsFile = resolve(dirname(path), p);
      if (!existsSync(weightsFile)) {
        throw new MtlError(
          'FILE_NOT_FOUND',
          `${path} names the weight file ${weightsFile}, which does not exist`,
          {
            place,
          },
        );
      }
      const b = readFileSync(weightsFile);
      buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    }
  }
  return {
    modelTopology: json.modelTopology as object,
    weightSpecs,
    weightData: tf.io.concatenateArrayBuffers(buffers),
  };
}

/** An http(s) URL (fetched), not a path on disk. */
export function isUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/**
 * Loads the config's `layers` modules that the tasks run (model.json paths relative to the
 * config file; http(s) URLs fetched), by module name. Errors name `modules.NAME.path`.
 */
export async function loadLayersModules(
  modules: Readonly<Record<string, { kind: string; path?: string; trainable?: boolean | undefined }>>,
  tasks: Readonly<Record<string, { ops?: readonly (string | { module: string })[] | undefined }>>,
  configFile: string,
): Promise<Record<string, Module>> {
  const used = new Set(
    Object.values(tasks).flatMap((t) => (t.ops ?? []).map((op) => (typeof op === 'string' ? op : op.module))),
  );
  const out: Record<string, Module> = {};
  try {
    for (const [name, entry] of Object.entries(modules)) {
      if (entry.kind !== 'layers' || !used.has(name) || entry.path === undefined) continue;
      const place = `modules.${name}.path`;
      const options = {
        path: entry.path,
        ...(entry.trainable === undefined ? {} : { trainable: entry.trainable }),
      };
      out[name] = isUrl(entry.path)
        ? await loadLayersKind(options, { place })
        : await loadLayersKind(
            { ...options, path: resolveConfigPath(configFile, entry.path) },
            { place, handler: (file) => tf.io.fromMemory(readLayersModelFiles(file, place)) },
          );
    }
  } catch (e) {
    for (const m of Object.values(out)) m.dispose();
    throw e;
  }
  return out;
}
