export {
  decodeTensor,
  encodeTensor,
  MODEL_KIND,
  readSavedModel,
  type SavedModel,
  type SavedModule,
  type SavedTensor,
  savedModelArtifacts,
  savedModelFromArtifacts,
} from './checkpoint.js';
export {
  EXPORTABLE_MODULE_KINDS,
  type LayersInputSpec,
  type ToLayersModelOptions,
  toLayersModel,
} from './export-layers.js';
export { type GateLog, gateLog } from './gate-log.js';
export {
  type GateHistory,
  GateRecorder,
  type GateSnapshot,
  type GateSource,
  gatedModules,
} from './gates.js';
export { GatedModule, type GateObserver, isGatedModule } from './internal/experts.js';
export type { Initializer } from './internal/init.js';
export { matmulLastAxis } from './internal/module-utils.js';
export type { Mixing, Predictions, RunModel, WarmStart } from './model-run.js';
export {
  BaseModule,
  type Module,
  type ModuleBuildOptions,
  type ModuleConfig,
  type ModuleContext,
  type ModuleOutput,
  type ParamSpec,
} from './module.js';
export { defineModuleKind, type ModuleKind } from './module-kind.js';
export { ModuleLosses } from './module-losses.js';
export {
  checkInit,
  checkInt,
  checkIntList,
  checkNumber,
  defined,
  enumOption,
  initOption,
  intListOption,
  intOption,
  MAX_MODULE_SIZE,
  numberOption,
  optionalSeed,
  parseModuleOptions,
  seedOption,
} from './module-options.js';
export {
  ModulePool,
  type ModulePoolLoadOptions,
  type ModulePoolOptions,
  type PoolEntry,
  type SavedModuleWeights,
} from './module-pool.js';
export {
  BUILT_IN_MODULE_KINDS,
  type ModuleFactory,
  moduleFromConfig,
  registeredModuleKinds,
  registeredModuleTypes,
  registerModule,
  registerModuleKind,
} from './module-registry.js';
export {
  ACTIVATIONS,
  Activation,
  type ActivationName,
  type ActivationOptions,
  activation,
  activationKind,
  activationOption,
  activationSchema,
  applyActivation,
  checkActivation,
} from './modules/activation.js';
export { Cgc, type CgcOptions, cgc, cgcKind, cgcSchema } from './modules/cgc.js';
export { Conv2d, type Conv2dOptions, conv2d, conv2dKind, conv2dSchema } from './modules/conv2d.js';
export {
  CrossStitch,
  type CrossStitchOptions,
  crossStitch,
  crossStitchKind,
  crossStitchSchema,
} from './modules/cross-stitch.js';
export { Dense, type DenseOptions, dense, denseKind, denseSchema } from './modules/dense.js';
export { Dropout, type DropoutOptions, dropout, dropoutKind, dropoutSchema } from './modules/dropout.js';
export {
  DselectK,
  type DselectKOptions,
  dselectK,
  dselectKKind,
  dselectKSchema,
  smoothStep,
} from './modules/dselect-k.js';
export {
  Embedding,
  type EmbeddingOptions,
  embedding,
  embeddingKind,
  embeddingSchema,
} from './modules/embedding.js';
export {
  LayerNorm,
  type LayerNormOptions,
  layerNorm,
  layerNormKind,
  layerNormSchema,
} from './modules/layer-norm.js';
export {
  type LayersKindOptions,
  type LayersKindSource,
  layersKind,
  layersKindSchema,
  loadLayersKind,
} from './modules/layers-kind.js';
export { LayersModule, type LayersModuleOptions, layersModule } from './modules/layers-module.js';
export { MeanPool, meanPool, meanPoolKind, meanPoolSchema } from './modules/mean-pool.js';
export { Mlp, type MlpOptions, mlp, mlpKind, mlpSchema } from './modules/mlp.js';
export { Mmoe, type MmoeOptions, mmoe, mmoeKind, mmoeSchema } from './modules/mmoe.js';
export { Ple, type PleOptions, ple, pleKind, pleSchema } from './modules/ple.js';
export {
  Residual,
  type ResidualOptions,
  residual,
  residualKind,
  residualSchema,
} from './modules/residual.js';
export {
  SliceCombiner,
  type SliceCombinerOptions,
  sliceCombiner,
  sliceCombinerKind,
  sliceCombinerSchema,
} from './modules/slice-combiner.js';
export {
  atModulePath,
  type BuiltMultitask,
  buildMultitaskModel,
  checkParameterCount,
  type ExpandedOp,
  expandOps,
  fieldShapes,
  MAX_PARAMETERS,
  type ModuleEntry,
  type MultitaskTaskEntry,
  moduleConfigOf,
  type OpEntry,
} from './multitask-build.js';
export {
  type BatchLoader,
  type ForwardOptions,
  type LabelArray,
  type LoadOptions,
  MultitaskModel,
  type MultitaskModelOptions,
  type PredictOptions,
  type ScoreOptions,
  type TaskPredictions,
  type WarmStartReport,
} from './multitask-model.js';
export { MODEL_FILE, type MultitaskRunOptions, multitaskRun } from './multitask-run.js';
export {
  INPUT_SOURCE,
  Operation,
  type OperationInput,
  type OperationOptions,
  type OperationSpec,
} from './operation.js';
export {
  labelScalerOf,
  OriginalUnitsScorer,
  unscalePredictions,
  withOriginalUnits,
} from './original-units.js';
export { checkPerTaskReads, perTaskOutputs } from './per-task-outputs.js';
export { withModelLosses } from './run-model-loss.js';
export {
  concatRowShape,
  type InputShapes,
  inferShapes,
  isRowShape,
  knownSize,
  type OutputShape,
  type RowShape,
  resolveSize,
  ShapeWalk,
} from './shape-inference.js';
export {
  addSliceLabels,
  BASE_SLICE,
  type SliceAwareOptions,
  sliceAwareTasks,
  sliceTaskNames,
  splitSliceMasks,
  withSliceLabels,
} from './slice-aware.js';
export {
  evaluateSlice,
  type SliceCondition,
  type SliceRowMasks,
  sliceConditionSchema,
  sliceMasks,
  sliceNameSchema,
  slicesSchema,
} from './slicing.js';
export {
  TASK_KINDS,
  Task,
  type TaskKind,
  type TaskLossFn,
  type TaskOptions,
  type TaskOutputFn,
  type TaskSpec,
} from './task.js';
export { allRows, describeInputs, firstRows, type SplitDatasets, type TaskData } from './task-data.js';
