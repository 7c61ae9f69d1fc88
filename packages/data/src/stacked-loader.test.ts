import { assertNoLeaks, isMtlError, RandomStream } from '@mtl/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DictDataset } from './dict-dataset.js';
import { StackedLoader } from './stacked-loader.js';

function task(name: string, n: number): DictDataset {
  return new DictDataset(
    name,
    'train',
    { x: Array.from({ length: n }, (_, i) => [i, 100 + i]) },
    { [name]: new Int32Array(n) },
  );
}

const rows = (steps: Int32Array[][], t: number): number[] => steps.flatMap((s) => Array.from(s[t]!));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

describe('StackedLoader', () => {
  it('gives every step one sub-batch of every task, of equal size, following the largest task', () => {
    const stacked = new StackedLoader([task('t1', 10), task('t2', 4), task('t3', 7)], {
      batchSize: 3,
      seed: 1,
    });
    expect(stacked.batchesPerEpoch()).toBe(4);
    const plan = stacked.plan(0);
    expect(plan.map((s) => s.map((b) => b.length))).toEqual([
      [3, 3, 3],
      [3, 3, 3],
      [3, 3, 3],
      [1, 1, 1],
    ]);
    // The largest task sees each row exactly once.
    expect(sorted(rows(plan, 0))).toEqual(range(10));
    // t2 (4 rows) draws 10: two full passes, each a permutation, then 2 rows of a third pass.
    const t2 = rows(plan, 1);
    expect(sorted(t2.slice(0, 4))).toEqual(range(4));
    expect(sorted(t2.slice(4, 8))).toEqual(range(4));
    expect(new Set(t2.slice(8)).size).toBe(2);
    // Passes are reshuffled, not repeated.
    const t3 = rows(plan, 2);
    expect(sorted(t3.slice(0, 7))).toEqual(range(7));
    expect(t2.slice(0, 4)).not.toEqual(t2.slice(4, 8));
  });

  it('every task of the largest size sees each row once per epoch; the smaller ones cycle (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        (sizes, bs, seed) => {
          const stacked = new StackedLoader(
            sizes.map((n, t) => task(`t${t}`, n)),
            { batchSize: bs, seed },
          );
          const plan = stacked.plan(2);
          const max = Math.max(...sizes);
          expect(plan.length).toBe(Math.ceil(max / bs));
          sizes.forEach((n, t) => {
            const got = rows(plan, t);
            expect(got.length).toBe(max);
            // Full passes are permutations of the task's rows.
            for (let p = 0; p + n <= got.length; p += n)
              expect(sorted(got.slice(p, p + n))).toEqual(range(n));
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('cycles a task smaller than one batch within a step', () => {
    const plan = new StackedLoader([task('big', 5), task('tiny', 2)], { batchSize: 5, seed: 3 }).plan(0);
    expect(plan.length).toBe(1);
    const tiny = Array.from(plan[0]![1]!);
    expect(sorted(tiny.slice(0, 2))).toEqual([0, 1]);
    expect(sorted(tiny.slice(2, 4))).toEqual([0, 1]);
    expect(tiny.length).toBe(5);
  });

  it('is reproducible: same seed same steps, other seeds and epochs differ, epoch k alone equals epoch k in a run', () => {
    const tasks = [task('a', 20), task('b', 13)];
    const one = new StackedLoader(tasks, { batchSize: 4, seed: 11 });
    const same = new StackedLoader(tasks, { batchSize: 4, seed: 11 });
    const other = new StackedLoader(tasks, { batchSize: 4, seed: 12 });
    const show = (p: Int32Array[][]) => p.map((s) => s.map((b) => Array.from(b)));
    for (let e = 0; e < 3; e++) one.plan(e);
    expect(show(one.plan(3))).toEqual(show(same.plan(3)));
    expect(show(one.plan(0))).not.toEqual(show(other.plan(0)));
    expect(show(one.plan(0))).not.toEqual(show(one.plan(1)));
    // Without a seed, the rng passed in decides.
    const unseeded = new StackedLoader(tasks, { batchSize: 4 });
    expect(show(unseeded.plan(0, new RandomStream(5)))).toEqual(show(unseeded.plan(0, new RandomStream(5))));
    expect(show(unseeded.plan(0, new RandomStream(5)))).not.toEqual(
      show(unseeded.plan(0, new RandomStream(6))),
    );
  });

  it('drops the short last step with dropLast and keeps row order without shuffle', () => {
    const stacked = new StackedLoader([task('a', 7), task('b', 3)], {
      batchSize: 3,
      shuffle: false,
      dropLast: true,
    });
    expect(stacked.plan(0).map((s) => s.map((b) => Array.from(b)))).toEqual([
      [
        [0, 1, 2],
        [0, 1, 2],
      ],
      [
        [3, 4, 5],
        [0, 1, 2],
      ],
    ]);
  });

  it('yields Batch[] in task order and leaks nothing when steps are disposed', async () => {
    const stacked = new StackedLoader([task('a', 9), task('b', 5)], { batchSize: 4, seed: 2 });
    await assertNoLeaks(() => {
      let steps = 0;
      for (const step of stacked.epoch(0)) {
        expect(step.map((b) => b.dataset)).toEqual(['a', 'b']);
        expect(step[0]!.size).toBe(step[1]!.size);
        expect(step[1]!.X.x!.arraySync()).toEqual(Array.from(step[1]!.indices, (i) => [i, 100 + i]));
        expect(Object.keys(step[1]!.Y)).toEqual(['b']);
        stacked.dispose(step);
        steps++;
      }
      expect(steps).toBe(3);
    });
  });

  it('rejects no tasks and empty tasks', () => {
    expect(() => new StackedLoader([])).toThrow(/at least one dataset/);
    try {
      new StackedLoader([task('a', 3), new DictDataset('e', 'train', { x: [] })]);
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'DATA_EMPTY')).toBe(true);
      expect((e as Error).message).toContain('task 1 (dataset e/train) has no rows');
    }
  });
});
