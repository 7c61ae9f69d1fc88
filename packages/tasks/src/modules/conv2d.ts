import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Initializer } from '../internal/init.js';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import {
  defined,
  enumOption,
  initOption,
  intOption,
  parseModuleOptions,
  seedOption,
} from '../module-options.js';
import type { RowShape } from '../shape-inference.js';
import { type ActivationName, activationOption, applyActivation } from './activation.js';

/**
 * The options of a {@link conv2d} module.
 * @example
 * conv2dSchema.parse({ filters: 8, imageShape: [14, 14, 1] });
 */
export const conv2dSchema = z.strictObject({
  /**
   * `[height, width, channels]` of one image. Rows may come flat (`[h · w · c]`, as image fields
   * do) or already shaped; optional when rows are shaped (inferred from the data).
   */
  imageShape: z.tuple([intOption(), intOption(), intOption()]).optional(),
  filters: intOption(),
  /** Side of the square kernel (default 3). */
  kernelSize: intOption().optional(),
  /** `same` (default: zero padding, output as large as the input) or `valid`. */
  padding: enumOption(['same', 'valid'] as const).optional(),
  /** Default `linear`. */
  activation: activationOption().optional(),
  /** Side of the non-overlapping max pooling after the activation (default 1: none). */
  pool: intOption().optional(),
  /** Return each row as one vector `[h' · w' · filters]` (default false: `[h', w', filters]`). */
  flatten: z.boolean().optional(),
  /** Default `heUniform`. */
  kernelInit: initOption().optional(),
  /** Default `zeros`. */
  biasInit: initOption().optional(),
  seed: seedOption(),
});

/**
 * Options of {@link conv2d}.
 * @example
 * const options: Conv2dOptions = { imageShape: [14, 14, 1], filters: 8, activation: 'relu', pool: 2 };
 */
export type Conv2dOptions = z.input<typeof conv2dSchema>;

/**
 * A 2-D convolution (stride 1, square kernel), then an activation and an optional max pooling.
 * Parameters `kernel` `[k · k · channels, filters]` (patch-major: row `(i · k + j) · channels + c`
 * holds kernel position (i, j), channel c) and `bias` `[filters]`.
 *
 * It is computed as patches times a matrix (each output pixel's k × k neighbourhood gathered by
 * k² slices of the padded image), not by `tf.conv2d`: the wasm backend has no gradient of
 * `conv2d` with respect to the kernel, and slices and a matrix product train on every backend.
 * @example
 * const trunk = new Conv2d({ imageShape: [14, 14, 1], filters: 8, activation: 'relu', pool: 2, flatten: true }); // [B, 196] -> [B, 392]
 */
export class Conv2d extends BaseModule {
  readonly type = 'conv2d';
  private image: [number, number, number] | undefined;
  readonly filters: number;
  readonly kernelSize: number;
  readonly padding: 'same' | 'valid';
  readonly activation: ActivationName;
  readonly pool: number;
  readonly flatten: boolean;
  readonly kernelInit: Initializer;
  readonly biasInit: Initializer;

  constructor(options: Conv2dOptions) {
    const o = parseModuleOptions(conv2dSchema, options, 'conv2d');
    super({ seed: o.seed });
    this.image = o.imageShape === undefined ? undefined : [...o.imageShape];
    this.filters = o.filters;
    this.kernelSize = o.kernelSize ?? 3;
    this.padding = o.padding ?? 'same';
    this.activation = o.activation ?? 'linear';
    this.pool = o.pool ?? 1;
    this.flatten = o.flatten ?? false;
    this.kernelInit = o.kernelInit ?? 'heUniform';
    this.biasInit = o.biasInit ?? 'zeros';
    if (this.image) this.outputShape(this.image);
  }

  /** `[height, width, channels]`, given or inferred; CONFIG_INVALID while neither. */
  get imageShape(): [number, number, number] {
    if (this.image === undefined) {
      throw new MtlError(
        'CONFIG_INVALID',
        'needs imageShape [height, width, channels] (flat rows do not say it)',
        { place: 'conv2d' },
      );
    }
    return this.image;
  }

