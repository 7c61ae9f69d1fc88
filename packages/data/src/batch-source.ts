import type { RandomStream } from '@mtl/core';

/**
 * Where a trainer gets its batches (docs/CONTRACTS.md): the steps of one epoch, and how to free a
 * step's tensors. Every loader and scheduler of this package implements it for
 * {@link StepBatches}. Declared here structurally so that `@mtl/data` does not import the trainer.
 * @example
 * const source: BatchSource<StepBatches> = scheduleBatches(loaders, 'shuffled', { seed: 1 });
 * for (const step of source.epoch(0, new RandomStream(1))) source.dispose?.(step);
 */
export interface BatchSource<B> {
  batchesPerEpoch(): number;
  epoch(epoch: number, rng: RandomStream): Iterable<B>;
  dispose?(batch: B): void;
}
