import type { MetricMode } from '../config.js';
import type { MetricTrackerState } from '../trainer-state.js';

/** Keeps the best value of one metric; used for the best checkpoint and for early stopping. */
export class MetricTracker {
  readonly state: MetricTrackerState;

  constructor(metric: string, mode: MetricMode, minDelta = 0) {
    this.state = { metric, mode, minDelta, value: null, step: null, epoch: null, bad: 0 };
  }

  static fromState(state: MetricTrackerState): MetricTracker {
    const t = new MetricTracker(state.metric, state.mode, state.minDelta);
    Object.assign(t.state, state);
    return t;
  }

  get metric(): string {
    return this.state.metric;
  }

  /** Whether `value` beats the best by more than minDelta (NaN never does). */
  isImprovement(value: number): boolean {
    const s = this.state;
    if (Number.isNaN(value)) return false;
    if (s.value === null) return true;
    return s.mode === 'min' ? value < s.value - s.minDelta : value > s.value + s.minDelta;
  }

  /** Records an evaluation; returns true when it is the new best. */
  update(value: number, step: number, epoch: number): boolean {
    if (this.isImprovement(value)) {
      Object.assign(this.state, { value, step, epoch, bad: 0 });
      return true;
    }
    this.state.bad += 1;
    return false;
  }

  snapshot(): MetricTrackerState {
    return { ...this.state };
  }
}
