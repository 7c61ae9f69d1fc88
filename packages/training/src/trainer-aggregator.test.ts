import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LossOutput, ParameterGroup, StepContext, Trainable } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Aggregator, AggregatorContext, Matrix } from './aggregator.js';
import { loadCheckpoint } from './checkpoint.js';
import type { TrainerConfigInput } from './config.js';
import { TrainerOptimizer } from './optimizer.js';
import { f32, fixedSource, type QuadBatch, Quadratic, uniqueName } from './test-utils.js';
import { CHECKPOINT_FILES, Trainer } from './trainer.js';
import { registerUpdateStrategy, updateStrategyFor } from './update-strategy.js';
import { weightedSum } from './weighted-sum.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mtl-aggregator-'));
const disposers: (() => void)[] = [];
afterEach(() => {
  for (const d of disposers.splice(0)) d();
});
function keep<T extends { dispose?(): void }>(x: T): T {
  disposers.push(() => x.dispose?.());
  return x;
}

/**
 * Two tasks on a shared `s ∈ R²` and one head each:
 * `L_a = Σ(s − t_a)² + h_a²`, `L_b = Σ(s − t_b)² + 3·h_b²`, plus `extra = 0.5·h_a²` and a named
 * term `reg = Σ s`. Gradients at s = 0, h = 1: rows a = [−2, 0], b = [2, −2] on s (t_a = [1, 0],
 * t_b = [−1, 1]); h_a: 2 (+1 from extra), h_b: 6; reg: [1, 1] on s.
 */
class TwoHeads implements Trainable<QuadBatch> {
  readonly s: tf.Variable;
  readonly ha: tf.Variable;
  readonly hb: tf.Variable;
  private readonly ta = tf.tensor1d([1, 0]);
  private readonly tb = tf.tensor1d([-1, 1]);
  /** Calls of loss() (a gradient-level step makes one per task, plus one for the terms of no task). */
  calls = 0;

  constructor(
    withGroups: boolean,
    private readonly withRest = true,
  ) {
    const p = uniqueName('two');
    this.s = tf.variable(tf.zeros([2]), true, `${p}/s`);
    this.ha = tf.variable(tf.ones([1]), true, `${p}/ha`);
    this.hb = tf.variable(tf.ones([1]), true, `${p}/hb`);
    if (!withGroups) (this as { parameterGroups?: unknown }).parameterGroups = undefined;
  }

  trainableVariables(): tf.Variable[] {
    return [this.s, this.ha, this.hb];
  }

  parameterGroups(): ParameterGroup[] {
    return [
      { name: 'trunk', tasks: ['a', 'b'], variables: [this.s.name] },
      { name: 'a_head', tasks: ['a'], variables: [this.ha.name] },
      { name: 'b_head', tasks: ['b'], variables: [this.hb.name] },
    ];
  }

  loss(batch: QuadBatch, _ctx: StepContext): LossOutput {
    this.calls += 1;
    const parts: Record<string, tf.Scalar> = {};
    const tasks = batch.tasks ?? ['a', 'b'];
    if (tasks.includes('a')) {
      parts['a/ds'] = tf.add(tf.sum(tf.square(tf.sub(this.s, this.ta))), tf.sum(tf.square(this.ha)));
    }
    if (tasks.includes('b')) {
      parts['b/ds'] = tf.add(
        tf.sum(tf.square(tf.sub(this.s, this.tb))),
        tf.mul(3, tf.sum(tf.square(this.hb))),
      );
    }
    if (!this.withRest) return { parts };
    return {
      parts,
      extra: tf.mul(0.5, tf.sum(tf.square(this.ha))),
      terms: { reg: tf.sum(this.s) },
    };
  }

  dispose(): void {
    tf.dispose([this.s, this.ha, this.hb, this.ta, this.tb]);
  }
}

