import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RandomStream, seedGlobalRandom } from './random.js';

describe('RandomStream', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    const a = new RandomStream(1);
    const b = new RandomStream(1);
    const c = new RandomStream(2);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
  });

  it('saves and restores its exact position through JSON', () => {
    const a = new RandomStream('s');
    a.next();
    a.nextSeed();
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const expected = [a.next(), a.nextSeed(), a.normal()];
    const b = RandomStream.fromState(saved);
    expect([b.next(), b.nextSeed(), b.normal()]).toEqual(expected);
  });

  it('refuses a malformed state', () => {
    expect(() => RandomStream.fromState({ seed: 'x', state: { i: 0, j: 0, S: [1, 2] } })).toThrow(
      /malformed/,
    );
  });

  it('derives children independent of the parent position', () => {
    const a = new RandomStream(3);
    const c1 = a.child('task').next();
    a.next();
    a.next();
    expect(a.child('task').next()).toBe(c1);
    expect(a.child('other').next()).not.toBe(c1);
    expect(a.childSeed('x')).toBe(new RandomStream(3).childSeed('x'));
  });

  it('nextSeed gives non-negative 31-bit integers', () => {
    const r = new RandomStream(5);
    for (let i = 0; i < 1000; i++) {
      const s = r.nextSeed();
      expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
    }
  });

  it('permutation is a permutation (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer(), (n, seed) => {
        const p = Array.from(new RandomStream(seed).permutation(n));
        expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });

  it('normal draws have mean ~0 and variance ~1', () => {
    const r = new RandomStream(11);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });

  it('seedGlobalRandom makes Math.random reproducible and restores it', () => {
    const original = Math.random;
    const restore = seedGlobalRandom(9);
    const first = [Math.random(), Math.random()];
    restore();
    expect(Math.random).toBe(original);
    const again = seedGlobalRandom(9);
    expect([Math.random(), Math.random()]).toEqual(first);
    again();
  });
});

describe('mixSeed', () => {
  it('is a stable 31-bit function of (seed, name) that separates names and neighbouring seeds', async () => {
    const { mixSeed } = await import('./random.js');
    expect(mixSeed(5, 'dropout')).toBe(mixSeed(5, 'dropout'));
    const seen = new Set<number>();
    for (let s = 0; s < 200; s++) {
      for (const name of ['a', 'b', 0, 1]) {
        const v = mixSeed(s, name);
        expect(Number.isInteger(v) && v >= 0 && v < 2 ** 31).toBe(true);
        seen.add(v);
      }
    }
    expect(seen.size).toBe(800);
  });
});
