import type { MtlConfig } from './config/schema.js';

/**
 * The one map of task weights of a run: `tasks.<name>.weight` (default 1) of the tasks it trains.
 * The Trainer weighs the loss parts with it and the run builders (each task's `weight`) the
 * model-wide loss (@mtl/scoring's `withModelLoss`), so the two cannot disagree
 * (`training.taskWeights` is refused by the config schema).
 * @example
 * taskWeightsOf(config, ['a', 'b']); // { a: 2, b: 1 }
 */
export function taskWeightsOf(config: MtlConfig, taskNames: readonly string[]): Record<string, number> {
  return Object.fromEntries(taskNames.map((name) => [name, config.tasks[name]?.weight ?? 1]));
}
