import { MtlError } from '@mtl/core';
import { DictDataset } from './dict-dataset.js';
import { checkImageSet, type ImageSet, resizeArea, rotate90 } from './image-set.js';
import { checkSeed, keyedStream } from './internal/checks.js';

/**
 * The four domains of {@link makeFashionDomains}, in their fixed order.
 * @example
 * makeFashionDomains(source, { domains: ['original', 'rotated'] }, 0);
 */
export const FASHION_DOMAINS = ['original', 'rotated', 'inverted', 'noisy'] as const;
/**
 * One of {@link FASHION_DOMAINS}.
 * @example
 * const domain: FashionDomain = 'noisy';
 */
export type FashionDomain = (typeof FASHION_DOMAINS)[number];

/**
 * Options of {@link makeFashionDomains}.
 * @example
 * makeFashionDomains(source, { perClass: 5, testPerClass: 50, size: 14 }, 1);
 */
export interface FashionDomainsOptions {
  /** Labelled training images per class and domain: N (default 20). */
  perClass?: number;
  /** Validation images per class and domain (default 0: no `valid` split). */
  validPerClass?: number;
  /** Test images per class and domain (default 100: 1000 per domain). */
  testPerClass?: number;
  /** Side of the images after area resampling (default 28: the original pixels). */
  size?: number;
  /** Standard deviation of the `noisy` domain's additive Gaussian noise (default 0.5). */
  noise?: number;
  /** Which domains to make (default all four, in {@link FASHION_DOMAINS}' order). */
  domains?: readonly FashionDomain[];
  /** Input field (default `image`): a `[size · size]` row per image. */
  field?: string;
}

/**
 * One domain of {@link makeFashionDomains}: dataset `${name}Dataset` with field `image` and a
 * 10-class label named like the domain.
 * @example
 * const [original] = makeFashionDomains(source, {}, 0); // original.train.length 200
 */
export interface FashionDomainData {
  name: FashionDomain;
  train: DictDataset;
  valid?: DictDataset;
  test: DictDataset;
}

/**
 * The pixels of one domain's image, from an item's `[size · size]` image in [0, 1].
 * `noiseOf` draws the noisy domain's noise (fixed by the seed and the item).
 */
export function fashionDomainTransform(
  domain: FashionDomain,
  image: Float32Array,
  size: number,
  noise: () => number,
): Float32Array {
  switch (domain) {
    case 'original':
      return image;
    case 'rotated':
      return rotate90(image, size);
    case 'inverted':
      return image.map((v) => 1 - v);
    case 'noisy':
      return image.map((v) => v + noise());
  }
}

function checkCount(value: number, what: string, place: string, min = 0): number {
  if (!Number.isInteger(value) || value < min) {
    throw new MtlError('INVALID_ARGUMENT', `${what} must be an integer >= ${min}, got ${value}`, { place });
  }
  return value;
}

/** Item indices of `set` by class. */
function byClass(set: ImageSet): number[][] {
  const out: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < set.count; i++) out[set.labels[i]!]!.push(i);
  return out;
}

/**
 * A few-shot multi-domain benchmark from Fashion-MNIST (issue 14's, after VMTL's Office-Home and
 * DomainNet settings): T = 4 domains, each the 10-class task on its own images:
 * - `original`: the item as it is;
 * - `rotated`: rotated by 90° counter-clockwise;
 * - `inverted`: colours inverted, `1 - x`;
 * - `noisy`: plus Gaussian noise of standard deviation `noise`, drawn once per item from the seed
 *   (fixed: the same image every epoch and every run), not clipped.
 *
 * Pixels are scaled to [0, 1] and area-resampled to `size` before the transform. Each domain
 * gets `perClass` (N) training images per class, `validPerClass` from the train items too, and
 * `testPerClass` from the test items. Items are dealt out per class from a seeded permutation, in
 * turn to each of the four domains (domain d takes the class's items d, d + 4, d + 8, ...), so
 * domains never share an item and a smaller N gives the first rows of a larger N's sets (train
 * rows go item by item, each round one image per class). Valid items are dealt from the end of
 * the same permutation. The domains' images do not depend on which `domains` are asked for.
 * @example
 * const train = await readFashionMnist('train'); // from '@mtl/data/node'
 * const test = await readFashionMnist('test');
 * const domains = makeFashionDomains({ train, test }, { perClass: 5 }, 0);
 * domains.map((d) => `${d.name} ${d.train.length}/${d.test.length}`); // ['original 50/1000', 'rotated 50/1000', ...]
 */
