import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { caught } from '@mtl/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx } from './idx.js';
import { FASHION_MNIST_PACKAGE, fashionMnistAvailable, readFashionMnist } from './read-fashion-mnist.js';
import { readIdx } from './read-idx.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-data-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array, base = dir): string {
  const p = join(base, name);
  writeFileSync(p, bytes);
  return p;
}

const images = encodeIdx({
  dtype: 'uint8',
  shape: [3, 28, 28],
  data: Uint8Array.from({ length: 3 * 784 }, (_, i) => (i * 7) % 256),
});
const labels = encodeIdx({ dtype: 'uint8', shape: [3], data: new Uint8Array([9, 0, 4]) });

describe('readIdx', () => {
  it('reads a plain and a gzipped file alike (told apart by their bytes, not their names)', async () => {
    const plain = await readIdx(file('plain-images', images));
    const gz = await readIdx(file('gz-images.gz', gzipSync(images)));
    const gzNoSuffix = await readIdx(file('named-plain', gzipSync(images)));
    for (const idx of [plain, gz, gzNoSuffix]) {
      expect(idx.shape).toEqual([3, 28, 28]);
      expect(idx.data[785]).toBe((785 * 7) % 256);
    }
    const first = await readIdx(file('labels.gz', gzipSync(labels)), { limit: 2 });
    expect(Array.from(first.data)).toEqual([9, 0]);
  });

  it('names the file on a missing, truncated or malformed file', async () => {
    const missing = join(dir, 'nope.gz');
    const e1 = await caught(readIdx(missing));
    expect(e1.code).toBe('FILE_NOT_FOUND');
    expect(e1.place).toBe(missing);

    const short = file('short.gz', gzipSync(images.subarray(0, 1000)));
    const e2 = await caught(readIdx(short));
    expect(e2.code).toBe('DATA_INVALID');
    expect(e2.message).toContain(`${short}: truncated: the header says 3 x 28 x 28 uint8`);

    const cut = gzipSync(images);
    const brokenGz = file('broken.gz', cut.subarray(0, cut.length >> 1));
    const e3 = await caught(readIdx(brokenGz));
    expect(e3.code).toBe('DATA_INVALID');
    expect(e3.place).toBe(brokenGz);
    expect(e3.reason).toContain('damaged gzip data');

    const text = file('notes.txt', new TextEncoder().encode('hello world'));
    const e4 = await caught(readIdx(text));
    expect(e4.message).toBe(`${text}: not an IDX file: the magic number starts with 0x6865, not 0x0000`);
  });
});

describe('readFashionMnist', () => {
  it('reads a folder of IDX files, preferring unpacked ones, and checks images against labels', async () => {
    const folder = join(dir, 'fm');
    mkdirSync(folder);
    file('t10k-images-idx3-ubyte.gz', gzipSync(images), folder);
    file('t10k-labels-idx1-ubyte', labels, folder);
    const set = await readFashionMnist('test', { dir: folder });
    expect([set.count, set.height, set.width]).toEqual([3, 28, 28]);
    expect(Array.from(set.labels)).toEqual([9, 0, 4]);
    expect(set.images.length).toBe(3 * 784);
    expect((await readFashionMnist('test', { dir: folder, limit: 1 })).count).toBe(1);

    file(
      't10k-labels-idx1-ubyte',
      encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array([1, 2]) }),
      folder,
    );
    const e1 = await caught(readFashionMnist('test', { dir: folder }));
    expect(e1.code).toBe('DATA_LENGTH_MISMATCH');
    expect(e1.reason).toContain('3 images in');

    file(
      't10k-labels-idx1-ubyte',
      encodeIdx({ dtype: 'uint8', shape: [3], data: new Uint8Array([1, 10, 2]) }),
      folder,
    );
    const e2 = await caught(readFashionMnist('test', { dir: folder }));
    expect(e2.code).toBe('LABEL_OUT_OF_RANGE');
    expect(e2.reason).toBe('label 10 of item 1 is outside the 10 classes');

    const e3 = await caught(readFashionMnist('train', { dir: folder }));
    expect(e3.code).toBe('FILE_NOT_FOUND');
    expect(e3.message).toContain(join(folder, 'train-images-idx3-ubyte.gz'));
    expect(e3.reason).toContain(`install Debian's ${FASHION_MNIST_PACKAGE}`);
    expect(fashionMnistAvailable(folder)).toBe(false);
  });

  it("reads Debian's Fashion-MNIST: 60000 train and 10000 test images of 28 x 28, labels 0-9", async (ctx) => {
    ctx.skip(
      !fashionMnistAvailable(),
      `needs Debian's ${FASHION_MNIST_PACKAGE} (apt-get install ${FASHION_MNIST_PACKAGE})`,
    );
    const test = await readFashionMnist('test');
    expect([test.count, test.height, test.width]).toEqual([10000, 28, 28]);
    expect(test.images.length).toBe(10000 * 784);
    // The test set is balanced: 1000 of each class.
    const counts = new Array(10).fill(0);
    for (const l of test.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    // Zalando's published first test label is 9 (ankle boot); first train label 9 as well.
    expect(test.labels[0]).toBe(9);
    const train = await readFashionMnist('train');
    expect([train.count, train.height, train.width]).toEqual([60000, 28, 28]);
    expect(Math.max(...train.labels)).toBe(9);
    expect(Math.min(...train.labels)).toBe(0);
    expect(train.labels[0]).toBe(9);
    let mean = 0;
    for (let i = 0; i < train.images.length; i++) mean += train.images[i]!;
    mean /= train.images.length;
    // Fashion-MNIST's mean pixel is 0.286 of 255.
    expect(mean / 255).toBeCloseTo(0.286, 2);
    const head = await readFashionMnist('train', { limit: 5 });
    expect(head.count).toBe(5);
    expect(Array.from(head.images)).toEqual(Array.from(train.images.subarray(0, 5 * 784)));
  });
});
