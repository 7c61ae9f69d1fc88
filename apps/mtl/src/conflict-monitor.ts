import { type BatchSource, RandomStream, type StepBatches, scoreKey, type Trainable } from '@mtl/core';
import type { RunModel } from '@mtl/tasks';
import { gradientConflicts } from '@mtl/training';
import { readMetricsJsonl } from '@mtl/training/node';
import * as tf from '@tensorflow/tfjs';

/** The run directory's file of the conflict monitor (beside metrics.jsonl). */
export const CONFLICT_FILE = 'conflict.json';

/** Prefix of the monitor's keys in metrics.jsonl: `conflict/<a>/<b>/cosine` and `.../normRatio`. */
export const CONFLICT_PREFIX = 'conflict/';

/**
 * Measures, at each evaluation, how the tasks' gradients of the shared parameters agree on one
 * fixed batch (see {@link conflictMonitor}).
 */
export interface ConflictMonitor {
  /** Tasks compared (sorted), as the keys name them. */
  readonly tasks: readonly string[];
  /** `conflict/<a>/<b>/cosine` and `conflict/<a>/<b>/normRatio` for every pair `a < b`, at this step. */
  measure(info: { step: number; epoch: number }): Record<string, number>;
  /** Frees the monitor's batch. */
  dispose(): void;
}

/** Whether some parameters are trained by two or more tasks (what the monitor compares). */
export function hasSharedParameters(trainable: Trainable<StepBatches>): boolean {
  const groups = trainable.parameterGroups?.();
  // Without groups every variable is shared (the Trainer's and gradientConflicts' reading too).
  if (groups === undefined) return trainable.trainableVariables().length > 0;
  return groups.some((g) => g.tasks.length > 1 && g.variables.length > 0);
}

/**
 * The run's conflict monitor (`training.monitor.conflicts`), or undefined when it is off or has
 * nothing to compare (fewer than two tasks, or no parameter shared by two tasks).
 *
 * Its batch is drawn once, on first use, from a second train source of the run read with its own
 * random stream (`rng.child('conflict-monitor')`): steps are taken until every task has a loss
 * part (one step with `mixed` batches or VMTL's stacked ones; a few with a one-task scheduler), at
 * most one epoch. Training's own source and random stream are never touched, so the training
 * numbers are the same with the monitor on or off. The gradients are taken in inference mode (no
 * dropout) at the evaluation's step and epoch, so two evaluations differ only by the weights.
 * Cost per evaluation: one forward pass to list the tasks and one forward and backward pass per
 * task on that batch (about T+1 training steps of T tasks).
 * @example
 * const monitor = conflictMonitor(run, rng, true);
 * const scores = monitor?.measure({ step: 100, epoch: 1 }); // { 'conflict/a/b/cosine': -0.12, ... }
 */
export function conflictMonitor(
  run: Pick<RunModel, 'trainable' | 'taskNames' | 'trainSource'>,
  rng: RandomStream,
  enabled: boolean,
): ConflictMonitor | undefined {
  if (!enabled || run.taskNames.length < 2 || !hasSharedParameters(run.trainable)) return undefined;
  const tasks = [...run.taskNames].sort();
  let source: BatchSource<StepBatches> | undefined;
  const drawn: StepBatches[] = [];
  let batch: StepBatches | undefined;
  const draw = (): StepBatches => {
    source = run.trainSource();
    const stream = new RandomStream(rng.childSeed('conflict-monitor'));
    const seen = new Set<string>();
    const limit = Math.max(1, source.batchesPerEpoch());
    for (const step of source.epoch(0, stream)) {
      drawn.push(step);
      const parts = tf.tidy(() => {
        const out = run.trainable.loss(step, { step: 0, epoch: 0, seed: 0, training: false });
        return Object.keys(out.parts ?? {});
      });
      // A loss part is `task/dataset` (or `task`): its task is what comes before the first slash.
      for (const part of parts) seen.add(part.includes('/') ? part.slice(0, part.indexOf('/')) : part);
      if (tasks.every((t) => seen.has(t)) || drawn.length >= limit) break;
    }
    return drawn.flat();
  };
  return {
    tasks,
    measure({ step, epoch }) {
      batch ??= draw();
      // A task without a loss in a whole epoch of steps is left out (gradientConflicts sees no part).
      return gradientConflicts(run.trainable, batch, { step, epoch, seed: 0, training: false });
    },
    dispose() {
      for (const step of drawn) source?.dispose?.(step);
      drawn.length = 0;
      batch = undefined;
    },
  };
}

/** `conflict.json`: the monitor's numbers of every evaluation, as task × task matrices. */
export interface ConflictFile {
  tasks: string[];
  /** Row i, column j: cosine of the gradients of tasks i and j (1 on the diagonal; null: a zero gradient). */
  evaluations: {
    step: number;
    epoch: number;
    cosine: (number | null)[][];
    /** Row i, column j: ‖g_i‖ / ‖g_j‖ (null: a zero gradient). */
    normRatio: (number | null)[][];
  }[];
}

/**
 * Builds `conflict.json` from a run's metrics.jsonl (so a resumed run's file covers the whole run):
 * one entry per logged evaluation that has monitor keys. Undefined when there is none.
 * @example
 * const file = await conflictFileOf('runs/a/metrics.jsonl', ['a', 'b']);
 * file?.evaluations.at(-1)?.cosine[0]![1]; // cosine of a and b at the last evaluation
 */
export async function conflictFileOf(
  metricsPath: string,
  tasks: readonly string[],
): Promise<ConflictFile | undefined> {
  const names = [...tasks].sort();
  const history = await readMetricsJsonl(metricsPath);
  const evaluations: ConflictFile['evaluations'] = [];
  for (const record of history) {
    if (!Object.keys(record.metrics).some((k) => k.startsWith(CONFLICT_PREFIX))) continue;
    const at = (i: number, j: number, metric: string): number | null => {
      const v = record.metrics[scoreKey('conflict', names[i]!, names[j]!, metric)];
      return v === undefined || !Number.isFinite(v) ? null : v;
    };
    const cosine = names.map((_, i) =>
      names.map((_, j) => (i === j ? 1 : i < j ? at(i, j, 'cosine') : at(j, i, 'cosine'))),
    );
    const normRatio = names.map((_, i) =>
      names.map((_, j) => {
        if (i === j) return 1;
        if (i < j) return at(i, j, 'normRatio');
        const r = at(j, i, 'normRatio');
        return r === null || r === 0 ? null : 1 / r;
      }),
    );
    evaluations.push({ step: record.step, epoch: record.epoch, cosine, normRatio });
  }
  return evaluations.length === 0 ? undefined : { tasks: names, evaluations };
}
