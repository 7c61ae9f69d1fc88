import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BaseModule, type Module, type ModuleConfig, type ModuleContext } from '../module.js';
import { defined, initOption, intOption, numberOption } from '../module-options.js';
import { Dense } from '../modules/dense.js';
import {
  concatRowShape,
  isRowShape,
  type OutputShape,
  type RowShape,
  resolveSize,
} from '../shape-inference.js';
import { childModule, isModule } from './child-config.js';
import type { Initializer } from './init.js';

/**
 * Called on every inference forward pass of a gated module while a {@link GateRecorder} listens:
 * `gate` names the gate (a task, or `level_<l>/<task>` in a stacked network), `experts` the columns
 * of `weights` ([B, E], rows summing to 1).
 */
export type GateObserver = (gate: string, experts: readonly string[], weights: tf.Tensor2D) => void;

/** The task names a routing module serves: unique, at least one. */
export function tasksOption(min = 1) {
  return z
    .array(
      z
        .string()
        .min(1)
        .regex(/^[^/]+$/, 'a task name has no "/"'),
      {
        error: 'must be a list of task names',
      },
    )
    .min(min, { error: `needs at least ${min} task name${min === 1 ? '' : 's'}` })
    .refine((t) => new Set(t).size === t.length, { error: 'names a task twice' });
}

/** An expert: a module object, or a module config of any registered kind. */
export function expertOption() {
  return z
    .custom<Module | { [option: string]: unknown }>(
      (v) => isModule(v) || (typeof v === 'object' && v !== null && !Array.isArray(v)),
      { error: 'must be a module or a module config {kind, ...options}' },
    )
    .optional()
    .describe(
      'Each expert: a module config of any kind of `modules.*` (default `{kind: mlp, hidden: [16]}`); every expert is a fresh copy with its own weights.',
    );
}

/** The regulariser options every gated module shares (and its input width). */
export const gateRegulariserShape = {
  /** Width of the input rows; optional: a model infers it from the data and checks a given one. */
  inputSize: intOption()
    .optional()
    .describe('Width of the input rows; default inferred from the data (a given one is checked).'),
  /** Weight of the load-balance loss E·Σ_e (mean_b g_be)² − 1 per gate (0 when the batch uses every expert equally). */
  loadBalance: numberOption({ min: 0 })
    .optional()
    .describe(
      'Weight of the load-balance loss `E·Σ_e mean(g_e)² − 1` per gate (0 when the batch spreads evenly over the experts); default 0.',
    ),
  /** Weight of the gates' mean entropy (pushes each row's gate towards one expert). */
  gateEntropy: numberOption({ min: 0 })
    .optional()
    .describe("Weight of the gates' mean entropy `−Σ_e g_e log g_e` (favours confident gates); default 0."),
  /**
   * How the gates' kernels start (default `glorotUniform`). With d inputs and E experts glorot gives
   * logits of sd ≈ √(2d/(d+E)) on standardised inputs (≈ 1.4: sharp, random routing from the first
   * step); `zeros` starts every gate uniform (1/E per expert), `torchUniform` at sd ≈ 0.58.
   */
  gateInit: initOption()
    .optional()
    .describe(
      "How the gates' kernels start: `glorotUniform` (default; logits of sd ≈ 1.4 on standardised inputs), `zeros` (every gate uniform at the start), `torchUniform`, `{normal: s}`, ...",
    ),
  /** Whether the gates have a bias (default true; the MMoE paper's gate is softmax(W x), without one). */
  gateBias: z
    .boolean()
    .optional()
    .describe(
      "Whether the gates' dense layers have a bias; default true (the MMoE paper's softmax(W x) has none).",
    ),
};

/** `experts` option: how many experts. */
export function expertCount(min = 1) {
  return intOption(min, 4096);
}

/** The config an expert option stands for (a module object contributes its config). */
export function expertConfig(value: unknown): ModuleConfig | { [option: string]: unknown } {
  if (value === undefined) return { type: 'mlp', hidden: [16] };
  return isModule(value) ? value.getConfig() : (value as { [option: string]: unknown });
}

