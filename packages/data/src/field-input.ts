import type * as tf from '@tensorflow/tfjs';

/**
 * Any typed array of numbers a user may hand in (Int32Array stays int32; the rest becomes float32).
 * @example
 * const xs: TypedNumberArray = new Float64Array([0.5, 1.5]);
 */
export type TypedNumberArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | Uint8ClampedArray;

/**
 * Numbers nested in arrays: a row of a field or label.
 * @example
 * const row: NestedNumbers = [[1, 2], [3, 4]]; // a [2, 2] row
 */
export type NestedNumbers = number | TypedNumberArray | readonly NestedNumbers[];

/**
 * Rows already flat: `values` holds `shape[0]` rows of shape `shape.slice(1)`.
 * @example
 * const points: DenseArray = { values: new Float32Array([0, 1, 2, 3, 4, 5]), shape: [3, 2] };
 */
export interface DenseArray {
  values: TypedNumberArray | readonly number[];
  shape: readonly number[];
}

/**
 * Variable-length 1-D rows already flat: row `i` is `values[offsets[i], offsets[i + 1])`.
 * @example
 * const tokens: RaggedArray = { values: new Int32Array([5, 6, 7, 8]), offsets: [0, 3, 4] }; // [5, 6, 7], [8]
 */
export interface RaggedArray {
  values: TypedNumberArray | readonly number[];
  offsets: ArrayLike<number>;
}

/**
 * What a field or label may be given as: a tensor `[N, ...]`, a typed array (scalar rows), an array
 * of rows (nested numbers or typed arrays), or flat {@link DenseArray} / {@link RaggedArray}.
 * @example
 * const input: ColumnInput = tf.tensor2d([[1, 2], [3, 4]]);
 */
export type ColumnInput =
  | tf.Tensor
  | TypedNumberArray
  | readonly NestedNumbers[]
  | readonly TypedNumberArray[]
  | DenseArray
  | RaggedArray;
