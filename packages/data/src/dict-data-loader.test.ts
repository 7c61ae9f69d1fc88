import { assertNoLeaks, isMtlError } from '@mtl/core';
import { describe, expect, it } from 'vitest';
import { disposeBatch } from './batch.js';
import { DictDataLoader } from './dict-data-loader.js';
import { DictDataset } from './dict-dataset.js';

function dataset(n: number, split = 'train'): DictDataset {
  return new DictDataset(
    'toy',
    split,
    { x: Array.from({ length: n }, (_, i) => [i, -i]) },
    { y: Array.from({ length: n }, (_, i) => i % 2) },
  );
}

const flat = (batches: Int32Array[]): number[][] => batches.map((b) => Array.from(b));

describe('DictDataLoader', () => {
  it('counts batches with and without dropLast', () => {
    const ds = dataset(10);
    const keep = new DictDataLoader(ds, { batchSize: 4 });
    expect(keep.length).toBe(3);
    expect(keep.batchIndices(0).map((b) => b.length)).toEqual([4, 4, 2]);
    const drop = new DictDataLoader(ds, { batchSize: 4, dropLast: true });
    expect(drop.batchesPerEpoch()).toBe(2);
    expect(drop.batchIndices(0).map((b) => b.length)).toEqual([4, 4]);
  });

  it('keeps row order without shuffling (default for non-train splits)', () => {
    const loader = new DictDataLoader(dataset(5, 'valid'), { batchSize: 2 });
    expect(loader.shuffle).toBe(false);
    expect(flat(loader.batchIndices(3))).toEqual([[0, 1], [2, 3], [4]]);
    expect(new DictDataLoader(dataset(5, 'train')).shuffle).toBe(true);
  });

  it('same seed gives the same order, a different seed a different one, every epoch a new one', () => {
    const ds = dataset(50);
    const a = new DictDataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
    const b = new DictDataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
    const c = new DictDataLoader(ds, { batchSize: 8, shuffle: true, seed: 2 });
    expect(flat(a.batchIndices(0))).toEqual(flat(b.batchIndices(0)));
    expect(flat(a.batchIndices(0))).not.toEqual(flat(c.batchIndices(0)));
    expect(flat(a.batchIndices(0))).not.toEqual(flat(a.batchIndices(1)));
    // Epoch k's order is a pure function of (seed, k): asking for epoch 4 first changes nothing.
    const fresh = new DictDataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
    const epoch4 = flat(fresh.batchIndices(4));
    for (let e = 0; e < 4; e++) a.batchIndices(e);
    expect(flat(a.batchIndices(4))).toEqual(epoch4);
  });

  it('sees every example exactly once per epoch', () => {
    const loader = new DictDataLoader(dataset(37), { batchSize: 5, shuffle: true, seed: 9 });
    for (let e = 0; e < 3; e++) {
      const seen = loader.batchIndices(e).flatMap((b) => Array.from(b));
      expect(seen.sort((p, q) => p - q)).toEqual(Array.from({ length: 37 }, (_, i) => i));
    }
  });

  it('yields batches whose tensors match their row indices, and leaks nothing once they are disposed', async () => {
    const loader = new DictDataLoader(dataset(11), { batchSize: 4, shuffle: true, seed: 3 });
    let rows = 0;
    await assertNoLeaks(() => {
      for (const batch of loader.batches(2)) {
        const x = batch.X.x!.arraySync() as number[][];
        const y = Array.from(batch.Y.y!.dataSync());
        expect(x).toEqual(Array.from(batch.indices, (i) => [i, -i]));
        expect(y).toEqual(Array.from(batch.indices, (i) => i % 2));
        rows += batch.size;
        disposeBatch(batch);
      }
    });
    expect(rows).toBe(11);
    // Stopping half-way leaves nothing behind either: batches are made only when reached.
    await assertNoLeaks(() => {
      for (const batch of loader.batches(0)) {
        disposeBatch(batch);
        break;
      }
    });
  });

  it('iterating the loader itself runs epochs 0, 1, ... in turn', () => {
    const loader = new DictDataLoader(dataset(6), { batchSize: 6, shuffle: true, seed: 5 });
    const orders: number[][] = [];
    for (let e = 0; e < 2; e++) {
      for (const batch of loader) {
        orders.push(Array.from(batch.indices));
        disposeBatch(batch);
      }
    }
    expect(orders).toEqual([Array.from(loader.order(0)), Array.from(loader.order(1))]);
  });

  it('is a BatchSource of one-batch steps', async () => {
    const loader = new DictDataLoader(dataset(5), { batchSize: 2, seed: 1 });
    await assertNoLeaks(() => {
      const steps = [...loader.epoch(0)];
      expect(steps.map((s) => s.length)).toEqual([1, 1, 1]);
      expect(steps.map((s) => Array.from(s[0]!.indices))).toEqual(flat(loader.batchIndices(0)));
      for (const s of steps) loader.dispose(s);
    });
  });

  it('batches unlabeled data, for prediction', async () => {
    const ds = new DictDataset('new', 'test', {
      x: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
    });
    const loader = new DictDataLoader(ds, { batchSize: 2 });
    await assertNoLeaks(() => {
      const sizes: number[] = [];
      for (const b of loader.batches(0)) {
        expect(b.Y).toEqual({});
        sizes.push(b.X.x!.shape[0]!);
        disposeBatch(b);
      }
      expect(sizes).toEqual([2, 1]);
    });
  });

  it('rejects a bad batch size or epoch', () => {
    for (const batchSize of [0, -1, 1.5]) {
      try {
        new DictDataLoader(dataset(3), { batchSize });
        expect.unreachable();
      } catch (e) {
        expect(isMtlError(e, 'INVALID_ARGUMENT')).toBe(true);
        expect((e as Error).message).toContain('batchSize must be a positive integer');
      }
    }
    expect(() => new DictDataLoader(dataset(3)).order(-1)).toThrow(/epoch must be a non-negative integer/);
  });
});
