import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import {
  expertCount,
  expertOption,
  GatedModule,
  gateRegulariserShape,
  tasksOption,
} from '../internal/experts.js';
import { singleInput } from '../internal/module-utils.js';
import type { Module, ModuleConfig, ModuleContext, ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { parseModuleOptions, seedOption } from '../module-options.js';
import type { RowShape } from '../shape-inference.js';

/**
 * The options of an {@link mmoe} module.
 * @example
 * mmoeSchema.parse({ tasks: ['a', 'b'], experts: 4, expert: { kind: 'mlp', hidden: [16] } });
 */
export const mmoeSchema = z.strictObject({
  /** The tasks it serves: one softmax gate each, and one output per task (`[module, task]`). */
  tasks: tasksOption().describe(
    'The tasks it serves: one softmax gate each; a task reads its own output as `<module>.<task>` in its `ops`.',
  ),
  /** Number of experts E. */
  experts: expertCount().describe('Number of experts E.'),
  expert: expertOption(),
  ...gateRegulariserShape,
  seed: seedOption(),
});

/**
 * Options of {@link mmoe}.
 * @example
 * const options: MmoeOptions = { tasks: ['a', 'b'], experts: 3 };
 */
export type MmoeOptions = z.input<typeof mmoeSchema>;

/**
 * Multi-gate mixture of experts (Ma et al., KDD 2018): E experts see the input; task t's output is
 * Σ_e g_t(x)_e f_e(x) with g_t(x) = softmax(x W_t + b_t). Output: named tensors, one per task. Children
 * `expert_<e>` (any module kind; MLP by default) and `gate_<task>` (a dense layer of E units).
 * @example
 * const moe = new Mmoe({ tasks: ['a', 'b'], experts: 3, expert: mlp({ hidden: [8] }) }); // as mmoe({...})
 */
export class Mmoe extends GatedModule {
  readonly type = 'mmoe';
  readonly experts: Module[];

  constructor(options: MmoeOptions) {
    const o = parseModuleOptions(mmoeSchema, options, 'mmoe');
    super(o);
    this.experts = this.makeExperts('expert_', o.experts, this.expertSpec, 'mmoe');
    for (const task of o.tasks) this.addGate(task, o.experts);
    // A saved config gives the width: the children's sizes follow before anything reads them.
    if (o.inputSize !== undefined) this.inferShape([[o.inputSize]]);
  }

  gateLayout(): { gate: string; experts: string[] }[] {
    return this.sharedLayout(this.experts);
  }

  inferShape(inputs: readonly RowShape[]): { [task: string]: RowShape } {
    const shape = this.vectorInput(inputs);
    const out = this.expertShape(this.experts, shape, 'expert');
    for (const gate of this.gates.values()) gate.inferShape([shape]);
    return Object.fromEntries(this.taskList.map((t) => [t, out ?? [null]]));
  }

  protected paramSpecs(): ParamSpec[] {
    return [];
  }

  /** Each task's gate weights [B, E] for an input (rows sum to 1). */
  gateWeights(x: tf.Tensor, ctx: ModuleContext): Record<string, tf.Tensor2D> {
    return Object.fromEntries(
      this.taskList.map((t) => [t, tf.softmax(this.gates.get(t)!.apply([x], ctx) as tf.Tensor2D)]),
    );
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): { [task: string]: tf.Tensor } {
    const x = singleInput(inputs, `module ${this.name}`);
    const stacked = this.runExperts(this.experts, x, ctx);
    const weights = this.gateWeights(x, ctx);
    const names = this.experts.map((_, e) => `expert_${e}`);
    const out: { [task: string]: tf.Tensor } = {};
    for (const task of this.taskList) {
      this.gateDone(task, names, weights[task]!, ctx);
      out[task] = this.mix(weights[task]!, stacked);
    }
    return out;
  }

  /** A task left the model: its gate's variables are freed and it leaves `tasks`. */
  releaseUser(task: string): void {
    this.releaseGate(task);
  }

  getConfig(): ModuleConfig {
    return this.gatedConfig({ experts: this.experts.length });
  }
}

/**
 * A multi-gate mixture of experts: one representation per task.
 * @example
 * const pool = { moe: mmoe({ tasks: ['y1', 'y2'], experts: 4, expert: { kind: 'mlp', hidden: [16] } }) };
 */
export function mmoe(options: MmoeOptions): Mmoe {
  return new Mmoe(options);
}

/**
 * The `mmoe` entry of the module registry.
 * @example
 * mmoeKind.create({ tasks: ['a', 'b'], experts: 2 });
 */
export const mmoeKind = defineModuleKind({
  type: 'mmoe',
  schema: mmoeSchema,
  description:
    'Multi-gate mixture of experts (MMoE): E experts, one softmax gate per task; outputs one representation per task (`<module>.<task>` in ops).',
  create: (options) => new Mmoe(options),
});
