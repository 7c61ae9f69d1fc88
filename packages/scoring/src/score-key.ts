// Score keys are built and parsed in one place, @mtl/core (tfjs-free part), so that @mtl/training
// and @mtl/variational, which do not import this package, use the same functions.
export {
  ALL_DATASET,
  isScoreKey,
  MODEL_TASK,
  modelScoreKey,
  parseScoreKey,
  type ScoreKeyParts,
  scoreKey,
} from '@mtl/core/base';
