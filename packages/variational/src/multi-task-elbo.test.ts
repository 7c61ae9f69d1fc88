import { assertNoLeaks } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Bernoulli } from './bernoulli.js';
import { Delta } from './delta.js';
import { Independent } from './independent.js';
import { deriveSeed } from './internal/seeds.js';
import { take } from './internal/test-utils.js';
import { MultiTaskElbo, type MultiTaskElboOptions, stackTaskBatches } from './multi-task-elbo.js';
import { Normal } from './normal.js';

const softplus = (a: number) => Math.log1p(Math.exp(a));
const logistic = (z: tf.Tensor, w: tf.Tensor) => {
  const [T, L, B, D] = z.shape as number[];
  const M = w.shape[1]!;
  const a = tf.matMul(w as tf.Tensor3D, tf.reshape(z, [T!, L! * B!, D!]) as tf.Tensor3D, false, true);
  return new Bernoulli(tf.transpose(tf.reshape(a, [T!, M, L!, B!]), [0, 2, 1, 3]));
};

/** Two tasks, D = 1, a posterior q(w_t) = N(loc_t, exp(logScale_t)) from variables. */
function twoTasks(extra: Partial<MultiTaskElboOptions> = {}, name = 'elbo2') {
  const loc = tf.variable(tf.tensor2d([[0.5], [-0.3]]), true, `${name}/loc`);
  const logScale = tf.variable(tf.tensor2d([[-0.5], [0.2]]), true, `${name}/ls`);
  const elbo = new MultiTaskElbo({
    datasetSizes: [30, 12],
    classifierPosterior: () => new Independent(new Normal(loc, { logScale }), 1),
    likelihood: logistic,
    classifierSamples: 3,
    temperature: 1,
    gumbelNoise: false,
    name,
    ...extra,
  });
  const dispose = () => {
    elbo.dispose();
    loc.dispose();
    logScale.dispose();
  };
  return { elbo, loc, logScale, dispose };
}

const X = [
  [[1], [2], [-1]],
  [[0.5], [-2], [0]],
];
const Y = [
  [1, 0, 1],
  [0, 1, 0],
];

