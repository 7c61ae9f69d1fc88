import type { LossSumsState } from '../trainer-state.js';

/** The score key under which a loss part is logged: `task/dataset/train/loss` (`task/all/...` for a bare task name). */
export function partLossKey(part: string): string {
  return part.includes('/') ? `${part}/train/loss` : `${part}/all/train/loss`;
}

/** The task a part key belongs to: the text before the first `/`. */
export function taskOfPart(part: string): string {
  const slash = part.indexOf('/');
  return slash < 0 ? part : part.slice(0, slash);
}

/** Sums of the per-part and total losses of the epoch so far, read back once per step. */
export class LossSums {
  private state: LossSumsState = { parts: {}, total: { sum: 0, count: 0 } };

  add(parts: readonly string[], values: ArrayLike<number>, total: number): void {
    for (let i = 0; i < parts.length; i++) {
      const key = parts[i]!;
      const acc = this.state.parts[key];
      if (acc === undefined) this.state.parts[key] = { sum: values[i]!, count: 1 };
      else {
        acc.sum += values[i]!;
        acc.count += 1;
      }
    }
    this.state.total.sum += total;
    this.state.total.count += 1;
  }

  /** Means as score keys: `model/all/train/loss` and `task/dataset/train/loss` per part. */
  metrics(): Record<string, number> {
    const out: Record<string, number> = {};
    const t = this.state.total;
    if (t.count > 0) out['model/all/train/loss'] = t.sum / t.count;
    for (const key of Object.keys(this.state.parts).sort()) {
      const acc = this.state.parts[key]!;
      out[partLossKey(key)] = acc.sum / acc.count;
    }
    return out;
  }

  reset(): void {
    this.state = { parts: {}, total: { sum: 0, count: 0 } };
  }

  getState(): LossSumsState {
    return JSON.parse(JSON.stringify(this.state)) as LossSumsState;
  }

  setState(state: LossSumsState): void {
    this.state = JSON.parse(JSON.stringify(state)) as LossSumsState;
  }
}
