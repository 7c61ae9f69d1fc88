import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LossOutput, ParameterGroup, RepresentationStep, StepContext, Trainable } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Aggregator, Matrix } from './aggregator.js';
import type { TrainerConfigInput } from './config.js';
import { fixedSource, uniqueName } from './test-utils.js';
import { CHECKPOINT_FILES, Trainer } from './trainer.js';
import { createAggregator } from './weighting/registry.js';

// Gradients of the shared representation (`gradientOf: 'representation'`) on a tiny two-layer
// model whose gradients are written out by hand below.

const disposers: (() => void)[] = [];
afterEach(() => {
  for (const d of disposers.splice(0)) d();
});
function keep<T extends { dispose?(): void }>(x: T): T {
  disposers.push(() => x.dispose?.());
  return x;
}

const X = [
  [0.5, -1],
  [1.5, 0.25],
];
const Y: Record<string, number[]> = { a: [0.3, -0.2], b: [-0.5, 0.8] };
const W0 = [
  [0.2, -0.4, 0.1],
  [0.3, 0.5, -0.6],
];
const V0: Record<string, number[]> = { a: [0.7, -0.3, 0.2], b: [-0.1, 0.4, 0.9] };

/**
 * A trunk `R = tanh(x·W)` ([2, 3], W shared) and one linear head per task,
 * `L_t = mean((R·v_t − y_t)²)` (v_t owned by t). `mode` breaks the contract on purpose.
 */
class Tiny implements Trainable<null> {
  readonly W: tf.Variable;
  readonly v: Record<string, tf.Variable>;
  private readonly x = tf.tensor2d(X);
  private readonly y = { a: tf.tensor1d(Y.a!), b: tf.tensor1d(Y.b!) };

  constructor(
    readonly mode: 'ok' | 'shared-in-head' | 'owned-in-trunk' | 'terms' = 'ok',
    init: { W?: number[][]; v?: Record<string, number[]> } = {},
  ) {
    const p = uniqueName('tiny');
    this.W = tf.variable(tf.tensor2d(init.W ?? W0), true, `${p}/W`);
    this.v = {
      a: tf.variable(tf.tensor1d((init.v ?? V0).a!), true, `${p}/va`),
      b: tf.variable(tf.tensor1d((init.v ?? V0).b!), true, `${p}/vb`),
    };
  }

  trainableVariables(): tf.Variable[] {
    return [this.W, this.v.a!, this.v.b!];
  }

  parameterGroups(): ParameterGroup[] {
    return [
      { name: 'trunk', tasks: ['a', 'b'], variables: [this.W.name] },
      { name: 'a_head', tasks: ['a'], variables: [this.v.a!.name] },
      { name: 'b_head', tasks: ['b'], variables: [this.v.b!.name] },
    ];
  }

  private trunk(): tf.Tensor {
    const h = tf.matMul(this.x, this.W);
    // Task a's own variable inside the trunk: not a representation the heads alone can use.
    return tf.tanh(this.mode === 'owned-in-trunk' ? tf.mul(h, tf.sum(this.v.a!)) : h);
  }

  private heads(r: tf.Tensor): LossOutput {
    const parts: Record<string, tf.Scalar> = {};
    for (const t of ['a', 'b'] as const) {
      let pred = tf.squeeze(tf.matMul(r, tf.reshape(this.v[t]!, [3, 1])), [1]);
      if (this.mode === 'shared-in-head' && t === 'b') pred = tf.add(pred, tf.sum(this.W));
      parts[`${t}/ds`] = tf.mean(tf.square(tf.sub(pred, this.y[t]))) as tf.Scalar;
    }
    if (this.mode === 'terms') return { parts, terms: { reg: tf.mul(0.1, tf.sum(tf.square(this.W))) } };
    return { parts };
  }

  loss(_b: null, _ctx: StepContext): LossOutput {
    return this.heads(this.trunk());
  }

  representation(_b: null, _ctx: StepContext): RepresentationStep {
    return { representation: [this.trunk()], heads: ([r]) => this.heads(r!) };
  }

  values(): number[][] {
    return this.trainableVariables().map((v) => [...(v.dataSync() as Float32Array)]);
  }

  dispose(): void {
    tf.dispose([this.W, this.v.a!, this.v.b!, this.x, this.y.a, this.y.b]);
  }
}

