import { MtlError } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { alignedMtlOptionsSchema, createAlignedMtl } from './aligned-mtl.js';
import { cagradOptionsSchema, createCagrad } from './cagrad.js';
import type { AggregatorEnv } from './common.js';
import { configOptionsSchema, createConfig } from './config.js';
import { createDbMtl, dbMtlOptionsSchema } from './db-mtl.js';
import { createDualProj, dualProjOptionsSchema } from './dual-proj.js';
import { createDwa, dwaOptionsSchema } from './dwa.js';
import { createEqual, equalOptionsSchema } from './equal.js';
import { createFamo, famoOptionsSchema } from './famo.js';
import { createGls, glsOptionsSchema } from './gls.js';
import { createGraddrop, graddropOptionsSchema } from './graddrop.js';
import { createGradnorm, gradnormOptionsSchema } from './gradnorm.js';
import { createGradvac, gradvacOptionsSchema } from './gradvac.js';
import { createImtlG, imtlGOptionsSchema } from './imtl-g.js';
import { createImtlL, imtlLOptionsSchema } from './imtl-l.js';
import { createMgda, mgdaOptionsSchema, mgdaUbOptionsSchema } from './mgda.js';
import { createNashMtl, nashMtlOptionsSchema } from './nash-mtl.js';
import { createPcgrad, pcgradOptionsSchema } from './pcgrad.js';
import { createRlw, rlwOptionsSchema } from './rlw.js';
import { createUncertainty, uncertaintyOptionsSchema } from './uncertainty.js';
import { createUpgrad, upgradOptionsSchema } from './upgrad.js';
import { createWeightedSum, weightedSumOptionsSchema } from './weighted-sum.js';

/** One registered method: its level, its options schema (with `method`) and its constructor. */
interface MethodEntry {
  level: 'loss' | 'gradient';
  /**
   * Whether each step must hold every task's loss: a gradient-level method combines the tasks'
   * gradients, and a loss-level one with a weight, log-variance or loss history per task (UW, DWA,
   * FAMO, IMTL-L, RLW) weighs them all together. False: it weighs any subset of the tasks, so a
   * scheduler with one task per step works.
   */
  needsEveryTask: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: each entry pairs its own schema with its constructor
  schema: z.ZodObject<any>;
  // biome-ignore lint/suspicious/noExplicitAny: the options come from `schema` of the same entry
  create: (options: any, env: AggregatorEnv) => Aggregator;
}

function entry<S extends z.ZodObject>(
  level: 'loss' | 'gradient',
  schema: S,
  create: (options: z.output<S>, env: AggregatorEnv) => Aggregator,
  // Every gradient-level method needs every task; a loss-level one says so.
  needsEveryTask = level === 'gradient',
): MethodEntry {
  return { level, needsEveryTask, schema, create };
}

/**
 * Every weighting and gradient-aggregation method by name, loss level first. The order is the
 * order `mtl info` lists them in. Each entry has its `level` and `needsEveryTask` (a scheduler
 * with one task per step cannot drive it).
 * @example
 * WEIGHTING_METHODS.famo.needsEveryTask; // true
 * WEIGHTING_METHODS.gls.needsEveryTask; // false
 */
export const WEIGHTING_METHODS = {
  weightedSum: entry('loss', weightedSumOptionsSchema, createWeightedSum),
  equal: entry('loss', equalOptionsSchema, createEqual),
  uncertainty: entry('loss', uncertaintyOptionsSchema, createUncertainty, true),
  dwa: entry('loss', dwaOptionsSchema, createDwa, true),
  gls: entry('loss', glsOptionsSchema, createGls),
  rlw: entry('loss', rlwOptionsSchema, createRlw, true),
  famo: entry('loss', famoOptionsSchema, createFamo, true),
  imtlL: entry('loss', imtlLOptionsSchema, createImtlL, true),
  mgda: entry('gradient', mgdaOptionsSchema, createMgda),
  pcgrad: entry('gradient', pcgradOptionsSchema, createPcgrad),
  graddrop: entry('gradient', graddropOptionsSchema, createGraddrop),
  gradvac: entry('gradient', gradvacOptionsSchema, createGradvac),
  imtlG: entry('gradient', imtlGOptionsSchema, createImtlG),
  cagrad: entry('gradient', cagradOptionsSchema, createCagrad),
  nashMtl: entry('gradient', nashMtlOptionsSchema, createNashMtl),
  alignedMtl: entry('gradient', alignedMtlOptionsSchema, createAlignedMtl),
  dualProj: entry('gradient', dualProjOptionsSchema, createDualProj),
  upgrad: entry('gradient', upgradOptionsSchema, createUpgrad),
  config: entry('gradient', configOptionsSchema, createConfig),
  gradnorm: entry('gradient', gradnormOptionsSchema, createGradnorm),
  dbMtl: entry('gradient', dbMtlOptionsSchema, createDbMtl),
  mgdaUb: entry('gradient', mgdaUbOptionsSchema, createMgda),
} as const satisfies Record<string, MethodEntry>;

