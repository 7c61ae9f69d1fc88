import { assertNoLeaks, type LossOutput, loadArtifacts } from '@mtl/core';
import { type Batch, type DictDataset, disposeBatch } from '@mtl/data';
import { dense, type Module, mlp } from '@mtl/tasks';
import { klDivergence } from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { decoder } from './decoder.js';
import {
  type GaussianEncoderOutput,
  gaussianEncoder,
  gaussianPosterior,
  standardNormalKl,
} from './gaussian-encoder.js';
import {
  MultitaskVae,
  type MultitaskVaeOptions,
  savedVaeFromArtifacts,
  type VaeTask,
} from './multitask-vae.js';
import { makeVaeDomains } from './vae-domains.js';
import { vectorQuantizer } from './vector-quantizer.js';

const live: MultitaskVae[] = [];
function track(m: MultitaskVae): MultitaskVae {
  live.push(m);
  return m;
}
afterEach(() => {
  for (const m of live.splice(0)) m.dispose();
});

const all = (ds: DictDataset): Batch => ds.collate(Int32Array.from({ length: ds.length }, (_, i) => i));
const ctx = (step = 0, seed = 5) => ({ step, epoch: 0, seed, training: true });
const num = (t: tf.Tensor) => t.dataSync()[0]!;
/** What a Trainer minimises: Σ parts + extra + Σ terms (the module losses are terms). */
const objective = (out: LossOutput): tf.Scalar =>
  tf.addN([
    ...Object.values(out.parts),
    ...(out.extra === undefined ? [] : [out.extra]),
    ...Object.values(out.terms ?? {}),
  ]) as tf.Scalar;

/** Domains `domain1..T`: a shared encoder and decoder output, a per-task first decoder layer. */
function sharedSetup(T = 2, options: Partial<MultitaskVaeOptions> = {}, train = 64) {
  const domains = makeVaeDomains({ tasks: T, train, test: 200 }, 7);
  const modules: Record<string, Module> = {
    enc: gaussianEncoder({ inputSize: 16, hidden: [16], latentSize: 2 }),
    dec: decoder({ inputSize: 16, outputSize: 16 }),
  };
  const tasks: VaeTask[] = domains.map((d) => {
    modules[`${d.name}.lift`] = dense({ inputSize: 2, units: 16, activation: 'tanh' });
    return { name: d.name, dataset: d.train.name, encoder: 'enc', decoder: [`${d.name}.lift`, 'dec'] };
  });
  const model = track(new MultitaskVae({ tasks, modules, seed: 3, ...options }));
  return { model, domains };
}

