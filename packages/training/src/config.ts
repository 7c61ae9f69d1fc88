import { MtlError } from '@mtl/core';
import { z } from 'zod';

const unitInterval = z.number().min(0).lt(1);
const metricMode = z.enum(['min', 'max']);

/** SGD, with optional (Nesterov) momentum: `b ← μ·b + g; w ← w − lr·b`. */
const sgdSchema = z.strictObject({
  type: z.literal('sgd'),
  momentum: unitInterval.default(0),
  nesterov: z.boolean().default(false),
});
const adamFields = {
  beta1: unitInterval.default(0.9),
  beta2: unitInterval.default(0.999),
  epsilon: z.number().positive().default(1e-8),
};
const adamSchema = z.strictObject({ type: z.literal('adam'), ...adamFields });
/** Adam with decoupled weight decay (Loshchilov & Hutter): `w ← w − lr·(m̂/(√v̂+ε) + wd·w)`. */
const adamwSchema = z.strictObject({
  type: z.literal('adamw'),
  ...adamFields,
  weightDecay: z.number().min(0).default(0.01),
});
const adamaxSchema = z.strictObject({ type: z.literal('adamax'), ...adamFields });
const rmspropSchema = z.strictObject({
  type: z.literal('rmsprop'),
  /** Decay of the running mean of squared gradients (PyTorch's `alpha`, Keras' `rho`). */
  rho: unitInterval.default(0.9),
  momentum: unitInterval.default(0),
  epsilon: z.number().positive().default(1e-8),
  centered: z.boolean().default(false),
});

/**
 * The optimizer, a union on `type`. Defaults: adam with β1 0.9, β2 0.999, ε 1e-8.
 * @example
 * optimizerConfigSchema.parse({ type: 'sgd', momentum: 0.9 }); // { type: 'sgd', momentum: 0.9, nesterov: false }
 */
export const optimizerConfigSchema = z.discriminatedUnion('type', [
  sgdSchema,
  adamSchema,
  adamwSchema,
  adamaxSchema,
  rmspropSchema,
]);

const warmup = {
  /** Linear warmup: step t < W uses `lr_t = (t+1)/W · schedule(W)`. */
  warmupSteps: z.int().min(0).default(0),
};
const scheduleUnit = z.enum(['epoch', 'step']);

/**
 * The learning-rate schedule, a union on `type`, each with `warmupSteps`. Closed forms (t = step
 * index, W = warmup steps, T = total steps, s = t − W, S = max(1, T − W), e = epoch index):
 * - constant: `lr`
 * - linear: `lr·(1 + (endFactor − 1)·min(s, S)/S)`
 * - exponential: `lr·gamma^u`, u = e (unit epoch) or s (unit step)
 * - step: `lr·gamma^floor(u/stepSize)`
 * - cosine: `lrMin + (lr − lrMin)·(1 + cos(π·min(s, S)/S))/2`, lrMin = lr·minFactor
 * - plateau: `lr·scale`; scale ×= factor when `metric` has not improved (by more than minDelta) for
 *   more than `patience` evaluations, then `cooldown` evaluations are ignored; never below minLr.
 * @example
 * lrScheduleConfigSchema.parse({ type: 'cosine', warmupSteps: 100 });
 */
export const lrScheduleConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('constant'), ...warmup }),
  z.strictObject({ type: z.literal('linear'), ...warmup, endFactor: z.number().min(0).default(0) }),
  z.strictObject({
    type: z.literal('exponential'),
    ...warmup,
    gamma: z.number().positive().default(0.9),
    unit: scheduleUnit.default('epoch'),
  }),
  z.strictObject({
    type: z.literal('step'),
    ...warmup,
    stepSize: z.int().positive().default(1),
    gamma: z.number().positive().default(0.1),
    unit: scheduleUnit.default('epoch'),
  }),
  z.strictObject({ type: z.literal('cosine'), ...warmup, minFactor: z.number().min(0).default(0) }),
  z.strictObject({
    type: z.literal('plateau'),
    ...warmup,
    metric: z.string().min(1),
    mode: metricMode.optional(),
    factor: z.number().gt(0).lt(1).default(0.1),
    patience: z.int().min(0).default(10),
    minDelta: z.number().min(0).default(0),
    cooldown: z.int().min(0).default(0),
    minLr: z.number().min(0).default(0),
  }),
]);

/** Early stopping: stop when `metric` has not improved by more than `minDelta` for `patience` evaluations. */
const earlyStoppingSchema = z.strictObject({
  patience: z.int().positive(),
  minDelta: z.number().min(0).default(0),
  /** Defaults to the checkpoint metric. */
  metric: z.string().min(1).optional(),
  /** Defaults to the checkpoint mode, else inferred from the metric name (see {@link inferMetricMode}). */
  mode: metricMode.optional(),
});

/**
 * The Trainer's configuration (strict: unknown keys are errors; defaults filled in). Reuse it for
 * the `training` section of an app config. Batch scheduling is not here: it belongs to whoever
 * builds the {@link BatchSource} (e.g. @mtl/data's `scheduleBatches`).
 * @example
 * const config = trainerConfigSchema.parse({ epochs: 5, optimizer: { type: 'adamw' }, lr: 0.01 });
 * config.evalEvery; // 1
 */