/** The hand-made forward and gradients (float64): R, dL_t/dR, dL_t/dv_t, and W's gradient of a direction D on R. */
function byHand() {
  const R = X.map((x) => [0, 1, 2].map((j) => Math.tanh(x[0]! * W0[0]![j]! + x[1]! * W0[1]![j]!)));
  const dR: Record<string, number[][]> = {};
  const dv: Record<string, number[]> = {};
  const loss: Record<string, number> = {};
  for (const t of ['a', 'b']) {
    const v = V0[t]!;
    const e = R.map((r, i) => r.reduce((s, x, j) => s + x * v[j]!, 0) - Y[t]![i]!);
    loss[t] = e.reduce((s, x) => s + x * x, 0) / 2;
    // L = (1/2) Σ_i e_i²: dL/dR_ij = e_i·v_j, dL/dv_j = Σ_i e_i·R_ij.
    dR[t] = e.map((ei) => v.map((vj) => ei * vj));
    dv[t] = [0, 1, 2].map((j) => e.reduce((s, ei, i) => s + ei * R[i]![j]!, 0));
  }
  // R = tanh(H), H = x·W: dW_kj = Σ_i x_ik·(1 − R_ij²)·D_ij.
  const dW = (D: number[][]) =>
    [0, 1].map((k) =>
      [0, 1, 2].map((j) => X.reduce((s, x, i) => s + x[k]! * (1 - R[i]![j]! ** 2) * D[i]![j]!, 0)),
    );
  return { R, dR, dv, dW, loss };
}

/** A gradient-level aggregator returning `pick(J)`, recording what it saw. */
function spy(
  gradientOf: 'parameters' | 'representation',
  pick: (J: Matrix) => Float64Array,
  seen: Matrix[] = [],
): Aggregator {
  return {
    name: 'spy',
    level: 'gradient',
    gradientOf,
    aggregate(J) {
      seen.push({ ...J, data: J.data.slice() });
      return pick(J);
    },
  };
}
const meanRows = (J: Matrix) =>
  Float64Array.from({ length: J.cols }, (_, c) => {
    let s = 0;
    for (let r = 0; r < J.rows; r++) s += J.data[r * J.cols + c]!;
    return s / J.rows;
  });
/** An SGD step of 0.1 by hand. */
const step = (x: readonly number[], g: readonly number[]) => x.map((v, i) => v - 0.1 * g[i]!);
function expectClose(actual: ArrayLike<number>, expected: readonly number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits);
}
const sgd = (extra: TrainerConfigInput = {}): TrainerConfigInput => ({
  steps: 1,
  lr: 0.1,
  optimizer: { type: 'sgd' },
  ...extra,
});

