import { caught } from '@mtl/core/testing';
import { describe, expect, it } from 'vitest';
import { encodeIdx, type IdxArray, parseIdx } from './idx.js';

describe('parseIdx', () => {
  it('reads a uint8 label file byte by byte as the format defines it', () => {
    // magic 0x00000801 (uint8, 1 dimension), 3 items, then the items.
    const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]);
    const idx = parseIdx(bytes);
    expect(idx.dtype).toBe('uint8');
    expect(idx.shape).toEqual([3]);
    expect(Array.from(idx.data)).toEqual([7, 0, 9]);
  });

  it('reads big-endian dimensions and multi-byte values of every type', () => {
    const images = new Uint8Array([
      0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    const idx = parseIdx(images);
    expect(idx.shape).toEqual([2, 2, 3]);
    expect(Array.from(idx.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // int32 -2 and 258 big-endian.
    const ints = parseIdx(new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 2, 255, 255, 255, 254, 0, 0, 1, 2]));
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.data)).toEqual([-2, 258]);
    const cases: IdxArray[] = [
      { dtype: 'int8', shape: [3], data: new Int8Array([-128, 0, 127]) },
      { dtype: 'int16', shape: [2, 2], data: new Int16Array([-300, 300, 1, -1]) },
      { dtype: 'float32', shape: [2], data: new Float32Array([0.5, -1e30]) },
      { dtype: 'float64', shape: [1, 2], data: new Float64Array([Math.PI, -0]) },
    ];
    for (const c of cases) {
      const back = parseIdx(encodeIdx(c));
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual(c.shape);
      expect(Array.from(back.data)).toEqual(Array.from(c.data));
      expect(back.data.constructor).toBe(c.data.constructor);
    }
    // float32 0.5 is 0x3f000000.
    expect(Array.from(encodeIdx(cases[2]!).subarray(8, 12))).toEqual([0x3f, 0, 0, 0]);
  });

  it('keeps the first `limit` items and still checks the whole length', () => {
    const bytes = encodeIdx({
      dtype: 'uint8',
      shape: [4, 2],
      data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    });
    const idx = parseIdx(bytes, { limit: 3 });
    expect(idx.shape).toEqual([3, 2]);
    expect(Array.from(idx.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseIdx(bytes, { limit: 10 }).shape).toEqual([4, 2]);
    expect(parseIdx(bytes, { limit: 0 }).data.length).toBe(0);
    expect(caught(() => parseIdx(bytes.subarray(0, bytes.length - 1), { limit: 1 })).reason).toContain(
      'truncated',
    );
    expect(caught(() => parseIdx(bytes, { limit: -1 })).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses malformed bytes with DATA_INVALID naming the place', () => {
    const good = encodeIdx({ dtype: 'uint8', shape: [2, 2], data: new Uint8Array([1, 2, 3, 4]) });
    const place = 'images.idx';
    const cases: [Uint8Array, string][] = [
      [new Uint8Array([0, 0, 8]), 'shorter than the 4-byte magic number'],
      [Uint8Array.from([1, ...good.subarray(1)]), 'the magic number starts with 0x0100'],
      [Uint8Array.from([0, 0, 0x0a, ...good.subarray(3)]), 'unknown IDX element type 0x0A'],
      [Uint8Array.from([0, 0, 8, 0]), 'declares 0 dimensions'],
      [
        good.subarray(0, 9),
        'truncated: the header declares 2 dimensions (12 bytes) but the file has 9 bytes',
      ],
      [
        good.subarray(0, 14),
        'truncated: the header says 2 x 2 uint8 (16 bytes) but the file has 14 bytes (1 whole items)',
      ],
      [Uint8Array.from([...good, 0]), 'malformed: 1 bytes after the 2 x 2 uint8'],
      [new Uint8Array([0x1f, 0x8b, 8, 0]), 'gzip-compressed'],
    ];
    for (const [bytes, text] of cases) {
      const e = caught(() => parseIdx(bytes, { place }));
      expect(e.code).toBe('DATA_INVALID');
      expect(e.place).toBe(place);
      expect(e.message).toContain(`${place}: `);
      expect(e.reason).toContain(text);
    }
  });

  it('checks the dtype and shape the caller expects', () => {
    const bytes = encodeIdx({ dtype: 'uint8', shape: [2, 3, 3], data: new Uint8Array(18) });
    expect(parseIdx(bytes, { dtype: 'uint8', shape: [null, 3, 3] }).shape).toEqual([2, 3, 3]);
    expect(caught(() => parseIdx(bytes, { dtype: 'float32' })).reason).toBe(
      'expected float32 values, the file holds uint8',
    );
    expect(caught(() => parseIdx(bytes, { shape: [null, 28, 28] })).reason).toBe(
      'expected items of shape N x 28 x 28, the file holds 2 x 3 x 3',
    );
    expect(caught(() => parseIdx(bytes, { shape: [null] })).code).toBe('DATA_INVALID');
  });

  it('encodeIdx refuses data that does not fill the shape', () => {
    expect(caught(() => encodeIdx({ dtype: 'uint8', shape: [2, 2], data: new Uint8Array(3) })).code).toBe(
      'DATA_SHAPE_MISMATCH',
    );
  });
});
