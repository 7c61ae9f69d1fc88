import { MtlError } from '@mtl/core';
import type { DictDataset } from './dict-dataset.js';
import { checkSeed, keyedStream } from './internal/checks.js';

/**
 * Split ratios: named (`{train: 0.8, valid: 0.1, test: 0.1}`, in that order) or a list, named
 * `train, test` for two ratios and `train, valid, test` for three.
 * @example
 * const ratios: SplitRatios = { train: 0.8, valid: 0.1, test: 0.1 }; // same as [0.8, 0.1, 0.1]
 */
export type SplitRatios = Readonly<Record<string, number>> | readonly number[];

const LIST_NAMES: Record<number, readonly string[]> = {
  1: ['train'],
  2: ['train', 'test'],
  3: ['train', 'valid', 'test'],
};

const PLACE = 'split ratios';

function namedRatios(ratios: SplitRatios): [string, number][] {
  let pairs: [string, number][];
  if (Array.isArray(ratios)) {
    const names = LIST_NAMES[ratios.length];
    if (names === undefined) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `a list of ${ratios.length} ratios has no default split names; name them, e.g. {train: 0.8, valid: 0.1, test: 0.1}`,
        { place: PLACE },
      );
    }
    pairs = ratios.map((r, i) => [names[i]!, r]);
  } else {
    pairs = Object.entries(ratios as Record<string, number>);
  }
  if (pairs.length === 0) throw new MtlError('INVALID_ARGUMENT', 'no splits given', { place: PLACE });
  let sum = 0;
  for (const [name, r] of pairs) {
    if (name.length === 0 || name.includes('/')) {
      throw new MtlError('INVALID_ARGUMENT', `split name ${JSON.stringify(name)} is empty or contains "/"`, {
        place: PLACE,
      });
    }
    if (typeof r !== 'number' || !Number.isFinite(r) || r < 0 || r > 1) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `ratio of split "${name}" must be a number in [0, 1], got ${String(r)}`,
        {
          place: PLACE,
        },
      );
    }
    sum += r;
  }
  if (Math.abs(sum - 1) > 1e-6) {
    throw new MtlError('INVALID_ARGUMENT', `ratios must sum to 1, got ${sum}`, {
      place: PLACE,
      details: { ratios: Object.fromEntries(pairs) },
    });
  }
  return pairs;
}

/**
 * Exact split sizes for `n` rows: every split but the first gets `floor(ratio * n)` rows, the
 * first gets the rest (so sizes always add up to `n`). Ratios must be in [0, 1] and sum to 1.
 * @example
 * splitSizes(1000, [0.8, 0.1, 0.1]); // {train: 800, valid: 100, test: 100}
 * splitSizes(11, [0.8, 0.1, 0.1]);   // {train: 9, valid: 1, test: 1}
 */
export function splitSizes(n: number, ratios: SplitRatios): Record<string, number> {
  if (!Number.isInteger(n) || n < 0) {
    throw new MtlError('INVALID_ARGUMENT', `row count must be a non-negative integer, got ${n}`, {
      place: PLACE,
    });
  }
  const pairs = namedRatios(ratios);
  const sizes: Record<string, number> = {};
  let rest = n;
  for (const [name, r] of pairs.slice(1)) {
    // The epsilon keeps 0.7 * 10 = 7.000000000000001 and 0.3 * 10 = 2.9999999999999996 at 7 and 3.
    const size = Math.floor(r * n + 1e-9);
    sizes[name] = size;
    rest -= size;
  }
  return { [pairs[0]![0]]: Math.max(rest, 0), ...sizes };
}

/**
 * A seeded random partition of `0..n-1` into the named splits, sizes as {@link splitSizes}; each
 * split's indices are sorted ascending. Same seed, same partition.
 * @example
 * const { train, valid, test } = splitIndices(1000, [0.8, 0.1, 0.1], 42); // 800, 100, 100 disjoint rows
 */
export function splitIndices(
  n: number,
  ratios: SplitRatios,
  seed: number | string = 0,
): Record<string, Int32Array> {
  const sizes = splitSizes(n, ratios);
  const perm = keyedStream(checkSeed(seed, PLACE), 'split').permutation(n);
  const out: Record<string, Int32Array> = {};
  let at = 0;
  for (const [name, size] of Object.entries(sizes)) {
    out[name] = perm.slice(at, at + size).sort();
    at += size;
  }
  return out;
}

/**
 * Splits a dataset into new datasets (same name, split = the ratio's name) by {@link splitIndices}.
 * @example
 * const { train, valid, test } = splitDataset(all, { train: 0.8, valid: 0.1, test: 0.1 }, 42);
 */
export function splitDataset(
  dataset: DictDataset,
  ratios: SplitRatios,
  seed: number | string = 0,
): Record<string, DictDataset> {
  const out: Record<string, DictDataset> = {};
  for (const [name, idx] of Object.entries(splitIndices(dataset.length, ratios, seed))) {
    out[name] = dataset.subset(idx, name);
  }
  return out;
}
