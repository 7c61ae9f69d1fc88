// The tfjs-free part of @mtl/core, for packages (like @mtl/scoring) that must not load tfjs.

export { checksummedJson, parseChecksummedJson } from './checksum.js';
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
export { mixSeed, RandomStream, type RandomStreamState, seedGlobalRandom } from './random.js';
export {
  ALL_DATASET,
  isScoreKey,
  MODEL_TASK,
  modelScoreKey,
  parseScoreKey,
  type ScoreKeyParts,
  scoreKey,
} from './score-key.js';
export { sha256, sha256Hex } from './sha256.js';
