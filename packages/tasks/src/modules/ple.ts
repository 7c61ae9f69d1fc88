import type * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import { expertConfig, GatedModule } from '../internal/experts.js';
import { singleInput } from '../internal/module-utils.js';
import type { ModuleConfig, ModuleContext, ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { defined, intOption, parseModuleOptions } from '../module-options.js';
import { concatRowShape, type RowShape, resolveSize } from '../shape-inference.js';
import { Cgc, cgcSchema } from './cgc.js';

/**
 * The options of a {@link ple} module: a {@link cgc}'s, and the number of levels.
 * @example
 * pleSchema.parse({ tasks: ['a', 'b'], levels: 2, sharedExperts: 2, taskExperts: 1 });
 */
export const pleSchema = cgcSchema.extend({
  /** Number of extraction levels (CGC layers); 1 is a CGC. */
  levels: intOption(1, 16).describe('Number of stacked extraction levels (1 is a `cgc`).'),
});

/**
 * Options of {@link ple}.
 * @example
 * const options: PleOptions = { tasks: ['a', 'b'], levels: 2, sharedExperts: 2, taskExperts: 1 };
 */
export type PleOptions = z.input<typeof pleSchema>;

/**
 * Progressive layered extraction (Tang et al., RecSys 2020): `levels` CGC levels, children
 * `level_<l>`. Level 0's experts read the input; above it, task t's experts read t's mixture from
 * the level below and the shared experts read the shared mixture (each level but the last has a
 * gate `gate_shared` over all its experts). Output: the last level's mixture per task. Gates reach
 * the observer as `level_<l>/<task>` and `level_<l>/shared`.
 * @example
 * const net = new Ple({ tasks: ['a', 'b'], levels: 2, sharedExperts: 2, taskExperts: 1 }); // as ple({...})
 */
export class Ple extends GatedModule {
  readonly type = 'ple';
  readonly levels: Cgc[];
  private readonly options: Omit<PleOptions, 'inputSize' | 'seed'>;

  constructor(options: PleOptions) {
    const o = parseModuleOptions(pleSchema, options, 'ple');
    super(o);
    const { levels, seed: _seed, inputSize: _size, ...level } = o;
    const expert = expertConfig(o.expert);
    this.options = { ...o, expert };
    delete (this.options as PleOptions).seed;
    delete (this.options as PleOptions).inputSize;
    this.levels = Array.from({ length: levels }, (_, l) =>
      this.child(`level_${l}`, new Cgc({ ...level, expert: { ...expert } }, l < levels - 1)),
    );
    if (o.inputSize !== undefined) this.inferShape([[o.inputSize]]);
  }

  gateLayout(): { gate: string; experts: string[] }[] {
    return this.levels.flatMap((level, l) =>
      level.gateLayout().map(({ gate, experts }) => ({ gate: `level_${l}/${gate}`, experts })),
    );
  }

  override observeGates(observer: Parameters<GatedModule['observeGates']>[0]): void {
    super.observeGates(observer);
    for (const level of this.levels) level.observeGates(observer);
  }

  inferShape(inputs: readonly RowShape[]): { [task: string]: RowShape } {
    const x = concatRowShape(inputs, 'ple');
    this.size = resolveSize(this.size, x[0] ?? null, 'inputSize', 'ple');
    let taskShapes: Record<string, RowShape> = Object.fromEntries(this.taskList.map((t) => [t, x]));
    let shared: RowShape = x;
    for (const level of this.levels) {
      const out = level.inferLevel(taskShapes, shared) ?? [null];
      taskShapes = Object.fromEntries(this.taskList.map((t) => [t, out]));
      shared = out;
    }
    return taskShapes;
  }

  protected paramSpecs(): ParamSpec[] {
    return [];
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): { [task: string]: tf.Tensor } {
    const x = singleInput(inputs, `module ${this.name}`);
    let taskInputs: Record<string, tf.Tensor> = Object.fromEntries(this.taskList.map((t) => [t, x]));
    let shared = x;
    this.levels.forEach((level, l) => {
      const out = level.route(taskInputs, shared, ctx, `level_${l}/`);
      taskInputs = out.tasks;
      if (out.shared !== undefined) shared = out.shared;
    });
    return taskInputs;
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      ...this.options,
      loadBalance: this.options.loadBalance || undefined,
      gateEntropy: this.options.gateEntropy || undefined,
      seed: this.seed,
    } as ModuleConfig);
  }
}

/**
 * Progressive layered extraction: stacked CGC levels.
 * @example
 * const pool = { ple: ple({ tasks: ['y1', 'y2'], levels: 2, sharedExperts: 2, taskExperts: 1 }) };
 */
export function ple(options: PleOptions): Ple {
  return new Ple(options);
}

/**
 * The `ple` entry of the module registry.
 * @example
 * pleKind.create({ tasks: ['a', 'b'], levels: 2, sharedExperts: 1, taskExperts: 1 });
 */
export const pleKind = defineModuleKind({
  type: 'ple',
  schema: pleSchema,
  description:
    "Progressive layered extraction (PLE): `levels` stacked CGC levels; above the first, task experts read their task's mixture and shared experts a shared gate's; one representation per task.",
  create: (options) => new Ple(options),
});
