import type { z } from 'zod';
import type { Module } from './module.js';

/**
 * One kind of module in the registry: its key (`type` in saved configs, `kind` in the app's
 * config), its options schema (a strict zod object, without `type`), and how to make one from
 * parsed options. The constructor parses with the same schema, so a module built in code, from a
 * saved model or from the app's config is checked by one set of rules. Adding a kind is one file
 * that exports its kind, and one line in the registry (or {@link registerModuleKind} for a kind
 * outside this package).
 * @example
 * const scaleKind = defineModuleKind({
 *   type: 'scale',
 *   schema: z.strictObject({ size: intOption() }),
 *   description: 'Multiplies by a learned vector.',
 *   create: (options) => new Scale(options),
 * });
 */
export interface ModuleKind<T extends string = string, S extends z.ZodObject = z.ZodObject> {
  readonly type: T;
  readonly schema: S;
  /** One sentence for `mtl info` and the config reference. */
  readonly description: string;
  create(options: z.input<S>): Module;
}

/**
 * Declares a {@link ModuleKind} (an identity function that keeps the literal types).
 * @example
 * export const denseKind = defineModuleKind({ type: 'dense', schema: denseSchema, description: '...', create: (o) => new Dense(o) });
 */
export function defineModuleKind<const T extends string, S extends z.ZodObject>(
  kind: ModuleKind<T, S>,
): ModuleKind<T, S> {
  return kind;
}