describe('MultiTaskElbo', () => {
  it('computes the negative ELBO by hand: N_t/B-scaled expected NLL plus the mixture KL', () => {
    const { elbo, dispose } = twoTasks();
    const seed = 77;
    const r = tf.tidy(() => {
      const out = elbo.loss({ x: tf.tensor3d(X), y: tf.tensor2d(Y) }, { step: 0, seed });
      return {
        loss: take(out.loss)[0]!,
        task: take(out.taskLoss),
        lik: take(out.likelihood),
        kl: take(out.classifierKl),
        noLatent: out.latentKl === null,
      };
    });
    const eps = take(tf.randomNormal([3, 2, 1], 0, 1, 'float32', deriveSeed(seed, 0))); // [M, T, D]
    const loc = [0.5, -0.3];
    const sd = [Math.exp(-0.5), Math.exp(0.2)];
    const N = [30, 12];
    const lik = [0, 1].map((t) => {
      let s = 0;
      for (let b = 0; b < 3; b++) {
        for (let m = 0; m < 3; m++) {
          const w = loc[t]! + sd[t]! * eps[m * 2 + t]!;
          const a = X[t]![b]![0]! * w;
          s += softplus((1 - 2 * Y[t]![b]!) * a) / 3;
        }
      }
      return (N[t]! / 3) * s;
    });
    // Two tasks: each task's prior is the other task's posterior (α = 1 off the diagonal).
    const kl = (p: number, q: number) =>
      Math.log(sd[q]! / sd[p]!) + (sd[p]! ** 2 + (loc[p]! - loc[q]!) ** 2) / (2 * sd[q]! ** 2) - 0.5;
    expect(r.noLatent).toBe(true);
    r.lik.forEach((v, t) => {
      expect(v).toBeCloseTo(lik[t]!, 3);
    });
    expect(r.kl[0]).toBeCloseTo(kl(0, 1), 5);
    expect(r.kl[1]).toBeCloseTo(kl(1, 0), 5);
    r.task.forEach((v, t) => {
      expect(v).toBeCloseTo(lik[t]! + r.kl[t]!, 4);
    });
    expect(r.loss).toBeCloseTo((r.task[0]! + r.task[1]!) / 2, 4);
    dispose();
  });

  it('per-task callables give the same numbers as the stacked (vectorised) form', () => {
    const a = twoTasks({}, 'elbo_stacked');
    const b = twoTasks(
      {
        likelihood: [0, 1].map(() => (z: tf.Tensor, w: tf.Tensor) => {
          const [L, B, D] = z.shape as number[];
          const M = w.shape[0]!;
          const logits = tf.matMul(
            w as tf.Tensor2D,
            tf.reshape(z, [L! * B!, D!]) as tf.Tensor2D,
            false,
            true,
          );
          return new Bernoulli(tf.transpose(tf.reshape(logits, [M, L!, B!]), [1, 0, 2]));
        }),
      },
      'elbo_pertask',
    );
    const run = (e: MultiTaskElbo) =>
      tf.tidy(() => take(e.loss({ x: tf.tensor3d(X), y: tf.tensor2d(Y) }, { step: 3, seed: 5 }).taskLoss));
    expect(run(b.elbo)).toEqual(run(a.elbo).map((v) => expect.closeTo(v, 4)));
    a.dispose();
    b.dispose();
  });

  it('padding rows never count: unequal task batches use N_t / B_t with the real B_t', () => {
    const { elbo, dispose } = twoTasks({}, 'elbo_pad');
    tf.tidy(() => {
      const seed = 4;
      const full = elbo.loss({ x: tf.tensor3d(X), y: tf.tensor2d(Y), sizes: [3, 2] }, { step: 0, seed });
      // Same batch with garbage in the padding row of task 1: nothing changes.
      const X2 = [X[0]!, [X[1]![0]!, X[1]![1]!, [99]]];
      const Y2 = [Y[0]!, [0, 1, 1]];
      const garbage = elbo.loss({ x: tf.tensor3d(X2), y: tf.tensor2d(Y2), sizes: [3, 2] }, { step: 0, seed });
      expect(take(garbage.likelihood)).toEqual(take(full.likelihood));
      // Task 1's likelihood term is (12 / 2) Σ over its 2 real rows.
      const eps = take(tf.randomNormal([3, 2, 1], 0, 1, 'float32', deriveSeed(seed, 0)));
      let s = 0;
      for (let b = 0; b < 2; b++) {
        for (let m = 0; m < 3; m++) {
          const w = -0.3 + Math.exp(0.2) * eps[m * 2 + 1]!;
          s += softplus((1 - 2 * Y[1]![b]!) * X[1]![b]![0]! * w) / 3;
        }
      }
      expect(
        take(
          elbo.loss({ x: tf.tensor3d(X), y: tf.tensor2d(Y), sizes: [3, 2] }, { step: 0, seed }).likelihood,
        )[1],
      ).toBeCloseTo(6 * s, 3);
    });
    dispose();
  });

  it('stackTaskBatches pads shorter tasks and records their sizes', () => {
    tf.tidy(() => {
      const batch = stackTaskBatches([
        { x: tf.ones([3, 2]), y: tf.ones([3]) },
        { x: tf.ones([1, 2]), y: tf.ones([1]) },
      ]);
      expect(batch.x.shape).toEqual([2, 3, 2]);
      expect(batch.sizes).toEqual([3, 1]);
      expect(take(tf.sum(batch.x))[0]).toBe(8);
      expect(() => stackTaskBatches([{ x: tf.ones([2, 1]), y: tf.ones([3]) }])).toThrow(
        /x has 2 rows but y has 3/,
      );
    });
  });

  it('a stochastic latent gets a per-example latent KL, with its own mixing β', () => {
    const T = 2;
    const enc = tf.variable(tf.tensor2d([[1, -1]]), true, 'elbo_lat/enc'); // [Dx=1, K=2]: encoder i scales x by enc[i]
    const { elbo, dispose } = twoTasks(
      {
        latent: (x) => {
          const [, B] = x.shape as number[];
          const mean = tf.reshape(tf.matMul(tf.reshape(x, [T * B!, 1]), enc), [T, B!, T, 1]);
          return new Independent(new Normal(mean, 0.5), 1);
        },
      },
      'elbo_lat',
    );
    tf.tidy(() => {
      const r = elbo.loss({ x: tf.tensor3d(X), y: tf.tensor2d(Y) }, { step: 0, seed: 1 });
      expect(r.latentKl?.shape).toEqual([2]);
      // Encoders N(x, .5) and N(-x, .5): KL = (2x)² / (2 · .25) per example, β = 1 off the diagonal, times N_t / B.
      const expected = [0, 1].map(
        (t) => ((t === 0 ? 30 : 12) / 3) * X[t]!.reduce((s, [x]) => s + (2 * x!) ** 2 / 0.5, 0),
      );
      const latent = take(r.latentKl as tf.Tensor);
      latent.forEach((v, t) => {
        expect(v).toBeCloseTo(expected[t]!, 3);
      });
      const task = take(r.taskLoss);
      const parts = [take(r.likelihood), take(r.classifierKl), latent];
      task.forEach((v, t) => {
        expect(v).toBeCloseTo(parts[0]![t]! + parts[1]![t]! + parts[2]![t]!, 3);
      });
    });
    expect(elbo.variables().map((v) => v.name)).toEqual(['elbo_lat/mixing/alpha', 'elbo_lat/mixing/beta']);
    expect(elbo.beta()).toEqual([
      [null, 1],
      [1, null],
    ]);
    dispose();
    enc.dispose();
  });

  it('a Delta latent means no latent term at all, and β is reported as unused', () => {
    const { elbo, dispose } = twoTasks({ latent: (x) => new Delta(tf.stack([x, x], 2), 1) }, 'elbo_delta');
    tf.tidy(() => {
      const r = elbo.loss({ x: tf.tensor3d(X), y: tf.tensor2d(Y) }, { step: 0, seed: 1 });
      expect(r.latentKl).toBeNull();
      const task = take(r.taskLoss);
      const sum = take(tf.add(r.likelihood, r.classifierKl));
      task.forEach((v, t) => {
        expect(v).toBeCloseTo(sum[t]!, 5);
      });
    });
    expect(elbo.beta()).toBeNull();
    dispose();
  });

  it('a fixed classifier prior (solo) has no mixing at all', () => {
    const { elbo, dispose } = twoTasks(
      { classifierPrior: () => new Independent(new Normal(tf.zeros([1]), 1), 1) },
      'elbo_solo',
    );
    expect(elbo.classifierMixing).toBeUndefined();
    expect(elbo.alpha()).toBeNull();
    expect(elbo.variables()).toEqual([]);
    const kl = tf.tidy(() =>
      take(elbo.loss({ x: tf.tensor3d(X), y: tf.tensor2d(Y) }, { step: 0, seed: 1 }).classifierKl),
    );
    const sd = Math.exp(-0.5);
    expect(kl[0]).toBeCloseTo(-Math.log(sd) + (sd * sd + 0.25) / 2 - 0.5, 5);
    dispose();
  });

  it('the KL weight anneals the KL term only', () => {
    const { elbo, dispose } = twoTasks(
      { klWeight: { classifier: (step) => Math.min(1, step / 10) } },
      'elbo_anneal',
    );
    tf.tidy(() => {
      const at = (step: number) => elbo.loss({ x: tf.tensor3d(X), y: tf.tensor2d(Y) }, { step, seed: 2 });
      const r0 = at(0);
      expect(take(r0.taskLoss)).toEqual(take(r0.likelihood));
      const r5 = at(5);
      const expected = take(tf.add(r5.likelihood, tf.mul(r5.classifierKl, 0.5)));
      expect(take(r5.taskLoss)).toEqual(expected.map((v) => expect.closeTo(v, 4)));
    });
    dispose();
  });

  it('predictive: an equal mixture over the L × M samples, with the mean as prediction', async () => {
    const { elbo, dispose } = twoTasks({}, 'elbo_pred');
    await assertNoLeaks(() => {
      const x = tf.tensor3d(X);
      const pred = elbo.predictive(x, { seed: 3, classifierSamples: 50 });
      expect(pred.batchShape).toEqual([2, 3]);
      expect(pred.numComponents).toBe(50);
      const probs = take(pred.probs());
      const labels = take(pred.predict());
      probs.forEach((p, i) => {
        expect(labels[i]).toBe(p > 0.5 ? 1 : 0);
      });
      // Mean over samples of σ(x w_m), w_m ~ q.
      const eps = take(tf.randomNormal([50, 2, 1], 0, 1, 'float32', deriveSeed(3, 0)));
      let p00 = 0;
      for (let m = 0; m < 50; m++) p00 += 1 / (1 + Math.exp(-(0.5 + Math.exp(-0.5) * eps[m * 2]!) * 1)) / 50;
      expect(probs[0]).toBeCloseTo(p00, 4);
      pred.dispose();
      x.dispose();
    });
    dispose();
  });

  it('does not leak tensors across a gradient step and a predictive call', async () => {
    const { elbo, loc, logScale, dispose } = twoTasks({ classifierKl: 'monteCarlo' }, 'elbo_leak');
    const x = tf.tensor3d(X);
    const y = tf.tensor2d(Y);
    const opt = tf.train.adam(0.01);
    const vars = [loc, logScale, ...elbo.variables()] as tf.Variable[];
    const step = (i: number) =>
      opt.minimize(() => elbo.loss({ x, y }, { step: i, seed: i }).loss, false, vars);
    step(0);
    await assertNoLeaks(() => {
      step(1);
      elbo.predictive(x, { seed: 1 }).dispose();
    });
    opt.dispose();
    tf.dispose([x, y]);
    dispose();
  });

  it('validates its options and inputs with the place named', () => {
    const post = () => new Independent(new Normal(tf.zeros([2, 1]), 1), 1);
    expect(
      () => new MultiTaskElbo({ datasetSizes: [10, 0], classifierPosterior: post, likelihood: logistic }),
    ).toThrow(/datasetSizes\[1\]/);
    expect(
      () => new MultiTaskElbo({ datasetSizes: [10], classifierPosterior: post, likelihood: logistic }),
    ).toThrow(/at least 2 tasks/);
    expect(
      () =>
        new MultiTaskElbo({
          datasetSizes: [1, 1],
          classifierPosterior: post,
          likelihood: logistic,
          classifierKl: 'exact' as never,
        }),
    ).toThrow(/classifierKl/);
    const { elbo, dispose } = twoTasks({}, 'elbo_val');
    tf.tidy(() => {
      expect(() => elbo.loss({ x: tf.zeros([3, 2, 1]), y: tf.zeros([3, 2]) }, { step: 0, seed: 0 })).toThrow(
        /T=2/,
      );
      expect(() =>
        elbo.loss({ x: tf.zeros([2, 2, 1]), y: tf.zeros([2, 2]), sizes: [3, 1] }, { step: 0, seed: 0 }),
      ).toThrow(/sizes/);
    });
    dispose();
  });
});
