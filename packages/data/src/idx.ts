import { MtlError } from '@mtl/core';

/**
 * The element types of the IDX format (LeCun's MNIST files), by their type byte: `0x08` uint8,
 * `0x09` int8, `0x0B` int16, `0x0C` int32, `0x0D` float32, `0x0E` float64 (multi-byte values
 * big-endian).
 * @example
 * IDX_DTYPES[0x08]; // 'uint8'
 */
export const IDX_DTYPES = {
  8: 'uint8',
  9: 'int8',
  11: 'int16',
  12: 'int32',
  13: 'float32',
  14: 'float64',
} as const;

/**
 * One of the IDX element types.
 * @example
 * const dtype: IdxDtype = 'uint8';
 */
export type IdxDtype = (typeof IDX_DTYPES)[keyof typeof IDX_DTYPES];

/** The typed array that holds each IDX element type. */
export interface IdxArrays {
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

/**
 * A parsed IDX file: row-major values in the typed array of its element type, and the shape
 * (the first dimension counts items, e.g. `[60000, 28, 28]` images or `[60000]` labels).
 * @example
 * const { data, shape } = parseIdx(bytes); // data: Uint8Array of shape[0] · 28 · 28 pixels
 */
export interface IdxArray<D extends IdxDtype = IdxDtype> {
  dtype: D;
  shape: number[];
  data: IdxArrays[D];
}

/**
 * Options of {@link parseIdx} (and of `readIdx` in `@mtl/data/node`).
 * @example
 * parseIdx(bytes, { place: 'train-images', limit: 100, dtype: 'uint8', shape: [null, 28, 28] });
 */
export interface ParseIdxOptions {
  /** Names the source in errors (a file name); default `IDX data`. */
  place?: string;
  /** Keep only the first `limit` items (along the first dimension); default all. */
  limit?: number;
  /** The element type the caller expects: anything else is an error. */
  dtype?: IdxDtype;
  /** The dimensions the caller expects; `null` accepts any size (e.g. `[null, 28, 28]`). */
  shape?: readonly (number | null)[];
}

const SIZES: Record<IdxDtype, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses the bytes of an IDX file (uncompressed; `readIdx` from `@mtl/data/node` also reads
 * gzipped files). Checks the magic number (two zero bytes, a known type byte, at least one
 * dimension), that the data is exactly as long as the dimensions say, and the expected type and
 * shape when given; each problem is a `DATA_INVALID` error naming `place`. With `limit`, only the
 * first `limit` items are copied out (the whole length is still checked).
 * @example
 * const labels = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3])); // {dtype: 'uint8', shape: [2], data: [7, 3]}
 */
export function parseIdx(bytes: Uint8Array, options: ParseIdxOptions = {}): IdxArray {
  const place = options.place ?? 'IDX data';
  const fail = (message: string, details?: Record<string, unknown>): never => {
    throw new MtlError('DATA_INVALID', message, { place, ...(details ? { details } : {}) });
  };
  if (isGzip(bytes)) fail('the bytes are gzip-compressed: decompress them first (readIdx does)');
  if (bytes.length < 4) fail(`not an IDX file: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`not an IDX file: the magic number starts with 0x${hex(bytes[0]!)}${hex(bytes[1]!)}, not 0x0000`);
  }
  const dtype = (IDX_DTYPES as Record<number, IdxDtype>)[bytes[2]!];
  if (dtype === undefined) {
    fail(
      `unknown IDX element type 0x${hex(bytes[2]!)} (known: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)`,
    );
  }
  const ndim = bytes[3]!;
  if (ndim === 0) fail('the IDX header declares 0 dimensions');
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) {
    fail(
      `truncated: the header declares ${ndim} dimensions (${headerLength} bytes) but the file has ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const itemValues = shape.slice(1).reduce((a, b) => a * b, 1);
  const size = SIZES[dtype!];
  const expected = headerLength + shape[0]! * itemValues * size;
  if (bytes.length !== expected) {
    const have = Math.floor((bytes.length - headerLength) / Math.max(1, itemValues * size));
    fail(
      bytes.length < expected
        ? `truncated: the header says ${describe(shape, dtype!)} (${expected} bytes) but the file has ${bytes.length} bytes (${have} whole items)`
        : `malformed: ${bytes.length - expected} bytes after the ${describe(shape, dtype!)} the header declares`,
      { expectedBytes: expected, bytes: bytes.length, shape },
    );
  }
  if (options.dtype !== undefined && options.dtype !== dtype) {
    fail(`expected ${options.dtype} values, the file holds ${dtype}`);
  }
  if (options.shape !== undefined) {
    const want = options.shape;
    const ok = want.length === shape.length && want.every((w, i) => w === null || w === shape[i]);
    if (!ok) {
      const text = want.map((w) => (w === null ? 'N' : String(w))).join(' x ');
      fail(`expected items of shape ${text}, the file holds ${shape.join(' x ')}`, { shape });
    }
  }
  let items = shape[0]!;
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 0) {
      throw new MtlError('INVALID_ARGUMENT', `limit must be a non-negative integer, got ${options.limit}`, {
        place,
      });
    }
    items = Math.min(items, options.limit);
  }
  const count = items * itemValues;
  const outShape = [items, ...shape.slice(1)];
  return {
    dtype: dtype!,
    shape: outShape,
    data: decode(bytes, view, headerLength, count, dtype!),
  } as IdxArray;
}

function decode(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  count: number,
  dtype: IdxDtype,
): IdxArrays[IdxDtype] {
  switch (dtype) {
    case 'uint8':
      return bytes.slice(offset, offset + count);
    case 'int8':
      return new Int8Array(bytes.slice(offset, offset + count).buffer);
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}

function describe(shape: readonly number[], dtype: IdxDtype): string {
  return `${shape.join(' x ')} ${dtype}`;
}

/**
 * The bytes of an IDX file holding `data` with `shape` (big-endian, as the format wants): for
 * tests, and to write a subset back to disk.
 * @example
 * encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array([7, 3]) }); // 10 bytes
 */
export function encodeIdx(array: IdxArray): Uint8Array {
  const { dtype, shape, data } = array;
  const code = Number(Object.entries(IDX_DTYPES).find(([, d]) => d === dtype)?.[0]);
  if (!Number.isInteger(code)) {
    throw new MtlError('INVALID_ARGUMENT', `unknown IDX element type "${dtype}"`, { place: 'encodeIdx' });
  }
  if (shape.length < 1 || shape.length > 255) {
    throw new MtlError('INVALID_ARGUMENT', `an IDX array has 1 to 255 dimensions, got ${shape.length}`, {
      place: 'encodeIdx',
    });
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `shape ${shape.join(' x ')} holds ${count} values, data has ${data.length}`,
      { place: 'encodeIdx' },
    );
  }
  const header = 4 + 4 * shape.length;
  const size = SIZES[dtype];
  const out = new Uint8Array(header + count * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    const at = header + i * size;
    if (dtype === 'uint8') view.setUint8(at, v);
    else if (dtype === 'int8') view.setInt8(at, v);
    else if (dtype === 'int16') view.setInt16(at, v, false);
    else if (dtype === 'int32') view.setInt32(at, v, false);
    else if (dtype === 'float32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}