/**
 * Base of the modules that route between experts with gates (mmoe, cgc, ple, dselect_k): expert
 * copies as children, the per-task gates, the mixture, the regularisers, the gate observer and the
 * options every kind saves alike.
 */
export abstract class GatedModule extends BaseModule {
  private observer: GateObserver | undefined;
  protected readonly loadBalance: number;
  protected readonly gateEntropy: number;
  /** The tasks served, in option order (a released task leaves it). */
  protected taskList: string[];
  /** Each task's gate (`gate_<task>`), for the kinds that gate per task on the module's input. */
  protected readonly gates = new Map<string, Dense>();
  /** The config every expert is copied from, as saved. */
  protected readonly expertSpec: ModuleConfig | { [option: string]: unknown };
  /** Width of the input rows, given or inferred. */
  protected size: number | undefined;
  /** The gates' kernel initialiser and bias (undefined: the defaults, glorotUniform with a bias). */
  protected readonly gateInit: Initializer | undefined;
  protected readonly gateBias: boolean | undefined;

  constructor(options: {
    seed?: number | undefined;
    loadBalance?: number | undefined;
    gateEntropy?: number | undefined;
    tasks?: readonly string[] | undefined;
    expert?: unknown;
    gateInit?: Initializer | undefined;
    gateBias?: boolean | undefined;
  }) {
    super({ seed: options.seed });
    this.loadBalance = options.loadBalance ?? 0;
    this.gateEntropy = options.gateEntropy ?? 0;
    this.taskList = [...(options.tasks ?? [])];
    this.expertSpec = expertConfig(options.expert);
    this.gateInit = options.gateInit;
    this.gateBias = options.gateBias;
  }

  /** A gate's dense layer of `units` logits, with the module's gate initialiser and bias. */
  protected gateLayer(units: number): Dense {
    return new Dense({
      units,
      ...(this.gateInit === undefined ? {} : { kernelInit: this.gateInit }),
      ...(this.gateBias === undefined ? {} : { useBias: this.gateBias }),
    });
  }

  /** The tasks with a gate, in option order. */
  get tasks(): string[] {
    return [...this.taskList];
  }

  /** Each gate's name and the names of the experts it weighs, in column order. */
  abstract gateLayout(): { gate: string; experts: string[] }[];

  /** Adds task `task`'s gate: child `gate_<task>`, a dense layer of `units` logits. */
  protected addGate(task: string, units: number): Dense {
    const gate = this.child(`gate_${task}`, this.gateLayer(units));
    this.gates.set(task, gate);
    return gate;
  }

  /**
   * Frees task `task`'s gate and drops the task (false when it has no gate or is the last task, so
   * that a module never serves no task).
   */
  protected releaseGate(task: string): boolean {
    if (!this.gates.has(task) || this.taskList.length === 1) return false;
    this.gates.delete(task);
    this.removeChild(`gate_${task}`);
    this.taskList = this.taskList.filter((t) => t !== task);
    return true;
  }

