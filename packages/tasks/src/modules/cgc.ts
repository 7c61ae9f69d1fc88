import { MtlError } from '@mtl/core';
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
import { concatRowShape, type RowShape, resolveSize } from '../shape-inference.js';
import type { Dense } from './dense.js';

/**
 * The options of a {@link cgc} module.
 * @example
 * cgcSchema.parse({ tasks: ['a', 'b'], sharedExperts: 2, taskExperts: 1 });
 */
export const cgcSchema = z.strictObject({
  tasks: tasksOption().describe(
    'The tasks it serves: each has its own experts and a gate over them and the shared ones; a task reads its output as `<module>.<task>`.',
  ),
  /** Experts every task's gate sees. */
  sharedExperts: expertCount().describe("Number of shared experts (in every task's gate)."),
  /** Experts of each task alone. */
  taskExperts: expertCount(0).describe('Number of experts of each task alone (may be 0).'),
  expert: expertOption(),
  ...gateRegulariserShape,
  seed: seedOption(),
});

/**
 * Options of {@link cgc}.
 * @example
 * const options: CgcOptions = { tasks: ['a', 'b'], sharedExperts: 2, taskExperts: 1 };
 */
export type CgcOptions = z.input<typeof cgcSchema>;

/**
 * Customized gate control (Tang et al., RecSys 2020, the one-level PLE): shared experts
 * `shared_<i>` and experts of each task `<task>_<i>`; task t's output is a softmax gate `gate_<t>`
 * over its own experts then the shared ones. Inside a {@link Ple} a level also has `gate_shared`
 * over every expert, whose mixture feeds the next level's shared experts.
 * @example
 * const level = new Cgc({ tasks: ['a', 'b'], sharedExperts: 2, taskExperts: 1 }); // as cgc({...})
 */
export class Cgc extends GatedModule {
  readonly type = 'cgc';
  readonly shared: Module[];
  private readonly own = new Map<string, Module[]>();
  private readonly sharedGate: Dense | undefined;
  private readonly taskExperts: number;

  /** `withSharedGate`: a PLE level below the last (not an option of the kind). */
  constructor(options: CgcOptions, withSharedGate = false) {
    const o = parseModuleOptions(cgcSchema, options, 'cgc');
    super(o);
    this.taskExperts = o.taskExperts;
    this.shared = this.makeExperts('shared_', o.sharedExperts, this.expertSpec, 'cgc');
    for (const task of o.tasks) {
      this.own.set(task, this.makeExperts(`${task}_`, o.taskExperts, this.expertSpec, 'cgc'));
    }
    for (const task of o.tasks) this.addGate(task, o.taskExperts + o.sharedExperts);
    const all = o.tasks.length * o.taskExperts + o.sharedExperts;
    this.sharedGate = withSharedGate ? this.child('gate_shared', this.gateLayer(all)) : undefined;
    if (o.inputSize !== undefined) this.inferShape([[o.inputSize]]);
  }

  private expertNames(task: string): string[] {
    return [
      ...this.own.get(task)!.map((_, i) => `${task}_${i}`),
      ...this.shared.map((_, i) => `shared_${i}`),
    ];
  }

  private allNames(): string[] {
    return [
      ...this.taskList.flatMap((t) => this.own.get(t)!.map((_, i) => `${t}_${i}`)),
      ...this.shared.map((_, i) => `shared_${i}`),
    ];
  }

  gateLayout(): { gate: string; experts: string[] }[] {
    const out = this.taskList.map((gate) => ({ gate, experts: this.expertNames(gate) }));
    if (this.sharedGate !== undefined) out.push({ gate: 'shared', experts: this.allNames() });
    return out;
  }

