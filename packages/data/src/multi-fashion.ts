import { MtlError, type RandomStream } from '@mtl/core';
import { DictDataset } from './dict-dataset.js';
import { checkImageSet, type ImageSet, resizeArea } from './image-set.js';
import { checkSeed, keyedStream } from './internal/checks.js';

/**
 * Options of {@link makeMultiFashion}.
 * @example
 * makeMultiFashion(source, { train: 2000, valid: 500, test: 500, size: 14 }, 0);
 */
export interface MultiFashionOptions {
  /** Training images (default 10000), each made of two items of the train pool. */
  train?: number;
  /** Validation images (default 2000), from the valid pool (items held out of the train pool). */
  valid?: number;
  /** Test images (default 2000), from the source's test items. */
  test?: number;
  /** Side of the output image after area resampling of the canvas (default 18: 36 -> 18, 2 x 2 means). */
  size?: number;
  /** How far the right item is shifted right and down from the left one, in pixels (default 8). */
  shift?: number;
  /** Share of the source's train items held out as the valid pool (default 1/6: 10000 of 60000). */
  validShare?: number;
  /** Dataset name (default `multiFashion`). */
  datasetName?: string;
  /** Input field (default `image`): a `[size · size]` row per image, values in [0, 1]. */
  field?: string;
}

/**
 * The images and labels of one split of {@link makeMultiFashion}, before they become a dataset.
 * @example
 * const { pixels, left, right, pairs } = multiFashionImages(set, [0, 1, 2], 3, {}, rng);
 */
export interface MultiFashionImages {
  /** `n` rows of `size · size` values in [0, 1]. */
  pixels: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** The source item indices of each image: `[left0, right0, left1, right1, ...]`. */
  pairs: Int32Array;
}

function checkCount(value: number, what: string, place: string, min = 0): number {
  if (!Number.isInteger(value) || value < min) {
    throw new MtlError('INVALID_ARGUMENT', `${what} must be an integer >= ${min}, got ${value}`, { place });
  }
  return value;
}

/**
 * Composes `n` two-item images from the items `pool` of `set` (MultiMNIST's construction, see
 * {@link makeMultiFashion}); pairs are drawn from `rng`, two different items each.
 * @example
 * const images = multiFashionImages(set, Array.from({ length: set.count }, (_, i) => i), 100, {}, rng);
 */
export function multiFashionImages(
  set: ImageSet,
  pool: ArrayLike<number>,
  n: number,
  options: { size?: number; shift?: number },
  rng: RandomStream,
): MultiFashionImages {
  const place = 'MultiFashion';
  const size = checkCount(options.size ?? 18, 'size', place, 1);
  const shift = checkCount(options.shift ?? 8, 'shift', place);
  if (n > 0 && pool.length < 2) {
    throw new MtlError('DATA_EMPTY', `a pool of ${pool.length} items cannot make two-item images`, { place });
  }
  const { height: h, width: w } = set;
  const ch = h + shift;
  const cw = w + shift;
  const canvas = new Uint8Array(ch * cw);
  const pixels = new Float32Array(n * size * size);
  const left = new Int32Array(n);
  const right = new Int32Array(n);
  const pairs = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    // Two different slots of the pool: the second is drawn from the others.
    const sa = rng.int(pool.length);
    let sb = rng.int(pool.length - 1);
    if (sb >= sa) sb++;
    const a = pool[sa]!;
    const b = pool[sb]!;
    pairs[2 * i] = a;
    pairs[2 * i + 1] = b;
    left[i] = set.labels[a]!;
    right[i] = set.labels[b]!;
    canvas.fill(0);
    const ia = a * h * w;
    const ib = b * h * w;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) canvas[r * cw + c] = set.images[ia + r * w + c]!;
    }
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const at = (r + shift) * cw + c + shift;
        const v = set.images[ib + r * w + c]!;
        if (v > canvas[at]!) canvas[at] = v;
      }
    }
    const small = resizeArea(canvas, ch, cw, size, size);
    for (let k = 0; k < small.length; k++) pixels[i * size * size + k] = small[k]! / 255;
  }
  return { pixels, left, right, pairs };
}

/**
 * MultiFashion: two-task images in the way MultiMNIST is built for multitask learning (Sener and
 * Koltun 2018; Lin et al. 2019), from Fashion-MNIST items. Each image puts one item at the top
 * left of a `(28 + shift)`-pixel square canvas (36 x 36 by default) and another, different item
 * `shift` pixels right and down (the bottom right), overlaid with the pixel-wise maximum, then
 * area-resampled to `size x size` (18 x 18 by default) and scaled to [0, 1]. Labels `left` and
 * `right` are the two items' classes (0-9, independent and uniform).
 *
 * The source's train items are split once (seeded) into a train pool and a valid pool
 * (`validShare`), so no item appears in both splits; test images use the test items. Each split
 * draws its pairs from its own stream, so the first k images of a split do not depend on the
 * other splits' sizes or on its own. Returns `{train, valid, test}` datasets (a split of size 0
 * is left out) with field `image` (`[size · size]`) and labels `left`, `right` (10 classes).
 * @example
 * const train = await readFashionMnist('train'); // from '@mtl/data/node'
 * const test = await readFashionMnist('test');
 * const { train: tr, valid, test: te } = makeMultiFashion({ train, test }, {}, 0); // 10000 / 2000 / 2000 rows
 */
export function makeMultiFashion(
  source: { train: ImageSet; test: ImageSet },
  options: MultiFashionOptions = {},
  seed: number | string = 0,
): Record<string, DictDataset> {
  const place = 'MultiFashion';
  checkSeed(seed, place);
  checkImageSet(source.train, 10, `${place} train items`);
  checkImageSet(source.test, 10, `${place} test items`);
  const counts = {
    train: checkCount(options.train ?? 10_000, 'train', place),
    valid: checkCount(options.valid ?? 2000, 'valid', place),
    test: checkCount(options.test ?? 2000, 'test', place),
  };
  const validShare = options.validShare ?? 1 / 6;
  if (!(validShare > 0 && validShare < 1)) {
    throw new MtlError('INVALID_ARGUMENT', `validShare must be in (0, 1), got ${validShare}`, { place });
  }
  const order = keyedStream(seed, 'multifashion/pools').permutation(source.train.count);
  const validItems = Math.floor(source.train.count * validShare);
  const pools = {
    valid: order.subarray(0, validItems),
    train: order.subarray(validItems),
    test: Int32Array.from({ length: source.test.count }, (_, i) => i),
  };
  const field = options.field ?? 'image';
  const size = options.size ?? 18;
  const out: Record<string, DictDataset> = {};
  for (const split of ['train', 'valid', 'test'] as const) {
    const n = counts[split];
    if (n === 0) continue;
    const set = split === 'test' ? source.test : source.train;
    const images = multiFashionImages(
      set,
      pools[split],
      n,
      { size, ...(options.shift === undefined ? {} : { shift: options.shift }) },
      keyedStream(seed, `multifashion/${split}`),
    );
    out[split] = new DictDataset(
      options.datasetName ?? 'multiFashion',
      split,
      { [field]: { values: images.pixels, shape: [n, size * size] } },
      { left: images.left, right: images.right },
      { numClasses: 10, labelKinds: { left: 'class', right: 'class' }, copy: false },
    );
  }
  return out;
}