export const trainerConfigSchema = z
  .strictObject({
    /** One seed drives shuffles (per epoch) and the per-step seed given to the trainable. */
    seed: z.int().default(0),
    epochs: z.int().positive().default(10),
    /** When set, training stops after this many optimizer steps and `epochs` is ignored. */
    steps: z.int().positive().optional(),
    lr: z.number().positive().default(1e-3),
    /** Coupled L2: `0.5·l2·Σ‖w‖²` over all trainable variables is added to the loss (gradient += l2·w). */
    l2: z.number().min(0).default(0),
    optimizer: optimizerConfigSchema.prefault({ type: 'adam' }),
    lrSchedule: lrScheduleConfigSchema.prefault({ type: 'constant' }),
    /** Clip gradients by their global norm to at most this value. */
    gradClipNorm: z.number().positive().optional(),
    /**
     * Gradient accumulation: the optimizer steps once every `accumulate` batches with the mean of
     * their gradients (of a gradient-level method: the mean of its combined updates), and at an
     * epoch's end with the mean of the batches left. A step (schedule, `steps`, `evalEvery`,
     * checkpoints) is an optimizer step: `ceil(batches per epoch / accumulate)` per epoch.
     */
    accumulate: z.int().positive().default(1),
    /** Weight of each task's loss parts (a part keyed `task/dataset` gets `taskWeights[task]`, default 1). */
    taskWeights: z.record(z.string(), z.number().min(0)).default({}),
    evalEvery: z.int().positive().default(1),
    evalUnit: z.enum(['epoch', 'step']).default('epoch'),
    /** Score key that picks the best model (e.g. `model/all/valid/loss`). */
    checkpointMetric: z.string().min(1).optional(),
    /** Defaults from the metric name (see {@link inferMetricMode}). */
    checkpointMode: metricMode.optional(),
    /** Folder for `last.ckpt` (every evaluation) and `best.ckpt`. */
    checkpointDir: z.string().min(1).optional(),
    /** Put the best weights back at the end; defaults to true when a checkpoint metric is set. */
    restoreBest: z.boolean().optional(),
    earlyStopping: earlyStoppingSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.earlyStopping && c.earlyStopping.metric === undefined && c.checkpointMetric === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['earlyStopping', 'metric'],
        message: 'early stopping needs a metric: set earlyStopping.metric or checkpointMetric',
      });
    }
    if (c.restoreBest === true && c.checkpointMetric === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['restoreBest'],
        message: 'restoreBest needs checkpointMetric',
      });
    }
  });

/**
 * The resolved (defaults filled in) Trainer configuration.
 * @example
 * const config: TrainerConfig = parseTrainerConfig({ epochs: 3 });
 */
export type TrainerConfig = z.output<typeof trainerConfigSchema>;
/**
 * What a user may write: every field with a default is optional.
 * @example
 * const input: TrainerConfigInput = { optimizer: { type: 'adamw' }, lrSchedule: { type: 'cosine', warmupSteps: 50 } };
 */
export type TrainerConfigInput = z.input<typeof trainerConfigSchema>;
/**
 * A resolved optimizer configuration.
 * @example
 * const o: OptimizerConfig = optimizerConfigSchema.parse({ type: 'adam' });
 */
export type OptimizerConfig = z.output<typeof optimizerConfigSchema>;
/**
 * An optimizer configuration as written.
 * @example
 * const o: OptimizerConfigInput = { type: 'rmsprop', momentum: 0.9 };
 */
export type OptimizerConfigInput = z.input<typeof optimizerConfigSchema>;
/**
 * A resolved learning-rate schedule configuration.
 * @example
 * const s: LrScheduleConfig = lrScheduleConfigSchema.parse({ type: 'step', stepSize: 10 });
 */
export type LrScheduleConfig = z.output<typeof lrScheduleConfigSchema>;
/**
 * A learning-rate schedule configuration as written.
 * @example
 * const s: LrScheduleConfigInput = { type: 'plateau', metric: 'model/all/valid/loss', patience: 2 };
 */
export type LrScheduleConfigInput = z.input<typeof lrScheduleConfigSchema>;
/**
 * Whether a metric is better when lower (`min`) or higher (`max`).
 * @example
 * const mode: MetricMode = 'max';
 */
export type MetricMode = z.output<typeof metricMode>;

/**
 * Validates a Trainer configuration; throws `CONFIG_INVALID` naming every bad path
 * (`training.optimizer.beta1: ...`).
 * @example
 * const config = parseTrainerConfig({ optimizer: { type: 'sgd' } });
 */
export function parseTrainerConfig(input: unknown, place = 'training'): TrainerConfig {
  const result = trainerConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = [place, ...issue.path.map(String)].join('.');
    return `${path}: ${issue.message}`;
  });
  throw new MtlError('CONFIG_INVALID', lines.join('; '), {
    place,
    details: { issues: result.error.issues },
  });
}

/**
 * The mode a metric is optimised in when none is given: `min` when its last segment mentions a loss
 * or an error (`model/all/valid/loss`, `.../mse`, `.../mae`, `.../rmse`), else `max` (accuracy, f1, ...).
 * @example
 * inferMetricMode('circle/circleDataset/valid/accuracy'); // 'max'
 */
export function inferMetricMode(metric: string): MetricMode {
  const last = metric.slice(metric.lastIndexOf('/') + 1).toLowerCase();
  return /loss|error|mse|mae|rmse|perplexity/.test(last) ? 'min' : 'max';
}
