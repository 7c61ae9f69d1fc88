import { basename, extname } from 'node:path';
import { applySetOverrides, readConfigFile, validateWithSchema } from './load.js';
import { configSchema, type MtlConfig } from './schema.js';

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
  applySetOverrides(data, overrides);
  const config = validateWithSchema(configSchema, data, file);
  return { file, name: basename(file, extname(file)), config };
}
