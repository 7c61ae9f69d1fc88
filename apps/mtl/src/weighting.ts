import { MtlError } from '@mtl/core';
import { type Aggregator, createAggregator, WEIGHTING_METHODS, type WeightingMethod } from '@mtl/training';
import type { MtlConfig } from './config/schema.js';
import { taskWeightsOf } from './model-loss.js';

/**
 * The run's weighting method (`training.weighting`) built for the tasks it trains, in the
 * Trainer's order of losses (task names sorted), with the tasks' `weight`s. Refuses, naming the
 * config path, what would fail mid-run: a gradient-level or per-task-state method with a scheduler
 * whose steps hold one task, and gradients of the shared representation where there is none
 * (a model kind other than multitask, or tasks that share no module). The caller owns the aggregator and disposes it.
 * @example
 * const aggregator = weightingFor(config, ['a', 'b']);
 * const trainer = new Trainer(options, { aggregator });
 */
export function weightingFor(config: MtlConfig, taskNames: readonly string[]): Aggregator {
  const weighting = config.training.weighting;
  const method = weighting.method as WeightingMethod;
  const entry = WEIGHTING_METHODS[method];
  const gradient = entry?.level === 'gradient';
  // The registry says which methods cannot weigh a step that holds one task.
  if (entry?.needsEveryTask) {
    const scheduler = 'scheduler' in config.training ? config.training.scheduler : undefined;
    // A vmtl step always stacks one sub-batch of every task; the other kinds need `mixed` for it.
    if (scheduler !== undefined && scheduler !== 'mixed') {
      throw new MtlError(
        'CONFIG_INVALID',
        `weighting method ${method} ${gradient ? 'combines the gradients' : 'weighs the losses'} of every task in a step, but scheduler "${scheduler}" puts one task in a step; use training.scheduler: mixed`,
        { place: 'training.scheduler', details: { method, scheduler } },
      );
    }
  }
  if (gradient) {
    if ('gradientOf' in weighting && weighting.gradientOf === 'representation') {
      // Only MultitaskModel exposes its representation: the outputs of the modules its tasks share.
      if (config.model.kind !== 'multitask') {
        throw new MtlError(
          'CONFIG_INVALID',
          `weighting method ${method}: gradients of the shared representation are not supported by the ${config.model.kind} model yet; use gradientOf: parameters`,
          { place: 'training.weighting.gradientOf', details: { method } },
        );
      }
      if (!sharesAModule(config)) {
        throw new MtlError(
          'CONFIG_INVALID',
          `weighting method ${method}: gradients of the shared representation need a module that two or more tasks run, but tasks ${Object.keys(config.tasks).join(', ')} share none; use gradientOf: parameters`,
          { place: 'training.weighting.gradientOf', details: { method } },
        );
      }
    }
  }
  return createAggregator(
    weighting,
    { tasks: [...taskNames].sort(), taskWeights: taskWeightsOf(config, taskNames) },
    'training.weighting',
  );
}

/** Whether some module is in the `ops` of two or more tasks (the model then has a trunk). */
function sharesAModule(config: MtlConfig): boolean {
  const users = new Map<string, number>();
  for (const task of Object.values(config.tasks) as { ops?: (string | { module: string })[] }[]) {
    const modules = new Set((task.ops ?? []).map((op) => (typeof op === 'string' ? op : op.module)));
    for (const m of modules) users.set(m, (users.get(m) ?? 0) + 1);
  }
  return [...users.values()].some((n) => n >= 2);
}
