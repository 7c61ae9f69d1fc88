import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { childModule, isModule } from '../internal/child-config.js';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type Module, type ModuleConfig, type ModuleContext, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { defined, enumOption, parseModuleOptions } from '../module-options.js';
import { concatRowShape, isRowShape, type RowShape } from '../shape-inference.js';
import { LayerNorm } from './layer-norm.js';

/**
 * The options of a {@link residual} module.
 * @example
 * residualSchema.parse({ block: { kind: 'mlp', hidden: [8], outputSize: 4 }, norm: 'pre' });
 */
export const residualSchema = z.strictObject({
  /**
   * The block: a module object, or a module config of any registered kind (`{kind: 'mlp', ...}`
   * as in the app's config, or `{type: 'mlp', ...}` as saved). It must keep the input's width.
   */
  block: z
    .custom<Module | { [option: string]: unknown }>(
      (v) => isModule(v) || (typeof v === 'object' && v !== null && !Array.isArray(v)),
      { error: 'must be a module or a module config {kind, ...options}' },
    )
    .describe(
      "The block: a module config of any kind of `modules.*` (e.g. `{kind: mlp, hidden: [8], outputSize: 4}`); it must keep the input's width.",
    ),
  /** A layer norm before the block (`pre`: x + block(norm(x))) or after the sum (`post`: norm(x + block(x))); default none. */
  norm: enumOption(['pre', 'post'])
    .optional()
    .describe(
      'A layer norm before the block (`pre`: x + block(norm(x))) or after the sum (`post`: norm(x + block(x))); default none.',
    ),
});

/**
 * Options of {@link residual}.
 * @example
 * const options: ResidualOptions = { block: mlp({ hidden: [8], outputSize: 4 }) };
 */
export type ResidualOptions = z.input<typeof residualSchema>;

/**
 * y = x + block(x), optionally with a layer norm before the block or after the sum. The block and
 * the norm are child modules: variables `<module>/block/<param>` and `<module>/norm/gamma|beta`.
 * @example
 * const res = new Residual({ block: mlp({ hidden: [8], outputSize: 4 }) }); // as residual({...})
 */
export class Residual extends BaseModule {
  readonly type = 'residual';
  readonly block: Module;
  readonly norm: LayerNorm | undefined;
  readonly normAt: 'pre' | 'post' | undefined;

  constructor(options: ResidualOptions) {
    const o = parseModuleOptions(residualSchema, options, 'residual');
    super();
    // The norm is registered first so that its parameters come first, as it runs first with `pre`.
    this.normAt = o.norm;
    this.norm = o.norm === undefined ? undefined : this.child('norm', new LayerNorm({}));
    this.block = this.child('block', childModule(o.block, 'residual.block'));
  }

  /** The input's row shape; the block's output must have it (DATA_SHAPE_MISMATCH otherwise). */
  inferShape(inputs: readonly RowShape[]): RowShape {
    const shape = concatRowShape(inputs, 'residual');
    this.norm?.inferShape([shape]);
    const out = this.block.inferShape?.([shape]);
    const width = shape[shape.length - 1];
    if (out !== undefined) {
      const outWidth = isRowShape(out) ? out[out.length - 1] : undefined;
      if (!isRowShape(out) || out.length !== shape.length || (outWidth !== width && outWidth !== null)) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the block must keep the input's row shape [${shape.map((d) => d ?? '?')}] (x + block(x)), but it outputs ${isRowShape(out) ? `[${out.map((d) => d ?? '?')}]` : 'named or listed tensors'}`,
          { place: 'residual', details: { option: 'block', given: outWidth ?? null, inferred: width } },
        );
      }
    }
    return shape;
  }

  protected paramSpecs(): ParamSpec[] {
    return [];
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): tf.Tensor {
    const place = `module ${this.name}`;
    const x = singleInput(inputs, place);
    const h = this.normAt === 'pre' ? (this.norm!.apply([x], ctx) as tf.Tensor) : x;
    const y = this.block.apply([h], ctx);
    if (!(y instanceof tf.Tensor) || !tf.util.arraysEqual(y.shape, x.shape)) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `the block must return one tensor of the input's shape [${x.shape}], got ${y instanceof tf.Tensor ? `[${y.shape}]` : 'named or listed tensors'}`,
        { place },
      );
    }
    const sum = tf.add(x, y);
    return this.normAt === 'post' ? (this.norm!.apply([sum], ctx) as tf.Tensor) : sum;
  }

  getConfig(): ModuleConfig {
    return defined({ type: this.type, block: this.block.getConfig(), norm: this.normAt });
  }

  static fromConfig(config: ModuleConfig): Residual {
    const { type: _, ...options } = config;
    return new Residual(options as ResidualOptions);
  }
}

/**
 * A residual connection around a block of any kind.
 * @example
 * const pool = { res: residual({ block: mlp({ hidden: [8], outputSize: 4 }), norm: 'pre' }) };
 */
export function residual(options: ResidualOptions): Residual {
  return new Residual(options);
}

/**
 * The `residual` entry of the module registry.
 * @example
 * residualKind.create({ block: { type: 'dense', units: 4 } });
 */
export const residualKind = defineModuleKind({
  type: 'residual',
  schema: residualSchema,
  description:
    'x + block(x): the block is a module config of any kind that keeps the width, optionally with a layer norm (`norm: pre | post`).',
  create: (options) => new Residual(options),
});