  /** The input row shape of a module that reads one vector per row; records (or checks) its width. */
  protected vectorInput(inputs: readonly RowShape[]): RowShape {
    const shape = concatRowShape(inputs, this.type);
    if (shape.length !== 1) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `reads vector rows, got rows of shape [${shape}]`, {
        place: this.type,
      });
    }
    this.size = resolveSize(this.size, shape[0]!, 'inputSize', this.type);
    return shape;
  }

  /** The same expert names for every task's gate (`expert_<e>`), one entry per task. */
  protected sharedLayout(experts: readonly Module[]): { gate: string; experts: string[] }[] {
    const names = experts.map((_, e) => `expert_${e}`);
    return this.taskList.map((gate) => ({ gate, experts: names }));
  }

  /**
   * The saved config: type, input width and tasks, then the kind's own options (`own`, in order),
   * then the expert config, the regularisers and the seed.
   */
  protected gatedConfig(own: { [option: string]: unknown }): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      tasks: [...this.taskList],
      ...own,
      expert: this.expertSpec,
      loadBalance: this.loadBalance || undefined,
      gateEntropy: this.gateEntropy || undefined,
      gateInit: this.gateInit,
      gateBias: this.gateBias,
      seed: this.seed,
    });
  }

  /** Listens to the gate weights of inference forward passes (undefined stops listening). */
  observeGates(observer: GateObserver | undefined): void {
    this.observer = observer;
  }

  /** `count` fresh experts made from one config, registered as children `<prefix><i>`. */
  protected makeExperts(prefix: string, count: number, config: unknown, place: string): Module[] {
    const base = expertConfig(config);
    return Array.from({ length: count }, (_, i) =>
      this.child(`${prefix}${i}`, childModule({ ...base }, `${place}.expert`)),
    );
  }

  /** Runs experts on one input: [B, E, ...] (every expert must return one tensor of one shape). */
  protected runExperts(experts: readonly Module[], x: tf.Tensor, ctx: ModuleContext): tf.Tensor {
    const outs = experts.map((e, i) => {
      const y = e.apply([x], ctx);
      if (!(y instanceof tf.Tensor)) {
        throw new MtlError('DATA_SHAPE_MISMATCH', `expert ${i} must return one tensor`, {
          place: `module ${this.name}`,
        });
      }
      return y;
    });
    return tf.stack(outs, 1);
  }

  /** Σ_e g_e · f_e: gates [B, E] over stacked expert outputs [B, E, ...]. */
  protected mix(gates: tf.Tensor, stacked: tf.Tensor): tf.Tensor {
    const shape = [...gates.shape, ...stacked.shape.slice(2).map(() => 1)];
    return tf.sum(tf.mul(stacked, tf.reshape(gates, shape)), 1);
  }

  /** Reports one gate's weights to the observer (inference only) and adds its regularisers (training only). */
  protected gateDone(gate: string, experts: readonly string[], weights: tf.Tensor, ctx: ModuleContext): void {
    if (!ctx.training && this.observer !== undefined) this.observer(gate, experts, weights as tf.Tensor2D);
    if (ctx.addLoss === undefined) return;
    if (this.loadBalance > 0) {
      const e = weights.shape[1]!;
      const usage = tf.mean(weights, 0);
      const lb = tf.sub(tf.mul(tf.sum(tf.square(usage)), e), 1);
      this.addLoss(
        ctx,
        `${gate.replaceAll('/', '.')}.load_balance`,
        tf.mul(lb, this.loadBalance) as tf.Scalar,
      );
    }
    if (this.gateEntropy > 0) {
      const h = tf.neg(tf.mean(tf.sum(tf.mul(weights, tf.log(tf.add(weights, 1e-12))), 1)));
      this.addLoss(ctx, `${gate.replaceAll('/', '.')}.entropy`, tf.mul(h, this.gateEntropy) as tf.Scalar);
    }
  }

  /** One expert's output shape for an input shape; every expert must agree. */
  protected expertShape(experts: readonly Module[], input: RowShape, what: string): RowShape | undefined {
    let shape: RowShape | undefined;
    experts.forEach((e, i) => {
      const out: OutputShape | undefined = e.inferShape?.([input]);
      if (out === undefined) return;
      if (!isRowShape(out)) {
        throw new MtlError('DATA_SHAPE_MISMATCH', `${what} ${i} must output one tensor`, {
          place: this.type,
        });
      }
      if (shape !== undefined && JSON.stringify(shape) !== JSON.stringify(out)) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `${what}s output rows of different shapes [${shape}] and [${out}]; every expert needs one output shape`,
          { place: this.type },
        );
      }
      shape = out;
    });
    return shape;
  }
}

/** Whether a module routes between experts with gates that a {@link GateRecorder} can read. */
export function isGatedModule(module: unknown): module is GatedModule {
  return module instanceof GatedModule;
}
