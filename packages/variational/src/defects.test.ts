// One regression test per defect of the Python reference (REFERENCE.md §2), named after it.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Bernoulli } from './bernoulli.js';
import { Delta } from './delta.js';
import { Independent } from './independent.js';
import { deriveSeed } from './internal/seeds.js';
import { makeSeedExample, splitBatch, take, trainPlain, vmtlTasks } from './internal/test-utils.js';
import { klDivergence, monteCarloKl } from './kl.js';
import { MixingWeights } from './mixing.js';
import { mixtureKl } from './mixture-kl.js';
import { MultiTaskElbo, type MultiTaskElboOptions } from './multi-task-elbo.js';
import { Normal } from './normal.js';
import { Predictive } from './predictive.js';
import { temperatureSchedule } from './temperature.js';
import { VmtlModel } from './vmtl-model.js';

const T = 3;
const logistic = (z: tf.Tensor, w: tf.Tensor) => {
  const [t, L, B, D] = z.shape as number[];
  const M = w.shape[1]!;
  const a = tf.matMul(w as tf.Tensor3D, tf.reshape(z, [t!, L! * B!, D!]) as tf.Tensor3D, false, true);
  return new Bernoulli(tf.transpose(tf.reshape(a, [t!, M, L!, B!]), [0, 2, 1, 3]));
};

/** Three tasks, D = 2, a Gaussian encoder per task (z = x·A_i + noise), a Gaussian q(w). */
function latentElbo(name: string, extra: Partial<MultiTaskElboOptions> = {}) {
  const loc = tf.variable(tf.randomNormal([T, 2], 0, 1, 'float32', 1), true, `${name}/loc`);
  const logScale = tf.variable(tf.fill([T, 2], -0.5), true, `${name}/ls`);
  const A = tf.variable(tf.randomNormal([2, T * 2], 0, 1, 'float32', 2), true, `${name}/enc`);
  const elbo = new MultiTaskElbo({
    datasetSizes: [100, 50, 20],
    classifierPosterior: () => new Independent(new Normal(loc, { logScale }), 1),
    latent: (x) => {
      const [, B] = x.shape as number[];
      const mean = tf.reshape(tf.matMul(tf.reshape(x, [T * B!, 2]), A), [T, B!, T, 2]);
      return new Independent(new Normal(mean, 0.7), 1);
    },
    likelihood: logistic,
    name,
    ...extra,
  });
  const dispose = () => {
    elbo.dispose();
    tf.dispose([loc, logScale, A]);
  };
  return { elbo, loc, logScale, A, dispose };
}

const batch = () => ({
  x: tf.randomNormal([T, 4, 2], 0, 1, 'float32', 3),
  y: tf.cast(tf.greater(tf.randomUniform([T, 4], 0, 1, 'float32', 4), 0.5), 'float32'),
});

function gradNorms(f: () => tf.Scalar, vars: tf.Variable[]): Record<string, number> {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(f, vars);
    value.dispose();
    return Object.fromEntries(
      vars.map((v) => [v.name, grads[v.name] ? take(tf.sum(tf.abs(grads[v.name]!)))[0]! : 0]),
    );
  });
}

