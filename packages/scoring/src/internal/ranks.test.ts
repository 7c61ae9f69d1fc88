import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averageRanks, rankAuc } from './ranks.js';

describe('averageRanks', () => {
  it('gives ties the mean of the ranks they span', () => {
    expect([...averageRanks([10, 20, 20, 5, 20])]).toEqual([2, 4, 4, 1, 4]);
    expect([...averageRanks([])]).toEqual([]);
  });

  it('equals the brute-force definition: 1 + #smaller + (#equal - 1) / 2', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 30 }), (xs) => {
        const ranks = averageRanks(xs);
        xs.forEach((x, i) => {
          const smaller = xs.filter((y) => y < x).length;
          const equal = xs.filter((y) => y === x).length;
          expect(ranks[i]).toBe(1 + smaller + (equal - 1) / 2);
        });
      }),
    );
  });
});

describe('rankAuc', () => {
  it('is NaN with one side empty, 1 when separated, 1/2 when all tie', () => {
    expect(rankAuc([0.1, 0.2], () => true)).toBeNaN();
    expect(rankAuc([0.1, 0.9], (i) => i === 1)).toBe(1);
    expect(rankAuc([0.5, 0.5, 0.5], (i) => i === 0)).toBe(0.5);
  });
});