  /**
   * Shape inference for one level: each task's input row shape and the shared input's; returns the
   * output's (every expert must output one shape).
   */
  inferLevel(taskShapes: Readonly<Record<string, RowShape>>, sharedShape: RowShape): RowShape | undefined {
    for (const s of [sharedShape, ...Object.values(taskShapes)]) {
      if (s.length !== 1) {
        throw new MtlError('DATA_SHAPE_MISMATCH', `reads vector rows, got rows of shape [${s}]`, {
          place: this.type,
        });
      }
    }
    let out = this.expertShape(this.shared, sharedShape, 'shared expert');
    for (const task of this.taskList) {
      const own = this.expertShape(this.own.get(task)!, taskShapes[task]!, `expert of task ${task}`);
      if (out !== undefined && own !== undefined && JSON.stringify(out) !== JSON.stringify(own)) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the experts of task ${task} output rows [${own}] but the shared ones [${out}]; every expert needs one output shape`,
          { place: this.type },
        );
      }
      out ??= own;
      this.gates.get(task)!.inferShape([taskShapes[task]!]);
    }
    this.sharedGate?.inferShape([sharedShape]);
    return out;
  }

  inferShape(inputs: readonly RowShape[]): { [task: string]: RowShape } {
    const shape = concatRowShape(inputs, 'cgc');
    this.size = resolveSize(this.size, shape[0] ?? null, 'inputSize', 'cgc');
    const out = this.inferLevel(Object.fromEntries(this.taskList.map((t) => [t, shape])), shape);
    return Object.fromEntries(this.taskList.map((t) => [t, out ?? [null]]));
  }

  protected paramSpecs(): ParamSpec[] {
    return [];
  }

  /**
   * One level: each task's input and the shared input in, each task's mixture out (and the shared
   * mixture when the level has a shared gate). `level` prefixes the gate names the observer sees.
   */
  route(
    taskInputs: Readonly<Record<string, tf.Tensor>>,
    sharedInput: tf.Tensor,
    ctx: ModuleContext,
    level = '',
  ): { tasks: Record<string, tf.Tensor>; shared?: tf.Tensor } {
    const sharedOut = this.shared.length > 0 ? this.runExperts(this.shared, sharedInput, ctx) : undefined;
    const ownOut: Record<string, tf.Tensor | undefined> = {};
    const tasks: Record<string, tf.Tensor> = {};
    for (const task of this.taskList) {
      const x = taskInputs[task]!;
      const own = this.own.get(task)!;
      ownOut[task] = own.length > 0 ? this.runExperts(own, x, ctx) : undefined;
      const parts = [ownOut[task], sharedOut].filter((t): t is tf.Tensor => t !== undefined);
      const stacked = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
      const g = tf.softmax(this.gates.get(task)!.apply([x], ctx) as tf.Tensor2D);
      this.gateDone(`${level}${task}`, this.expertNames(task), g, ctx);
      tasks[task] = this.mix(g, stacked);
    }
    if (this.sharedGate === undefined) return { tasks };
    const parts = [...this.taskList.map((t) => ownOut[t]), sharedOut].filter(
      (t): t is tf.Tensor => t !== undefined,
    );
    const stacked = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
    const g = tf.softmax(this.sharedGate.apply([sharedInput], ctx) as tf.Tensor2D);
    this.gateDone(`${level}shared`, this.allNames(), g, ctx);
    return { tasks, shared: this.mix(g, stacked) };
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): { [task: string]: tf.Tensor } {
    const x = singleInput(inputs, `module ${this.name}`);
    return this.route(Object.fromEntries(this.taskList.map((t) => [t, x])), x, ctx).tasks;
  }

  /** A task left the model: its experts and gate are freed (a PLE level with a shared gate keeps them: the shared gate's width depends on them). */
  releaseUser(task: string): void {
    if (this.sharedGate !== undefined) return;
    const own = this.own.get(task);
    if (!this.releaseGate(task)) return;
    for (let i = 0; i < own!.length; i++) this.removeChild(`${task}_${i}`);
    this.own.delete(task);
  }

  getConfig(): ModuleConfig {
    return this.gatedConfig({ sharedExperts: this.shared.length, taskExperts: this.taskExperts });
  }
}

/**
 * Customized gate control: shared and task-specific experts, one gate per task.
 * @example
 * const pool = { cgc: cgc({ tasks: ['y1', 'y2'], sharedExperts: 2, taskExperts: 1 }) };
 */
export function cgc(options: CgcOptions): Cgc {
  return new Cgc(options);
}

/**
 * The `cgc` entry of the module registry.
 * @example
 * cgcKind.create({ tasks: ['a', 'b'], sharedExperts: 1, taskExperts: 1 });
 */
export const cgcKind = defineModuleKind({
  type: 'cgc',
  schema: cgcSchema,
  description:
    "Customized gate control (CGC): shared experts plus each task's own, one softmax gate per task over its own and the shared experts; one representation per task.",
  create: (options) => new Cgc(options),
});
