import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { decodeArtifacts, MtlError } from '@mtl/core';
import { writeFileAtomic } from '@mtl/core/node';
import { MODEL_FILE } from '@mtl/tasks';
import { CHECKPOINT_FILES } from '@mtl/training';
import { stringify } from 'yaml';
import { resolveConfigPath } from './build/data.js';
import { isUrl } from './build/layers-files.js';
import type { LoadedConfig, MtlConfig } from './config/index.js';

/** The files of a run directory; the contract users' scripts rely on. */
export const RUN_FILES = {
  config: 'config.resolved.yaml',
  metrics: 'metrics.jsonl',
  checkpoints: 'checkpoints',
  model: 'model',
  summary: 'summary.json',
  scores: 'scores.json',
  mixing: 'mixing.json',
  /** Mean gate weights per task and expert at each evaluation (models with mmoe, cgc, ple or dselect_k). */
  gates: 'gates.json',
  comparison: 'comparison.json',
  /** How the run started (its warm start), for `--resume`. */
  run: 'run.json',
} as const;

/** `runs/<config-name>-<timestamp>` under the working directory. */
export function defaultRunDir(configName: string, prefix = 'runs'): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return join(prefix, `${configName}-${stamp}`);
}

/** Creates a fresh run directory; an existing non-empty one is refused (a run never overwrites another). */
export function createRunDir(dir: string, place = '--out'): string {
  return makeRunDir(dir, place).dir;
}

/** A run directory and what creating it made: the first folder that did not exist before, if any. */
export interface MadeRunDir {
  dir: string;
  firstCreated: string | undefined;
}

/** {@link createRunDir}, remembering which folders it created so a failed run can remove them. */
export function makeRunDir(dir: string, place = '--out'): MadeRunDir {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) {
      throw new MtlError('INVALID_ARGUMENT', `${abs} exists and is not a folder`, { place });
    }
    if (readdirSync(abs).length > 0) {
      throw new MtlError('INVALID_ARGUMENT', `${abs} already holds files; choose another --out`, { place });
    }
  }
  return { dir: abs, firstCreated: mkdirSync(abs, { recursive: true }) };
}

/** Temporary files of writeFileAtomic (`.NAME.PID.HEX.tmp`), complete or left by a killed process. */
export const TEMPORARY_FILE = /^\..+\.\d+\.[0-9a-f]+\.tmp$/;

/**
 * Removes what a run that failed before its first checkpoint wrote (it cannot be resumed, and
 * would make the corrected rerun's `--out` refused): the run's own files and temporaries, then the
 * folders it created if they are empty. Anything else in the folder stays. A run with a last
 * checkpoint is kept for `--resume`. Returns whether it removed the run.
 */
export function removeUnstartedRun(made: MadeRunDir): boolean {
  const { dir } = made;
  if (existsSync(join(dir, RUN_FILES.checkpoints, CHECKPOINT_FILES.last))) return false;
  const ours = new Set<string>([...Object.values(RUN_FILES), 'report.html']);
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (ours.has(name) || TEMPORARY_FILE.test(name))
      rmSync(join(dir, name), { recursive: true, force: true });
  }
  if (made.firstCreated !== undefined) {
    // From the run directory up to the first folder mkdir made; a folder something else now uses stays.
    for (let d = dir; ; d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
      if (d === made.firstCreated || dirname(d) === d) break;
    }
  }
  return true;
}

/**
 * A run of an earlier release saved `model/model.json` (saved format version 1): reading it gives
 * the clear FORMAT_VERSION error naming that file, rather than "not a finished run".
 */
export function refuseEarlierRun(abs: string): void {
  const legacy = join(abs, RUN_FILES.model, 'model.json');
  if (!existsSync(join(abs, RUN_FILES.model, MODEL_FILE)) && existsSync(legacy)) {
    decodeArtifacts(readFileSync(legacy), legacy);
  }
}

/** Checks that `dir` is a run directory (has the resolved config and a saved model). */
export function checkRunDir(dir: string, place: string): string {
  const abs = resolve(dir);
  for (const file of [RUN_FILES.config, join(RUN_FILES.model, MODEL_FILE)]) {
    if (!existsSync(join(abs, file))) {
      refuseEarlierRun(abs);
      throw new MtlError('FILE_NOT_FOUND', `${abs} is not a finished run: ${file} is missing`, { place });
    }
  }
  return abs;
}

/**
 * The resolved config as written into the run: defaults filled in and file paths made absolute, so
 * `mtl score RUN_DIR` finds the data wherever it is called from.
 */
export function resolvedConfig(loaded: LoadedConfig): MtlConfig {
  const config = structuredClone(loaded.config);
  for (const source of Object.values(config.data)) {
    if (source.kind === 'csv' || source.kind === 'jsonl') {
      if (source.path !== undefined) source.path = resolveConfigPath(loaded.file, source.path);
      if (source.files !== undefined) {
        for (const k of Object.keys(source.files))
          source.files[k] = resolveConfigPath(loaded.file, source.files[k]!);
      }
    }
  }
  for (const module of Object.values(config.modules ?? {})) {
    if (module.kind === 'layers' && !isUrl(module.path))
      module.path = resolveConfigPath(loaded.file, module.path);
  }
  return config;
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The text of a run's `config.resolved.yaml` (a page's report shows it too). */
export function resolvedConfigText(loaded: LoadedConfig): string {
  const header = `# Resolved from ${resolve(loaded.file)} (defaults filled in, paths absolute).\n`;
  return header + stringify(resolvedConfig(loaded));
}

export async function writeResolvedConfig(runDir: string, loaded: LoadedConfig): Promise<void> {
  await writeFileAtomic(join(runDir, RUN_FILES.config), resolvedConfigText(loaded));
}

/** Score maps are written with sorted keys so two runs diff cleanly. */
export function sortedScores(scores: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(scores).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
