import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { childModule, isModule } from '../internal/child-config.js';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type Module, type ModuleConfig, type ModuleContext, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { defined, intOption, numberOption, parseModuleOptions, seedOption } from '../module-options.js';
import { concatRowShape, isRowShape, knownSize, type RowShape, resolveSize } from '../shape-inference.js';

/**
 * The options of a {@link Highway} module.
 * @example
 * highwaySchema.parse({ block: { kind: 'dense', units: 8, activation: 'relu' }, gateBias: -2 });
 */
export const highwaySchema = z.strictObject({
  /** The transform H: a module object or a module config of any registered kind; it must keep the width. */
  block: z
    .custom<Module | { [option: string]: unknown }>(
      (v) => isModule(v) || (typeof v === 'object' && v !== null && !Array.isArray(v)),
      { error: 'must be a module or a module config {kind, ...options}' },
    )
    .describe(
      "The transform H: a module config of any kind of `modules.*` (e.g. `{kind: dense, units: 8, activation: relu}`); it must keep the input's width.",
    ),
  /** Width of the input (and output); optional: a model infers it from the data and checks a given one. */
  size: intOption()
    .optional()
    .describe(
      'Width of the input and output; inferred from the input when left out (a given one is checked).',
    ),
  /** Initial bias of the transform gate; negative starts close to the identity (Srivastava et al. 2015: -1 to -3). */
  gateBias: numberOption()
    .optional()
    .describe('Initial bias of the transform gate, default -1: a negative bias starts near y = x (carry).'),
  /** Initialiser seed of the gate; default the model's seed. */
  seed: seedOption(),
});

/**
 * Options of {@link Highway}.
 * @example
 * const options: HighwayOptions = { block: { kind: 'dense', units: 8, activation: 'relu' } };
 */
export type HighwayOptions = z.input<typeof highwaySchema>;

/**
 * A highway layer (Srivastava, Greff and Schmidhuber, "Highway Networks", 2015):
 * y = T(x)·H(x) + (1 − T(x))·x with the transform gate T(x) = sigmoid(x·W_T + b_T) per unit. H is
 * a child module of any kind that keeps the width (variables `<module>/block/<param>`); the gate's
 * parameters are `<module>/gate/kernel` [size, size] and `<module>/gate/bias` [size] (filled with
 * `gateBias`). Adding this kind took this file and one line of the module registry.
 * @example
 * const hw = moduleFromConfig({ type: 'highway', block: { type: 'dense', units: 4, activation: 'relu' }, size: 4 });
 */
export class Highway extends BaseModule {
  readonly type = 'highway';
  readonly block: Module;
  readonly gateBias: number;
  private width: number | undefined;

  constructor(options: HighwayOptions) {
    const o = parseModuleOptions(highwaySchema, options, 'highway');
    super({ seed: o.seed });
    this.width = o.size;
    this.gateBias = o.gateBias ?? -1;
    this.block = this.child('block', childModule(o.block, 'highway.block'));
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get size(): number {
    return knownSize(this.width, 'size', 'highway');
  }

  /** The input's row shape; H's output must have it (DATA_SHAPE_MISMATCH otherwise). */
  inferShape(inputs: readonly RowShape[]): RowShape {
    const shape = concatRowShape(inputs, 'highway');
    this.width = resolveSize(this.width, shape[shape.length - 1]!, 'size', 'highway');
    const out = this.block.inferShape?.([shape]);
    if (out !== undefined) {
      const outWidth = isRowShape(out) ? out[out.length - 1] : undefined;
      if (!isRowShape(out) || out.length !== shape.length || (outWidth !== this.width && outWidth !== null)) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the block must keep the input's row shape [${shape.map((d) => d ?? '?')}] (the gate mixes x and H(x)), but it outputs ${isRowShape(out) ? `[${out.map((d) => d ?? '?')}]` : 'named or listed tensors'}`,
          { place: 'highway', details: { option: 'block', given: outWidth ?? null, inferred: this.width } },
        );
      }
    }
    return shape;
  }

  protected paramSpecs(): ParamSpec[] {
    return [
      { name: 'gate/kernel', shape: [this.size, this.size], init: 'glorotUniform' },
      { name: 'gate/bias', shape: [this.size], init: { constant: this.gateBias } },
    ];
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): tf.Tensor {
    const place = `module ${this.name}`;
    const x = singleInput(inputs, place);
    if (x.shape[x.shape.length - 1] !== this.size) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `expects a last axis of ${this.size}, got [${x.shape}]`, {
        place,
      });
    }
    const h = this.block.apply([x], ctx);
    if (!(h instanceof tf.Tensor) || !tf.util.arraysEqual(h.shape, x.shape)) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `the block must return one tensor of the input's shape [${x.shape}], got ${h instanceof tf.Tensor ? `[${h.shape}]` : 'named or listed tensors'}`,
        { place },
      );
    }
    const flat = x.reshape([-1, this.size]);
    const gate = tf
      .sigmoid(tf.add(tf.matMul(flat, this.param('gate/kernel')), this.param('gate/bias')))
      .reshape(x.shape);
    // T·H + (1 − T)·x = x + T·(H − x): one multiply.
    return tf.add(x, tf.mul(gate, tf.sub(h, x)));
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      block: this.block.getConfig(),
      size: this.width,
      gateBias: this.gateBias,
      seed: this.seed,
    });
  }
}

/**
 * The `highway` entry of the module registry: a library user builds one with
 * `moduleFromConfig({type: 'highway', ...})`, a config with `{kind: highway, ...}`.
 * @example
 * highwayKind.create({ block: { type: 'dense', units: 4, activation: 'relu' } });
 */
export const highwayKind = defineModuleKind({
  type: 'highway',
  schema: highwaySchema,
  description:
    'A highway layer y = T(x)·H(x) + (1 − T(x))·x (Srivastava et al. 2015): H is a module config of any kind that keeps the width; T a learned sigmoid gate per unit.',
  create: (options) => new Highway(options),
});
