import { basename, extname } from 'node:path';
import { applySetOverrides, readConfigFile, validateWithSchema } from './load.js';
import { configSchema, type MtlConfig } from './schema.js';

/** The name `mtl train` gives the config it writes into a run directory (RUN_FILES.config). */
const RESOLVED_CONFIG = 'config.resolved.yaml';

/**
 * Before the schemas were split by model kind, a run's resolved config of a vmtl or vae model
 * held the defaults of options that kind never read (`tasks.*.kind: multiclass`, vmtl's
 * `training.scheduler: shuffled` and `modules: {}`). Those exact values are dropped so that such
 * runs still load; any other value stays and is refused with its path.
 */
function dropLegacyDefaults(data: Record<string, unknown>): void {
  const model = data.model as { kind?: unknown } | undefined;
  const kind = model?.kind;
  if (kind !== 'vmtl' && kind !== 'vae') return;
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isRecord(data.tasks)) {
    for (const task of Object.values(data.tasks)) {
      if (isRecord(task) && task.kind === 'multiclass') delete task.kind;
    }
  }
  if (kind === 'vmtl') {
    if (isRecord(data.training) && data.training.scheduler === 'shuffled') delete data.training.scheduler;
    if (isRecord(data.modules) && Object.keys(data.modules).length === 0) delete data.modules;
  }
}

export * from './load.js';
export * from './schema.js';

/** A config read from a file, overrides applied, validated, defaults filled in. */
export interface LoadedConfig {
  file: string;
  /** The config's name: its file name without extension (used for default run folders). */
  name: string;
  config: MtlConfig;
}

/**
 * Reads, overrides (`--set`) and validates a config file. Throws CONFIG_PARSE / CONFIG_INVALID /
 * FILE_NOT_FOUND with the file and config path in the message.
 * @example
 * const { config } = loadConfig('examples/snorkel-basics.yaml', ['training.epochs=2']);
 */
export function loadConfig(file: string, overrides: readonly string[] = []): LoadedConfig {
  const data = readConfigFile(file) as Record<string, unknown>;
  if (basename(file) === RESOLVED_CONFIG) dropLegacyDefaults(data);
  applySetOverrides(data, overrides);
  const config = validateWithSchema(configSchema, data, file);
  return { file, name: basename(file, extname(file)), config };
}
