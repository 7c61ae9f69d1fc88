import { listNames, MtlError } from '@mtl/core';
import { setChildModuleFactory } from './internal/child-config.js';
import type { Module, ModuleConfig } from './module.js';
import type { ModuleKind } from './module-kind.js';
import { activationKind } from './modules/activation.js';
import { cgcKind } from './modules/cgc.js';
import { conv2dKind } from './modules/conv2d.js';
import { crossStitchKind } from './modules/cross-stitch.js';
import { denseKind } from './modules/dense.js';
import { dropoutKind } from './modules/dropout.js';
import { dselectKKind } from './modules/dselect-k.js';
import { embeddingKind } from './modules/embedding.js';
import { highwayKind } from './modules/highway.js';
import { layerNormKind } from './modules/layer-norm.js';
import { layersKind } from './modules/layers-kind.js';
import { LayersModule } from './modules/layers-module.js';
import { meanPoolKind } from './modules/mean-pool.js';
import { mlpKind } from './modules/mlp.js';
import { mmoeKind } from './modules/mmoe.js';
import { pleKind } from './modules/ple.js';
import { residualKind } from './modules/residual.js';
import { sliceCombinerKind } from './modules/slice-combiner.js';

/**
 * Rebuilds a module (unbuilt, without weights) from its {@link Module.getConfig}.
 * @example
 * const factory: ModuleFactory = (config) => dense(config as unknown as DenseOptions);
 */
export type ModuleFactory = (config: ModuleConfig) => Module;

/**
 * The module kinds of this package that a config can name, each with its options schema. A new
 * kind is one file exporting its {@link ModuleKind} and one line here.
 * @example
 * BUILT_IN_MODULE_KINDS.map((k) => k.type); // ['activation', 'dense', ...]
 */
export const BUILT_IN_MODULE_KINDS = [
  activationKind,
  denseKind,
  dropoutKind,
  embeddingKind,
  layerNormKind,
  layersKind,
  meanPoolKind,
  mlpKind,
  residualKind,
  mmoeKind,
  cgcKind,
  pleKind,
  crossStitchKind,
  dselectKKind,
  highwayKind,
  sliceCombinerKind,
  conv2dKind,
] as const;

/** A kind's factory: the saved config without its `type`, parsed by the kind's schema. */
function kindFactory(kind: ModuleKind): ModuleFactory {
  return (config) => {
    const { type: _, ...options } = config;
    return kind.create(options);
  };
}

interface Entry {
  factory: ModuleFactory;
  kind?: ModuleKind;
}

// tfLayers wraps a tf.layers object, which no JSON config can describe: it has a factory for
// saved models but no options schema, so no config can name it.
const BUILT_IN: Record<string, Entry> = {
  ...Object.fromEntries(BUILT_IN_MODULE_KINDS.map((k) => [k.type, { factory: kindFactory(k), kind: k }])),
  tfLayers: { factory: LayersModule.fromConfig },
};

const registry = new Map<string, Entry>(Object.entries(BUILT_IN));

function checkType(type: string, override: boolean | undefined, place: string): void {
  if (typeof type !== 'string' || type.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'a module type must be a non-empty string', { place });
  }
  if (type in BUILT_IN) {
    throw new MtlError('DUPLICATE_NAME', `"${type}" is a built-in module type`, { place });
  }
  if (registry.has(type) && override !== true) {
    throw new MtlError(
      'DUPLICATE_NAME',
      `module type "${type}" is already registered (pass {override: true})`,
      {
        place,
      },
    );
  }
}

/**
 * Makes a module type loadable from saved models. Re-registering a type replaces its factory
 * only with `{override: true}`; built-in types cannot be replaced. Prefer
 * {@link registerModuleKind}, which also gives the type's options schema.
 * @example
 * registerModule('scale', (config) => new Scale(config.size as number));
 */
export function registerModule(
  type: string,
  factory: ModuleFactory,
  options: { override?: boolean } = {},
): void {
  checkType(type, options.override, `registerModule("${type}")`);
  registry.set(type, { factory });
}

/**
 * Registers a module kind with its options schema: `moduleFromConfig` rebuilds it, and
 * {@link registeredModuleKinds} lists it (what a config schema is composed from).
 * @example
 * registerModuleKind(scaleKind);
 */
export function registerModuleKind(kind: ModuleKind, options: { override?: boolean } = {}): void {
  checkType(kind.type, options.override, `registerModuleKind("${kind.type}")`);
  registry.set(kind.type, { factory: kindFactory(kind), kind });
}

/**
 * The registered kinds that have an options schema (built-in first, then in registration order).
 * @example
 * registeredModuleKinds().find((k) => k.type === 'dense')!.schema.shape.units;
 */
export function registeredModuleKinds(): ModuleKind[] {
  return [...registry.values()].flatMap((e) => (e.kind === undefined ? [] : [e.kind]));
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
  const factory = registry.get(config.type)?.factory;
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

setChildModuleFactory(moduleFromConfig);
