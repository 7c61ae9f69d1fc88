import type { RandomStream } from '@mtl/core';
import { type Batch, disposeBatch, type StepBatches } from './batch.js';
import type { BatchSource } from './batch-source.js';
import type { DictDataset } from './dict-dataset.js';
import { checkEpoch, checkPositiveInt, checkSeed, keyedStream } from './internal/checks.js';

/**
 * Options of {@link DictDataLoader}.
 * @example
 * new DictDataLoader(ds, { batchSize: 64, shuffle: true, seed: 3, dropLast: true });
 */
export interface DictDataLoaderOptions {
  /** Rows per batch (default 32). */
  batchSize?: number;
  /** Reshuffle every epoch (default: true for a `train` split, false otherwise). */
  shuffle?: boolean;
  /** Seed of the shuffles (default 0). */
  seed?: number | string;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/**
 * Batches of one {@link DictDataset}, as tensors ({@link Batch}). The order of epoch `e` is a pure
 * function of (seed, dataset name, split, e): a run resumed at epoch k sees exactly the batches an
 * uninterrupted run sees, and each epoch is reshuffled. Batches are made lazily, one per step; the
 * consumer disposes each one ({@link disposeBatch}).
 *
 * Iterating the loader itself (`for (const b of loader)`) runs epochs 0, 1, 2, ... in turn; use
 * {@link DictDataLoader.batches} with an explicit epoch where reproducibility across runs matters.
 * As a {@link BatchSource} it yields one-batch steps.
 * @example
 * const loader = new DictDataLoader(ds, { batchSize: 32, shuffle: true, seed: 7 });
 * for (const batch of loader.batches(0)) { use(batch); disposeBatch(batch); }
 */
export class DictDataLoader implements BatchSource<StepBatches>, Iterable<Batch> {
  readonly dataset: DictDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number | string;
  readonly dropLast: boolean;
  private iterations = 0;

  constructor(dataset: DictDataset, options: DictDataLoaderOptions = {}) {
    const place = `DictDataLoader ${dataset.name}/${dataset.split}`;
    this.dataset = dataset;
    this.batchSize = checkPositiveInt(options.batchSize ?? 32, 'batchSize', place);
    this.shuffle = options.shuffle ?? dataset.split === 'train';
    this.seed = checkSeed(options.seed ?? 0, place);
    this.dropLast = options.dropLast ?? false;
  }

  /** Number of batches in one epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  batchesPerEpoch(): number {
    return this.length;
  }

  /**
   * Row order of epoch `epoch` (`cycle` numbers further passes within one epoch, used by schedulers
   * that cycle a smaller loader). Identity when not shuffling.
   */
  order(epoch = 0, cycle = 0): Int32Array {
    checkEpoch(epoch, `DictDataLoader ${this.dataset.name}/${this.dataset.split}`);
    const n = this.dataset.length;
    if (!this.shuffle) {
      const id = new Int32Array(n);
      for (let i = 0; i < n; i++) id[i] = i;
      return id;
    }
    const key = `loader/${this.dataset.name}/${this.dataset.split}/epoch${epoch}/cycle${cycle}`;
    return keyedStream(this.seed, key).permutation(n);
  }

  /** Row indices of every batch of an epoch, without making tensors. */
  batchIndices(epoch = 0, cycle = 0): Int32Array[] {
    const order = this.order(epoch, cycle);
    const out: Int32Array[] = [];
    for (let b = 0; b < this.length; b++)
      out.push(order.subarray(b * this.batchSize, (b + 1) * this.batchSize));
    return out;
  }

  /** The batches of an epoch, made one at a time. */
  *batches(epoch = 0, cycle = 0): Generator<Batch, void, undefined> {
    for (const idx of this.batchIndices(epoch, cycle)) yield this.dataset.collate(idx);
  }

  /** {@link BatchSource}: one-batch steps; the order comes from the loader's seed, so `rng` is not used. */
  *epoch(epoch: number, _rng?: RandomStream): Generator<StepBatches, void, undefined> {
    for (const batch of this.batches(epoch)) yield [batch];
  }

  dispose(step: Batch | StepBatches): void {
    disposeBatch(step);
  }

  [Symbol.iterator](): Iterator<Batch> {
    return this.batches(this.iterations++);
  }
}
