export type {
  Labels,
  MetricDefinition,
  MetricInput,
  MetricKind,
  MetricParam,
  MetricSpec,
  MetricSpecObject,
  Probs,
} from './metric.js';
export {
  getMetric,
  listMetrics,
  metricHigherIsBetter,
  type ResolvedMetric,
  registerMetric,
  resolveMetricSpec,
  unregisterMetric,
} from './metric-registry.js';
export { withModelLoss } from './model-loss.js';
export {
  type MultitaskImprovement,
  type MultitaskImprovementOptions,
  multitaskImprovement,
} from './multitask-improvement.js';
export {
  ALL_DATASET,
  isScoreKey,
  MODEL_TASK,
  modelScoreKey,
  parseScoreKey,
  type ScoreKeyParts,
  scoreKey,
} from './score-key.js';
export {
  filterScores,
  formatScoreTable,
  type ScoreFilter,
  type ScoreRow,
  type ScoreTableOptions,
  scoreRows,
} from './score-table.js';
export {
  type CustomMetric,
  Scorer,
  type ScorerConfig,
  type ScorerOptions,
  type UndefinedPolicy,
} from './scorer.js';
export {
  flattenSliceScores,
  type SliceMasks,
  type SliceScores,
  scoreSlices,
  sliceBaseMetric,
} from './slices.js';
