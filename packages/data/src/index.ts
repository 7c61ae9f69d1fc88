export { type Batch, disposeBatch, type StepBatches } from './batch.js';
export {
  BatchScheduler,
  type PlannedBatch,
  SCHEDULER_NAMES,
  type ScheduleOptions,
  type SchedulerName,
  scheduleBatches,
} from './batch-scheduler.js';
export type { BatchSource } from './batch-source.js';
export {
  type ColumnMapping,
  FIELD_KINDS,
  type FieldColumnSpec,
  type FieldColumns,
  type FieldKind,
  type LabelColumnSpec,
  type ReadTableOptions,
} from './column-mapping.js';
export { expandColumnRange, selectColumns } from './column-select.js';
export { DictDataLoader, type DictDataLoaderOptions } from './dict-data-loader.js';
export {
  type DatasetRow,
  DictDataset,
  type DictDatasetOptions,
  type FieldInfo,
  type FieldInput,
  LABEL_KINDS,
  type LabelInfo,
  type LabelInput,
  type LabelKind,
} from './dict-dataset.js';
export {
  FASHION_DOMAINS,
  type FashionDomain,
  type FashionDomainData,
  type FashionDomainsOptions,
  makeFashionDomains,
} from './fashion-domains.js';
export type { ColumnInput, DenseArray, NestedNumbers, RaggedArray, TypedNumberArray } from './field-input.js';
export { formatFloat32 } from './format-float32.js';
export {
  encodeIdx,
  IDX_DTYPES,
  type IdxArray,
  type IdxArrays,
  type IdxDtype,
  type ParseIdxOptions,
  parseIdx,
} from './idx.js';
export {
  checkImageSet,
  FASHION_MNIST_CLASSES,
  type ImageSet,
  resizeArea,
  rotate90,
} from './image-set.js';
export type { ReadCsvOptions } from './internal/csv-rows.js';
export { type LogisticTask, type LogisticTasksOptions, makeLogisticTasks } from './logistic-tasks.js';
export { type MmoeSynthetic, type MmoeSyntheticOptions, makeMmoeSynthetic } from './mmoe-synthetic.js';
export {
  type MultiFashionImages,
  type MultiFashionOptions,
  makeMultiFashion,
  multiFashionImages,
} from './multi-fashion.js';
export { parseCsv } from './parse-csv.js';
export { parseJsonl } from './parse-jsonl.js';
export {
  applyPreprocessing,
  applyScaler,
  checkFittedPreprocessing,
  type FieldPreprocessing,
  type FittedCategorical,
  type FittedField,
  type FittedNumeric,
  type FittedPreprocessing,
  type FittedScaler,
  type FittedText,
  fitPreprocessing,
  fitScaler,
  invertScaler,
  type PreprocessingSpec,
  SCALE_METHODS,
  type ScaleMethod,
  tokenize,
  unscaleLabel,
  VOCABULARY_IDS,
  type VocabularyOptions,
  vocabularySize,
} from './preprocessing.js';
export { type SplitRatios, splitDataset, splitIndices, splitSizes } from './split.js';
export { StackedLoader, type StackedLoaderOptions } from './stacked-loader.js';
export {
  makeCircleDatasets,
  makeInvCircleDatasets,
  makeSquareDatasets,
  makeToyDatasets,
  TOY_TASKS,
  type ToyDataOptions,
  type ToyPoints,
  type ToyTask,
  toyPoints,
} from './toy-data.js';
