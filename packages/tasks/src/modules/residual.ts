import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { childModule, isModule } from '../internal/child-config.js';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type Module, type ModuleConfig, type ModuleContext, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { defined, enumOption, intOption, parseModuleOptions } from '../module-options.js';
import { concatRowShape, isRowShape, knownSize, type RowShape, resolveSize } from '../shape-inference.js';
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
  /** A learned linear projection of the skip path, x·P + block(x): lets the block change the width; default false. */
  projection: z
    .boolean()
    .optional()
    .describe(
      "A learned linear projection of the skip path, y = x·P + block(x) (P: `projection` [input width, block's output width], no bias): the block may then change the width; default false (y = x + block(x)).",
    ),
  /** Width of the input (with `projection`); optional: a model infers it from the data and checks a given one. */
  inputSize: intOption()
    .optional()
    .describe('With `projection`: width of the input; inferred from the input when left out.'),
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
 * With `projection: true` the skip path is a learned linear map, y = x·P + block(x) (`<module>/projection`
 * [input width, block's output width]), so the block may change the width (He et al. 2016's projection shortcut).
 * @example
 * const res = new Residual({ block: mlp({ hidden: [8], outputSize: 4 }) }); // as residual({...})
 */
export class Residual extends BaseModule {
  readonly type = 'residual';
  readonly block: Module;
  readonly norm: LayerNorm | undefined;
  readonly normAt: 'pre' | 'post' | undefined;
  readonly projection: boolean;
  private width: number | undefined;
  private outWidth: number | undefined;

  constructor(options: ResidualOptions) {
    const o = parseModuleOptions(residualSchema, options, 'residual');
    super();
    // The norm is registered first so that its parameters come first, as it runs first with `pre`.
    this.normAt = o.norm;
    this.projection = o.projection ?? false;
    this.width = o.inputSize;
    this.norm = o.norm === undefined ? undefined : this.child('norm', new LayerNorm({}));
    this.block = this.child('block', childModule(o.block, 'residual.block'));
  }

  /**
   * The input's row shape; the block's output must have it (DATA_SHAPE_MISMATCH otherwise), or,
   * with `projection`, the input's but for the last axis (the output's row shape).
   */
  inferShape(inputs: readonly RowShape[]): RowShape {
    const shape = concatRowShape(inputs, 'residual');
    const width = shape[shape.length - 1];
    if (this.projection) this.width = resolveSize(this.width, width!, 'inputSize', 'residual');
    if (this.normAt === 'pre') this.norm!.inferShape([shape]);
    const out = this.block.inferShape?.([shape]);
    let result = shape;
    if (out !== undefined) {
      const outWidth = isRowShape(out) ? out[out.length - 1] : undefined;
      const keeps = outWidth === width || outWidth === null;
      if (!isRowShape(out) || out.length !== shape.length || (!keeps && !this.projection)) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the block must keep the input's row shape [${shape.map((d) => d ?? '?')}] (x + block(x)), but it outputs ${isRowShape(out) ? `[${out.map((d) => d ?? '?')}]` : 'named or listed tensors'}${isRowShape(out) && out.length === shape.length ? ': set projection: true to project the skip path to its width' : ''}`,
          { place: 'residual', details: { option: 'block', given: outWidth ?? null, inferred: width } },
        );
      }
      if (this.projection) {
        this.outWidth = knownSize(outWidth ?? undefined, 'outputSize', 'residual.block');
        result = [...shape.slice(0, -1), this.outWidth];
      }
    } else if (this.projection) {
      throw new MtlError(
        'CONFIG_INVALID',
        "projection needs the block's output width, and this block cannot say it (no shape inference)",
        { place: 'residual', details: { option: 'projection' } },
      );
    }
    if (this.normAt === 'post') this.norm!.inferShape([result]);
    return result;
  }

  protected paramSpecs(): ParamSpec[] {
    if (!this.projection) return [];
    const input = knownSize(this.width, 'inputSize', 'residual');
    // Rebuilt from a saved config (inputSize given), the block's widths are known without a model.
    if (this.outWidth === undefined) this.inferShape([[input]]);
    return [{ name: 'projection', shape: [input, this.outWidth!], init: 'glorotUniform' }];
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): tf.Tensor {
    const place = `module ${this.name}`;
    const x = singleInput(inputs, place);
    const h = this.normAt === 'pre' ? (this.norm!.apply([x], ctx) as tf.Tensor) : x;
    const y = this.block.apply([h], ctx);
    const want = this.projection ? [...x.shape.slice(0, -1), this.outWidth!] : x.shape;
    if (!(y instanceof tf.Tensor) || !tf.util.arraysEqual(y.shape, want)) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `the block must return one tensor of shape [${want}], got ${y instanceof tf.Tensor ? `[${y.shape}]` : 'named or listed tensors'}`,
        { place },
      );
    }
    const skip = this.projection
      ? tf.matMul(x.reshape([-1, this.width!]), this.param('projection')).reshape(want)
      : x;
    const sum = tf.add(skip, y);
    return this.normAt === 'post' ? (this.norm!.apply([sum], ctx) as tf.Tensor) : sum;
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      block: this.block.getConfig(),
      norm: this.normAt,
      ...(this.projection ? { projection: true, inputSize: this.width } : {}),
    });
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
    'x + block(x): the block is a module config of any kind that keeps the width (or, with `projection: true`, x·P + block(x) for a block that changes it), optionally with a layer norm (`norm: pre | post`).',
  create: (options) => new Residual(options),
});