describe('gradients of the shared representation', () => {
  it('hands the aggregator dL_t/dR and backpropagates its direction through the trunk (chain rule by hand)', async () => {
    const m = keep(new Tiny());
    const seen: Matrix[] = [];
    // Direction: 2·row a − row b, so a wrong row or a wrong backward shows.
    const pick = (J: Matrix) =>
      Float64Array.from({ length: J.cols }, (_, c) => 2 * J.data[c]! - J.data[J.cols + c]!);
    await new Trainer(sgd(), { aggregator: spy('representation', pick, seen) }).fit(m, {
      train: fixedSource([null]),
    });
    const h = byHand();
    expect(seen).toHaveLength(1);
    expect([seen[0]!.rows, seen[0]!.cols]).toEqual([2, 6]);
    const rowA = [...seen[0]!.data.subarray(0, 6)];
    const rowB = [...seen[0]!.data.subarray(6)];
    expectClose(rowA, h.dR.a!.flat());
    expectClose(rowB, h.dR.b!.flat());
    const D = h.dR.a!.map((r, i) => r.map((x, j) => 2 * x - h.dR.b![i]![j]!));
    const [W, va, vb] = m.values();
    expectClose(W!, step(W0.flat(), h.dW(D).flat()));
    // Each head moves by its own task's gradient only.
    expectClose(va!, step(V0.a!, h.dv.a!));
    expectClose(vb!, step(V0.b!, h.dv.b!));
  });

  it('a zero direction leaves the trunk and gives each head its own task gradient', async () => {
    const m = keep(new Tiny());
    const zero = (J: Matrix) => new Float64Array(J.cols);
    await new Trainer(sgd(), { aggregator: spy('representation', zero) }).fit(m, {
      train: fixedSource([null]),
    });
    const h = byHand();
    const [W, va, vb] = m.values();
    expect(W).toEqual(W0.flat().map(Math.fround));
    expectClose(va!, step(V0.a!, h.dv.a!));
    expectClose(vb!, step(V0.b!, h.dv.b!));
  });

  it('the mean of the rows on R makes the same updates as on the parameters (5 steps, within 1e-6)', async () => {
    const onR = keep(new Tiny());
    const onP = keep(new Tiny());
    const before = tf.memory().numTensors;
    await new Trainer(sgd({ steps: 5 }), { aggregator: spy('representation', meanRows) }).fit(onR, {
      train: fixedSource([null]),
    });
    expect(tf.memory().numTensors).toBe(before);
    await new Trainer(sgd({ steps: 5 }), { aggregator: spy('parameters', meanRows) }).fit(onP, {
      train: fixedSource([null]),
    });
    const r = onR.values().flat();
    const p = onP.values().flat();
    expect(r[0]).not.toBe(W0[0]![0]);
    const gap = r.reduce((g, x, i) => Math.max(g, Math.abs(x - p[i]!)), 0);
    expect(gap).toBeLessThan(1e-6);
  });

  it('is deterministic and resumes bit for bit (UPGrad on R, Adam, a named term)', async () => {
    const config = (steps: number, dir: string): TrainerConfigInput => ({
      steps,
      lr: 0.05,
      seed: 3,
      optimizer: { type: 'adam' },
      checkpointDir: dir,
    });
    const upgrad = () =>
      createAggregator({ method: 'upgrad', gradientOf: 'representation' }, { tasks: ['a', 'b'] });
    const runs = [keep(new Tiny('terms')), keep(new Tiny('terms'))];
    for (const m of runs) {
      await new Trainer(config(6, mkdtempSync(join(tmpdir(), 'mtl-rep-'))), { aggregator: upgrad() }).fit(m, {
        train: fixedSource([null]),
      });
    }
    expect(runs[0]!.values()).toEqual(runs[1]!.values());
    const resumed = keep(new Tiny('terms'));
    const dir = mkdtempSync(join(tmpdir(), 'mtl-rep-'));
    await new Trainer(config(3, dir), { aggregator: upgrad() }).fit(resumed, { train: fixedSource([null]) });
    await Trainer.resume(join(dir, CHECKPOINT_FILES.last), resumed, {
      train: fixedSource([null]),
      config: config(6, dir),
      aggregator: upgrad(),
    });
    expect(resumed.values()).toEqual(runs[0]!.values());
  });

  it('adds the terms of no task with their own gradient (a zero direction: W moves by the term alone)', async () => {
    const m = keep(new Tiny('terms'));
    const zero = (J: Matrix) => new Float64Array(J.cols);
    const result = await new Trainer(sgd(), { aggregator: spy('representation', zero) }).fit(m, {
      train: fixedSource([null]),
    });
    const [W] = m.values();
    // d(0.1·ΣW²)/dW = 0.2·W.
    expectClose(
      W!,
      step(
        W0.flat(),
        W0.flat().map((w) => 0.2 * w),
      ),
    );
    const h = byHand();
    const reg = 0.1 * W0.flat().reduce((s, w) => s + w * w, 0);
    expect(result.history.at(-1)!.metrics['model/all/train/reg']).toBeCloseTo(reg, 6);
    expect(result.history.at(-1)!.metrics['model/all/train/objective']).toBeCloseTo(
      h.loss.a! + h.loss.b! + reg,
      5,
    );
    expect(result.history.at(-1)!.metrics['a/ds/train/loss']).toBeCloseTo(h.loss.a!, 6);
  });

  it('refuses a trainable without a representation, a shared variable in a head, a task-owned one in the trunk', async () => {
    const plain = keep(new Tiny());
    (plain as { representation?: unknown }).representation = undefined;
    const e1 = await caught(
      new Trainer(sgd(), { aggregator: spy('representation', meanRows) }).fit(plain, {
        train: fixedSource([null]),
      }),
    );
    expect(e1.code).toBe('NOT_IMPLEMENTED');
    expect(e1.message).toMatch(/has no representation\(batch, ctx\)/);
    const shared = keep(new Tiny('shared-in-head'));
    const e2 = await caught(
      new Trainer(sgd(), { aggregator: spy('representation', meanRows) }).fit(shared, {
        train: fixedSource([null]),
      }),
    );
    expect(e2.message).toMatch(/shared variable ".*\/W" is used by task b's heads/);
    expect(e2.place).toBe(`variable ${shared.W.name}`);
    const owned = keep(new Tiny('owned-in-trunk'));
    const before = owned.values();
    const e3 = await caught(
      new Trainer(sgd(), { aggregator: spy('representation', meanRows) }).fit(owned, {
        train: fixedSource([null]),
      }),
    );
    expect(e3.message).toMatch(/owned by task a but computes the shared representation/);
    expect(owned.values()).toEqual(before);
  });
});
