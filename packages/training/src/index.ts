export type {
  Aggregator,
  AggregatorContext,
  AggregatorState,
  Matrix,
} from './aggregator.js';
export { AGGREGATOR_NAMES, type AggregatorName } from './aggregators.js';
export type { CheckpointInfo, StepEndInfo, TrainBeginInfo, TrainerCallbacks } from './callbacks.js';
export {
  assignVariables,
  CHECKPOINT_KIND,
  type Checkpoint,
  checkpointArtifacts,
  checkpointFromArtifacts,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  type NamedArray,
  readVariables,
  saveCheckpoint,
} from './checkpoint.js';
export { clipByGlobalNorm, globalNorm } from './clip.js';
export {
  inferMetricMode,
  type LrScheduleConfig,
  type LrScheduleConfigInput,
  lrScheduleConfigSchema,
  type MetricMode,
  type OptimizerConfig,
  type OptimizerConfigInput,
  optimizerConfigSchema,
  parseTrainerConfig,
  type TrainerConfig,
  type TrainerConfigInput,
  trainerConfigSchema,
} from './config.js';
export { gradientConflicts } from './conflict.js';
export { type ConsoleLoggerOptions, consoleLogger } from './console-logger.js';
export type {
  BatchSource,
  EvaluateFn,
  EvaluateInfo,
  LossOutput,
  RepresentationStep,
  StepContext,
  Trainable,
} from './contracts.js';
export { LrSchedule, type LrScheduleOptions, type LrScheduleState } from './lr-schedule.js';
export {
  type OptimizerState,
  type OptimizerUpdates,
  TrainerOptimizer,
  type TrainerOptimizerOptions,
} from './optimizer.js';
export {
  CHECKPOINT_FILES,
  type FitOptions,
  type FitResult,
  type StopReason,
  Trainer,
  type TrainerOptions,
} from './trainer.js';
export type {
  HistoryRecord,
  LossSumsState,
  MetricTrackerState,
  SavedVariable,
  TrainerState,
} from './trainer-state.js';
export { registerUpdateStrategy, type UpdateStrategy, updateStrategyFor } from './update-strategy.js';
export { weightedSum } from './weighted-sum.js';
export type { AggregatorEnv } from './weighting/common.js';
export {
  type AggregatorConfig,
  type AggregatorConfigInput,
  aggregatorSchema,
  createAggregator,
  WEIGHTING_METHOD_NAMES,
  WEIGHTING_METHODS,
  type WeightingMethod,
} from './weighting/registry.js';
