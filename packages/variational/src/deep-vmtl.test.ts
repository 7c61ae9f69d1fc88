import { MtlError, RandomStream, seedGlobalRandom } from '@mtl/core';
import { dense, LayersModule, mlp, moduleFromConfig } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerVariationalModules } from './bayesian-linear.js';
import { BayesianClassifier, VariationalLatent } from './deep-modules.js';
import { DeepVmtlModel, type DeepVmtlOptions, klAnnealing, sameClassRows } from './deep-vmtl.js';
import type { TaskBatch } from './vmtl-model.js';

let counter = 0;
const uniq = () => `dv${counter++}`;

const taskList = (names: string[], trunk?: string) =>
  names.map((name) => ({ name, dataset: `${name}_data`, trainSize: 20, ...(trunk ? { trunk } : {}) }));

function make(options: Partial<DeepVmtlOptions> & { names?: string[] } = {}): DeepVmtlModel {
  const { names = ['a', 'b'], ...rest } = options;
  return new DeepVmtlModel({
    tasks: taskList(names),
    inputShapes: { x: [3] },
    outputSize: 2,
    name: uniq(),
    ...rest,
  });
}

function setClassifier(model: DeepVmtlModel, task: string, loc: number[][], logScale: number[][]): void {
  const v = model.modules.get(`${task}.classifier`).variables();
  v.loc!.assign(tf.tensor2d(loc));
  v.logScale!.assign(tf.tensor2d(logScale));
}

/**
 * Tasks a, b, c's classifiers set to distinct posteriors (k = 1, 2, 3); their flattened means and
 * standard deviations by k, for closed-form KLs.
 */
function setThreeClassifiers(model: DeepVmtlModel): {
  mu: (k: number) => number[];
  sd: (k: number) => number[];
} {
  const vals = (k: number) => Array.from({ length: 4 }, (_, r) => [0.1 * k + r * 0.2, -0.3 * k + r * 0.1]);
  const scales = (k: number) => Array.from({ length: 4 }, (_, r) => [-0.5 * k, 0.1 * r - k * 0.2]);
  ['a', 'b', 'c'].forEach((t, k) => {
    setClassifier(model, t, vals(k + 1), scales(k + 1));
  });
  return { mu: (k) => vals(k).flat(), sd: (k) => scales(k).flat().map(Math.exp) };
}

/** Σ log(σ2/σ1) + (σ1² + (μ1 − μ2)²) / (2σ2²) − 1/2 over elements. */
function gaussKl(m1: number[], s1: number[], m2: number[], s2: number[]): number {
  return m1.reduce(
    (acc, _, i) =>
      acc + Math.log(s2[i]! / s1[i]!) + (s1[i]! ** 2 + (m1[i]! - m2[i]!) ** 2) / (2 * s2[i]! ** 2) - 0.5,
    0,
  );
}

/** Two-blob data: class 1 where x·(1, −1, 0.5) > 0, per task a shift. */
function blobs(name: string, n: number, seed: number, split = 'train'): TaskBatch {
  const x = tf.randomNormal([n, 3], 0, 1, 'float32', seed);
  const y = tf.tidy(() =>
    tf.cast(tf.greater(tf.matMul(x, tf.tensor2d([[1], [-1], [0.5]])).squeeze([1]), 0), 'int32'),
  );
  return { dataset: `${name}_data`, split, X: { x }, Y: { [name]: y }, size: n };
}

const free = (bs: TaskBatch[]) => {
  for (const b of bs) tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
};

