import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isMtlError, MtlError } from '@mtl/core';
import { checkImageSet, FASHION_MNIST_CLASSES, type ImageSet } from './image-set.js';
import { readIdx } from './read-idx.js';

/**
 * Where Debian's `dataset-fashion-mnist` package puts the four IDX files.
 * @example
 * readFashionMnist('test', { dir: FASHION_MNIST_DIR });
 */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/**
 * The Debian package that ships Fashion-MNIST (`apt-get install dataset-fashion-mnist`).
 * @example
 * console.log(`install ${FASHION_MNIST_PACKAGE}`);
 */
export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';

const PREFIX = { train: 'train', test: 't10k' } as const;

/**
 * The image and label files of a split in `dir`: the uncompressed name when it exists, else the
 * `.gz` one (Debian ships gzipped files; an unpacked copy works as well).
 * @example
 * fashionMnistFiles('test'); // {images: '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz', labels: ...}
 */
export function fashionMnistFiles(
  split: 'train' | 'test',
  dir: string = FASHION_MNIST_DIR,
): { images: string; labels: string } {
  const pick = (base: string) => {
    const plain = join(dir, base);
    return existsSync(plain) ? plain : `${plain}.gz`;
  };
  return {
    images: pick(`${PREFIX[split]}-images-idx3-ubyte`),
    labels: pick(`${PREFIX[split]}-labels-idx1-ubyte`),
  };
}

/**
 * Whether the four Fashion-MNIST files are in `dir` (for tests and tools that skip without them).
 * @example
 * if (!fashionMnistAvailable()) console.log(`install ${FASHION_MNIST_PACKAGE}`);
 */
export function fashionMnistAvailable(dir: string = FASHION_MNIST_DIR): boolean {
  return (['train', 'test'] as const).every((s) => {
    const f = fashionMnistFiles(s, dir);
    return existsSync(f.images) && existsSync(f.labels);
  });
}

/**
 * Reads one split of Fashion-MNIST (60000 train or 10000 test images of 28 x 28, labels 0-9)
 * from IDX files, by default where Debian's `dataset-fashion-mnist` installs them. `limit` keeps
 * the first items. A missing file is `FILE_NOT_FOUND` saying which package to install; images and
 * labels that disagree are `DATA_LENGTH_MISMATCH`.
 * @example
 * const test = await readFashionMnist('test', { limit: 1000 }); // {count: 1000, height: 28, width: 28, images, labels}
 */
export async function readFashionMnist(
  split: 'train' | 'test',
  options: { dir?: string; limit?: number } = {},
): Promise<ImageSet> {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const files = fashionMnistFiles(split, dir);
  const limit = options.limit === undefined ? {} : { limit: options.limit };
  try {
    const images = await readIdx(files.images, { ...limit, dtype: 'uint8', shape: [null, 28, 28] });
    const labels = await readIdx(files.labels, { ...limit, dtype: 'uint8', shape: [null] });
    if (images.shape[0] !== labels.shape[0]) {
      throw new MtlError(
        'DATA_LENGTH_MISMATCH',
        `${images.shape[0]} images in ${files.images} but ${labels.shape[0]} labels in ${files.labels}`,
        { place: dir },
      );
    }
    return checkImageSet(
      {
        images: images.data as Uint8Array,
        labels: labels.data as Uint8Array,
        count: images.shape[0]!,
        height: 28,
        width: 28,
      },
      FASHION_MNIST_CLASSES.length,
      files.labels,
    );
  } catch (e) {
    if (isMtlError(e, 'FILE_NOT_FOUND')) {
      throw new MtlError(
        'FILE_NOT_FOUND',
        `no Fashion-MNIST file here: install Debian's ${FASHION_MNIST_PACKAGE} (apt-get install ${FASHION_MNIST_PACKAGE}) or give the folder that holds the IDX files`,
        { place: e.place ?? dir, cause: e },
      );
    }
    throw e;
  }
}