describe('MultitaskVae: sharing and loss', () => {
  it('shares modules by name: one set of weights for a shared module, one per task otherwise', () => {
    const { model } = sharedSetup(3);
    expect(model.moduleNames()).toEqual(['enc', 'domain1.lift', 'dec', 'domain2.lift', 'domain3.lift']);
    const names = model.trainableVariables().map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    // enc: 2 trunk + 4 head params; dec: out kernel, bias, logScale; lift: kernel, bias, three times.
    expect(names).toHaveLength(6 + 3 + 3 * 2);
    expect(names).toContain('domain2.lift/kernel');
  });

  it("parts keyed task/dataset are recon + β·KL per example; the KL is the score's kl, closed form", () => {
    // β(step) = step, so that steps 0, 1, 2 give the loss at β = 0, 1, 2 with the same draws.
    const { model, domains } = sharedSetup(2, { beta: (step) => step });
    const batches = domains.map((d) => all(d.train));
    const parts = [0, 1, 2].map((step) =>
      tf.tidy(() => {
        const p = model.loss(batches, ctx(step)).parts;
        return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, num(v)]));
      }),
    );
    expect(Object.keys(parts[0]!)).toEqual(['domain1/domain1Dataset', 'domain2/domain2Dataset']);
    const scores = model.score(batches);
    for (const key of Object.keys(parts[0]!)) {
      const kl = parts[1]![key]! - parts[0]![key]!;
      expect(parts[2]![key]! - parts[1]![key]!).toBeCloseTo(kl, 3);
      expect(kl).toBeGreaterThan(0);
      expect(scores[`${key}/train/kl`]).toBeCloseTo(kl, 3);
      expect(scores[`${key}/train/neg_elbo`]).toBeCloseTo(
        scores[`${key}/train/recon_nll`]! + scores[`${key}/train/kl`]!,
        5,
      );
    }
    // The score's KL is the closed form of the encoder against N(0, I).
    const closed = tf.tidy(() => {
      const enc = model.module('enc');
      const out = enc.apply([batches[0]!.X.x!], { training: false, seed: 0 }) as GaussianEncoderOutput;
      return num(tf.mean(standardNormalKl(out.loc, out.logScale)));
    });
    expect(scores['domain1/domain1Dataset/train/kl']).toBeCloseTo(closed, 4);
    // The score's loss is the training loss per example at the step's β: recon_nll + β·kl.
    const atStep2 = model.score(batches, { step: 2 });
    for (const key of Object.keys(parts[0]!)) {
      const nll = atStep2[`${key}/train/recon_nll`]!;
      expect(atStep2[`${key}/train/loss`]).toBeCloseTo(nll + 2 * atStep2[`${key}/train/kl`]!, 10);
      // Against the training part at step 2 (one draw vs evalSamples draws): within 5%.
      expect(Math.abs(atStep2[`${key}/train/loss`]! / parts[2]![key]! - 1)).toBeLessThan(0.05);
    }
    disposeBatch(batches);
  });

  it('the same seed gives the same loss; another step seed other draws', () => {
    const { model, domains } = sharedSetup(1);
    const batch = all(domains[0]!.train);
    const at = (seed: number) =>
      tf.tidy(() => num(model.loss([batch], ctx(0, seed)).parts['domain1/domain1Dataset']!));
    expect(at(9)).toBe(at(9));
    expect(at(9)).not.toBe(at(10));
    disposeBatch(batch);
  });

  it('reparameterised gradients of the loss agree with finite differences', () => {
    const { model, domains } = sharedSetup(1, { latentSamples: 4 });
    const batch = all(domains[0]!.train);
    const loss = () => model.loss([batch], ctx(0, 13)).parts['domain1/domain1Dataset']!;
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(loss, vars);
    value.dispose();
    for (const name of [
      'enc/loc/kernel',
      'enc/logScale/bias',
      'enc/trunk/dense_0/kernel',
      'dec/out/kernel',
      'dec/logScale',
    ]) {
      const v = vars.find((x) => x.name === name)!;
      const g = grads[name]!.dataSync();
      const original = v.dataSync().slice();
      for (const i of [0, Math.floor(original.length / 2)]) {
        const h = 1e-2;
        const at = (delta: number) => {
          const w = original.slice();
          w[i]! += delta;
          v.assign(tf.tensor(w, v.shape));
          return tf.tidy(() => num(loss()));
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        v.assign(tf.tensor(original, v.shape));
        expect(Math.abs(g[i]! - fd), `${name}[${i}]: ${g[i]} vs ${fd}`).toBeLessThan(
          0.03 * Math.max(Math.abs(fd), 0.1),
        );
      }
    }
    tf.dispose(Object.values(grads));
    disposeBatch(batch);
  });
});