/** PCGrad's projection for two tasks, in float64: a conflicting pair is projected onto each other's normal plane. */
function projection(seen: { jacobian?: Matrix; losses?: Float64Array; ctx?: AggregatorContext }): Aggregator {
  return {
    name: 'test-projection',
    level: 'gradient',
    aggregate(jacobian, losses, ctx) {
      seen.jacobian = { ...jacobian, data: jacobian.data.slice() };
      seen.losses = losses.slice();
      seen.ctx = ctx;
      const n = jacobian.cols;
      const rows = Array.from({ length: jacobian.rows }, (_, r) =>
        jacobian.data.subarray(r * n, (r + 1) * n),
      );
      const dot = (x: Float64Array, y: Float64Array) => x.reduce((s, v, i) => s + v * y[i]!, 0);
      const out = new Float64Array(n);
      rows.forEach((g, i) => {
        const p = Float64Array.from(g);
        rows.forEach((h, j) => {
          const d = dot(p, h);
          if (j !== i && d < 0) for (let k = 0; k < n; k++) p[k]! -= (d / dot(h, h)) * h[k]!;
        });
        for (let k = 0; k < n; k++) out[k]! += p[k]!;
      });
      return out;
    },
  };
}

describe('gradient level', () => {
  it('updates shared variables with the aggregated Jacobian, heads with their own gradient, plus extra and terms', async () => {
    const m = keep(new TwoHeads(true));
    const seen: Parameters<typeof projection>[0] = {};
    const before = tf.memory().numTensors;
    const trainer = new Trainer(
      { steps: 1, lr: 0.1, optimizer: { type: 'sgd' }, l2: 0 },
      { aggregator: projection(seen) },
    );
    const result = await trainer.fit(m, { train: fixedSource([{}]) });
    expect(tf.memory().numTensors).toBe(before);
    // Rows: a = 2(s − t_a) = [−2, 0], b = [2, −2]; losses L_a = 1 + 1, L_b = 2 + 3.
    expect(seen.jacobian).toEqual({ rows: 2, cols: 2, data: new Float64Array([-2, 0, 2, -2]) });
    expect([...seen.losses!]).toEqual([2, 5]);
    expect(seen.ctx!.tasks).toEqual(['a', 'b']);
    // Projected: a' = [−1, −1], b' = [0, −2], sum [−1, −3]; + reg's [1, 1] = [0, −2].
    expect([...(m.s.dataSync() as Float32Array)]).toEqual([0, f32(0.2)]);
    // h_a: own gradient 2 + extra's 1; h_b: 6.
    expect(m.ha.dataSync()[0]).toBe(f32(1 - f32(f32(0.1) * 3)));
    expect(m.hb.dataSync()[0]).toBe(f32(1 - f32(f32(0.1) * 6)));
    // Two task passes and one for the terms of no task.
    expect(m.calls).toBe(3);
    const metrics = result.history.at(-1)!.metrics;
    expect(metrics['a/ds/train/loss']).toBe(2);
    expect(metrics['b/ds/train/loss']).toBe(5);
    expect(metrics['model/all/train/reg']).toBe(0);
    expect(metrics['model/all/train/extra']).toBe(0.5);
    // The logged objective on this level: task losses and the terms of no task, unweighted.
    expect(metrics['model/all/train/objective']).toBe(7.5);
  });

  it('without parameterGroups every variable is shared: the Jacobian has every column, in variable order', async () => {
    const m = keep(new TwoHeads(false, false));
    const seen: Parameters<typeof projection>[0] = {};
    await new Trainer(
      { steps: 1, lr: 0.1, optimizer: { type: 'sgd' } },
      { aggregator: projection(seen) },
    ).fit(m, {
      train: fixedSource([{}]),
    });
    expect(seen.jacobian!.cols).toBe(4);
    expect([...seen.jacobian!.data]).toEqual([-2, 0, 2, 0, 2, -2, 0, 6]);
    expect(m.calls).toBe(2);
  });

  it('a step with one task gives a one-row Jacobian; the other head is left alone', async () => {
    const m = keep(new TwoHeads(true, false));
    const seen: Parameters<typeof projection>[0] = {};
    await new Trainer(
      { steps: 1, lr: 0.1, optimizer: { type: 'sgd' } },
      { aggregator: projection(seen) },
    ).fit(m, {
      train: fixedSource([{ tasks: ['b'] }]),
    });
    expect(seen.jacobian).toEqual({ rows: 1, cols: 2, data: new Float64Array([2, -2]) });
    expect(seen.ctx!.tasks).toEqual(['b']);
    expect([...(m.s.dataSync() as Float32Array)]).toEqual([f32(-f32(f32(0.1) * 2)), f32(f32(0.1) * 2)]);
    expect(m.ha.dataSync()[0]).toBe(1);
  });

  it('a non-finite task loss stops the step before the aggregator sees it', async () => {
    const q = keep(new Quadratic({ init: [0], targets: { a: [1], b: [2] }, nanAtStep: 1 }));
    let calls = 0;
    const counting: Aggregator = {
      ...projection({}),
      aggregate: (j) => {
        calls++;
        return new Float64Array(j.cols);
      },
    };
    const e = await caught(
      new Trainer({ steps: 3 }, { aggregator: counting }).fit(q, { train: fixedSource([{}]) }),
    );
    expect(e.code).toBe('NON_FINITE_LOSS');
    expect(e.place).toBe('task a');
    expect(calls).toBe(1);
  });

  it('refuses representation gradients, a wrong-length direction and bad parameter groups', async () => {
    const m = keep(new TwoHeads(true));
    const rep: Aggregator = { ...projection({}), gradientOf: 'representation' };
    const e1 = await caught(
      new Trainer({ steps: 1 }, { aggregator: rep }).fit(m, { train: fixedSource([{}]) }),
    );
    expect(e1.code).toBe('NOT_IMPLEMENTED');
    expect(e1.message).toMatch(/not supported by this trainable/);
    const short: Aggregator = { name: 'short', level: 'gradient', aggregate: () => new Float64Array(1) };
    const e2 = await caught(
      new Trainer({ steps: 1 }, { aggregator: short }).fit(m, { train: fixedSource([{}]) }),
    );
    expect(e2.code).toBe('SHAPE_MISMATCH');
    expect(e2.place).toBe('aggregator short');
    const bad = keep(new TwoHeads(true));
    bad.parameterGroups = () => [{ name: 'trunk', tasks: ['a', 'b'], variables: [bad.s.name, bad.ha.name] }];
    const e3 = await caught(
      new Trainer({ steps: 1 }, { aggregator: projection({}) }).fit(bad, { train: fixedSource([{}]) }),
    );
    expect(e3.message).toMatch(/variables in no parameter group: .*hb/);
  });
});

