import type { BatchSource, LossOutput, RepresentationStep, StepContext, Trainable } from '@mtl/core';

// Declared once in @mtl/core; re-exported so that `import type { Trainable } from '@mtl/training'` keeps working.
export type { BatchSource, LossOutput, RepresentationStep, StepContext, Trainable };

/**
 * What an evaluation callback is told (it may ignore it).
 * @example
 * const evaluate: EvaluateFn = ({ step }: EvaluateInfo) => ({ 'model/all/valid/step': step });
 */
export interface EvaluateInfo {
  /** Optimizer steps completed. */
  step: number;
  /** Epochs completed (the epoch an evaluation closes counts; 0 inside the first epoch). */
  epoch: number;
}

/**
 * Scores the model, e.g. `() => model.score(validLoaders)`: a flat map keyed `task/dataset/split/metric`.
 * @example
 * const evaluate: EvaluateFn = () => ({ 'circle_task/circleDataset/valid/accuracy': 0.93 });
 */
export type EvaluateFn = (info: EvaluateInfo) => Promise<Record<string, number>> | Record<string, number>;