describe('MultitaskVae: mixture prior', () => {
  it('KL(q_t || λ N(0, I) + (1 − λ) Σ_{i≠t} β_ti q_i) with the upper bound is λ KL(q_t‖N) + (1 − λ) Σ β KL(q_t‖q_i)', () => {
    const domains = makeVaeDomains({ tasks: 3, train: 20, test: 5 }, 2);
    const modules: Record<string, Module> = { dec: decoder({ inputSize: 2, outputSize: 16 }) };
    const tasks = domains.map((d) => {
      modules[`${d.name}.enc`] = gaussianEncoder({ inputSize: 16, hidden: [8], latentSize: 2 });
      return { name: d.name, dataset: d.train.name, encoder: `${d.name}.enc`, decoder: 'dec' };
    });
    const lambda = 0.3;
    const model = track(
      new MultitaskVae({
        tasks,
        modules,
        prior: 'mixture',
        seed: 1,
        mixture: { estimator: 'upperBound', standardWeight: lambda, gumbelNoise: false, temperature: 1 },
      }),
    );
    expect(model.mixingMatrix()).toEqual([
      [null, 0.5, 0.5],
      [0.5, null, 0.5],
      [0.5, 0.5, null],
    ]);
    const batch = all(domains[0]!.train);
    const scores = model.score([batch]);
    const expected = tf.tidy(() => {
      const x = batch.X.x!;
      const post = (name: string) => {
        const o = model.module(name).apply([x], { training: false, seed: 0 }) as GaussianEncoderOutput;
        return { q: gaussianPosterior(o.loc, o.logScale), o };
      };
      const a = post('domain1.enc');
      const std = standardNormalKl(a.o.loc, a.o.logScale);
      const kb = klDivergence(a.q, post('domain2.enc').q);
      const kc = klDivergence(a.q, post('domain3.enc').q);
      const mix = tf.add(tf.mul(lambda, std), tf.mul((1 - lambda) * 0.5, tf.add(kb, kc)));
      return { kl: num(tf.mean(mix)), std: num(tf.mean(std)) };
    });
    expect(scores['domain1/domain1Dataset/train/kl']).toBeCloseTo(expected.kl, 4);
    expect(scores['domain1/domain1Dataset/train/kl_std_normal']).toBeCloseTo(expected.std, 4);
    expect(scores['domain1/domain1Dataset/train/neg_elbo_std_normal']).toBeCloseTo(
      scores['domain1/domain1Dataset/train/recon_nll']! + expected.std,
      4,
    );
    // The β logits train: they get a gradient from the KL (through the Monte Carlo default too).
    const { value, grads } = tf.variableGrads(
      () => tf.addN(Object.values(model.loss([batch], ctx()).parts)) as tf.Scalar,
      [model.mixing!.logits],
    );
    expect(tf.tidy(() => num(tf.sum(tf.abs(grads[model.mixing!.logits.name]!))))).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(batch);
  });

  it('rejects a mixture prior with one task or a VQ latent', () => {
    const enc = gaussianEncoder({ inputSize: 16, latentSize: 2 });
    const dec = decoder({ inputSize: 2, outputSize: 16 });
    expect(
      () =>
        new MultitaskVae({
          tasks: [{ name: 'a', dataset: 'A', encoder: 'enc', decoder: 'dec' }],
          modules: { enc, dec },
          prior: 'mixture',
        }),
    ).toThrow(/needs at least 2 tasks/);
    expect(
      () =>
        new MultitaskVae({
          tasks: [
            { name: 'a', dataset: 'A', encoder: 'enc', decoder: 'dec', quantizer: 'vq' },
            { name: 'b', dataset: 'B', encoder: 'enc', decoder: 'dec' },
          ],
          modules: { enc, dec, vq: vectorQuantizer({ numEmbeddings: 4, embeddingDim: 2 }) },
          prior: 'mixture',
        }),
    ).toThrow(/task a.quantizer: the mixture prior needs Gaussian latents/);
    expect(enc.isBuilt).toBe(false);
  });
});

