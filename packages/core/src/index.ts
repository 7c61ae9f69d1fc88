export {
  BACKENDS,
  type BackendName,
  type BackendRequest,
  currentBackend,
  type SelectBackendOptions,
  selectBackend,
} from './backend.js';
export { downloadsHandler, indexedDbHandler } from './browser-io.js';
export { checksummedJson, parseChecksummedJson } from './checksum.js';
export type {
  Batch,
  BatchSource,
  LossOutput,
  ParameterGroup,
  RepresentationStep,
  StepBatches,
  StepContext,
  Trainable,
} from './contracts.js';
export { importedBackend } from './default-backend.js';
export {
  assertMtl,
  isMtlError,
  listNames,
  MTL_ERROR_CODES,
  MtlError,
  type MtlErrorCode,
  type MtlErrorOptions,
  toMtlError,
} from './errors.js';
export {
  type AdamRuleScalars,
  type NativeStatus,
  type NativeUpdateRules,
  nativeStatus,
  nativeUpdateRules,
  reportNative,
} from './native.js';
export { stopGradient } from './ops/stop-gradient.js';
export { straightThrough } from './ops/straight-through.js';
export { mixSeed, RandomStream, type RandomStreamState, seedGlobalRandom } from './random.js';
export {
  artifactArrays,
  decodeArtifacts,
  encodeArtifacts,
  expectKind,
  type IOHandler,
  type IOSchemeFactory,
  ioHandler,
  joinUrl,
  loadArtifacts,
  type ModelArtifacts,
  makeArtifacts,
  memoryBytes,
  memoryHandler,
  type NamedArray,
  registerIOScheme,
  SAVED_FORMAT,
  SAVED_FORMAT_VERSION,
  saveArtifacts,
  type WeightSpec,
} from './saved-format.js';
export {
  ALL_DATASET,
  isScoreKey,
  MODEL_TASK,
  modelScoreKey,
  parseScoreKey,
  type ScoreKeyParts,
  scoreKey,
} from './score-key.js';
export { sgdStep } from './sgd-step.js';
export { sha256, sha256Hex } from './sha256.js';
export { assertNoLeaks, countNewTensors, disposeAll } from './tensors.js';