describe('defects of the Python reference', () => {
  it('defect 1: α and β are separate parameters, each trained by its own KL term only', () => {
    const { elbo, dispose } = latentElbo('d1');
    const [alpha, beta] = elbo.variables() as [tf.Variable, tf.Variable];
    expect(alpha.name).toBe('d1/mixing/alpha');
    expect(beta.name).toBe('d1/mixing/beta');
    expect(alpha).not.toBe(beta);
    const b = batch();
    const ctx = { step: 0, seed: 5 };
    const fromClassifier = gradNorms(
      () => tf.sum(elbo.loss(b, ctx).classifierKl) as tf.Scalar,
      [alpha, beta],
    );
    const fromLatent = gradNorms(
      () => tf.sum(elbo.loss(b, ctx).latentKl as tf.Tensor) as tf.Scalar,
      [alpha, beta],
    );
    expect(fromClassifier[alpha.name]).toBeGreaterThan(0);
    expect(fromClassifier[beta.name]).toBe(0);
    expect(fromLatent[alpha.name]).toBe(0);
    expect(fromLatent[beta.name]).toBeGreaterThan(0);
    tf.dispose(Object.values(b));
    dispose();
  });

  it('defect 2: every documented default runs', () => {
    for (const spec of [
      undefined,
      { kind: 'constant' as const },
      { kind: 'inverseSqrt' as const },
      { kind: 'exponential' as const },
    ]) {
      const tau = temperatureSchedule(spec);
      for (const step of [0, 1, 100, 1e6]) expect(tau(step)).toBeGreaterThan(0);
    }
    // A MultiTaskElbo and a VmtlModel with nothing but the required options compute and train.
    const { elbo, dispose } = latentElbo('d2');
    const b = batch();
    expect(Number.isFinite(tf.tidy(() => take(elbo.loss(b, { step: 0, seed: 0 }).loss)[0]!))).toBe(true);
    tf.dispose(Object.values(b));
    dispose();
    const tasks = makeSeedExample({ sizes: [40, 40, 40] });
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2 });
    trainPlain(model, tasks, { epochs: 1 });
    expect(
      model
        .alpha()!
        .flat()
        .every((v) => v === null || Number.isFinite(v)),
    ).toBe(true);
    model.dispose();
  });

  it('defect 3: mixing logits are unconstrained and never go NaN', () => {
    // Extreme logits are valid parameters: the weights stay a distribution.
    const m = new MixingWeights({
      name: 'd3_extreme',
      numTasks: 3,
      init: [
        [0, 80, -80],
        [-80, 0, 80],
        [1e4, -1e4, 0],
      ],
    });
    tf.tidy(() => {
      const w = take(m.sample(0.05, 1));
      expect(w.every(Number.isFinite)).toBe(true);
      take(tf.sum(m.sample(0.05, 1), 1)).forEach((r) => {
        expect(r).toBeCloseTo(1, 5);
      });
    });
    m.dispose();
    // 1500 aggressive steps (the reference went NaN around step 1200 of the example).
    const tasks = makeSeedExample({ sizes: [200, 200, 200] });
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'd3' });
    trainPlain(model, tasks, { epochs: 150, lr: 0.5 });
    const logits = take(model.elbo.classifierMixing!.logits.clone());
    expect(logits.every(Number.isFinite)).toBe(true);
    for (const row of model.alpha()!) expect(row.reduce((s: number, v) => s + (v ?? 0), 0)).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('defect 4: reports show only what is used: blank diagonals, no β without a latent mixture', () => {
    const tasks = makeSeedExample({ sizes: [40, 40, 40] });
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'd4' });
    const { alpha, beta } = model.mixing();
    expect(alpha!.map((row, t) => row[t])).toEqual([null, null, null]);
    expect(alpha!.flat().filter((v) => v === null)).toHaveLength(3);
    expect(beta).toBeNull();
    model.dispose();
    const { elbo, dispose } = latentElbo('d4_latent');
    const b = batch();
    tf.tidy(() => void elbo.loss(b, { step: 0, seed: 1 }));
    expect(elbo.beta()!.map((row, t) => row[t])).toEqual([null, null, null]);
    tf.dispose(Object.values(b));
    dispose();
  });

  it('defect 5: a point-mass latent has no latent KL term, and no fake 0 KL', () => {
    const loc = tf.variable(tf.zeros([T, 2]), true, 'd5/loc');
    const elbo = new MultiTaskElbo({
      datasetSizes: [10, 10, 10],
      classifierPosterior: () => new Independent(new Normal(loc, 1), 1),
      latent: (x) => new Delta(tf.stack([x, x, x], 2), 1),
      likelihood: logistic,
      name: 'd5',
    });
    const b = batch();
    tf.tidy(() => {
      const r = elbo.loss(b, { step: 0, seed: 2 });
      expect(r.latentKl).toBeNull();
      expect(take(r.taskLoss)).toEqual(take(tf.add(r.likelihood, r.classifierKl)));
      const d = new Delta(tf.ones([2]));
      expect(() => klDivergence(d, d)).toThrow(/point mass/);
    });
    tf.dispose([...Object.values(b), loc]);
    elbo.dispose();
  });

  it('defect 6: a Monte Carlo KL keeps the per-example shape (no averaging over batch axes)', () => {
    tf.tidy(() => {
      const p = new Normal(tf.tensor2d([[0, 1, 2, 3, 4]]), 1);
      const q = new Normal(tf.zeros([1, 5]), 1);
      const mc = monteCarloKl(p, q, 50_000, 1);
      expect(mc.shape).toEqual([1, 5]);
      // KL = m²/2 per example: 0, 0.5, 2, 4.5, 8 — each its own value.
      take(mc).forEach((v, i) => {
        expect(v).toBeCloseTo((i * i) / 2, 1);
      });
      // The latent mixture KL of the ELBO is per example too: [T, B].
      const qz = new Normal(tf.zeros([T, 4]), 1);
      const comps = new Normal(tf.randomNormal([T, 4, T], 0, 1, 'float32', 1), 1);
      expect(
        mixtureKl(qz, comps, tf.zeros([T, 1, T]), { estimator: 'monteCarlo', samples: 10, seed: 1 }).shape,
      ).toEqual([T, 4]);
    });
  });

  it('defect 7: tasks of unequal sizes: each task scales by its own N_t / B_t', () => {
    const tasks = makeSeedExample({ sizes: [600, 300, 100] });
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'd7', classifierSamples: 4 });
    const step = [
      splitBatch(tasks[0]!, 'train', [0, 1, 2, 3]),
      splitBatch(tasks[1]!, 'train', [0, 1]),
      splitBatch(tasks[2]!, 'train', [5]),
    ];
    const seed = 21;
    const lik = tf.tidy(() => take(model.elboParts(step, { step: 0, seed }).likelihood));
    // By hand: q(w) = N(0, I) at initialisation, so w_tm = ε_tm.
    const eps = tf.tidy(() => take(tf.randomNormal([4, T, 2], 0, 1, 'float32', deriveSeed(seed, 0))));
    const expected = step.map((b, t) => {
      const x = b.X.x!.dataSync();
      const y = b.Y.y!.dataSync();
      let s = 0;
      for (let r = 0; r < b.size; r++) {
        for (let m = 0; m < 4; m++) {
          const a = x[r * 2]! * eps[(m * T + t) * 2]! + x[r * 2 + 1]! * eps[(m * T + t) * 2 + 1]!;
          s += Math.log1p(Math.exp((1 - 2 * y[r]!) * a)) / 4;
        }
      }
      return (tasks[t]!.train.n / b.size) * s;
    });
    lik.forEach((v, t) => {
      expect(v).toBeCloseTo(expected[t]!, 1);
    });
    lik.forEach((v, t) => {
      expect(Math.abs(v - expected[t]!) / expected[t]!).toBeLessThan(1e-4);
    });
    for (const b of step) tf.dispose([b.X.x!, b.Y.y!]);
    model.dispose();
  });

  it('defect 8: prior components are detached by default, and gradients flow when asked', () => {
    const tasks = makeSeedExample({ sizes: [40, 40, 40] });
    const step = tasks.map((t) => splitBatch(t, 'train', [0, 1, 2]));
    const otherTasksGrad = (detachPrior: boolean, name: string) => {
      const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, detachPrior, name });
      const w = tf.randomNormal([2, T, 2], 0, 0.5, 'float32', 3);
      const a = tf.zeros([T, T]);
      model.setWeights({ [`${name}/classifier/posterior`]: w, [`${name}/mixing/alpha`]: a });
      a.dispose();
      const g = tf.tidy(() => {
        // Only task 1's loss: its likelihood never touches tasks 2 and 3, so any gradient there comes through the prior.
        const key = `${tasks[0]!.name}/${tasks[0]!.dataset}`;
        const { grads } = tf.variableGrads(
          () => model.loss(step, { step: 0, epoch: 0, seed: 1, training: true }).parts[key]!,
          [model.posteriorParams],
        );
        const all = take(grads[model.posteriorParams.name]!); // [2, T, D]
        return [0, 1]
          .flatMap((p) => [2, 3, 4, 5].map((i) => Math.abs(all[p * T * 2 + i]!)))
          .reduce((s, v) => s + v, 0);
      });
      w.dispose();
      model.dispose();
      return g;
    };
    expect(otherTasksGrad(true, 'd8_detached')).toBe(0);
    expect(otherTasksGrad(false, 'd8_through')).toBeGreaterThan(1e-3);
    for (const b of step) tf.dispose([b.X.x!, b.Y.y!]);
  });

  it('defect 9: predictions come from the predictive mean, not from thresholding a few sampled labels', () => {
    tf.tidy(() => {
      // 200 examples whose 100 sampled models all say P(y = 1) = 0.55.
      const pred = new Predictive(Bernoulli.fromProbs(tf.fill([200, 100], 0.55)));
      expect(take(pred.predict()).every((v) => v === 1)).toBe(true);
      // The reference's rule (mean of 10 sampled labels > 0.5) flips about half of them.
      const sampled = take(tf.cast(tf.greater(tf.mean(pred.sample(10, 1), 0), 0.5), 'int32'));
      expect(sampled.filter((v) => v === 0).length).toBeGreaterThan(40);
    });
  });
});
