import { assertNoLeaks, isMtlError, RandomStream } from '@mtl/core';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { StepBatches } from './batch.js';
import {
  type PlannedBatch,
  SCHEDULER_NAMES,
  type SchedulerName,
  scheduleBatches,
} from './batch-scheduler.js';
import type { BatchSource } from './batch-source.js';
import { DictDataLoader } from './dict-data-loader.js';
import { DictDataset } from './dict-dataset.js';
import { StackedLoader } from './stacked-loader.js';

function loader(name: string, n: number, batchSize: number, seed = 0): DictDataLoader {
  const ds = new DictDataset(
    name,
    'train',
    { x: Array.from({ length: n }, (_, i) => i) },
    { y: new Int32Array(n) },
  );
  return new DictDataLoader(ds, { batchSize, shuffle: true, seed });
}

/** Steps as `loader:firstRow` strings, enough to compare orders. */
const sig = (plan: PlannedBatch[][]): string[] =>
  plan.map((s) => s.map((b) => `${b.loader}:${b.indices[0]}`).join('|'));

describe('scheduleBatches', () => {
  it('exports its names as a const array and a type', () => {
    expect(SCHEDULER_NAMES).toEqual(['shuffled', 'sequential', 'roundRobin', 'mixed']);
    expectTypeOf<SchedulerName>().toEqualTypeOf<'shuffled' | 'sequential' | 'roundRobin' | 'mixed'>();
  });

  it('loaders, schedulers and stacked loaders are all BatchSource<StepBatches> (docs/CONTRACTS.md)', () => {
    const l = loader('a', 4, 2);
    expectTypeOf(l).toExtend<BatchSource<StepBatches>>();
    expectTypeOf(scheduleBatches([l])).toExtend<BatchSource<StepBatches>>();
    expectTypeOf(new StackedLoader([l.dataset])).toExtend<BatchSource<StepBatches>>();
  });

  it('shuffled: every example of every loader exactly once per epoch, in proportion to their batches', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 8 }),
        fc.nat(),
        (sizes, bs, seed) => {
          const loaders = sizes.map((n, i) => loader(`d${i}`, n, bs, seed));
          const source = scheduleBatches(loaders, 'shuffled', { seed });
          const plan = source.plan(0);
          expect(plan.length).toBe(source.batchesPerEpoch());
          expect(plan.length).toBe(sizes.reduce((a, n) => a + Math.ceil(n / bs), 0));
          sizes.forEach((n, i) => {
            const rows = plan.flatMap((s) =>
              s.filter((b) => b.loader === i).flatMap((b) => Array.from(b.indices)),
            );
            expect(rows.sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, k) => k));
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('shuffled: same seed same order, different seeds and epochs differ, epoch k is reproducible alone', () => {
    const loaders = [loader('a', 40, 4), loader('b', 40, 4)];
    const p1 = sig(scheduleBatches(loaders, 'shuffled', { seed: 1 }).plan(0));
    expect(sig(scheduleBatches(loaders, 'shuffled', { seed: 1 }).plan(0))).toEqual(p1);
    expect(sig(scheduleBatches(loaders, 'shuffled', { seed: 2 }).plan(0))).not.toEqual(p1);
    const s = scheduleBatches(loaders, 'shuffled', { seed: 1 });
    expect(sig(s.plan(1))).not.toEqual(p1);
    const resumed = scheduleBatches(loaders, 'shuffled', { seed: 1 });
    expect(sig(resumed.plan(3))).toEqual(sig(s.plan(3)));
  });

  it('shuffled without a seed draws the interleaving from the rng it is given', () => {
    const loaders = [loader('a', 40, 4), loader('b', 40, 4)];
    const s = scheduleBatches(loaders, 'shuffled');
    const x = sig(s.plan(0, new RandomStream(7)));
    expect(sig(s.plan(0, new RandomStream(7)))).toEqual(x);
    expect(sig(s.plan(0, new RandomStream(8)))).not.toEqual(x);
  });

  it('sequential and roundRobin follow their fixed orders', () => {
    const loaders = [loader('a', 6, 2), loader('b', 2, 2)];
    const seq = scheduleBatches(loaders, 'sequential').plan(0);
    expect(seq.map((s) => s[0]!.loader)).toEqual([0, 0, 0, 1]);
    expect(seq.map((s) => Array.from(s[0]!.indices))).toEqual([
      ...loaders[0]!.batchIndices(0).map((b) => Array.from(b)),
      ...loaders[1]!.batchIndices(0).map((b) => Array.from(b)),
    ]);
    const rr = scheduleBatches(loaders, 'roundRobin').plan(0);
    expect(rr.map((s) => s[0]!.loader)).toEqual([0, 1, 0, 0]);
    expect(scheduleBatches(loaders, 'roundRobin').batchesPerEpoch()).toBe(4);
  });

  it('mixed: one batch of every loader per step, as many steps as the smallest (or, fillup, the largest)', () => {
    const loaders = [loader('a', 12, 2), loader('b', 4, 2), loader('c', 6, 2)];
    const mixed = scheduleBatches(loaders, 'mixed');
    const plan = mixed.plan(0);
    expect(mixed.batchesPerEpoch()).toBe(2);
    expect(plan.length).toBe(2);
    for (const step of plan) expect(step.map((b) => b.loader)).toEqual([0, 1, 2]);
    const fill = scheduleBatches(loaders, 'mixed', { fillup: true });
    const full = fill.plan(0);
    expect(full.length).toBe(6);
    for (const step of full) expect(step.map((b) => b.loader)).toEqual([0, 1, 2]);
    // The largest loader is seen once; loader b (2 batches) cycles 3 full passes, each a permutation.
    const a = full.flatMap((s) => Array.from(s[0]!.indices)).sort((p, q) => p - q);
    expect(a).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (let pass = 0; pass < 3; pass++) {
      const rows = full.slice(2 * pass, 2 * pass + 2).flatMap((s) => Array.from(s[1]!.indices));
      expect(rows.sort((p, q) => p - q)).toEqual([0, 1, 2, 3]);
    }
  });

  it('makes each step tensors only when reached and leaks nothing when steps are disposed', async () => {
    const loaders = [loader('a', 10, 3), loader('b', 7, 3)];
    for (const name of SCHEDULER_NAMES) {
      const source = scheduleBatches(loaders, name, { seed: 4 });
      const planned = source.plan(1).map((s) => s.map((b) => Array.from(b.indices)));
      await assertNoLeaks(
        () => {
          const got: number[][][] = [];
          for (const step of source.epoch(1)) {
            got.push(step.map((b) => Array.from(b.indices)));
            for (const b of step) expect(Array.from(b.X.x!.dataSync())).toEqual(Array.from(b.indices));
            source.dispose(step);
          }
          expect(got).toEqual(planned);
        },
        { label: name },
      );
    }
  });

  it('rejects an unknown scheduler, listing the known ones, and an empty loader list', () => {
    try {
      scheduleBatches([loader('a', 2, 1)], 'random' as SchedulerName);
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as Error).message).toBe(
        'scheduleBatches: unknown scheduler "random" (known: mixed, roundRobin, sequential, shuffled)',
      );
    }
    expect(() => scheduleBatches([], 'shuffled')).toThrow(/at least one loader/);
  });
});
