// The tfjs-free part of @mtl/core, for packages (like @mtl/scoring) that must not load tfjs.
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
  checksummedJson,
  parseChecksummedJson,
  readChecksummedJson,
  writeFileAtomic,
  writeFileAtomicSync,
} from './fs.js';
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