export type WeightingMethod = keyof typeof WEIGHTING_METHODS;

/** The registry's method names, in listing order. */
export const WEIGHTING_METHOD_NAMES = Object.keys(WEIGHTING_METHODS) as WeightingMethod[];

/**
 * The `training.weighting` block: `{ method, ...options }`, a union discriminated on `method`,
 * every options object strict (an unknown option is an error). Compose it into a config schema.
 * @example
 * aggregatorSchema.parse({ method: 'upgrad' }); // { method: 'upgrad', gradientOf: 'parameters', preference: 'mean', regEps: 1e-10 }
 */
export const aggregatorSchema = z.discriminatedUnion('method', [
  weightedSumOptionsSchema,
  equalOptionsSchema,
  uncertaintyOptionsSchema,
  dwaOptionsSchema,
  glsOptionsSchema,
  rlwOptionsSchema,
  famoOptionsSchema,
  imtlLOptionsSchema,
  mgdaOptionsSchema,
  pcgradOptionsSchema,
  graddropOptionsSchema,
  gradvacOptionsSchema,
  imtlGOptionsSchema,
  cagradOptionsSchema,
  nashMtlOptionsSchema,
  alignedMtlOptionsSchema,
  dualProjOptionsSchema,
  upgradOptionsSchema,
  configOptionsSchema,
  gradnormOptionsSchema,
  dbMtlOptionsSchema,
  mgdaUbOptionsSchema,
]);
export type AggregatorConfig = z.output<typeof aggregatorSchema>;
export type AggregatorConfigInput = z.input<typeof aggregatorSchema>;

/**
 * Builds a weighting method from its config block, e.g. `{ method: 'famo', lr: 0.01 }`, for the
 * run's tasks (in loss / Jacobian row order). Throws `CONFIG_INVALID` naming the method and the
 * option (`weighting.lr`) on bad input; `place` prefixes the paths (default `weighting`).
 * @example
 * const agg = createAggregator({ method: 'pcgrad' }, { tasks: ['a', 'b'] });
 * agg.level; // 'gradient'
 */
export function createAggregator(
  config: { method: string; [option: string]: unknown },
  env: AggregatorEnv,
  place = 'weighting',
): Aggregator {
  const method = config?.method;
  if (typeof method !== 'string' || !Object.hasOwn(WEIGHTING_METHODS, method)) {
    throw new MtlError(
      'CONFIG_INVALID',
      `unknown weighting method ${JSON.stringify(method)}; known: ${WEIGHTING_METHOD_NAMES.join(', ')}`,
      { place: `${place}.method`, details: { known: WEIGHTING_METHOD_NAMES } },
    );
  }
  if (env.tasks.length === 0 || new Set(env.tasks).size !== env.tasks.length) {
    throw new MtlError('INVALID_ARGUMENT', `${method} needs at least one task and distinct task names`, {
      place,
      details: { tasks: env.tasks },
    });
  }
  const spec = WEIGHTING_METHODS[method as WeightingMethod];
  const parsed = spec.schema.safeParse(config);
  if (!parsed.success) {
    const found = parsed.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const path = [place, ...issue.path.map(String), ...(keys.length === 1 ? keys : [])].join('.');
      return { path, text: `${issue.message} (method ${method})` };
    });
    const one = found.length === 1 ? found[0]! : undefined;
    throw new MtlError(
      'CONFIG_INVALID',
      one ? one.text : found.map((f) => `${f.path}: ${f.text}`).join('; '),
      { place: one ? one.path : place, details: { method, issues: parsed.error.issues } },
    );
  }
  const options = parsed.data as Record<string, unknown>;
  for (const key of ['preference', 'leak'] as const) {
    const value = options[key];
    if (Array.isArray(value) && value.length !== env.tasks.length) {
      throw new MtlError(
        'CONFIG_INVALID',
        `${method}: ${key} has ${value.length} values for ${env.tasks.length} tasks (${env.tasks.join(', ')})`,
        { place: `${place}.${key}` },
      );
    }
  }
  return spec.create(options, env);
}
