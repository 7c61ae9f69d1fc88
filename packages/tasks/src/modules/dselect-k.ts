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
import { intOption, numberOption, parseModuleOptions, seedOption } from '../module-options.js';
import type { RowShape } from '../shape-inference.js';

/**
 * The options of a {@link dselectK} module.
 * @example
 * dselectKSchema.parse({ tasks: ['a', 'b'], experts: 4, k: 2 });
 */
export const dselectKSchema = z
  .strictObject({
    tasks: tasksOption().describe(
      'The tasks it serves: one DSelect-k gate each; a task reads its output as `<module>.<task>`.',
    ),
    experts: expertCount(2).describe('Number of experts E (at least 2).'),
    /** Number of single-expert selectors: at most k experts are used per row once the gates are binary. */
    k: intOption().describe('Number of selectors: at most k experts per row once the gates converge.'),
    /** Width of the smooth step's ramp (the paper's γ); default 1. */
    gamma: numberOption({ min: 0, minExclusive: true })
      .optional()
      .describe("Width γ of the smooth step's ramp; default 1."),
    /** Weight of the selectors' entropy (the paper's regulariser towards binary selectors); default 0. */
    selectorEntropy: numberOption({ min: 0 })
      .optional()
      .describe(
        "Weight of the selectors' mean entropy (the paper's push towards binary selectors); default 0.",
      ),
    expert: expertOption(),
    ...gateRegulariserShape,
    seed: seedOption(),
  })
  .refine((o) => o.k <= o.experts, { message: 'k must be at most experts', path: ['k'] });

/**
 * Options of {@link dselectK}.
 * @example
 * const options: DselectKOptions = { tasks: ['a'], experts: 4, k: 2 };
 */
export type DselectKOptions = z.input<typeof dselectKSchema>;

/**
 * The smooth step S(t) of DSelect-k: 0 below −γ/2, 1 above γ/2, −2t³/γ³ + 3t/(2γ) + 1/2 between
 * (continuously differentiable, exactly 0 or 1 outside the ramp).
 * @example
 * smoothStep(tf.tensor([0]), 1); // [0.5]
 */
export function smoothStep(t: tf.Tensor, gamma: number): tf.Tensor {
  return tf.tidy(() => {
    const c = tf.clipByValue(t, -gamma / 2, gamma / 2);
    return tf.add(tf.add(tf.mul(tf.pow(c, 3), -2 / gamma ** 3), tf.mul(c, 3 / (2 * gamma))), 0.5);
  });
}

/**
 * DSelect-k gates (Hazimeh et al., NeurIPS 2021): per task, k selectors each pick one expert through
 * a binary code of m = ⌈log2 E⌉ smooth steps, r_i = Π_j (S(z_j) if bit j of i else 1 − S(z_j)),
 * and the gate is q = Σ_s softmax(α)_s r^(s). z and α come from the input (the per-example gate):
 * child `gate_<task>`, a dense layer of k·m + k units. With E not a power of two the codes past
 * E − 1 are dropped and each selector renormalised. Experts are children `expert_<e>`.
 * @example
 * const moe = new DselectK({ tasks: ['a', 'b'], experts: 4, k: 2 }); // as dselectK({...})
 */
export class DselectK extends GatedModule {
  readonly type = 'dselect_k';
  readonly experts: Module[];
  readonly k: number;
  readonly gamma: number;
  readonly selectorEntropy: number;
  /** Bits of the code m. */
  readonly bits: number;

