/**
 * How the Trainer turns per-task loss parts into the one objective it differentiates. Today there
 * is one: the weighted sum `Σ_t w_t · loss_t` with `w_t` from `taskWeights` (the `mtl` config's
 * `tasks.<t>.weight`, default 1). Listed here so tools (`mtl info`) read it from the package
 * rather than keep their own copy; weighting and gradient-surgery methods join this list when the
 * Aggregator seam lands.
 * @example
 * AGGREGATOR_NAMES; // ['weightedSum']
 */
export const AGGREGATOR_NAMES = ['weightedSum'] as const;
export type AggregatorName = (typeof AGGREGATOR_NAMES)[number];