export function makeFashionDomains(
  source: { train: ImageSet; test: ImageSet },
  options: FashionDomainsOptions = {},
  seed: number | string = 0,
): FashionDomainData[] {
  const place = 'fashion domains';
  checkSeed(seed, place);
  checkImageSet(source.train, 10, `${place} train items`);
  checkImageSet(source.test, 10, `${place} test items`);
  const perClass = checkCount(options.perClass ?? 20, 'perClass', place, 1);
  const validPerClass = checkCount(options.validPerClass ?? 0, 'validPerClass', place);
  const testPerClass = checkCount(options.testPerClass ?? 100, 'testPerClass', place, 1);
  const size = checkCount(options.size ?? source.train.height, 'size', place, 1);
  const noise = options.noise ?? 0.5;
  if (!(noise >= 0) || !Number.isFinite(noise)) {
    throw new MtlError('INVALID_ARGUMENT', `noise must be a finite number >= 0, got ${noise}`, { place });
  }
  const domains = options.domains ?? FASHION_DOMAINS;
  for (const d of domains) {
    if (!(FASHION_DOMAINS as readonly string[]).includes(d)) {
      throw new MtlError('INVALID_ARGUMENT', `unknown domain "${d}" (known: ${FASHION_DOMAINS.join(', ')})`, {
        place,
      });
    }
  }
  if (new Set(domains).size !== domains.length || domains.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'give each domain once, and at least one', { place });
  }
  if (source.train.height !== source.train.width || source.test.height !== source.test.width) {
    throw new MtlError('DATA_SHAPE_MISMATCH', 'the images must be square (a domain rotates them)', { place });
  }
  const T = FASHION_DOMAINS.length;
  const deal = (set: ImageSet, key: string, need: number, what: string) =>
    byClass(set).map((items, c) => {
      if (items.length < T * need) {
        throw new MtlError(
          'DATA_EMPTY',
          `class ${c} has ${items.length} ${what} items; ${T} domains x ${need} per class need ${T * need}`,
          { place },
        );
      }
      const order = keyedStream(seed, `fashion-domains/${key}/class${c}`).permutation(items.length);
      return Array.from(order, (k) => items[k]!);
    });
  const trainItems = deal(source.train, 'train', perClass + validPerClass, 'train');
  const testItems = deal(source.test, 'test', testPerClass, 'test');
  const field = options.field ?? 'image';

  const make = (
    domain: FashionDomain,
    split: string,
    set: ImageSet,
    items: number[][],
    n: number,
    fromEnd: boolean,
  ): DictDataset => {
    const d = FASHION_DOMAINS.indexOf(domain);
    const pixels = new Float32Array(10 * n * size * size);
    const labels = new Int32Array(10 * n);
    const { height: h, width: w } = set;
    let row = 0;
    for (let k = 0; k < n; k++) {
      for (let c = 0; c < 10; c++) {
        const list = items[c]!;
        const slot = k * T + d;
        const item = list[fromEnd ? list.length - 1 - slot : slot]!;
        const raw = new Float32Array(h * w);
        for (let p = 0; p < h * w; p++) raw[p] = set.images[item * h * w + p]! / 255;
        const image = size === h ? raw : resizeArea(raw, h, w, size, size);
        // Keyed by the item, so an image's noise does not depend on N or on the other domains.
        const rng =
          domain === 'noisy' ? keyedStream(seed, ['fashion-domains', 'noise', split, item].join('/')) : null;
        const out = fashionDomainTransform(domain, image, size, () => noise * rng!.normal());
        pixels.set(out, row * size * size);
        labels[row] = c;
        row++;
      }
    }
    return new DictDataset(
      `${domain}Dataset`,
      split,
      { [field]: { values: pixels, shape: [10 * n, size * size] } },
      { [domain]: labels },
      { numClasses: 10, labelKinds: { [domain]: 'class' }, copy: false },
    );
  };

  return domains.map((domain) => ({
    name: domain,
    train: make(domain, 'train', source.train, trainItems, perClass, false),
    ...(validPerClass > 0
      ? { valid: make(domain, 'valid', source.train, trainItems, validPerClass, true) }
      : {}),
    test: make(domain, 'test', source.test, testItems, testPerClass, false),
  }));
}
