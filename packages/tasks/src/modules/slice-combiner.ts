import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { GateObserver } from '../internal/experts.js';
import { BaseModule, type ModuleConfig, type ModuleContext, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { defined, intOption, numberOption, parseModuleOptions } from '../module-options.js';
import { isRowShape, type RowShape, resolveSize } from '../shape-inference.js';

/**
 * The options of a {@link sliceCombiner} module.
 * @example
 * sliceCombinerSchema.parse({ slices: ['base', 'short'], temperature: 1 });
 */
export const sliceCombinerSchema = z.strictObject({
  /** The slices, in the order of the inputs (the base slice of every row included). */
  slices: z
    .array(z.string().min(1), { error: 'must be a list of slice names' })
    .min(1, { error: 'needs at least one slice' })
    .refine((s) => new Set(s).size === s.length, { error: 'names a slice twice' })
    .describe(
      'The slices, in the order of the inputs: S indicator outputs, S predictor outputs, S representations.',
    ),
  /** τ of softmax(q·c / τ); default 1. */
  temperature: numberOption({ min: 0, minExclusive: true })
    .optional()
    .describe('τ of the attention softmax(q·c / τ) over slices; default 1.'),
  /** Width of the slice representations; optional: inferred and checked. */
  inputSize: intOption()
    .optional()
    .describe('Width of the slice representations; default inferred from the data (a given one is checked).'),
});

/**
 * Options of {@link sliceCombiner}.
 * @example
 * const options: SliceCombinerOptions = { slices: ['base', 'hard'] };
 */
export type SliceCombinerOptions = z.input<typeof sliceCombinerSchema>;

/**
 * The attention of a slice-aware model (Chen et al., NeurIPS 2019; Snorkel's `SliceCombinerModule`):
 * given, for each of S slices, the slice indicator head's logit(s), the slice predictor head's
 * logits and the slice expert's representation r_s, it returns Σ_s a_s r_s with
 * a = softmax_s(q_s · c_s / τ), where q_s is the indicator's probability that the row is in slice s
 * and c_s the predictor's confidence (its largest class probability). A row then takes its
 * representation from the slices it is believed to be in, the more so the surer their predictors.
 *
 * Inputs, in this order: S indicator outputs (`[B, 1]`: one logit, q = σ(z); or `[B, 2]`: q =
 * softmax(z)₁), S predictor outputs (`[B, C]` logits, c = max softmax; or `[B, 1]`, a binary logit,
 * c = σ(|z|)), then S representations `[B, H]`. No parameters.
 *
 * Snorkel takes the predictor's probability of the positive class as its "confidence", which is
 * defined for two classes only and treats a sure negative as unsure; the largest class
 * probability is a confidence for any number of classes and equals Snorkel's where it is > 1/2.
 * @example
 * const combiner = sliceCombiner({ slices: ['base', 'hard'] });
 * combiner.build('combiner');
 * const rep = combiner.apply([indBase, indHard, predBase, predHard, repBase, repHard], { training: false, seed: 0 });
 */
export class SliceCombiner extends BaseModule {
  readonly type = 'slice_combiner';
  readonly slices: readonly string[];
  readonly temperature: number;
  private size: number | undefined;
  private observer: GateObserver | undefined;

  constructor(options: SliceCombinerOptions) {
    const o = parseModuleOptions(sliceCombinerSchema, options, 'slice_combiner');
    super({});
    this.slices = [...o.slices];
    this.temperature = o.temperature ?? 1;
    this.size = o.inputSize;
  }

  protected paramSpecs(): ParamSpec[] {
    return [];
  }

  inferShape(inputs: readonly RowShape[]): RowShape {
    const S = this.slices.length;
    const place = 'slice_combiner';
    if (inputs.length !== 3 * S) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `reads 3 inputs per slice (indicator, predictor, representation) for ${S} slices: ${3 * S} inputs, got ${inputs.length}`,
        { place },
      );
    }
    inputs.forEach((shape, i) => {
      if (!isRowShape(shape) || shape.length !== 1) {
        throw new MtlError('DATA_SHAPE_MISMATCH', `input ${i} must be vector rows, got [${shape}]`, {
          place,
        });
      }
    });
    for (let s = 0; s < S; s++) {
      const ind = inputs[s]![0];
      if (ind !== null && ind !== 1 && ind !== 2) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the indicator of slice ${this.slices[s]} must output 1 logit (or 2), got ${ind}`,
          { place },
        );
      }
    }
    for (let s = 0; s < S; s++) {
      const width = inputs[2 * S + s]![0];
      if (width !== null && width !== undefined)
        this.size = resolveSize(this.size, width, 'inputSize', place);
    }
    return [this.size ?? null];
  }

  /**
   * The attention weights a `[B, S]` (rows sum to 1) for the combiner's inputs (the
   * representations are not read).
   * @example
   * const a = combiner.attention(inputs); // [B, S]
   */
  attention(inputs: readonly tf.Tensor[]): tf.Tensor2D {
    const S = this.slices.length;
    this.checkInputs(inputs);
    return tf.tidy(() => {
      const q = inputs
        .slice(0, S)
        .map((z) =>
          z.shape[1] === 2 ? tf.slice(tf.softmax(z as tf.Tensor2D), [0, 1], [-1, 1]) : tf.sigmoid(z),
        );
      const c = inputs
        .slice(S, 2 * S)
        .map((z) =>
          z.shape[1] === 1 ? tf.sigmoid(tf.abs(z)) : tf.max(tf.softmax(z as tf.Tensor2D), 1, true),
        );
      const scores = tf.concat(
        q.map((qs, s) => tf.mul(qs, c[s]!)),
        1,
      );
      return tf.softmax(this.temperature === 1 ? scores : tf.div(scores, this.temperature)) as tf.Tensor2D;
    });
  }

  /**
   * The attention as one gate for a {@link GateRecorder}: gate `attention`, a column per slice, so
   * `gates.json` holds its mean over the validation split like a routing module's gates.
   * @example
   * combiner.gateLayout(); // [{ gate: 'attention', experts: ['base', 'hard'] }]
   */
  gateLayout(): { gate: string; experts: string[] }[] {
    return [{ gate: 'attention', experts: [...this.slices] }];
  }

  /** Listens to the attention of inference forward passes (undefined stops listening). */
  observeGates(observer: GateObserver | undefined): void {
    this.observer = observer;
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): tf.Tensor {
    const S = this.slices.length;
    return tf.tidy(() => {
      const a = this.attention(inputs);
      if (!ctx.training && this.observer !== undefined) this.observer('attention', this.slices, a);
      const reps = tf.stack(inputs.slice(2 * S), 1); // [B, S, H]
      return tf.sum(tf.mul(reps, tf.expandDims(a, 2)), 1);
    });
  }

  private checkInputs(inputs: readonly tf.Tensor[]): void {
    const S = this.slices.length;
    const place = `module ${this.name ?? this.type}`;
    if (inputs.length !== 3 * S) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `reads 3 inputs per slice (indicator, predictor, representation) for ${S} slices: ${3 * S} inputs, got ${inputs.length}`,
        { place },
      );
    }
    const rows = inputs[0]!.shape[0];
    inputs.forEach((t, i) => {
      if (t.rank !== 2 || t.shape[0] !== rows) {
        throw new MtlError('DATA_SHAPE_MISMATCH', `input ${i} must be [${rows}, k], got [${t.shape}]`, {
          place,
        });
      }
    });
    const width = inputs[2 * S]!.shape[1];
    for (let s = 0; s < S; s++) {
      if (inputs[2 * S + s]!.shape[1] !== width) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the representations of slices ${this.slices[0]} and ${this.slices[s]} differ in width (${width} and ${inputs[2 * S + s]!.shape[1]})`,
          { place },
        );
      }
    }
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      slices: [...this.slices],
      temperature: this.temperature === 1 ? undefined : this.temperature,
      inputSize: this.size,
    });
  }
}

/**
 * A slice combiner: the attention over slice representations of a slice-aware model.
 * @example
 * const combiner = sliceCombiner({ slices: ['base', 'short', 'negated'] });
 */
export function sliceCombiner(options: SliceCombinerOptions): SliceCombiner {
  return new SliceCombiner(options);
}

/**
 * The `slice_combiner` entry of the module registry.
 * @example
 * sliceCombinerKind.create({ slices: ['base', 'hard'] });
 */
export const sliceCombinerKind = defineModuleKind({
  type: 'slice_combiner',
  schema: sliceCombinerSchema,
  description:
    "A slice-aware model's attention: Σ_s softmax_s(indicator prob. × predictor confidence / τ) · slice representation; inputs: S indicator, S predictor, S representation outputs.",
  create: (options) => new SliceCombiner(options),
});