/** `Σ exp(−s_t)·L_t + s_t` with learnable log-variances `s` (uncertainty weighting's form). */
function uncertainty(tasks: string[], variable?: tf.Variable): Aggregator & { s: tf.Variable } {
  const s = variable ?? tf.tidy(() => tf.variable(tf.zeros([tasks.length]), true, uniqueName('agg/logvar')));
  let last: Float64Array | undefined;
  return {
    name: 'test-uncertainty',
    level: 'loss',
    s,
    combine(losses, ctx) {
      return tf.tidy(() => {
        const all = tf.unstack(s);
        const st = tf.stack(ctx.tasks.map((t) => all[tasks.indexOf(t)]!));
        return tf.sum(tf.add(tf.mul(tf.exp(tf.neg(st)), tf.stack(losses as tf.Scalar[])), st)) as tf.Scalar;
      });
    },
    trainableVariables: () => [s],
    observe(_losses, ctx) {
      const v = s.dataSync();
      last = Float64Array.from(ctx.tasks, (t) => Math.exp(-v[tasks.indexOf(t)]!));
    },
    lastWeights: () => last,
    dispose: () => s.dispose(),
  };
}

describe('loss level', () => {
  it('optimises the aggregator variables with the model and logs its weights', async () => {
    const q = keep(new Quadratic({ init: [0], targets: { a: [1], b: [-2] } }));
    const agg = keep(uncertainty(['a', 'b']));
    const result = await new Trainer(
      { steps: 1, lr: 0.1, optimizer: { type: 'sgd' } },
      { aggregator: agg },
    ).fit(q, {
      train: fixedSource([{}]),
    });
    // L_a = 1, L_b = 4; ∂/∂s_t = 1 − exp(−s_t)·L_t = [0, −3]; ∂/∂w = 2(w − 1) + 2(w + 2) = 2.
    expect([...(agg.s.dataSync() as Float32Array)]).toEqual([0, f32(f32(0.1) * 3)]);
    expect(q.values()[0]).toBe(f32(-f32(f32(0.1) * 2)));
    const metrics = result.history.at(-1)!.metrics;
    expect(metrics['a/all/train/weight']).toBe(1);
    expect(metrics['b/all/train/weight']).toBe(Math.exp(-f32(f32(0.1) * 3)));
    expect(metrics['model/all/train/objective']).toBe(5);
  });

  it('weightedSum given explicitly is taskWeights, bit for bit', async () => {
    const run = async (config: TrainerConfigInput, aggregator?: Aggregator) => {
      const q = keep(new Quadratic({ init: [0.3, -1], targets: { a: [1, 2], b: [-2, 0.5] } }));
      const r = await new Trainer(config, { aggregator }).fit(q, {
        train: fixedSource([{}, { tasks: ['b'] }]),
      });
      return { w: [...q.values()], metrics: r.history.at(-1)!.metrics };
    };
    const base = { epochs: 4, lr: 0.05, optimizer: { type: 'adam' as const } };
    const viaConfig = await run({ ...base, taskWeights: { a: 2.5 } });
    const viaAggregator = await run(base, weightedSum({ a: 2.5 }));
    expect(viaAggregator.w).toEqual(viaConfig.w);
    expect(viaAggregator.metrics['model/all/train/objective']).toBe(
      viaConfig.metrics['model/all/train/objective'],
    );
    expect(viaAggregator.w).not.toEqual((await run(base)).w);
  });

  it('named terms are added unweighted, logged by name and within extra', async () => {
    const w = keep(tf.variable(tf.tensor1d([2]), true, uniqueName('terms/w')));
    const model: Trainable<object> = {
      trainableVariables: () => [w],
      loss: () => ({
        parts: { a: tf.sum(tf.square(w)) },
        extra: tf.mul(0.25, tf.sum(w)),
        terms: { commitment: tf.mul(0.5, tf.sum(tf.square(w))) },
      }),
    };
    const result = await new Trainer({ steps: 1, lr: 0.1, optimizer: { type: 'sgd' } }).fit(model, {
      train: fixedSource([{}]),
    });
    // ∂/∂w = 2w + 0.25 + w = 6.25 at w = 2; objective 4 + 0.5 + 2.
    expect(w.dataSync()[0]).toBe(f32(2 - f32(f32(0.1) * 6.25)));
    const metrics = result.history.at(-1)!.metrics;
    expect(metrics['model/all/train/commitment']).toBe(2);
    expect(metrics['model/all/train/extra']).toBe(2.5);
    expect(metrics['model/all/train/loss']).toBe(4);
    expect(metrics['model/all/train/objective']).toBe(6.5);
    const reserved: Trainable<object> = {
      trainableVariables: () => [w],
      loss: () => ({ parts: { a: tf.sum(w) }, terms: { objective: tf.sum(w) } }),
    };
    const e = await caught(new Trainer({ steps: 1 }).fit(reserved, { train: fixedSource([{}]) }));
    expect(e.place).toBe('loss term objective');
  });
});

