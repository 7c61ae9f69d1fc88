import { listNames, MtlError } from '@mtl/core';
import {
  inferMetricMode,
  type LrScheduleConfig,
  type LrScheduleConfigInput,
  lrScheduleConfigSchema,
  type MetricMode,
} from './config.js';

/**
 * The mutable part of a schedule (only `plateau` has any); saved in checkpoints.
 * @example
 * const saved: LrScheduleState = schedule.getState(); // { scale: 1, best: null, bad: 0, cooldown: 0 }
 */
export interface LrScheduleState {
  /** Multiplier applied by reduce-on-plateau so far (1 for the other schedules). */
  scale: number;
  /** Best metric value seen by plateau (null before the first evaluation). */
  best: number | null;
  /** Evaluations since the last improvement. */
  bad: number;
  /** Evaluations still ignored after a reduction. */
  cooldown: number;
}

/**
 * What an {@link LrSchedule} is built from.
 * @example
 * const options: LrScheduleOptions = { lr: 0.01, totalSteps: 1000, schedule: { type: 'linear' } };
 */
export interface LrScheduleOptions {
  /** Base learning rate. */
  lr: number;
  schedule?: LrScheduleConfigInput | LrScheduleConfig;
  /** Total optimizer steps of the run (for linear and cosine). */
  totalSteps: number;
}

/**
 * A learning-rate schedule with linear warmup; the closed forms are listed on
 * {@link lrScheduleConfigSchema}. `lrAt` is a pure function of (step, epoch, state), so a resumed
 * run gets the same rates.
 * @example
 * const s = new LrSchedule({ lr: 0.1, totalSteps: 100, schedule: { type: 'cosine', warmupSteps: 10 } });
 * s.lrAt(0, 0);  // 0.01  (warmup: 1/10 of the rate at the end of warmup)
 * s.lrAt(10, 0); // 0.1
 * s.lrAt(55, 0); // 0.05  (half way down the cosine)
 */
export class LrSchedule {
  readonly lr: number;
  readonly config: LrScheduleConfig;
  readonly totalSteps: number;
  private state: LrScheduleState = { scale: 1, best: null, bad: 0, cooldown: 0 };
  private readonly mode: MetricMode | undefined;

  constructor(options: LrScheduleOptions) {
    const parsed = lrScheduleConfigSchema.safeParse(options.schedule ?? { type: 'constant' });
    if (!parsed.success) {
      throw new MtlError('CONFIG_INVALID', parsed.error.issues.map((i) => i.message).join('; '), {
        place: 'training.lrSchedule',
      });
    }
    if (!(options.lr > 0) || !Number.isFinite(options.lr)) {
      throw new MtlError('INVALID_ARGUMENT', `lr must be a positive number, got ${options.lr}`, {
        place: 'LrSchedule',
      });
    }
    this.lr = options.lr;
    this.config = parsed.data;
    this.totalSteps = options.totalSteps;
    this.mode =
      this.config.type === 'plateau' ? (this.config.mode ?? inferMetricMode(this.config.metric)) : undefined;
  }

  /** The metric reduce-on-plateau watches, if any. */
  get metric(): string | undefined {
    return this.config.type === 'plateau' ? this.config.metric : undefined;
  }

  /** The learning rate of the step with 0-based index `step`, taken in epoch `epoch`. */
  lrAt(step: number, epoch: number): number {
    const c = this.config;
    const W = c.warmupSteps;
    const s = Math.max(0, step - W);
    const S = Math.max(1, this.totalSteps - W);
    const frac = Math.min(s, S) / S;
    let rate: number;
    switch (c.type) {
      case 'constant':
        rate = this.lr;
        break;
      case 'linear':
        rate = this.lr * (1 + (c.endFactor - 1) * frac);
        break;
      case 'exponential':
        rate = this.lr * c.gamma ** (c.unit === 'epoch' ? epoch : s);
        break;
      case 'step':
        rate = this.lr * c.gamma ** Math.floor((c.unit === 'epoch' ? epoch : s) / c.stepSize);
        break;
      case 'cosine': {
        const min = this.lr * c.minFactor;
        rate = min + ((this.lr - min) * (1 + Math.cos(Math.PI * frac))) / 2;
        break;
      }
      case 'plateau':
        rate = Math.max(this.lr * this.state.scale, Math.min(c.minLr, this.lr));
        break;
    }
    return step < W ? (rate * (step + 1)) / W : rate;
  }

  /**
   * Feeds an evaluation to reduce-on-plateau (a no-op for the other schedules). Returns true when
   * the rate was reduced. A missing metric is `CHECKPOINT_METRIC_UNKNOWN` listing the keys.
   */
  observe(metrics: Record<string, number>): boolean {
    const c = this.config;
    if (c.type !== 'plateau') return false;
    const value = metrics[c.metric];
    if (value === undefined) {
      throw new MtlError(
        'CHECKPOINT_METRIC_UNKNOWN',
        `plateau metric "${c.metric}" is not produced; available keys: ${listNames(Object.keys(metrics))}`,
        { place: 'training.lrSchedule.metric', details: { available: Object.keys(metrics).sort() } },
      );
    }
    const st = this.state;
    const improved =
      Number.isFinite(value) &&
      (st.best === null ||
        (this.mode === 'min' ? value < st.best - c.minDelta : value > st.best + c.minDelta));
    if (improved) {
      st.best = value;
      st.bad = 0;
    } else {
      st.bad += 1;
    }
    if (st.cooldown > 0) {
      st.cooldown -= 1;
      st.bad = 0;
    }
    if (st.bad > c.patience) {
      const floor = c.minLr / this.lr;
      const next = Math.max(st.scale * c.factor, floor);
      const reduced = next < st.scale;
      st.scale = next;
      st.cooldown = c.cooldown;
      st.bad = 0;
      return reduced;
    }
    return false;
  }

  getState(): LrScheduleState {
    return { ...this.state };
  }

  setState(state: LrScheduleState): void {
    this.state = { ...state };
  }
}
