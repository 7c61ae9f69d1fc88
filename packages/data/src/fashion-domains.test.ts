import { describe, expect, it } from 'vitest';
import { FASHION_DOMAINS, fashionDomainTransform, makeFashionDomains } from './fashion-domains.js';
import type { ImageSet } from './image-set.js';

/** Items of 4 x 4 pixels whose first two pixels spell the item index; class = item mod 10. */
function numbered(count: number): ImageSet {
  const images = new Uint8Array(count * 16);
  for (let i = 0; i < count; i++) {
    images[i * 16] = i >> 8;
    images[i * 16 + 1] = i & 255;
    for (let p = 2; p < 16; p++) images[i * 16 + p] = (i + p * 13) % 256;
  }
  return { images, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count, height: 4, width: 4 };
}

/** The item index of an `original`-domain row (pixels scaled to [0, 1]). */
const itemOf = (px: Float32Array, row: number) =>
  Math.round(px[row * 16]! * 255) * 256 + Math.round(px[row * 16 + 1]! * 255);

describe('fashion domain transforms', () => {
  const image = new Float32Array([0, 0.25, 0.5, 1]);
  it('original, rotated (90° counter-clockwise), inverted, noisy', () => {
    const none = () => 0;
    expect(Array.from(fashionDomainTransform('original', image, 2, none))).toEqual([0, 0.25, 0.5, 1]);
    expect(Array.from(fashionDomainTransform('rotated', image, 2, none))).toEqual([0.25, 1, 0, 0.5]);
    expect(Array.from(fashionDomainTransform('inverted', image, 2, none))).toEqual([1, 0.75, 0.5, 0]);
    const draws = [0.1, -0.2, 0.3, -0.4];
    let k = 0;
    const noisy = fashionDomainTransform('noisy', image, 2, () => draws[k++]!);
    const expected = [0.1, 0.05, 0.8, 0.6];
    for (let i = 0; i < 4; i++) expect(noisy[i]).toBeCloseTo(expected[i]!, 6);
  });
});

describe('makeFashionDomains', () => {
  const source = { train: numbered(400), test: numbered(200) };

  it('makes four 10-class domains of N images per class with disjoint items', () => {
    const domains = makeFashionDomains(
      source,
      { perClass: 3, validPerClass: 2, testPerClass: 4, noise: 0 },
      7,
    );
    expect(domains.map((d) => d.name)).toEqual([...FASHION_DOMAINS]);
    const seen = { train: new Set<number>(), test: new Set<number>() };
    for (const d of domains) {
      expect(d.train.name).toBe(`${d.name}Dataset`);
      expect([d.train.length, d.valid!.length, d.test.length]).toEqual([30, 20, 40]);
      expect(d.train.labelInfo(d.name)).toMatchObject({ kind: 'class', numClasses: 10 });
      // Row k · 10 + c has class c: every round of 10 rows holds each class once.
      expect(Array.from(d.train.labelValues(d.name)).slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const [split, ds] of [
        ['train', d.train],
        ['train', d.valid!],
        ['test', d.test],
      ] as const) {
        let px = ds.fieldValues('image') as Float32Array;
        // Undo the domain's transform to read the item index back.
        if (d.name === 'inverted') px = px.map((v) => 1 - v);
        if (d.name === 'rotated') {
          const back = new Float32Array(px.length);
          for (let r = 0; r < ds.length; r++) {
            let img = px.subarray(r * 16, (r + 1) * 16) as Float32Array;
            for (let t = 0; t < 3; t++) img = fashionDomainTransform('rotated', img, 4, () => 0);
            back.set(img, r * 16);
          }
          px = back;
        }
        for (let r = 0; r < ds.length; r++) {
          const item = itemOf(px, r);
          expect(item % 10).toBe(ds.labelValues(d.name)[r]);
          expect(seen[split].has(item), `${d.name} ${ds.split} item ${item}`).toBe(false);
          seen[split].add(item);
        }
      }
    }
    expect(seen.train.size).toBe(4 * 50);
  });

  it('is deterministic; a smaller N is the first rows of a larger one; the noise is fixed per item', () => {
    const a = makeFashionDomains(source, { perClass: 4, testPerClass: 2, noise: 0.3 }, 1);
    const b = makeFashionDomains(source, { perClass: 4, testPerClass: 2, noise: 0.3 }, 1);
    const c = makeFashionDomains(source, { perClass: 4, testPerClass: 2, noise: 0.3 }, 2);
    const small = makeFashionDomains(
      source,
      { perClass: 2, testPerClass: 2, noise: 0.3, domains: ['noisy'] },
      1,
    );
    for (let d = 0; d < 4; d++) {
      expect(Array.from(b[d]!.train.fieldValues('image'))).toEqual(
        Array.from(a[d]!.train.fieldValues('image')),
      );
      expect(Array.from(c[d]!.train.fieldValues('image'))).not.toEqual(
        Array.from(a[d]!.train.fieldValues('image')),
      );
    }
    const noisy = a[3]!.train.fieldValues('image');
    expect(Array.from(small[0]!.train.fieldValues('image'))).toEqual(Array.from(noisy.subarray(0, 20 * 16)));
    // noisy - the item's original pixels: mean ~0, standard deviation ~0.3, unclipped.
    const original = makeFashionDomains(source, { perClass: 4, testPerClass: 2, noise: 0 }, 1)[3]!;
    const clean = original.train.fieldValues('image');
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < noisy.length; i++) {
      const e = noisy[i]! - clean[i]!;
      s += e;
      s2 += e * e;
    }
    const mean = s / noisy.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.sqrt(s2 / noisy.length - mean * mean)).toBeCloseTo(0.3, 1);
    expect(Math.min(...noisy)).toBeLessThan(0);
  });

  it('resamples to `size` before the transform, and refuses what it cannot make', () => {
    const [d] = makeFashionDomains(
      source,
      { perClass: 1, testPerClass: 1, size: 2, domains: ['inverted'] },
      0,
    );
    expect(d!.train.fieldInfo('image').rowShape).toEqual([4]);
    expect(() => makeFashionDomains(source, { perClass: 11 })).toThrow(
      'class 0 has 40 train items; 4 domains x 11 per class need 44',
    );
    expect(() => makeFashionDomains(source, { domains: ['blurred' as never] })).toThrow(
      'unknown domain "blurred"',
    );
    expect(() => makeFashionDomains(source, { perClass: 0 })).toThrow('perClass must be an integer >= 1');
    expect(() => makeFashionDomains(source, { noise: -1 })).toThrow('noise must be a finite number >= 0');
  });
});
