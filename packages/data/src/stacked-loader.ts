import { MtlError, type RandomStream } from '@mtl/core';
import { disposeBatch, type StepBatches } from './batch.js';
import type { BatchSource } from './batch-source.js';
import type { DictDataset } from './dict-dataset.js';
import { checkEpoch, checkPositiveInt, checkSeed, keyedStream } from './internal/checks.js';

/**
 * Options of {@link StackedLoader}.
 * @example
 * new StackedLoader(trainSets, { batchSize: 16, seed: 43, dropLast: true });
 */
export interface StackedLoaderOptions {
  /** Rows per task per step (default 32). */
  batchSize?: number;
  /** Shuffle every task every epoch (default true). Without shuffling each task cycles in row order. */
  shuffle?: boolean;
  /**
   * Seed of the shuffles. With a seed, epoch `e` is a pure function of (seed, e); without one, the
   * `rng` given to `epoch()` draws one seed per epoch (seed 0 when no rng is given either).
   */
  seed?: number | string;
  /** Drop the largest task's last, smaller step (default false). */
  dropLast?: boolean;
}

/**
 * Stacked multi-task batches (VMTL): every step holds one sub-batch of every task, as a
 * `Batch[]` aligned with the order of `datasets`.
 *
 * Rule for tasks of unequal sizes: an epoch follows the largest task, which sees each of its rows
 * exactly once (`ceil(maxN / batchSize)` steps, or `floor` with `dropLast`). Every task gets the
 * same number of rows in a step (the largest task's batch size for that step, so sub-batches can
 * be stacked); a smaller task runs through a fresh shuffle of its rows and, when it runs out,
 * reshuffles and cycles, within the step if needed. Every epoch starts fresh passes for all tasks,
 * so the steps of epoch `e` depend only on (seed, e).
 * @example
 * const stacked = new StackedLoader([task1.train, task2.train, task3.train], { batchSize: 16, seed: 43 });
 * for (const step of stacked.epoch(0)) { const [b1, b2, b3] = step; train(b1, b2, b3); stacked.dispose(step); }
 */
export class StackedLoader implements BatchSource<StepBatches> {
  readonly datasets: readonly DictDataset[];
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number | string | undefined;
  readonly dropLast: boolean;

  constructor(datasets: readonly DictDataset[], options: StackedLoaderOptions = {}) {
    const place = 'StackedLoader';
    if (datasets.length === 0)
      throw new MtlError('INVALID_ARGUMENT', 'needs at least one dataset', { place });
    datasets.forEach((d, t) => {
      if (d.length === 0) {
        throw new MtlError('DATA_EMPTY', `task ${t} (dataset ${d.name}/${d.split}) has no rows`, { place });
      }
    });
    this.datasets = [...datasets];
    this.batchSize = checkPositiveInt(options.batchSize ?? 32, 'batchSize', place);
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed === undefined ? undefined : checkSeed(options.seed, place);
    this.dropLast = options.dropLast ?? false;
  }

  /** Rows of the largest task: the length of an epoch in rows. */
  get largest(): number {
    return Math.max(...this.datasets.map((d) => d.length));
  }

  /** Number of steps in one epoch. */
  get length(): number {
    const n = this.largest;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  batchesPerEpoch(): number {
    return this.length;
  }

  /** Row indices of every step of an epoch, `[step][task]`, without making tensors. */
  plan(epoch: number, rng?: RandomStream): Int32Array[][] {
    checkEpoch(epoch, 'StackedLoader');
    const base = this.seed === undefined && rng !== undefined ? rng.nextSeed() : (this.seed ?? 0);
    const steps = this.length;
    const total = this.largest;
    const cursors = this.datasets.map((d, t) => ({
      cycle: 0,
      at: 0,
      order: this.order(base, epoch, t, d, 0),
    }));
    const out: Int32Array[][] = [];
    for (let s = 0; s < steps; s++) {
      const size = Math.min(this.batchSize, total - s * this.batchSize);
      out.push(
        this.datasets.map((d, t) => {
          const cur = cursors[t]!;
          const idx = new Int32Array(size);
          let filled = 0;
          while (filled < size) {
            if (cur.at === d.length) {
              cur.cycle++;
              cur.at = 0;
              cur.order = this.order(base, epoch, t, d, cur.cycle);
            }
            const take = Math.min(size - filled, d.length - cur.at);
            idx.set(cur.order.subarray(cur.at, cur.at + take), filled);
            filled += take;
            cur.at += take;
          }
          return idx;
        }),
      );
    }
    return out;
  }

  /** {@link BatchSource}: the steps of an epoch, each a `Batch[]` in task order, made when reached. */
  *epoch(epoch: number, rng?: RandomStream): Generator<StepBatches, void, undefined> {
    for (const step of this.plan(epoch, rng)) yield step.map((idx, t) => this.datasets[t]!.collate(idx));
  }

  dispose(step: StepBatches): void {
    disposeBatch(step);
  }

  private order(base: number | string, epoch: number, t: number, d: DictDataset, cycle: number): Int32Array {
    if (!this.shuffle) {
      const id = new Int32Array(d.length);
      for (let i = 0; i < d.length; i++) id[i] = i;
      return id;
    }
    return keyedStream(base, `stacked/${t}/${d.name}/${d.split}/epoch${epoch}/cycle${cycle}`).permutation(
      d.length,
    );
  }
}