/** Divides each task's loss by a running mean of its past losses (state), times learnable exp(−s_t). */
function stateful(variable?: tf.Variable): Aggregator & { s: tf.Variable } {
  const base = uncertainty(['a', 'b'], variable);
  let mean: Record<string, number> = {};
  return {
    ...base,
    name: 'test-stateful',
    combine(losses, ctx) {
      // Runs inside the Trainer's tidy: intermediate tensors are freed with the step.
      return base.combine!(
        losses.map((l, i) => tf.div(l, mean[ctx.tasks[i]!] ?? 1) as tf.Scalar),
        ctx,
      );
    },
    observe(losses, ctx) {
      base.observe!(losses, ctx);
      ctx.tasks.forEach((t, i) => {
        mean[t] = 0.8 * (mean[t] ?? 1) + 0.2 * losses[i]!;
      });
    },
    getState: () => ({ mean: { ...mean } }),
    setState: (state) => {
      mean = { ...(state.mean as Record<string, number>) };
    },
  };
}

describe('aggregator state', () => {
  const config = (epochs: number, dir: string): TrainerConfigInput => ({
    seed: 5,
    epochs,
    lr: 0.05,
    optimizer: { type: 'adam' },
    checkpointDir: dir,
  });
  const source = fixedSource<QuadBatch>([{ tasks: ['a'] }, { tasks: ['b'] }, {}]);

  it('goes into checkpoints: 6 epochs straight = 3 + resume 3, bit for bit', async () => {
    const straightModel = new Quadratic({ init: [0.5, 0.5], targets: { a: [1, 2], b: [-2, 0.5] } });
    const straightAgg = stateful();
    const resumedModel = new Quadratic({ init: [0.5, 0.5], targets: { a: [1, 2], b: [-2, 0.5] } });
    const firstAgg = stateful();
    const other = stateful();
    const before = tf.memory().numTensors;
    const straight = await new Trainer(config(6, tmp()), { aggregator: straightAgg }).fit(straightModel, {
      train: source,
    });
    const dir = tmp();
    await new Trainer(config(3, dir), { aggregator: firstAgg }).fit(resumedModel, { train: source });
    const saved = await loadCheckpoint(join(dir, CHECKPOINT_FILES.last));
    expect(saved.trainer!.aggregator!.name).toBe('test-stateful');
    // By position, not by tfjs's automatic name (which a resumed process does not reproduce).
    expect(saved.trainer!.aggregator!.variables![0]!.name).toBe('aggregator/0');
    expect(saved.optimizer!.steps['aggregator/0']).toBe(9);
    expect(saved.optimizer!.steps[firstAgg.s.name]).toBeUndefined();
    expect(saved.optimizer!.slots.map((s) => s.name)).toContain('aggregator/0/m');
    // A fresh aggregator (state and variable at their initial values) with a variable of another name.
    const resumedAgg = stateful();
    expect(resumedAgg.s.name).not.toBe(firstAgg.s.name);
    const resumed = await Trainer.resume(join(dir, CHECKPOINT_FILES.last), resumedModel, {
      train: source,
      config: config(6, dir),
      aggregator: resumedAgg,
    });
    expect([...resumedModel.values()]).toEqual([...straightModel.values()]);
    expect([...(resumedAgg.s.dataSync() as Float32Array)]).toEqual([
      ...(straightAgg.s.dataSync() as Float32Array),
    ]);
    expect(resumed.history).toEqual(straight.history);
    expect(straight.history.at(-1)!.metrics['b/all/train/weight']).toBeGreaterThan(0);
    const e = await caught(
      Trainer.resume(join(dir, CHECKPOINT_FILES.last), resumedModel, {
        train: source,
        aggregator: { ...other, name: 'other' },
      }),
    );
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toMatch(/trained with aggregator "test-stateful"/);
    // The one tensor more is resumedAgg's variable.
    expect(tf.memory().numTensors).toBe(before + 1);
    for (const x of [straightModel, resumedModel, straightAgg, firstAgg, resumedAgg, other]) x.dispose!();
  });
});

