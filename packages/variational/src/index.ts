export {
  BayesianLinear,
  type BayesianLinearOptions,
  bayesianLinearKind,
  bayesianLinearSchema,
  registerVariationalModules,
} from './bayesian-linear.js';
export { Bernoulli } from './bernoulli.js';
export { Categorical } from './categorical.js';
export {
  applyWeights,
  BayesianClassifier,
  type BayesianClassifierOptions,
  bayesianClassifierKind,
  bayesianClassifierSchema,
  VariationalLatent,
  type VariationalLatentOptions,
  variationalLatentKind,
  variationalLatentSchema,
} from './deep-modules.js';
export {
  DEEP_VMTL_KIND,
  DeepVmtlModel,
  type DeepVmtlOptions,
  type DeepVmtlPrediction,
  type DeepVmtlTask,
  type KlAnneal,
  klAnnealing,
} from './deep-vmtl.js';
export { buildDeepVmtlRun } from './deep-vmtl-run.js';
export { Delta } from './delta.js';
export { type BatchParamFn, Distribution, type SampleShape } from './distribution.js';
export { Independent } from './independent.js';
export {
  hasClosedFormKl,
  isPointMass,
  type KlFunction,
  type KlOptions,
  klDivergence,
  monteCarloKl,
  registerKl,
} from './kl.js';
export { MixingWeights, type MixingWeightsOptions } from './mixing.js';
export {
  MIXTURE_KL_ESTIMATORS,
  type MixtureKlEstimator,
  type MixtureKlOptions,
  mixtureKl,
} from './mixture-kl.js';
export { MixtureSameFamily } from './mixture-same-family.js';
export {
  type ElboBatch,
  type ElboContext,
  type ElboResult,
  type KlWeight,
  MultiTaskElbo,
  type MultiTaskElboOptions,
  type StackedEncoder,
  type StackedLikelihood,
  stackTaskBatches,
  type TaskEncoder,
  type TaskLikelihood,
} from './multi-task-elbo.js';
export { Normal } from './normal.js';
export { Predictive } from './predictive.js';
export { stackDistributions } from './stack.js';
export type { VmtlRunTraining } from './stacked-run.js';
export {
  constantTemperature,
  EXPONENTIAL_TEMPERATURE_DEFAULTS,
  exponentialTemperature,
  inverseSqrtTemperature,
  type TemperatureSchedule,
  type TemperatureSpec,
  temperatureSchedule,
} from './temperature.js';
export {
  type StackedStep,
  soloBaseline,
  type TaskBatch,
  VMTL_KIND,
  type VmtlLoadOptions,
  type VmtlLoadReport,
  type VmtlLossOutput,
  VmtlModel,
  type VmtlModelOptions,
  type VmtlStepContext,
  type VmtlTask,
} from './vmtl-model.js';
export {
  buildVmtlRun,
  type VmtlRunConfig,
  type VmtlRunModelOptions,
  type VmtlTaskEntry,
} from './vmtl-run.js';