describe('deep VMTL modules', () => {
  it('bayesianClassifier gives h·W + b at the posterior mean; both kinds rebuild from their configs', () => {
    registerVariationalModules();
    const before = tf.memory().numTensors;
    const c = moduleFromConfig({ type: 'bayesianClassifier', inputSize: 2, outputSize: 2 }, 'test');
    expect(c).toBeInstanceOf(BayesianClassifier);
    c.build('c', { prefix: `${uniq()}/` });
    const out = tf.tidy(() => {
      c.variables().loc!.assign(
        tf.tensor2d([
          [1, 2],
          [3, 4],
          [0.5, -0.5],
        ]),
      );
      return Array.from(
        (c.apply([tf.tensor2d([[1, 1]])], { training: false, seed: 0 }) as tf.Tensor).dataSync(),
      );
    });
    expect(out).toEqual([4.5, 5.5]);
    const l = moduleFromConfig({ type: 'variationalLatent', inputSize: 4, latentSize: 3 }, 'test');
    expect(l).toBeInstanceOf(VariationalLatent);
    expect(l.getConfig()).toMatchObject({ latentSize: 3, logScaleInit: -2, logScaleBound: 3 });
    expect(() =>
      moduleFromConfig({ type: 'variationalLatent', latentSize: 3, logScaleInit: -4 }, 'test'),
    ).toThrow(/above \|logScaleInit\|/);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DeepVmtlModel', () => {
  it('classifier KL: the upper bound with two tasks is the closed-form Gaussian KL to the other posterior', () => {
    const model = make({ classifierKl: 'upperBound' });
    const [la, sa, lb, sb] = [
      [
        [0.5, -1],
        [2, 0],
        [0, 1],
        [1, 1],
      ],
      [
        [-1, -0.5],
        [0, -2],
        [-1, -1],
        [0.2, 0],
      ],
      [
        [0, 0],
        [1, 1],
        [-1, 0.5],
        [0.3, 0.1],
      ],
      [
        [0, 0.3],
        [-1, -1],
        [-0.5, 0],
        [0, 0.4],
      ],
    ];
    setClassifier(model, 'a', la!, sa!);
    setClassifier(model, 'b', lb!, sb!);
    const flat = (m: number[][]) => m.flat();
    const exp = (m: number[][]) => m.flat().map(Math.exp);
    expect(model.classifierKl('a')).toBeCloseTo(gaussKl(flat(la!), exp(sa!), flat(lb!), exp(sb!)), 3);
    expect(model.classifierKl('b')).toBeCloseTo(gaussKl(flat(lb!), exp(sb!), flat(la!), exp(sa!)), 3);
    model.dispose();
  });

  it('classifier KL: moment matched with three tasks is the KL to N(Σ α μ_i, Σ α² σ_i²) of the others (α = 1/2)', () => {
    const model = make({ names: ['a', 'b', 'c'], classifierKl: 'momentMatched' });
    const { mu, sd } = setThreeClassifiers(model);
    const priorMu = mu(2).map((m, i) => 0.5 * m + 0.5 * mu(3)[i]!);
    const priorSd = sd(2).map((s, i) => Math.sqrt(0.25 * s * s + 0.25 * sd(3)[i]! ** 2));
    expect(model.classifierKl('a')).toBeCloseTo(gaussKl(mu(1), sd(1), priorMu, priorSd), 3);
    model.dispose();
  });

  it("classifierStandardComponent: α's diagonal weighs N(0, I) in the task's own slot (upper bound: Σ α KL, α = 1/3 each)", () => {
    const model = make({
      names: ['a', 'b', 'c'],
      classifierKl: 'upperBound',
      classifierStandardComponent: true,
    });
    const { mu, sd } = setThreeClassifiers(model);
    const zeros = new Array(8).fill(0);
    const ones = new Array(8).fill(1);
    const expected =
      (gaussKl(mu(1), sd(1), zeros, ones) +
        gaussKl(mu(1), sd(1), mu(2), sd(2)) +
        gaussKl(mu(1), sd(1), mu(3), sd(3))) /
      3;
    expect(model.classifierKl('a')).toBeCloseTo(expected, 3);
    // The diagonal is a weight now (uniform at the start), held by the mixing logits.
    expect(model.alpha()![0]!.map((w) => w!.toFixed(4))).toEqual(['0.3333', '0.3333', '0.3333']);
    expect(model.alphaWeights!.openDiagonal).toBe(true);
    model.dispose();
    // Without the option the same model's prior is the other two tasks only (diagonal null).
    const paper = make({ names: ['a', 'b', 'c'], classifierKl: 'upperBound' });
    setThreeClassifiers(paper);
    expect(paper.classifierKl('a')).toBeCloseTo(
      (gaussKl(mu(1), sd(1), mu(2), sd(2)) + gaussKl(mu(1), sd(1), mu(3), sd(3))) / 2,
      3,
    );
    expect(paper.alpha()![0]![0]).toBeNull();
    paper.dispose();
  });

  it('the solo baseline: the classifier KL is the closed-form KL to N(0, I); no mixing matrices', () => {
    const model = make({ prior: 'standardNormal' });
    const loc = [
      [1, 0],
      [0, -1],
      [2, 0.5],
      [0, 0],
    ];
    const ls = [
      [0, -1],
      [0.5, 0],
      [0, 0],
      [-2, 0],
    ];
    setClassifier(model, 'a', loc, ls);
    const zeros = new Array(8).fill(0);
    const ones = new Array(8).fill(1);
    expect(model.classifierKl('a')).toBeCloseTo(gaussKl(loc.flat(), ls.flat().map(Math.exp), zeros, ones), 3);
    expect(model.alpha()).toBeNull();
    expect(model.beta()).toBeNull();
    model.dispose();
  });

  it("the latent prior's log density is log Σ β_i N(z; μ_i(x), σ_i(x)) of the other tasks' encoders", () => {
    const model = make({ names: ['a', 'b', 'c'], latentDim: 2 });
    model.betaWeights!.logits.assign(
      tf.tensor2d([
        [0, 1, -1],
        [0, 0, 0],
        [0, 0, 0],
      ]),
    );
    const x = tf.tensor2d([
      [0.5, -1, 2],
      [1, 0, -0.5],
    ]);
    const z = tf.tensor2d([
      [0.3, -0.2],
      [1, 0.5],
    ]);
    const before = tf.memory().numTensors;
    const prior = model.latentPrior('a', x);
    const lp = prior.logProb(z);
    const got = Array.from(lp.dataSync());
    lp.dispose();
    prior.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const w = [Math.exp(1), Math.exp(-1)].map((v) => v / (Math.exp(1) + Math.exp(-1)));
    const zs = z.arraySync() as number[][];
    // In log space: log Σ_k exp(log β_k + Σ_j log N(z_j; μ_kj, σ_kj)).
    const expected = [0, 1].map((row) => {
      const terms = ['b', 'c'].map((t, k) => {
        const v = model.modules.get(`${t}.latent`).variables();
        const head = (p: string) => {
          const K = v[`${p}/kernel`]!.arraySync() as number[][];
          const b = v[`${p}/bias`]!.arraySync() as number[];
          const xs = (x.arraySync() as number[][])[row]!;
          return b.map((bj, j) => bj + xs.reduce((s, xi, i) => s + xi * K[i]![j]!, 0));
        };
        const mu = head('loc');
        const logSd = head('logScale').map((v) => 3 * Math.tanh(v / 3));
        return mu.reduce(
          (acc, m, j) =>
            acc -
            (zs[row]![j]! - m) ** 2 / (2 * Math.exp(2 * logSd[j]!)) -
            logSd[j]! -
            0.5 * Math.log(2 * Math.PI),
          Math.log(w[k]!),
        );
      });
      const top = Math.max(...terms);
      return top + Math.log(terms.reduce((a, t) => a + Math.exp(t - top), 0));
    });
    expect(got[0]).toBeCloseTo(expected[0]!, 3);
    expect(got[1]).toBeCloseTo(expected[1]!, 3);
    tf.dispose([x, z]);
    model.dispose();
  });

  it('latentStandardWeight λ: the latent prior is λ·N(0, I) + (1 − λ)·q_b(z | x) (two tasks)', () => {
    const model = make({ latentDim: 1, latentStandardWeight: 0.25 });
    const x = tf.tensor2d([[0.5, -1, 2]]);
    const z = tf.tensor2d([[0.7]]);
    const before = tf.memory().numTensors;
    const prior = model.latentPrior('a', x);
    const lp = prior.logProb(z);
    const got = lp.dataSync()[0]!;
    lp.dispose();
    prior.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const [mu, sd] = tf.tidy(() => {
      const out = model.modules.get('b.latent').apply([x], { training: false, seed: 0 }) as Record<
        string,
        tf.Tensor
      >;
      return [out.loc!.dataSync()[0]!, Math.exp(out.logScale!.dataSync()[0]!)];
    });
    const normal = (v: number, m: number, s: number) =>
      Math.exp(-((v - m) ** 2) / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI));
    expect(got).toBeCloseTo(Math.log(0.25 * normal(0.7, 0, 1) + 0.75 * normal(0.7, mu, sd)), 4);
    tf.dispose([x, z]);
    model.dispose();
    expect(() => make({ latentDim: 1, latentStandardWeight: 1 })).toThrow(/\[0, 1\)/);
  });

  it("sameClass (the paper code's latent prior): each row's prior is the shared encoder on the other task's row of its class; N(0, I) when that task's batch lacks the class", () => {
    const opts = {
      latentDim: 1,
      shareLatent: true,
      latentPriorInputs: 'sameClass' as const,
      latentKl: 'momentMatched' as const,
      latentSamples: 1,
      classifierSamples: 1,
    };
    const withKl = make({ ...opts, klWeight: { classifier: 0, latent: 1 } });
    const withoutKl = make({ ...opts, klWeight: { classifier: 0, latent: 0 } });
    expect(withKl.modules.names()).toContain('latent');
    expect(withKl.modules.names()).not.toContain('a.latent');
    const setLatent = (m: DeepVmtlModel) => {
      const v = m.modules.get('latent').variables();
      v['loc/kernel']!.assign(tf.tensor2d([[1], [0], [0]]));
      v['loc/bias']!.assign(tf.tensor1d([0]));
      v['logScale/kernel']!.assign(tf.tensor2d([[0], [0.5], [0]]));
      v['logScale/bias']!.assign(tf.tensor1d([-0.2]));
    };
    setLatent(withKl);
    setLatent(withoutKl);
    // Task a: classes 0, 1, 2; task b holds one row of class 1 and one of class 0, none of class 2.
    const xa = [
      [0.5, 1, 0],
      [-1, 0.2, 3],
      [2, -1, 1],
    ];
    const xb = [
      [1.5, -0.4, 0],
      [0.3, 0.6, -2],
    ];
    const step = (): TaskBatch[] => [
      {
        dataset: 'a_data',
        split: 'train',
        X: { x: tf.tensor2d(xa) },
        Y: { a: tf.tensor1d([0, 1, 2], 'int32') },
        size: 3,
      },
      {
        dataset: 'b_data',
        split: 'train',
        X: { x: tf.tensor2d(xb) },
        Y: { b: tf.tensor1d([1, 0], 'int32') },
        size: 2,
      },
    ];
    const partA = (m: DeepVmtlModel) => {
      const batch = step();
      const parts = m.loss(batch, { step: 0, epoch: 0, seed: 5, training: true }).parts;
      const v = parts['a/a_data']!.dataSync()[0]!;
      tf.dispose(Object.values(parts));
      free(batch);
      return v;
    };
    const meanKl = partA(withKl) - partA(withoutKl);
    const enc = (x: number[]) => ({ mu: x[0]!, sd: Math.exp(3 * Math.tanh((0.5 * x[1]! - 0.2) / 3)) });
    const kl = (q: { mu: number; sd: number }, p: { mu: number; sd: number }) =>
      gaussKl([q.mu], [q.sd], [p.mu], [p.sd]);
    // Row 0 (class 0) -> b's row 1; row 1 (class 1) -> b's row 0; row 2 (class 2) -> N(0, 1).
    const expected =
      (kl(enc(xa[0]!), enc(xb[1]!)) + kl(enc(xa[1]!), enc(xb[0]!)) + kl(enc(xa[2]!), { mu: 0, sd: 1 })) / 3;
    expect(meanKl).toBeCloseTo(expected, 4);
    // It trains on the default backend (wasm has no gradient of tf.gather): finite gradients.
    const batch = step();
    const { value, grads } = tf.variableGrads(
      () =>
        tf.addN(
          Object.values(withKl.loss(batch, { step: 0, epoch: 0, seed: 5, training: true }).parts),
        ) as tf.Scalar,
      withKl.trainableVariables(),
    );
    const norms = Object.values(grads).map((g) => tf.sum(tf.abs(g)).dataSync()[0]!);
    expect(norms.every(Number.isFinite)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    free(batch);
    withKl.dispose();
    withoutKl.dispose();
    expect(sameClassRows(Int32Array.of(2, 0, 7), Int32Array.of(0, 2), new RandomStream(1))).toEqual([
      1, 0, -1,
    ]);
    const picks = sameClassRows(new Int32Array(40), Int32Array.of(0, 1, 0), new RandomStream(2));
    expect(new Set(picks)).toEqual(new Set([0, 2])); // uniform among the rows of the class
    expect(() => make({ latentDim: 1, shareLatent: true })).toThrow(/needs latentPriorInputs: 'sameClass'/);
    expect(() =>
      make({ latentDim: 1, latentPriorInputs: 'sameClass', likelihood: 'normal', outputSize: 1 }),
    ).toThrow(/sameClass needs class labels/);
  });

  it('tied initialisation: every task starts with the same latent and classifier, so the upper-bound KLs start at 0', () => {
    const model = make({ names: ['a', 'b', 'c'], latentDim: 2, classifierKl: 'upperBound' });
    const va = model.modules.get('a.classifier').variables().loc!.dataSync();
    const vc = model.modules.get('c.classifier').variables().loc!.dataSync();
    expect(Array.from(va)).toEqual(Array.from(vc));
    expect(Array.from(va).some((v) => v !== 0)).toBe(true);
    expect(model.classifierKl('b')).toBeCloseTo(0, 5);
    model.dispose();
    const untied = make({ names: ['a', 'b'], tiedInit: false });
    const ua = untied.modules.get('a.classifier').variables().loc!.dataSync();
    const ub = untied.modules.get('b.classifier').variables().loc!.dataSync();
    expect(Array.from(ua)).not.toEqual(Array.from(ub));
    untied.dispose();
  });

  it('trains a shared trunk with latents and mixture priors above chance; same seed gives the same loss; no tensor leaks', () => {
    const before = tf.memory().numTensors;
    const build = () =>
      new DeepVmtlModel({
        tasks: taskList(['a', 'b'], 'trunk'),
        modules: { trunk: mlp({ hidden: [8], activation: 'tanh' }) },
        inputShapes: { x: [3] },
        latentDim: 4,
        outputSize: 2,
        latentSamples: 2,
        classifierSamples: 2,
        seed: 3,
        name: uniq(),
      });
    const model = build();
    expect(model.modules.names()).toEqual(['trunk', 'a.latent', 'a.classifier', 'b.latent', 'b.classifier']);
    expect(model.parameterGroups().map((g) => [g.name, g.tasks])).toEqual([
      ['trunk', ['a', 'b']],
      ['a.latent', ['a']],
      ['a.classifier', ['a']],
      ['b.latent', ['b']],
      ['b.classifier', ['b']],
      ['mixing', ['a', 'b']],
    ]);
    const train = [blobs('a', 40, 1), blobs('b', 40, 2)];
    const test = [blobs('a', 100, 11, 'test'), blobs('b', 100, 12, 'test')];
    const opt = tf.train.adam(0.05);
    const ctx = (step: number) => ({ step, epoch: 0, seed: 100 + step, training: true });
    const twin = build();
    const l1 = tf.tidy(() => tf.addN(Object.values(model.loss(train, ctx(0)).parts)).dataSync()[0]);
    const l2 = tf.tidy(() => tf.addN(Object.values(twin.loss(train, ctx(0)).parts)).dataSync()[0]);
    expect(l1).toBe(l2);
    twin.dispose();
    for (let s = 0; s < 60; s++) {
      const c = opt.minimize(
        () => tf.addN(Object.values(model.loss(train, ctx(s)).parts)) as tf.Scalar,
        true,
        model.trainableVariables(),
      );
      c?.dispose();
    }
    const scores = model.score(test);
    expect(scores['a/a_data/test/accuracy']).toBeGreaterThan(0.8);
    expect(scores['b/b_data/test/accuracy']).toBeGreaterThan(0.8);
    expect(Number.isFinite(scores['a/a_data/test/loss'])).toBe(true);
    const beta = model.beta()!;
    expect(beta[0]![0]).toBeNull();
    expect(beta[0]![1]).toBeCloseTo(1, 6);
    opt.dispose();
    free([...train, ...test]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('predicts from the posterior predictive (probabilities and entropy per row) or the posterior means', () => {
    const model = make({ latentDim: 2, predictiveSamples: 200 });
    const x = tf.tensor2d([
      [0.5, -1, 2],
      [1, 0, -0.5],
      [0, 0, 0],
    ]);
    const before = tf.memory().numTensors;
    const p = model.predict('a', x);
    const probs = p.probs!.arraySync();
    const ent = Array.from(p.entropy!.dataSync());
    probs.forEach((row, r) => {
      expect(row[0]! + row[1]!).toBeCloseTo(1, 5);
      expect(ent[r]).toBeCloseTo(-row.reduce((s, q) => s + q * Math.log(q), 0), 4);
    });
    // Posterior means: softmax((loc_z(x), 1) · E[w]) exactly.
    const m = model.predict('a', x, { mode: 'posteriorMean' });
    const expected = tf.tidy(() => {
      const lat = model.modules.get('a.latent').apply([x], { training: false, seed: 0 }) as Record<
        string,
        tf.Tensor
      >;
      const w = model.modules.get('a.classifier').variables().loc!;
      return tf.softmax(
        tf.add(
          tf.matMul(lat.loc as tf.Tensor2D, tf.slice(w, [0, 0], [2, -1]) as tf.Tensor2D),
          tf.slice(w, [2, 0], [1, -1]),
        ),
      );
    });
    const got = m.probs!.dataSync();
    Array.from(expected.dataSync()).forEach((v, i) => {
      expect(got[i]).toBeCloseTo(v, 5);
    });
    tf.dispose([p.probs!, p.entropy!, m.probs!, m.entropy!, expected]);
    expect(tf.memory().numTensors).toBe(before);
    // Same seed, same draws.
    const p1 = model.predict('a', x, { seed: 5 });
    const p2 = model.predict('a', x, { seed: 5 });
    expect(Array.from(p1.probs!.dataSync())).toEqual(Array.from(p2.probs!.dataSync()));
    tf.dispose([p1.probs!, p1.entropy!, p2.probs!, p2.entropy!, x]);
    model.dispose();
  });

  it('regression: a normal likelihood; the predictive variance is the draws spread plus noiseScale²', () => {
    const model = make({ outputSize: 1, likelihood: 'normal', noiseScale: 0.5 });
    const x = tf.tensor2d([[1, 2, 3]]);
    const p = model.predict('a', x, { samples: 50 });
    expect(p.variance!.dataSync()[0]).toBeGreaterThan(0.25);
    const m = model.predict('a', x, { mode: 'posteriorMean' });
    expect(m.variance!.dataSync()[0]).toBeCloseTo(0.25, 6);
    const y = tf.tensor1d([0.5]);
    const scores = model.score([{ dataset: 'a_data', split: 'test', X: { x }, Y: { a: y }, size: 1 }]);
    expect(Object.keys(scores).sort()).toEqual(['a/a_data/test/loss', 'a/a_data/test/mse']);
    tf.dispose([p.mean!, p.variance!, m.mean!, m.variance!, x, y]);
    model.dispose();
  });

  it('saves and loads (memory://): same weights, mixing and predictions; a renamed copy; exact loads refuse another layout', async () => {
    registerVariationalModules();
    const model = new DeepVmtlModel({
      tasks: taskList(['a', 'b', 'c'], 'trunk'),
      modules: { trunk: dense({ units: 4, activation: 'tanh' }) },
      inputShapes: { x: [3] },
      latentDim: 2,
      outputSize: 3,
      klWeight: { latent: { kind: 'linear', steps: 10 } },
      name: uniq(),
    });
    model.alphaWeights!.logits.assign(
      tf.tensor2d([
        [0, 2, -1],
        [1, 0, 0],
        [0, 3, 0],
      ]),
    );
    await model.save('memory://deep-a');
    const copy = await DeepVmtlModel.load('memory://deep-a', { name: uniq() });
    expect(copy.alpha()).toEqual(model.alpha());
    expect(copy.klWeightsAt(5)).toEqual({ classifier: 1, latent: 0.5 });
    const x = tf.tensor2d([[0.5, -1, 2]]);
    const p1 = model.predict('b', x, { seed: 3 });
    const p2 = copy.predict('b', x, { seed: 3 });
    expect(Array.from(p2.probs!.dataSync())).toEqual(Array.from(p1.probs!.dataSync()));
    tf.dispose([p1.probs!, p1.entropy!, p2.probs!, p2.entropy!, x]);
    // A wider trunk: the trunk and latents change shape, the classifiers (on z) do not.
    const other = new DeepVmtlModel({
      tasks: taskList(['a', 'b', 'c'], 'trunk'),
      modules: { trunk: dense({ units: 5, activation: 'tanh' }) },
      inputShapes: { x: [3] },
      latentDim: 2,
      outputSize: 3,
      name: uniq(),
    });
    await expect(other.loadWeights('memory://deep-a')).rejects.toThrow(
      /other shapes for module\(s\) trunk, a.latent/,
    );
    const report = await other.loadWeights('memory://deep-a', { onMismatch: 'reinit' });
    expect(report.new).toEqual([]);
    expect(report.reshaped).toEqual(['trunk', 'a.latent', 'b.latent', 'c.latent']);
    expect(report.reused).toEqual(['a.classifier', 'b.classifier', 'c.classifier']);
    expect(other.alpha()).toEqual(model.alpha());
    other.dispose();
    copy.dispose();
    model.dispose();
  });

  it('a frozen encoder (a tf.layers model, trainable false) is shared by the solo copies, left out of training, and stays frozen when loaded', async () => {
    registerVariationalModules();
    const frozenEncoder = () => {
      const restore = seedGlobalRandom(7);
      const input = tf.input({ shape: [3] });
      const out = tf.layers.dense({ units: 4, activation: 'tanh' }).apply(input) as tf.SymbolicTensor;
      const m = tf.model({ inputs: input, outputs: out });
      restore();
      m.trainable = false;
      return new LayersModule(m);
    };
    const encoder = frozenEncoder();
    const model = new DeepVmtlModel({
      tasks: taskList(['a', 'b']).map((t) => ({ ...t, trunk: ['enc', 'top'] })),
      modules: { enc: encoder, top: dense({ units: 3, activation: 'tanh' }) },
      inputShapes: { x: [3] },
      outputSize: 2,
      prior: 'standardNormal',
      shareTrunk: false,
      name: uniq(),
    });
    // The trainable layer is copied per task; the frozen one would come back with fresh weights from
    // its config alone, so both tasks run the one encoder.
    expect(model.modules.names()).toEqual(['enc', 'a.top', 'b.top', 'a.classifier', 'b.classifier']);
    const encVars = Object.values(model.modules.get('enc').variables()).map((v) => v.name);
    expect(encVars.length).toBe(2);
    const trainable = model.trainableVariables().map((v) => v.name);
    expect(trainable.filter((n) => encVars.includes(n))).toEqual([]);
    expect(trainable.length).toBe(2 * 2 + 2 * 2); // a.top, b.top (kernel, bias); two classifiers (loc, logScale)
    await model.save('memory://deep-frozen');
    const copy = await DeepVmtlModel.load('memory://deep-frozen', { name: uniq() });
    expect(copy.modules.names()).toEqual(model.modules.names());
    const loadedEnc = copy.modules.get('enc') as LayersModule;
    expect(loadedEnc.layer.trainable).toBe(false);
    expect(copy.trainableVariables().length).toBe(trainable.length);
    const x = tf.tensor2d([[0.5, -1, 2]]);
    const p1 = model.predict('b', x, { seed: 3 });
    const p2 = copy.predict('b', x, { seed: 3 });
    expect(Array.from(p2.probs!.dataSync())).toEqual(Array.from(p1.probs!.dataSync()));
    tf.dispose([p1.probs!, p1.entropy!, p2.probs!, p2.entropy!, x]);
    copy.dispose();
    model.dispose();
  });

  it('refuses bad options with errors that name the place', () => {
    expect(() => make({ outputSize: 1 })).toThrow(/outputSize >= 2/);
    expect(() => make({ names: ['a'] })).toThrow(/at least 2 tasks/);
    expect(
      () =>
        new DeepVmtlModel({
          tasks: taskList(['a', 'b'], 'nope'),
          inputShapes: { x: [3] },
          outputSize: 2,
          name: uniq(),
        }),
    ).toThrow(/unknown module "nope"/);
    try {
      make({ classifierKl: 'exact' as never });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MtlError);
      expect((e as MtlError).place).toBe('DeepVmtlModel.classifierKl');
    }
    const model = make();
    expect(() => model.loss([], { step: 0, epoch: 0, seed: 0, training: true })).toThrow(
      /one batch per task/,
    );
    model.dispose();
  });

  it('klAnnealing: a linear ramp after a delay; numbers are constant; bad values are refused', () => {
    const w = klAnnealing({ kind: 'linear', from: 0, to: 2, steps: 10, delay: 5 });
    expect([0, 5, 10, 15, 100].map(w)).toEqual([0, 0, 1, 2, 2]);
    expect(klAnnealing(0.3)(7)).toBe(0.3);
    expect(() => klAnnealing(-1)).toThrow(/>= 0/);
    expect(() => klAnnealing((s) => (s > 2 ? Number.NaN : 1))(3)).toThrow(/at step 3/);
  });
});
