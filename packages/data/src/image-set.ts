import { MtlError } from '@mtl/core';

/**
 * Labelled greyscale images as IDX files hold them (MNIST, Fashion-MNIST): `count` images of
 * `height x width` pixels 0..255, row-major and one after the other, with one class id each.
 * @example
 * const set: ImageSet = { images: new Uint8Array(2 * 4), labels: new Uint8Array([3, 1]), count: 2, height: 2, width: 2 };
 */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/**
 * Fashion-MNIST's ten classes, by class id (Zalando's labels).
 * @example
 * FASHION_MNIST_CLASSES[9]; // 'ankle boot'
 */
export const FASHION_MNIST_CLASSES = [
  't-shirt/top',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle boot',
] as const;

/**
 * Checks that an image set's arrays agree with its counts and that every label is a class id in
 * `[0, numClasses)`; errors are `DATA_INVALID` / `LABEL_OUT_OF_RANGE` naming `place`.
 * @example
 * checkImageSet(set, 10, 'Fashion-MNIST train');
 */
export function checkImageSet(set: ImageSet, numClasses: number, place: string): ImageSet {
  const { count, height, width } = set;
  for (const [k, v] of Object.entries({ count, height, width })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new MtlError('DATA_INVALID', `${k} must be a positive integer, got ${v}`, { place });
    }
  }
  if (set.images.length !== count * height * width) {
    throw new MtlError(
      'DATA_LENGTH_MISMATCH',
      `${count} images of ${height} x ${width} need ${count * height * width} pixels, got ${set.images.length}`,
      { place },
    );
  }
  if (set.labels.length !== count) {
    throw new MtlError('DATA_LENGTH_MISMATCH', `${count} images but ${set.labels.length} labels`, { place });
  }
  for (let i = 0; i < count; i++) {
    if (set.labels[i]! >= numClasses) {
      throw new MtlError(
        'LABEL_OUT_OF_RANGE',
        `label ${set.labels[i]} of item ${i} is outside the ${numClasses} classes`,
        { place, details: { item: i } },
      );
    }
  }
  return set;
}

/**
 * Area resampling (each output pixel the mean of the input area it covers, fractional pixels
 * weighted by their overlap) of a `height x width` image, row-major, to `outHeight x outWidth`.
 * An integer factor is plain mean pooling (36 -> 18: the mean of each 2 x 2 block); the same size
 * returns a copy.
 * @example
 * resizeArea(new Float32Array([1, 3, 5, 7]), 2, 2, 1, 1); // [4]
 */
export function resizeArea(
  image: ArrayLike<number>,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
): Float32Array {
  if (image.length !== height * width) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `an image of ${height} x ${width} has ${height * width} pixels, got ${image.length}`,
      { place: 'resizeArea' },
    );
  }
  const rows = areaWeights(height, outHeight);
  const cols = areaWeights(width, outWidth);
  // Separable: resample the columns of every input row, then the rows.
  const tmp = new Float64Array(height * outWidth);
  for (let r = 0; r < height; r++) {
    for (const [o, from, weights] of cols) {
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k]! * image[r * width + from + k]!;
      tmp[r * outWidth + o] = s;
    }
  }
  const out = new Float32Array(outHeight * outWidth);
  for (const [o, from, weights] of rows) {
    for (let c = 0; c < outWidth; c++) {
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k]! * tmp[(from + k) * outWidth + c]!;
      out[o * outWidth + c] = s;
    }
  }
  return out;
}

/** For each output index: the first input index it covers and the weights of the inputs (sum 1). */
function areaWeights(size: number, outSize: number): [number, number, number[]][] {
  if (!Number.isInteger(outSize) || outSize < 1) {
    throw new MtlError('INVALID_ARGUMENT', `an image side must be a positive integer, got ${outSize}`, {
      place: 'resizeArea',
    });
  }
  const scale = size / outSize;
  const out: [number, number, number[]][] = [];
  for (let o = 0; o < outSize; o++) {
    const lo = o * scale;
    const hi = (o + 1) * scale;
    const from = Math.floor(lo);
    const to = Math.min(size, Math.ceil(hi));
    const weights: number[] = [];
    for (let i = from; i < to; i++) weights.push((Math.min(hi, i + 1) - Math.max(lo, i)) / scale);
    out.push([o, from, weights]);
  }
  return out;
}

/**
 * A square image rotated by 90° counter-clockwise: `out[r][c] = in[c][size - 1 - r]` (the top
 * row becomes the left column, read bottom to top).
 * @example
 * rotate90(new Float32Array([1, 2, 3, 4]), 2); // [2, 4, 1, 3]
 */
export function rotate90(image: ArrayLike<number>, size: number): Float32Array {
  if (image.length !== size * size) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `a ${size} x ${size} image has ${size * size} pixels, got ${image.length}`,
      {
        place: 'rotate90',
      },
    );
  }
  const out = new Float32Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) out[r * size + c] = image[c * size + (size - 1 - r)]!;
  }
  return out;
}
