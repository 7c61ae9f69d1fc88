import { MtlError } from '@mtl/core';
import type { Module, ModuleConfig } from '../module.js';

// A module kind whose options hold a child module's config (residual's `block`) builds the child
// through the registry; the registry imports every built-in kind, so the kind reaches it through
// this hook (set when the registry loads) rather than by an import cycle.
let fromConfig: ((config: ModuleConfig, place: string) => Module) | undefined;

/** Called once by the module registry. */
export function setChildModuleFactory(factory: (config: ModuleConfig, place: string) => Module): void {
  fromConfig = factory;
}

/** Whether `value` looks like a module object (rather than a config). */
export function isModule(value: unknown): value is Module {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Module).build === 'function' &&
    typeof (value as Module).apply === 'function'
  );
}

/**
 * A child module given as a module object or as a config: `{type, ...options}` as saved, or
 * `{kind, ...options}` as written in the app's config (and in nested configs of it).
 */
export function childModule(value: unknown, place: string): Module {
  if (isModule(value)) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MtlError('INVALID_ARGUMENT', 'expects a module or a module config {kind, ...options}', {
      place,
    });
  }
  const { kind, type, ...options } = value as { kind?: unknown; type?: unknown };
  const key = type ?? kind;
  if (typeof key !== 'string') {
    throw new MtlError('CONFIG_INVALID', 'a module config needs a string "kind" (or "type")', { place });
  }
  if (fromConfig === undefined) {
    throw new MtlError('INTERNAL', 'the module registry is not loaded: import @mtl/tasks', { place });
  }
  return fromConfig({ type: key, ...options }, place);
}