describe('MultitaskVae: training, scores, predictions', () => {
  it('training lowers the held-out negative ELBO; both latent units end up active', () => {
    const { model, domains } = sharedSetup(2, {}, 128);
    const test = domains.map((d) => all(d.test));
    const before = model.score(test);
    const optimizer = tf.train.adam(0.01);
    const steps = domains.map((d) => d.train);
    for (let step = 0; step < 120; step++) {
      const batches = steps.map((ds) =>
        ds.collate(Int32Array.from({ length: 32 }, (_, i) => (step * 32 + i) % ds.length)),
      );
      optimizer.minimize(
        () => tf.addN(Object.values(model.loss(batches, ctx(step, step)).parts)) as tf.Scalar,
        false,
        model.trainableVariables(),
      );
      disposeBatch(batches);
    }
    optimizer.dispose();
    const after = model.score(test);
    for (const d of domains) {
      const key = `${d.name}/${d.test.name}/test`;
      expect(after[`${key}/neg_elbo`]).toBeLessThan(before[`${key}/neg_elbo`]! - 5);
      expect(after[`${key}/recon_mse`]).toBeLessThan(0.2);
      expect(after[`${key}/active_units`]).toBe(2);
    }
    disposeBatch(test);
  });

  it('active units count the latent dimensions whose posterior mean varies over x', () => {
    const { model, domains } = sharedSetup(1);
    const enc = model.module('enc');
    const k = enc.variables()['loc/kernel']!;
    // Zero the second latent's loc weights: E[z_2 | x] is constant over x.
    enc.setWeights({ 'loc/kernel': tf.tidy(() => tf.mul(k, tf.tensor1d([1, 0]))) });
    const batch = all(domains[0]!.test);
    expect(model.score([batch])['domain1/domain1Dataset/test/active_units']).toBe(1);
    disposeBatch(batch);
  });

  it('reconstructs, samples from the prior, and leaks no tensor', async () => {
    const { model, domains } = sharedSetup(2);
    const batch = all(domains[1]!.test);
    const batches = domains.map((d) => all(d.train));
    await assertNoLeaks(() => {
      tf.tidy(() => {
        model.loss(batches, ctx());
      });
    });
    await assertNoLeaks(() => model.score([batch]));
    const optimizer = tf.train.adam(0.01);
    optimizer.minimize(
      () => tf.addN(Object.values(model.loss(batches, ctx()).parts)) as tf.Scalar,
      false,
      model.trainableVariables(),
    );
    await assertNoLeaks(() =>
      optimizer.minimize(
        () => tf.addN(Object.values(model.loss(batches, ctx(1)).parts)) as tf.Scalar,
        false,
        model.trainableVariables(),
      ),
    );
    optimizer.dispose();
    await assertNoLeaks(() => {
      const r = model.reconstruct('domain2', batch.X.x!);
      expect(r.reconstruction.shape).toEqual([200, 16]);
      expect(r.latentMean.shape).toEqual([200, 2]);
      tf.dispose([r.reconstruction, r.latentMean, r.latentLogScale!]);
    });
    await assertNoLeaks(() => {
      const s = model.sample('domain1', 5, 3);
      const again = model.sample('domain1', 5, 3);
      expect(s.z.shape).toEqual([5, 2]);
      expect(s.mean.shape).toEqual([5, 16]);
      expect(Array.from(again.x.dataSync())).toEqual(Array.from(s.x.dataSync()));
      tf.dispose([s.z, s.mean, s.x, again.z, again.mean, again.x]);
    });
    disposeBatch([batch, ...batches]);
  });

  it('saves and loads its weights; a warm start reports what it reused and re-initialised', async () => {
    const { model, domains } = sharedSetup(2);
    const batch = all(domains[0]!.test);
    // Weights unlike a fresh model's of the same seed, so the load has something to change.
    model.module('enc').setWeights({ 'loc/bias': tf.tensor1d([0.5, -0.5]) });
    const before = tf.memory().numTensors;
    await model.save('memory://vae-roundtrip');
    expect(tf.memory().numTensors).toBe(before);
    const saved = savedVaeFromArtifacts(
      await loadArtifacts('memory://vae-roundtrip'),
      'memory://vae-roundtrip',
    );
    const scores = model.score([batch]);
    model.dispose();
    live.splice(0);
    const { model: copy } = sharedSetup(2);
    expect(copy.score([batch])['domain1/domain1Dataset/test/recon_mse']).not.toBe(
      scores['domain1/domain1Dataset/test/recon_mse'],
    );
    expect(await copy.loadWeights('memory://vae-roundtrip')).toEqual({
      reused: ['enc', 'domain1.lift', 'dec', 'domain2.lift'],
      new: [],
      dropped: [],
      reshaped: [],
    });
    expect(copy.score([batch])).toEqual(scores);
    copy.dispose();
    live.splice(0);
    // Three tasks and a wider decoder input: the lifts of domains 1-2 are reused only if they fit.
    const domains3 = makeVaeDomains({ tasks: 3, train: 8, test: 8 }, 7);
    const modules: Record<string, Module> = {
      enc: gaussianEncoder({ inputSize: 16, hidden: [16], latentSize: 2 }),
      dec: decoder({ inputSize: 8, outputSize: 16 }),
    };
    const tasks = domains3.map((d) => {
      modules[`${d.name}.lift`] = dense({ inputSize: 2, units: 8, activation: 'tanh' });
      return { name: d.name, dataset: d.train.name, encoder: 'enc', decoder: [`${d.name}.lift`, 'dec'] };
    });
    const grown = track(new MultitaskVae({ tasks, modules }));
    expect(() => grown.loadSaved(saved, { place: 'model.json' })).toThrow(
      /model.json: the saved model has no weights for module\(s\) domain3.lift; other shapes for module\(s\) domain1.lift, dec, domain2.lift/,
    );
    expect(grown.loadSaved(saved, { onMismatch: 'reinit' })).toEqual({
      reused: ['enc'],
      new: ['domain3.lift'],
      dropped: [],
      reshaped: ['domain1.lift', 'dec', 'domain2.lift'],
    });
    expect(() => grown.loadSaved({} as never)).toThrow(/not a multitask VAE model/);
    await expect(grown.loadWeights('memory://vae-missing')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    disposeBatch(batch);
  });

  it('names the place of configuration errors', () => {
    const enc = gaussianEncoder({ inputSize: 16, latentSize: 2 });
    const dec = decoder({ inputSize: 2, outputSize: 16 });
    expect(
      () =>
        new MultitaskVae({
          tasks: [{ name: 'a', dataset: 'A', encoder: 'enc', decoder: 'dek' }],
          modules: { enc, dec },
        }),
    ).toThrow(/task a.decoder: unknown module "dek" \(known: dec, enc\)/);
    expect(
      () =>
        new MultitaskVae({
          tasks: [
            { name: 'a', dataset: 'A', encoder: 'enc', decoder: 'dec' },
            { name: 'a', dataset: 'B', encoder: 'enc', decoder: 'dec' },
          ],
          modules: { enc, dec },
        }),
    ).toThrow(/task "a" appears twice/);
    // A plain dense layer as encoder gives a tensor, not a posterior.
    const model = track(
      new MultitaskVae({
        tasks: [{ name: 'a', dataset: 'A', encoder: 'plain', decoder: 'dec' }],
        modules: { plain: dense({ inputSize: 16, units: 2 }), dec },
      }),
    );
    const batch = {
      dataset: 'A',
      split: 'train',
      X: { x: tf.zeros([2, 16]) },
      Y: {},
      size: 2,
      indices: new Int32Array(2),
    };
    expect(() => tf.tidy(() => model.loss([batch], ctx()).parts)).toThrow(
      /task a.encoder: the last encoder module must return \{loc, logScale\}/,
    );
    expect(() => model.loss([{ ...batch, dataset: 'Z' }], ctx())).toThrow(/no task reads dataset "Z"/);
    disposeBatch(batch);
  });
});

describe('MultitaskVae: VQ-VAE latent', () => {
  function vqSetup(commitmentCost = 0.25) {
    const domains = makeVaeDomains({ tasks: 2, train: 64, test: 200 }, 7);
    const modules: Record<string, Module> = {
      trunk: mlp({ inputSize: 16, hidden: [32], activation: 'tanh', outputSize: 2 }),
      codebook: vectorQuantizer({ numEmbeddings: 16, embeddingDim: 2, commitmentCost }),
      dec: decoder({ inputSize: 2, hidden: [32], outputSize: 16 }),
    };
    const tasks = domains.map((d) => ({
      name: d.name,
      dataset: d.train.name,
      encoder: 'trunk',
      quantizer: 'codebook',
      decoder: 'dec',
    }));
    return { model: track(new MultitaskVae({ tasks, modules, seed: 2 })), domains };
  }

  it('the reconstruction gradient reaches the encoder through the straight-through estimator', () => {
    // Without the commitment term, the encoder's only gradient is the decoder's, passed straight through.
    const { model, domains } = vqSetup(0);
    const batches = domains.map((d) => all(d.train));
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => objective(model.loss(batches, ctx())), vars);
    const norm = (name: string) => tf.tidy(() => num(tf.sum(tf.abs(grads[name]!))));
    for (const name of [
      'trunk/dense_0/kernel',
      'trunk/dense_1/kernel',
      'codebook/codebook',
      'dec/out/kernel',
    ]) {
      expect(norm(name), name).toBeGreaterThan(1e-4);
    }
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(batches);
  });

  it("adds the quantizer's codebook and commitment losses as module losses, outside the parts", () => {
    const { model, domains } = vqSetup(0.5);
    const batches = domains.map((d) => all(d.train));
    tf.tidy(() => {
      const out = model.loss(batches, ctx());
      expect(Object.keys(out.terms!)).toEqual(['codebook.codebook', 'codebook.commitment']);
      // Each task's batch runs the shared quantizer once: the terms sum over both.
      let codebook = 0;
      let commitment = 0;
      for (const [t, batch] of batches.entries()) {
        const ze = model.module('trunk').apply([batch.X.x!], { training: true, seed: 0 }) as tf.Tensor;
        const q = model.module('codebook').apply([ze], { training: true, seed: 0 }) as Record<
          string,
          tf.Tensor
        >;
        codebook += num(tf.mean(q.codebookLoss!));
        commitment += 0.5 * num(tf.mean(q.commitmentLoss!));
        // The part is the reconstruction NLL alone.
        const key = `${domains[t]!.name}/${batch.dataset}`;
        expect(Number.isFinite(num(out.parts[key]!))).toBe(true);
      }
      expect(num(out.terms!['codebook.codebook']!)).toBeCloseTo(codebook, 4);
      expect(num(out.terms!['codebook.commitment']!)).toBeCloseTo(commitment, 4);
      expect(out.extra).toBeUndefined();
      // The codebook's only gradient is its loss: none comes through the parts.
      const cb = model.module('codebook').variables().codebook!;
      const g = tf.variableGrads(
        () => tf.addN(Object.values(model.loss(batches, ctx()).parts)) as tf.Scalar,
        [cb],
      );
      expect(num(tf.sum(tf.abs(g.grads[cb.name]!)))).toBe(0);
    });
    disposeBatch(batches);
  });

  it('trains without NaN; perplexity and codes used are reported', () => {
    const { model, domains } = vqSetup();
    const test = domains.map((d) => all(d.test));
    const before = model.score(test);
    const optimizer = tf.train.adam(0.01);
    for (let step = 0; step < 80; step++) {
      const batches = domains.map((d) =>
        d.train.collate(Int32Array.from({ length: 32 }, (_, i) => (step * 32 + i) % d.train.length)),
      );
      const loss = optimizer.minimize(
        () => objective(model.loss(batches, ctx(step, step))),
        true,
        model.trainableVariables(),
      );
      expect(Number.isFinite(num(loss!))).toBe(true);
      loss!.dispose();
      disposeBatch(batches);
    }
    optimizer.dispose();
    const after = model.score(test);
    for (const d of domains) {
      const key = `${d.name}/${d.test.name}/test`;
      expect(Object.values(after).every(Number.isFinite)).toBe(true);
      expect(after[`${key}/recon_mse`]).toBeLessThan(before[`${key}/recon_mse`]!);
      expect(after[`${key}/kl`]).toBeCloseTo(Math.log(16), 5);
      expect(after[`${key}/perplexity`]).toBeGreaterThan(2);
      expect(after[`${key}/perplexity`]).toBeLessThanOrEqual(16);
      expect(after[`${key}/codes_used`]).toBeGreaterThanOrEqual(3);
    }
    const r = model.reconstruct('domain1', test[0]!.X.x!);
    expect(r.codes!.shape).toEqual([200]);
    tf.dispose([r.reconstruction, r.latentMean, r.codes!]);
    const s = model.sample('domain2', 4, 1);
    expect(s.z.shape).toEqual([4, 2]);
    tf.dispose([s.z, s.mean, s.x]);
    disposeBatch(test);
  });
});
