import { WEIGHTING_METHOD_NAMES, type WeightingMethod } from './weighting/registry.js';

/**
 * How the Trainer turns per-task losses into one update: the weighting and gradient-aggregation
 * methods of the registry (`weighting/registry.ts`), the default `weightedSum` (`Σ_t w_t·loss_t`
 * with `w_t` from `taskWeights`) first. Listed here so tools (`mtl info`) read it from the package
 * rather than keep their own copy.
 * @example
 * AGGREGATOR_NAMES[0]; // 'weightedSum'
 */
export const AGGREGATOR_NAMES: readonly WeightingMethod[] = WEIGHTING_METHOD_NAMES;
export type AggregatorName = WeightingMethod;
