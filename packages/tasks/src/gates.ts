import * as tf from '@tensorflow/tfjs';
import type { GateObserver } from './internal/experts.js';
import type { Module } from './module.js';

/**
 * Mean gate weights per module and gate (a task, or `level_<l>/<task>` in a PLE): `weights[e]` is
 * the mean weight of expert `experts[e]` over the `rows` seen.
 * @example
 * const mean = snapshot.moe!.y1!.weights; // [0.7, 0.3]
 */
export interface GateSnapshot {
  [module: string]: { [gate: string]: { experts: string[]; weights: number[]; rows: number } };
}

/**
 * A module whose weights over its inputs a {@link GateRecorder} can read: the routing kinds' gates
 * over experts, and a slice combiner's attention over slices.
 * @example
 * const layout = source.gateLayout(); // [{ gate: 'y1', experts: ['expert_0', 'expert_1'] }]
 */
export interface GateSource {
  /** The gates and the names of their columns. */
  gateLayout(): { gate: string; experts: string[] }[];
  /** Listens to the gate weights of inference forward passes (undefined stops listening). */
  observeGates(observer: GateObserver | undefined): void;
}

/**
 * The modules of a pool that weigh their inputs with gates (mmoe, cgc, ple, dselect_k, and
 * slice_combiner's attention), by name.
 * @example
 * const gated = gatedModules(model.modulePool); // { moe: Mmoe }
 */
export function gatedModules(pool: ReadonlyMap<string, Module>): Record<string, GateSource> {
  return Object.fromEntries([...pool].filter((e): e is [string, Module & GateSource] => isGateSource(e[1])));
}

/** Whether a module implements {@link GateSource} (any kind that does is recorded, none is listed here). */
function isGateSource(module: Module): module is Module & GateSource {
  const m = module as Partial<GateSource>;
  return typeof m.gateLayout === 'function' && typeof m.observeGates === 'function';
}

/**
 * Listens to gated modules' inference forward passes and averages their gate weights over the rows
 * seen (e.g. one evaluation of the validation split). Training steps are not recorded.
 * @example
 * const recorder = new GateRecorder(gatedModules(model.modulePool));
 * const { result, gates } = await recorder.record(() => model.evaluate(loaders, 'valid'));
 */
export class GateRecorder {
  constructor(private readonly modules: Readonly<Record<string, GateSource>>) {}

  /** Whether any module has gates to record. */
  get isEmpty(): boolean {
    return Object.keys(this.modules).length === 0;
  }

  /** Runs `fn` while listening; the gates' means over every row it ran through the modules. */
  async record<T>(fn: () => Promise<T> | T): Promise<{ result: T; gates: GateSnapshot }> {
    const sums = new Map<string, { experts: string[]; sum: Float64Array; rows: number }>();
    const key = (m: string, g: string) => `${m}\u0000${g}`;
    for (const [name, module] of Object.entries(this.modules)) {
      module.observeGates((gate, experts, weights) => {
        const k = key(name, gate);
        let acc = sums.get(k);
        if (acc === undefined) {
          acc = { experts: [...experts], sum: new Float64Array(experts.length), rows: 0 };
          sums.set(k, acc);
        }
        const column = tf.tidy(() => tf.sum(weights, 0)).dataSync();
        // dataSync's tensor was freed by the tidy; the copy is ours.
        for (let e = 0; e < column.length; e++) acc.sum[e]! += column[e]!;
        acc.rows += weights.shape[0];
      });
    }
    let result: T;
    try {
      result = await fn();
    } finally {
      for (const module of Object.values(this.modules)) module.observeGates(undefined);
    }
    const gates: GateSnapshot = {};
    for (const [name, module] of Object.entries(this.modules)) {
      for (const { gate } of module.gateLayout()) {
        const acc = sums.get(key(name, gate));
        if (acc === undefined || acc.rows === 0) continue;
        gates[name] ??= {};
        gates[name][gate] = {
          experts: acc.experts,
          weights: Array.from(acc.sum, (s) => s / acc.rows),
          rows: acc.rows,
        };
      }
    }
    return { result, gates };
  }
}

/**
 * The gate weights of a run, one entry per evaluation (`gates.json` of the `mtl` CLI): what a
 * report draws as expert × task heatmaps.
 * @example
 * const last = history.evaluations.at(-1)!.gates.moe!.y1!.weights;
 */
export interface GateHistory {
  evaluations: { step: number; split: string; gates: GateSnapshot }[];
  /**
   * The gates of the model as trained and saved, on the split of the evaluations: with the best
   * epoch's weights restored, those of step `step` (the best evaluation), not of the last one.
   */
  final?: { step: number; split: string; restoredBest: boolean; gates: GateSnapshot };
}
