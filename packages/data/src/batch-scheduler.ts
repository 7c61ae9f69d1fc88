import { listNames, MtlError, type RandomStream } from '@mtl/core';
import { disposeBatch, type StepBatches } from './batch.js';
import type { BatchSource } from './batch-source.js';
import type { DictDataLoader } from './dict-data-loader.js';
import { checkEpoch, checkSeed, keyedStream } from './internal/checks.js';

/**
 * The batch schedulers {@link scheduleBatches} knows.
 * @example
 * const ok = (SCHEDULER_NAMES as readonly string[]).includes(config.scheduler);
 */
export const SCHEDULER_NAMES = ['shuffled', 'sequential', 'roundRobin', 'mixed'] as const;
/**
 * One of {@link SCHEDULER_NAMES}.
 * @example
 * const name: SchedulerName = 'roundRobin';
 */
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/**
 * Options of {@link scheduleBatches}.
 * @example
 * scheduleBatches(loaders, 'mixed', { seed: 1, fillup: true });
 */
export interface ScheduleOptions {
  /**
   * Seed of the interleaving (`shuffled`). With a seed, the steps of epoch `e` are a pure function
   * of (seed, e) and the loaders' own seeds; without one, the `rng` given to `epoch()` draws it.
   */
  seed?: number | string;
  /**
   * `mixed` only: run as many steps as the largest loader has batches, cycling (and reshuffling)
   * the smaller ones; default false = as many steps as the smallest loader has batches.
   */
  fillup?: boolean;
}

/**
 * One batch of a planned step: which loader, and which of its rows.
 * @example
 * for (const [{ loader, indices }] of scheduleBatches(loaders, 'sequential').plan(0)) console.log(loader, indices);
 */
export interface PlannedBatch {
  loader: number;
  indices: Int32Array;
}

/**
 * Interleaves the batches of several loaders into training steps; a {@link BatchSource} of
 * {@link StepBatches}. Made by {@link scheduleBatches}.
 * @example
 * const source: BatchScheduler = scheduleBatches(loaders, 'roundRobin');
 * source.batchesPerEpoch(); // sum of the loaders' batches
 */
export class BatchScheduler implements BatchSource<StepBatches> {
  readonly loaders: readonly DictDataLoader[];
  readonly scheduler: SchedulerName;
  readonly seed: number | string | undefined;
  readonly fillup: boolean;

  constructor(loaders: readonly DictDataLoader[], scheduler: SchedulerName, options: ScheduleOptions = {}) {
    const place = `scheduleBatches(${String(scheduler)})`;
    if (!(SCHEDULER_NAMES as readonly string[]).includes(scheduler)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `unknown scheduler "${String(scheduler)}" (known: ${listNames(SCHEDULER_NAMES)})`,
        {
          place: 'scheduleBatches',
          details: { known: [...SCHEDULER_NAMES] },
        },
      );
    }
    if (loaders.length === 0) throw new MtlError('INVALID_ARGUMENT', 'needs at least one loader', { place });
    this.loaders = [...loaders];
    this.scheduler = scheduler;
    this.seed = options.seed === undefined ? undefined : checkSeed(options.seed, place);
    this.fillup = options.fillup ?? false;
  }

  batchesPerEpoch(): number {
    const counts = this.loaders.map((l) => l.length);
    if (this.scheduler === 'mixed') return this.fillup ? Math.max(...counts) : Math.min(...counts);
    return counts.reduce((a, b) => a + b, 0);
  }

  /** The steps of an epoch as row indices per loader, without making tensors. */
  plan(epoch: number, rng?: RandomStream): PlannedBatch[][] {
    checkEpoch(epoch, `scheduleBatches(${this.scheduler})`);
    const perLoader = this.loaders.map((l) => l.batchIndices(epoch));
    switch (this.scheduler) {
      case 'sequential':
        return perLoader.flatMap((batches, loader) => batches.map((indices) => [{ loader, indices }]));
      case 'roundRobin': {
        const steps: PlannedBatch[][] = [];
        const longest = Math.max(...perLoader.map((b) => b.length));
        for (let k = 0; k < longest; k++) {
          perLoader.forEach((batches, loader) => {
            if (k < batches.length) steps.push([{ loader, indices: batches[k]! }]);
          });
        }
        return steps;
      }
      case 'shuffled': {
        const slots: number[] = [];
        perLoader.forEach((batches, loader) => {
          for (let k = 0; k < batches.length; k++) slots.push(loader);
        });
        this.streamFor(epoch, rng).shuffle(slots);
        const next = perLoader.map(() => 0);
        return slots.map((loader) => [{ loader, indices: perLoader[loader]![next[loader]!++]! }]);
      }
      case 'mixed': {
        const steps = this.batchesPerEpoch();
        if (steps > 0) {
          this.loaders.forEach((l, loader) => {
            if (l.length === 0) {
              throw new MtlError('DATA_EMPTY', `loader ${loader} has no batches to cycle`, {
                place: `scheduleBatches(mixed) ${l.dataset.name}/${l.dataset.split}`,
              });
            }
          });
        }
        // A smaller loader cycles, with a fresh order for each further pass (cycle c of epoch e).
        const passes = perLoader.map((first) => [first]);
        const out: PlannedBatch[][] = [];
        for (let s = 0; s < steps; s++) {
          out.push(
            this.loaders.map((l, loader) => {
              const cycle = Math.floor(s / l.length);
              const mine = passes[loader]!;
              while (mine.length <= cycle) mine.push(l.batchIndices(epoch, mine.length));
              return { loader, indices: mine[cycle]![s % l.length]! };
            }),
          );
        }
        return out;
      }
    }
  }

  /** {@link BatchSource}: the steps of an epoch, each made when it is reached. */
  *epoch(epoch: number, rng?: RandomStream): Generator<StepBatches, void, undefined> {
    for (const step of this.plan(epoch, rng)) {
      yield step.map(({ loader, indices }) => this.loaders[loader]!.dataset.collate(indices));
    }
  }

  dispose(step: StepBatches): void {
    disposeBatch(step);
  }

  private streamFor(epoch: number, rng: RandomStream | undefined): RandomStream {
    if (this.seed === undefined && rng !== undefined) return rng;
    return keyedStream(this.seed ?? 0, `schedule/${this.scheduler}/epoch${epoch}`);
  }
}

/**
 * Combines loaders into one {@link BatchSource} of training steps:
 * - `shuffled` (default): every batch of every loader once per epoch, in a random order, so each
 *   loader is drawn in proportion to its number of batches (every example once per epoch);
 * - `sequential`: all batches of loader 0, then of loader 1, ...;
 * - `roundRobin`: one batch of each loader in turn, skipping loaders that ran out;
 * - `mixed`: each step holds one batch of every loader (see {@link ScheduleOptions.fillup}).
 *
 * Within a loader the order comes from the loader's seed; the interleaving from `options.seed`
 * (or the `rng` passed to `epoch()` when no seed was given).
 * @example
 * const source = scheduleBatches([circleLoader, squareLoader], 'shuffled', { seed: 1 });
 * for (const step of source.epoch(0)) { train(step); source.dispose(step); }
 */
export function scheduleBatches(
  loaders: readonly DictDataLoader[],
  scheduler: SchedulerName = 'shuffled',
  options: ScheduleOptions = {},
): BatchScheduler {
  return new BatchScheduler(loaders, scheduler, options);
}