describe('update strategies', () => {
  it('a Trainer on the tensor strategy reaches the weights of the host strategy, bit for bit, and frees what it made', async () => {
    const backend = tf.getBackend();
    const was = updateStrategyFor(backend);
    const run = async (strategy: 'host' | 'tensor') => {
      registerUpdateStrategy(backend, strategy);
      try {
        const q = keep(new Quadratic({ init: [0.3, -1], targets: { a: [1, 2], b: [-2, 0.5] } }));
        const agg = keep(uncertainty(['a', 'b']));
        const before = tf.memory().numTensors;
        await new Trainer({ epochs: 3, lr: 0.05, optimizer: { type: 'adam' } }, { aggregator: agg }).fit(q, {
          train: fixedSource([{}, { tasks: ['b'] }]),
        });
        expect(tf.memory().numTensors).toBe(before);
        return [...q.values(), ...(agg.s.dataSync() as Float32Array)];
      } finally {
        registerUpdateStrategy(backend, was);
      }
    };
    const tensor = await run('tensor');
    expect(tensor).toEqual(await run('host'));
    expect(tensor[0]).not.toBe(f32(0.3));
  });

  it('the optimizer takes the strategy registered for the active backend', () => {
    const backend = tf.getBackend();
    const was = updateStrategyFor(backend);
    try {
      registerUpdateStrategy(backend, was === 'host' ? 'tensor' : 'host');
      expect(new TrainerOptimizer({ type: 'sgd' }).updates).toBe(was === 'host' ? 'tensor' : 'host');
    } finally {
      registerUpdateStrategy(backend, was);
    }
    expect(new TrainerOptimizer({ type: 'sgd' }).updates).toBe(was);
    expect(updateStrategyFor('no-such-backend')).toBe('tensor');
    expect(() => registerUpdateStrategy('x', 'gpu' as 'host')).toThrow(/host or tensor/);
  });
});
