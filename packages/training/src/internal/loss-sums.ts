import { ALL_DATASET, modelScoreKey, scoreKey } from '@mtl/core';
import type { LossSumsState } from '../trainer-state.js';

/** The score key under which a loss part is logged: `task/dataset/train/loss` (`task/all/...` for a bare task name). */
export function partLossKey(part: string): string {
  const slash = part.indexOf('/');
  return slash < 0
    ? scoreKey(part, ALL_DATASET, 'train', 'loss')
    : scoreKey(part.slice(0, slash), part.slice(slash + 1), 'train', 'loss');
}

/** The task a part key belongs to: the text before the first `/`. */
export function taskOfPart(part: string): string {
  const slash = part.indexOf('/');
  return slash < 0 ? part : part.slice(0, slash);
}

/** Sums of the per-part losses, the extra term and the step objective of the epoch so far, read back once per step. */
export class LossSums {
  private state: LossSumsState = emptyState();

  add(
    parts: readonly string[],
    values: ArrayLike<number>,
    extra: number | undefined,
    total: number,
    terms?: Readonly<Record<string, number>>,
  ): void {
    for (let i = 0; i < parts.length; i++) {
      const key = parts[i]!;
      const acc = this.state.parts[key];
      if (acc === undefined) this.state.parts[key] = { sum: values[i]!, count: 1 };
      else {
        acc.sum += values[i]!;
        acc.count += 1;
      }
    }
    if (extra !== undefined) {
      this.state.extra ??= { sum: 0, count: 0 };
      this.state.extra.sum += extra;
      this.state.extra.count += 1;
    }
    if (terms !== undefined) {
      this.state.terms ??= {};
      for (const [name, v] of Object.entries(terms)) {
        const acc = this.state.terms[name];
        if (acc === undefined) this.state.terms[name] = { sum: v, count: 1 };
        else {
          acc.sum += v;
          acc.count += 1;
        }
      }
    }
    this.state.total.sum += total;
    this.state.total.count += 1;
  }

  /**
   * Means as score keys: `task/dataset/train/loss` per part (over the batches that had it),
   * `model/all/train/loss` = Σ_parts weight(task)·mean (the same weighting of the same per-task
   * losses as `model/all/<split>/loss` of an evaluation, so train and valid curves share a scale),
   * `model/all/train/extra` (mean extra term with the named terms, when the trainable returns any),
   * `model/all/train/<name>` per named term and
   * `model/all/train/objective` (mean of the total actually minimised: weighted parts + extra + L2).
   */
  metrics(weightOf: (task: string) => number): Record<string, number> {
    const out: Record<string, number> = {};
    const t = this.state.total;
    const keys = Object.keys(this.state.parts).sort();
    if (keys.length > 0) {
      let loss = 0;
      for (const key of keys) {
        const acc = this.state.parts[key]!;
        loss += weightOf(taskOfPart(key)) * (acc.sum / acc.count);
      }
      out[modelScoreKey('train', 'loss')] = loss;
    }
    for (const key of keys) {
      const acc = this.state.parts[key]!;
      out[partLossKey(key)] = acc.sum / acc.count;
    }
    const e = this.state.extra;
    if (e !== undefined && e.count > 0) out[modelScoreKey('train', 'extra')] = e.sum / e.count;
    for (const [name, acc] of Object.entries(this.state.terms ?? {})) {
      out[modelScoreKey('train', name)] = acc.sum / acc.count;
    }
    if (t.count > 0) out[modelScoreKey('train', 'objective')] = t.sum / t.count;
    return out;
  }

  reset(): void {
    this.state = emptyState();
  }

  getState(): LossSumsState {
    return JSON.parse(JSON.stringify(this.state)) as LossSumsState;
  }

  setState(state: LossSumsState): void {
    this.state = JSON.parse(JSON.stringify(state)) as LossSumsState;
  }
}

function emptyState(): LossSumsState {
  return { parts: {}, total: { sum: 0, count: 0 } };
}
