import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { tasksOption } from '../internal/experts.js';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ModuleContext, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import {
  defined,
  intListOption,
  intOption,
  numberOption,
  parseModuleOptions,
  seedOption,
} from '../module-options.js';
import { concatRowShape, type RowShape, resolveSize } from '../shape-inference.js';
import { type ActivationName, activationOption } from './activation.js';
import { Dense } from './dense.js';

/**
 * The options of a {@link crossStitch} module.
 * @example
 * crossStitchSchema.parse({ tasks: ['a', 'b'], hidden: [16, 8] });
 */
export const crossStitchSchema = z.strictObject({
  inputSize: intOption()
    .optional()
    .describe('Width of the input rows; default inferred from the data (a given one is checked).'),
  tasks: tasksOption(2).describe(
    'The tasks, one column of layers each; a task reads its column as `<module>.<task>`.',
  ),
  /** Widths of each column's dense layers; a cross-stitch unit follows every layer. */
  hidden: intListOption()
    .min(1, { error: 'needs at least one layer' })
    .describe(
      "Widths of each column's dense layers; a cross-stitch unit mixes the columns after every layer.",
    ),
  /** Default `relu`. */
  activation: activationOption().optional().describe('Activation of every layer; default relu.'),
  /** Initial weight of a column on itself; the rest, (1 − selfWeight)/(T − 1), on each other column. */
  selfWeight: numberOption({ min: 0, max: 1 })
    .optional()
    .describe('Initial weight of a column on itself (the others share 1 − selfWeight); default 0.9.'),
  seed: seedOption(),
});

/**
 * Options of {@link crossStitch}.
 * @example
 * const options: CrossStitchOptions = { tasks: ['a', 'b'], hidden: [16] };
 */
export type CrossStitchOptions = z.input<typeof crossStitchSchema>;

/**
 * Cross-stitch networks (Misra et al., CVPR 2016): one column of dense layers per task
 * (children `<task>_<l>`); after layer l the columns are mixed, h̃_t = Σ_s α^l_ts h_s, with
 * α^l = A0 + `stitch_<l>` (A0: `selfWeight` on the diagonal, the rest spread evenly; the learned
 * `stitch_<l>` [T, T] starts at 0). Output: each task's last mixed column.
 * @example
 * const net = new CrossStitch({ tasks: ['a', 'b'], hidden: [16, 8] }); // as crossStitch({...})
 */
export class CrossStitch extends BaseModule {
  readonly type = 'cross_stitch';
  readonly tasks: readonly string[];
  readonly hidden: readonly number[];
  readonly activation: ActivationName;
  readonly selfWeight: number;
  private readonly columns: Dense[][];
  private size: number | undefined;

  constructor(options: CrossStitchOptions) {
    const o = parseModuleOptions(crossStitchSchema, options, 'cross_stitch');
    super({ seed: o.seed });
    this.tasks = [...o.tasks];
    this.hidden = [...o.hidden];
    this.activation = o.activation ?? 'relu';
    this.selfWeight = o.selfWeight ?? 0.9;
    this.columns = this.tasks.map((t) =>
      this.hidden.map((units, l) =>
        this.child(`${t}_${l}`, new Dense({ units, activation: this.activation })),
      ),
    );
    if (o.inputSize !== undefined) this.inferShape([[o.inputSize]]);
  }

  inferShape(inputs: readonly RowShape[]): { [task: string]: RowShape } {
    const shape = concatRowShape(inputs, 'cross_stitch');
    if (shape.length !== 1) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `reads vector rows, got rows of shape [${shape}]`, {
        place: 'cross_stitch',
      });
    }
    this.size = resolveSize(this.size, shape[0]!, 'inputSize', 'cross_stitch');
    for (const column of this.columns) {
      let s: RowShape = shape;
      for (const layer of column) s = layer.inferShape([s]);
    }
    return Object.fromEntries(this.tasks.map((t) => [t, [this.hidden[this.hidden.length - 1]!]]));
  }

  protected paramSpecs(): ParamSpec[] {
    const t = this.tasks.length;
    return this.hidden.map((_, l) => ({ name: `stitch_${l}`, shape: [t, t], init: 'zeros' as const }));
  }

  /** The mixing matrix of layer l (A0 + learned offset), [T, T]; row t weighs the columns task t reads. The caller disposes it. */
  stitch(l: number): tf.Tensor2D {
    const t = this.tasks.length;
    const other = (1 - this.selfWeight) / (t - 1);
    return tf.tidy(
      () =>
        tf.add(
          tf.add(tf.mul(tf.eye(t), this.selfWeight - other), other),
          this.param(`stitch_${l}`),
        ) as tf.Tensor2D,
    );
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): { [task: string]: tf.Tensor } {
    const x = singleInput(inputs, `module ${this.name}`);
    let hs: tf.Tensor[] = this.tasks.map(() => x);
    this.hidden.forEach((units, l) => {
      const outs = this.columns.map((column, t) => column[l]!.apply([hs[t]!], ctx) as tf.Tensor);
      const batch = outs[0]!.shape[0]!;
      const stacked = tf.reshape(tf.stack(outs, 0), [this.tasks.length, batch * units]);
      const mixed = tf.matMul(this.stitch(l), stacked as tf.Tensor2D);
      hs = tf.unstack(tf.reshape(mixed, [this.tasks.length, batch, units]), 0);
    });
    return Object.fromEntries(this.tasks.map((t, i) => [t, hs[i]!]));
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      tasks: [...this.tasks],
      hidden: [...this.hidden],
      activation: this.activation,
      selfWeight: this.selfWeight,
      seed: this.seed,
    });
  }
}

/**
 * Cross-stitch units between task columns.
 * @example
 * const pool = { stitch: crossStitch({ tasks: ['y1', 'y2'], hidden: [16, 8] }) };
 */
export function crossStitch(options: CrossStitchOptions): CrossStitch {
  return new CrossStitch(options);
}

/**
 * The `cross_stitch` entry of the module registry.
 * @example
 * crossStitchKind.create({ tasks: ['a', 'b'], hidden: [8] });
 */
export const crossStitchKind = defineModuleKind({
  type: 'cross_stitch',
  schema: crossStitchSchema,
  description:
    'Cross-stitch networks: one column of dense layers per task, mixed after every layer by a learned T×T matrix; one representation per task.',
  create: (options) => new CrossStitch(options),
});
