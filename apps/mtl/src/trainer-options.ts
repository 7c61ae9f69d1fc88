import { MtlError } from '@mtl/core';
import { taskWeightsOf } from './model-loss.js';
import type { Prepared } from './prepare.js';

// Browser-safe: `mtl train`, `mtl validate` and the page (`@mtl/cli/browser`) build their Trainer
// from these, so a page run has the same options, seeds and multipliers as a Node run.

/**
 * Trainer options from the config's `training` section (the loop options — batching, scheduler,
 * validation split, weighting, monitors — are the app's, not the Trainer's).
 * @example
 * const trainer = new Trainer(trainerConfig(prepared), { groupLr: moduleLr(prepared) });
 */
export function trainerConfig(prepared: Prepared) {
  const {
    batchSize: _b,
    scheduler: _s,
    shuffle: _sh,
    validSplit: _v,
    weighting: _w,
    monitor: _m,
    seed,
    ...trainer
  } = prepared.loaded.config.training;
  return {
    ...trainer,
    // The same map withModelLoss weighs model/all/<split>/loss with (a solo run of `mtl compare`
    // trains a subset of the tasks).
    taskWeights: taskWeightsOf(prepared.loaded.config, prepared.run.taskNames),
    seed: prepared.rng.childSeed(`training/${seed}`),
  };
}

/**
 * `modules.<name>.lr` of the modules that set one, as the Trainer's learning-rate multipliers by
 * parameter group (a multitask model's module is its group); undefined when none does. Refused
 * (CONFIG_INVALID at `modules.<name>.lr`): a multiplier on a model kind other than multitask, or on
 * a module no task trains.
 */
export function moduleLr(prepared: Prepared): Record<string, number> | undefined {
  const { config } = prepared.loaded;
  const set = Object.entries(
    ((config as { modules?: unknown }).modules ?? {}) as Record<string, { lr?: number }>,
  ).flatMap(([name, m]) => (m.lr === undefined ? [] : [[name, m.lr] as const]));
  const model = config.model as { modules?: Record<string, { lr?: number }> };
  for (const [name, m] of Object.entries(model.modules ?? {})) {
    if (m.lr !== undefined) {
      throw new MtlError(
        'CONFIG_INVALID',
        `learning-rate multipliers of modules are for multitask models, not ${config.model.kind}`,
        { place: `model.modules.${name}.lr` },
      );
    }
  }
  if (set.length === 0) return undefined;
  const groups = new Set((prepared.run.trainable.parameterGroups?.() ?? []).map((g) => g.name));
  for (const [name] of set) {
    const reason =
      config.model.kind !== 'multitask'
        ? `learning-rate multipliers of modules are for multitask models, not ${config.model.kind}`
        : groups.has(name)
          ? undefined
          : `module ${name} has no trainable variable a task uses (no task runs it, or it is frozen)`;
    if (reason !== undefined) {
      throw new MtlError('CONFIG_INVALID', reason, { place: `modules.${name}.lr` });
    }
  }
  return Object.fromEntries(set);
}
