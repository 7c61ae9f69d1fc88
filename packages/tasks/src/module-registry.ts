import { listNames, MtlError } from '@mtl/core';
import type { Module, ModuleConfig } from './module.js';
import { Activation } from './modules/activation.js';
import { Dense } from './modules/dense.js';
import { Dropout } from './modules/dropout.js';
import { Embedding } from './modules/embedding.js';
import { LayerNorm } from './modules/layer-norm.js';
import { LayersModule } from './modules/layers-module.js';
import { MeanPool } from './modules/mean-pool.js';
import { Mlp } from './modules/mlp.js';

/**
 * Rebuilds a module (unbuilt, without weights) from its {@link Module.getConfig}.
 * @example
 * const factory: ModuleFactory = (config) => dense(config as unknown as DenseOptions);
 */
export type ModuleFactory = (config: ModuleConfig) => Module;

const BUILT_IN: Record<string, ModuleFactory> = {
  activation: Activation.fromConfig,
  dense: Dense.fromConfig,
  dropout: Dropout.fromConfig,
  embedding: Embedding.fromConfig,
  layerNorm: LayerNorm.fromConfig,
  meanPool: MeanPool.fromConfig,
  mlp: Mlp.fromConfig,
  tfLayers: LayersModule.fromConfig,
};

const registry = new Map<string, ModuleFactory>(Object.entries(BUILT_IN));

/**
 * Makes a module type loadable from saved models. Re-registering a type replaces its factory
 * only with `{override: true}`; built-in types cannot be replaced.
 * @example
 * registerModule('scale', (config) => new Scale(config.size as number));
 */
export function registerModule(
  type: string,
  factory: ModuleFactory,
  options: { override?: boolean } = {},
): void {
  const place = `registerModule("${type}")`;
  if (typeof type !== 'string' || type.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'a module type must be a non-empty string', { place });
  }
  if (type in BUILT_IN) {
    throw new MtlError('DUPLICATE_NAME', `"${type}" is a built-in module type`, { place });
  }
  if (registry.has(type) && options.override !== true) {
    throw new MtlError(
      'DUPLICATE_NAME',
      `module type "${type}" is already registered (pass {override: true})`,
      {
        place,
      },
    );
  }
  registry.set(type, factory);
}

/**
 * Module types that {@link moduleFromConfig} can rebuild.
 * @example
 * registeredModuleTypes(); // ['activation', 'dense', 'dropout', 'embedding', ...]
 */
export function registeredModuleTypes(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Builds an (unbuilt) module from a saved config; validation errors name `place`.
 * @example
 * const head = moduleFromConfig({ type: 'dense', inputSize: 4, units: 2 });
 */
export function moduleFromConfig(config: ModuleConfig, place = 'module'): Module {
  if (config === null || typeof config !== 'object' || typeof config.type !== 'string') {
    throw new MtlError('CONFIG_INVALID', 'a module config needs a string "type"', { place });
  }
  const factory = registry.get(config.type);
  if (factory === undefined) {
    throw new MtlError(
      'UNKNOWN_MODULE',
      `unknown module type "${config.type}" (registered: ${listNames(registry.keys())}); register it with registerModule`,
      { place },
    );
  }
  try {
    return factory(config);
  } catch (e) {
    if (e instanceof MtlError) throw e.within(place);
    throw e;
  }
}