  constructor(options: DselectKOptions) {
    const o = parseModuleOptions(dselectKSchema, options, 'dselect_k');
    super(o);
    this.k = o.k;
    this.gamma = o.gamma ?? 1;
    this.selectorEntropy = o.selectorEntropy ?? 0;
    this.bits = Math.max(1, Math.ceil(Math.log2(o.experts)));
    this.experts = this.makeExperts('expert_', o.experts, this.expertSpec, 'dselect_k');
    for (const t of o.tasks) this.addGate(t, this.k * this.bits + this.k);
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

  /**
   * The gate of one task from its logits [B, k·m + k]: q [B, E] (rows sum to 1) and the selectors
   * r [B, k, E].
   */
  gateFromLogits(logits: tf.Tensor2D): { q: tf.Tensor2D; r: tf.Tensor3D } {
    const [k, m, e] = [this.k, this.bits, this.experts.length];
    const batch = logits.shape[0];
    const z = tf.reshape(tf.slice(logits, [0, 0], [batch, k * m]), [batch, k, m]);
    const alpha = tf.slice(logits, [0, k * m], [batch, k]);
    const s = smoothStep(z, this.gamma);
    const codes = 2 ** m;
    // bit j of code i, [m, codes]: r_i = Π_j (bit ? s_j : 1 − s_j)
    const bitRows = Array.from({ length: m }, (_, j) =>
      Array.from({ length: codes }, (_, i) => (i >> j) & 1),
    );
    let r: tf.Tensor | undefined;
    for (let j = 0; j < m; j++) {
      const sj = tf.reshape(tf.slice(s, [0, 0, j], [batch, k, 1]), [batch, k, 1]);
      const bit = tf.tensor(bitRows[j]!, [1, 1, codes]);
      const factor = tf.add(tf.mul(bit, sj), tf.mul(tf.sub(1, bit), tf.sub(1, sj)));
      r = r === undefined ? factor : tf.mul(r, factor);
    }
    let sel = r!;
    if (e < codes) {
      sel = tf.slice(sel, [0, 0, 0], [batch, k, e]);
      sel = tf.div(sel, tf.maximum(tf.sum(sel, 2, true), 1e-12));
    }
    const w = tf.reshape(tf.softmax(alpha), [batch, k, 1]);
    return { q: tf.sum(tf.mul(w, sel), 1) as tf.Tensor2D, r: sel as tf.Tensor3D };
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): { [task: string]: tf.Tensor } {
    const x = singleInput(inputs, `module ${this.name}`);
    const stacked = this.runExperts(this.experts, x, ctx);
    const names = this.experts.map((_, e) => `expert_${e}`);
    const out: { [task: string]: tf.Tensor } = {};
    for (const task of this.taskList) {
      const { q, r } = this.gateFromLogits(this.gates.get(task)!.apply([x], ctx) as tf.Tensor2D);
      this.gateDone(task, names, q, ctx);
      if (ctx.addLoss !== undefined && this.selectorEntropy > 0) {
        const h = tf.neg(tf.mean(tf.sum(tf.mul(r, tf.log(tf.add(r, 1e-12))), 2)));
        this.addLoss(ctx, `${task}.selector_entropy`, tf.mul(h, this.selectorEntropy) as tf.Scalar);
      }
      out[task] = this.mix(q, stacked);
    }
    return out;
  }

  /** A task left the model: its gate's variables are freed and it leaves `tasks`. */
  releaseUser(task: string): void {
    this.releaseGate(task);
  }

  getConfig(): ModuleConfig {
    return this.gatedConfig({
      experts: this.experts.length,
      k: this.k,
      gamma: this.gamma,
      selectorEntropy: this.selectorEntropy || undefined,
    });
  }
}

/**
 * A mixture of experts with DSelect-k gates (k-sparse once converged).
 * @example
 * const pool = { moe: dselectK({ tasks: ['y1', 'y2'], experts: 8, k: 2 }) };
 */
export function dselectK(options: DselectKOptions): DselectK {
  return new DselectK(options);
}

/**
 * The `dselect_k` entry of the module registry.
 * @example
 * dselectKKind.create({ tasks: ['a', 'b'], experts: 4, k: 2 });
 */
export const dselectKKind = defineModuleKind({
  type: 'dselect_k',
  schema: dselectKSchema,
  description:
    'Mixture of experts with DSelect-k gates (k selectors over a binary code of the experts, smooth steps): k-sparse per-task gates; one representation per task.',
  create: (options) => new DselectK(options),
});