  /** `[h', w', filters]` after the convolution and pooling; errors when the image is too small. */
  private outputShape([h, w]: readonly number[]): [number, number, number] {
    const k = this.kernelSize;
    const [ch, cw] = this.padding === 'same' ? [h!, w!] : [h! - k + 1, w! - k + 1];
    if (ch < 1 || cw < 1) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `a ${h}×${w} image is smaller than the ${k}×${k} kernel`, {
        place: 'conv2d',
      });
    }
    const p = this.pool;
    if (ch < p || cw < p) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `a ${ch}×${cw} feature map is smaller than the pool ${p}`, {
        place: 'conv2d',
      });
    }
    return [Math.floor(ch / p), Math.floor(cw / p), this.filters];
  }

  inferShape(inputs: readonly RowShape[]): RowShape {
    if (inputs.length !== 1) {
      throw new MtlError('INVALID_ARGUMENT', `expects one input, got ${inputs.length}`, { place: 'conv2d' });
    }
    const row = inputs[0]!;
    if (row.length === 3 && row.every((d) => d !== null)) {
      const given = row as number[];
      if (this.image && this.image.join(',') !== given.join(',')) {
        throw new MtlError('DATA_SHAPE_MISMATCH', `rows are [${given}] but imageShape is [${this.image}]`, {
          place: 'conv2d',
        });
      }
      this.image = [given[0]!, given[1]!, given[2]!];
    } else if (row.length === 1) {
      const [h, w, c] = this.imageShape;
      if (row[0] !== null && row[0] !== h * w * c) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `flat rows of ${row[0]} values do not hold a [${h}, ${w}, ${c}] image (${h * w * c} values)`,
          { place: 'conv2d' },
        );
      }
    } else {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `expects rows [height, width, channels] or flat rows, got [${row.map((d) => d ?? '?')}]`,
        { place: 'conv2d' },
      );
    }
    const out = this.outputShape(this.imageShape);
    return this.flatten ? [out[0] * out[1] * out[2]] : out;
  }

  protected paramSpecs(): ParamSpec[] {
    const k = this.kernelSize;
    const c = this.imageShape[2];
    return [
      {
        name: 'kernel',
        shape: [k * k * c, this.filters],
        init: this.kernelInit,
        fanIn: k * k * c,
        fanOut: k * k * this.filters,
      },
      { name: 'bias', shape: [this.filters], init: this.biasInit, fanIn: k * k * c },
    ];
  }

  protected forward(inputs: tf.Tensor[]): tf.Tensor {
    const place = `module ${this.name}`;
    const x0 = singleInput(inputs, place);
    const [h, w, c] = this.imageShape;
    const B = x0.shape[0]!;
    if (x0.size !== B * h * w * c) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `rows of shape [${x0.shape.slice(1)}] do not hold a [${h}, ${w}, ${c}] image`,
        { place },
      );
    }
    const k = this.kernelSize;
    let x = tf.reshape(x0, [B, h, w, c]);
    if (this.padding === 'same') {
      const before = Math.floor((k - 1) / 2);
      x = tf.pad(x, [
        [0, 0],
        [before, k - 1 - before],
        [before, k - 1 - before],
        [0, 0],
      ]);
    }
    const oh = x.shape[1]! - k + 1;
    const ow = x.shape[2]! - k + 1;
    const patches: tf.Tensor[] = [];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) patches.push(tf.slice(x, [0, i, j, 0], [B, oh, ow, c]));
    }
    const cols = tf.reshape(tf.concat(patches, 3), [B * oh * ow, k * k * c]);
    let y = tf.add(tf.matMul(cols, this.param('kernel')), this.param('bias'));
    y = applyActivation(this.activation, y);
    let out = tf.reshape(y, [B, oh, ow, this.filters]);
    const p = this.pool;
    if (p > 1) {
      const ph = Math.floor(oh / p);
      const pw = Math.floor(ow / p);
      if (ph * p !== oh || pw * p !== ow)
        out = tf.slice(out, [0, 0, 0, 0], [B, ph * p, pw * p, this.filters]);
      out = tf.max(tf.reshape(out, [B, ph, p, pw, p, this.filters]), [2, 4]);
    }
    return this.flatten ? tf.reshape(out, [B, -1]) : out;
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      imageShape: this.image === undefined ? undefined : [...this.image],
      filters: this.filters,
      kernelSize: this.kernelSize,
      padding: this.padding,
      activation: this.activation,
      pool: this.pool,
      flatten: this.flatten,
      kernelInit: this.kernelInit,
      biasInit: this.biasInit,
      seed: this.seed,
    });
  }
}

/**
 * The `conv2d` entry of the module registry.
 * @example
 * conv2dKind.create({ filters: 8, imageShape: [14, 14, 1] });
 */
export const conv2dKind = defineModuleKind({
  type: 'conv2d',
  schema: conv2dSchema,
  description:
    'A 2-D convolution over image rows (flat rows with `imageShape`, or `[h, w, c]`), stride 1, then `activation` and an optional max `pool`; trains on every backend.',
  create: (options) => new Conv2d(options),
});

/**
 * A convolution module (stride 1; `pool` for max pooling; `flatten` for a vector per row).
 * @example
 * const pool = { conv: conv2d({ imageShape: [14, 14, 1], filters: 8, activation: 'relu', pool: 2 }) };
 */
export function conv2d(options: Conv2dOptions): Conv2d {
  return new Conv2d(options);
}
